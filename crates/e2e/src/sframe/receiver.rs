//! Opening frames: one key and one replay window per key id, and counts of
//! what was rejected.

use std::collections::HashMap;
use std::fmt;

use ::sframe::{
    crypto::DecryptionBufferView,
    frame::validation::{
        FrameValidation, ReplayAttackProtection, ReplayAttackProtectionError, Tolerance,
        UnvalidatedFrame,
    },
    header::SframeHeader,
};

use super::suite::DecryptionKey;
use super::{Counter, KeyId, MAX_HEADER_LEN, SUITE, SframeError, TAG_LEN};

/// Opens frames from every sender of a meeting.
///
/// Holds, per KID, the derived key and a sliding replay window of
/// `replay_window` counters (RFC 9605 §9.3): a counter newer than any seen
/// moves the window; one inside it is accepted once; one behind it is
/// rejected as [`SframeError::TooOld`]. The window is only moved by frames
/// whose tag verified.
///
/// Key ids are never reused for another key. [`remove_key`](Self::remove_key)
/// drops a key and its window; adding the *same* key again starts a fresh
/// window, which would let old frames replay — the key schedule gives every
/// new key a new KID instead.
///
/// Every call to [`open`](Self::open) / [`open_into`](Self::open_into) is
/// counted in [`stats`](Self::stats), by outcome.
pub struct SframeReceiver {
    /// The key and replay window of each KID we may receive.
    keys: HashMap<KeyId, ReceiverKey>,
    /// Window size given to keys added from now on.
    replay_window: Tolerance,
    /// Outcome counts since creation.
    stats: ReceiverStats,
    /// Scratch for `header | metadata`, the AEAD's associated data.
    aad: Vec<u8>,
}

/// One KID's key and the counters already accepted under it.
struct ReceiverKey {
    key: DecryptionKey,
    /// The `sframe` crate's sliding window: which recent counters were seen.
    window: ReplayAttackProtection,
    /// The highest counter accepted so far. The crate's window compares
    /// counters modulo 2⁶⁴ (half the range ahead counts as newer), so a
    /// counter 2⁶³ or more behind would look new again. SFrame counters never
    /// wrap under one key, so we also reject, as too old, any counter that is
    /// numerically behind the window.
    highest: Option<Counter>,
}

/// What [`SframeReceiver::open_into`] learnt from the authenticated header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenedFrame {
    /// The KID the frame was sealed under: tells which sender it came from.
    pub key_id: KeyId,
    /// The frame's counter.
    pub counter: Counter,
}

/// How many frames a [`SframeReceiver`] opened and rejected, by reason.
///
/// Counts only grow; read them for metrics and call-quality reports. A burst
/// of `auth_failed` or `replayed` on one stream is an attack or a bug worth
/// surfacing; a trickle of `unknown_key_id` around a rekey is normal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceiverStats {
    /// Frames that verified and were returned.
    pub opened: u64,
    /// [`SframeError::Malformed`]: not an SFrame (cut-short header, no room
    /// for the tag).
    pub malformed: u64,
    /// [`SframeError::UnknownKeyId`]: no key for the header's KID.
    pub unknown_key_id: u64,
    /// [`SframeError::Replayed`]: counter already accepted.
    pub replayed: u64,
    /// [`SframeError::TooOld`]: counter behind the replay window.
    pub too_old: u64,
    /// [`SframeError::AuthenticationFailed`]: tag did not verify.
    pub auth_failed: u64,
}

impl ReceiverStats {
    /// All rejected frames, whatever the reason.
    pub fn rejected(&self) -> u64 {
        self.malformed
            .saturating_add(self.unknown_key_id)
            .saturating_add(self.replayed)
            .saturating_add(self.too_old)
            .saturating_add(self.auth_failed)
    }

    fn count(&mut self, outcome: &Result<OpenedFrame, SframeError>) {
        let counter = match outcome {
            Ok(_) => &mut self.opened,
            Err(SframeError::Malformed { .. }) => &mut self.malformed,
            Err(SframeError::UnknownKeyId { .. }) => &mut self.unknown_key_id,
            Err(SframeError::Replayed { .. }) => &mut self.replayed,
            Err(SframeError::TooOld { .. }) => &mut self.too_old,
            Err(SframeError::AuthenticationFailed { .. }) => &mut self.auth_failed,
            Err(_) => return,
        };
        *counter = counter.saturating_add(1);
    }
}

impl SframeReceiver {
    /// Default replay window, in frames per KID. Audio runs at 50 frames/s
    /// and video at 30 or fewer, so this covers ~20 s of reordering and
    /// retransmission at 128 bytes of state per KID.
    pub const DEFAULT_REPLAY_WINDOW: usize = 1024;

    /// Largest replay window accepted, in frames per KID (8 KiB of state).
    pub const MAX_REPLAY_WINDOW: usize = 1 << 16;

    /// A receiver with no keys and the default replay window.
    pub fn new() -> Self {
        Self {
            keys: HashMap::new(),
            replay_window: Tolerance::try_new(Self::DEFAULT_REPLAY_WINDOW)
                .unwrap_or(Tolerance::new(Tolerance::MIN)),
            stats: ReceiverStats::default(),
            aad: Vec::with_capacity(MAX_HEADER_LEN + 64),
        }
    }

    /// A receiver with no keys whose windows span `size` counters.
    ///
    /// # Errors
    /// [`SframeError::InvalidReplayWindow`] unless
    /// `1 <= size <= MAX_REPLAY_WINDOW`.
    pub fn with_replay_window(size: usize) -> Result<Self, SframeError> {
        let invalid = SframeError::InvalidReplayWindow {
            size,
            max: Self::MAX_REPLAY_WINDOW,
        };
        if size > Self::MAX_REPLAY_WINDOW {
            return Err(invalid);
        }
        let replay_window = Tolerance::try_new(size).map_err(|_| invalid)?;
        Ok(Self {
            replay_window,
            ..Self::new()
        })
    }

    /// Installs the key for `key_id`, derived from `base_key`, with an empty
    /// replay window.
    ///
    /// # Errors
    /// [`SframeError::DuplicateKeyId`] if `key_id` already has a key;
    /// [`SframeError::Internal`] if key derivation fails.
    pub fn add_key(&mut self, key_id: KeyId, base_key: &[u8]) -> Result<(), SframeError> {
        if self.keys.contains_key(&key_id) {
            return Err(SframeError::DuplicateKeyId { key_id });
        }
        let key = DecryptionKey::derive_from(SUITE, key_id, base_key).map_err(|_| {
            SframeError::Internal {
                what: "key derivation",
            }
        })?;
        let window = ReplayAttackProtection::new(key_id, self.replay_window);
        let entry = ReceiverKey {
            key,
            window,
            highest: None,
        };
        self.keys.insert(key_id, entry);
        Ok(())
    }

    /// Drops the key and replay window of `key_id` (a sender left, or its old
    /// epoch ended). Returns whether there was one. Later frames under it
    /// fail with [`SframeError::UnknownKeyId`].
    pub fn remove_key(&mut self, key_id: KeyId) -> bool {
        self.keys.remove(&key_id).is_some()
    }

    /// Whether a key for `key_id` is installed.
    pub fn has_key(&self, key_id: KeyId) -> bool {
        self.keys.contains_key(&key_id)
    }

    /// The installed key ids, in no particular order.
    pub fn key_ids(&self) -> impl Iterator<Item = KeyId> + '_ {
        self.keys.keys().copied()
    }

    /// Counts of opened and rejected frames so far.
    pub fn stats(&self) -> ReceiverStats {
        self.stats
    }

    /// Opens an SFrame ciphertext sealed with `metadata` as extra associated
    /// data, and returns the frame.
    ///
    /// # Errors
    /// [`SframeError::Malformed`], [`SframeError::UnknownKeyId`],
    /// [`SframeError::Replayed`], [`SframeError::TooOld`] or
    /// [`SframeError::AuthenticationFailed`]; each is counted. Drop the frame.
    pub fn open(&mut self, metadata: &[u8], sframe: &[u8]) -> Result<Vec<u8>, SframeError> {
        let mut out = Vec::new();
        self.open_into(metadata, sframe, &mut out)?;
        Ok(out)
    }

    /// Like [`open`](Self::open), writing the frame into `out` (cleared
    /// first) and returning the KID and counter it was sealed under.
    ///
    /// # Errors
    /// As [`open`](Self::open); `out` is left empty on error, so no
    /// unauthenticated byte is ever handed out.
    pub fn open_into(
        &mut self,
        metadata: &[u8],
        sframe: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<OpenedFrame, SframeError> {
        out.clear();
        let outcome = self.open_uncounted(metadata, sframe, out);
        if outcome.is_err() {
            out.clear();
        }
        self.stats.count(&outcome);
        outcome
    }

    fn open_uncounted(
        &mut self,
        metadata: &[u8],
        sframe: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<OpenedFrame, SframeError> {
        let malformed = SframeError::Malformed { len: sframe.len() };
        let header = SframeHeader::deserialize(sframe).map_err(|_| malformed.clone())?;
        let (header_bytes, body) = sframe
            .split_at_checked(header.len())
            .ok_or_else(|| malformed.clone())?;
        if body.len() < TAG_LEN {
            return Err(malformed);
        }
        let key_id = header.key_id();
        let counter = header.counter();

        let entry = self
            .keys
            .get_mut(&key_id)
            .ok_or(SframeError::UnknownKeyId { key_id })?;
        // Screen before decrypting, record only after the tag verified.
        let window_len = usize::from(self.replay_window) as u64;
        if let Some(highest) = entry.highest
            && counter < highest
            && highest - counter >= window_len
        {
            return Err(SframeError::TooOld { key_id, counter });
        }
        let token = entry
            .window
            .screen(UnvalidatedFrame::new(&header, metadata))
            .map_err(|rejection| match rejection {
                ReplayAttackProtectionError::DuplicatedFrame { .. } => {
                    SframeError::Replayed { key_id, counter }
                }
                ReplayAttackProtectionError::CounterTooOld { .. } => {
                    SframeError::TooOld { key_id, counter }
                }
                // Each window is created for the KID it is stored under.
                ReplayAttackProtectionError::KeyIdMismatch { .. } => SframeError::Internal {
                    what: "replay window keyed under another KID",
                },
            })?;

        // The associated data is the header exactly as received, then the
        // metadata (RFC 9605 §4.4.3).
        self.aad.clear();
        self.aad.extend_from_slice(header_bytes);
        self.aad.extend_from_slice(metadata);

        out.extend_from_slice(body);
        entry
            .key
            .decrypt(
                DecryptionBufferView {
                    aad: &mut self.aad,
                    data: out.as_mut_slice(),
                },
                counter,
            )
            .map_err(|_| SframeError::AuthenticationFailed { key_id, counter })?;
        out.truncate(body.len() - TAG_LEN);

        entry.window.record(token);
        entry.highest = entry.highest.max(Some(counter));
        Ok(OpenedFrame { key_id, counter })
    }
}

impl Default for SframeReceiver {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for SframeReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys stay out of logs; which KIDs we hold is enough to debug.
        let mut key_ids: Vec<KeyId> = self.keys.keys().copied().collect();
        key_ids.sort_unstable();
        f.debug_struct("SframeReceiver")
            .field("key_ids", &key_ids)
            .field("replay_window", &usize::from(self.replay_window))
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}
