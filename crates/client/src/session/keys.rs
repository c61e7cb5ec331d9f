//! The meeting's media keys as the client holds them: which epochs it has,
//! the SFrame sender sealing our frames and the receiver opening everyone
//! else's, and what it counted.
//!
//! **Key ids.** In a standard meeting every epoch has one key for the whole
//! meeting (from the router's `media_key`); each sender seals under its own
//! KID `epoch << 24 | participant_id` ([`standard_key_id`]). Participant ids
//! are below 2²⁴ and never reused in a meeting, so a KID names one sender in
//! one epoch, and since the KID enters the SFrame key derivation (RFC 9605
//! §4.4.2) every sender's key and salt differ although the base key is
//! shared. A receiver also checks that a frame's KID names the participant
//! whose SSRC carried it.
//!
//! **Epochs.** The newest epoch seals; the one before it still opens, for
//! frames that were in flight when the key rotated; older ones are dropped.
//! A removed participant never gets the next epoch's key, so every frame
//! sealed after the rotation fails for it with an unknown key id.
//!
//! Before the first key arrives nothing can be sealed: sealing fails with
//! [`FrameCryptoError::NoKey`] and the media pipeline drops the frame, so
//! plaintext never leaves.

use std::collections::VecDeque;

use confer_e2e::sframe::{KeyId, SframeError, SframeReceiver, SframeSender};
use confer_wire::ids::{MAX_PARTICIPANT_ID, ParticipantId};
use zeroize::Zeroizing;

/// How many epochs' keys a receiver keeps: the current one and the one
/// before it, for frames sealed just before a rotation.
const EPOCHS_KEPT: usize = 2;

/// Bits of a standard KID that hold the participant id.
const PARTICIPANT_BITS: u32 = 24;

/// The KID a participant's frames carry in epoch `epoch` of a standard
/// meeting: `epoch << 24 | participant_id`.
pub fn standard_key_id(epoch: u64, participant: ParticipantId) -> KeyId {
    (epoch << PARTICIPANT_BITS) | u64::from(participant.0 & MAX_PARTICIPANT_ID)
}

/// The participant a standard KID names.
fn participant_of_key_id(key_id: KeyId) -> ParticipantId {
    // The mask keeps 24 bits, which always fit a u32.
    ParticipantId((key_id & u64::from(MAX_PARTICIPANT_ID)) as u32)
}

/// How the meeting's media is keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// The router hands out the key over TLS (`media_key`).
    Standard,
    /// The participants agree on keys among themselves (MLS); the router
    /// never holds one.
    E2e,
}

impl Encryption {
    /// `standard` or `e2e`, as the stats file names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Encryption::Standard => "standard",
            Encryption::E2e => "e2e",
        }
    }
}

/// What a session counted about its media keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionStats {
    /// How the meeting is keyed.
    pub encryption: Encryption,
    /// How many key epochs this session installed.
    pub key_epochs_seen: u64,
    /// The epoch our frames are sealed under, once we have a key.
    pub current_epoch: Option<u64>,
    /// The MLS security code of the current epoch (E2E meetings), to compare
    /// aloud with the others'.
    pub security_code: Option<String>,
    /// Frames that did not open: tampered, unknown key id, replayed, too
    /// old, malformed, or carrying another participant's key id; and, in
    /// E2E meetings, sealed chat messages that did not open or check out.
    pub decrypt_failures: u64,
    /// Frames opened.
    pub frames_opened: u64,
    /// Frames sealed.
    pub frames_sealed: u64,
    /// Frames the pipeline asked us to seal before we had any key (dropped).
    pub frames_without_key: u64,
}

/// Why a frame could not be sealed or opened, or a key not installed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameCryptoError {
    /// No media key yet: the frame is dropped rather than sent in clear.
    #[error("no media key yet; the frame is dropped, never sent in clear")]
    NoKey,
    /// The frame's key id names another participant than the one whose
    /// stream carried it.
    #[error("frame from participant {sender} sealed under participant {claimed}'s key id")]
    WrongSender {
        /// The participant whose SSRC carried the frame.
        sender: ParticipantId,
        /// The participant the key id names.
        claimed: ParticipantId,
    },
    /// A `media_key` for an epoch not newer than one we hold (a replay or a
    /// router bug); ignored.
    #[error("media key for epoch {epoch}, not newer than epoch {current}")]
    StaleEpoch {
        /// The epoch offered.
        epoch: u64,
        /// The newest epoch we hold.
        current: u64,
    },
    /// A `media_key` whose key is not 32 bytes or whose epoch does not fit
    /// a key id.
    #[error("malformed media key: {0}")]
    MalformedKey(&'static str),
    /// The SFrame layer refused the frame or the key.
    #[error(transparent)]
    Sframe(#[from] SframeError),
}

/// One standard epoch we hold.
struct Epoch {
    number: u64,
    key: Zeroizing<Vec<u8>>,
}

/// A session's media keys (see the module docs).
pub(crate) struct FrameKeys {
    encryption: Encryption,
    /// Standard epochs held, oldest first (at most [`EPOCHS_KEPT`]).
    epochs: VecDeque<Epoch>,
    /// Seals our frames under the newest epoch.
    sender: Option<SframeSender>,
    /// E2E epochs' receiver key ids, oldest first (at most [`EPOCHS_KEPT`]).
    mls_epochs: VecDeque<Vec<KeyId>>,
    /// Opens everyone's frames.
    receiver: SframeReceiver,
    key_epochs_seen: u64,
    wrong_sender: u64,
    frames_sealed: u64,
    frames_without_key: u64,
    security_code: Option<String>,
    /// E2E meetings: the MLS side (`keys_mls.rs`).
    pub(crate) mls: super::keys_mls::MlsState,
}

impl FrameKeys {
    /// No keys yet, for a meeting keyed as `encryption`.
    pub(crate) fn new(encryption: Encryption) -> Self {
        Self {
            encryption,
            epochs: VecDeque::new(),
            sender: None,
            mls_epochs: VecDeque::new(),
            receiver: SframeReceiver::new(),
            key_epochs_seen: 0,
            wrong_sender: 0,
            frames_sealed: 0,
            frames_without_key: 0,
            security_code: None,
            mls: super::keys_mls::MlsState::default(),
        }
    }

    /// Installs a standard epoch's key from the router and seals our frames
    /// under it from now on.
    pub(crate) fn install_standard(
        &mut self,
        epoch: u64,
        key: &[u8],
        me: ParticipantId,
    ) -> Result<(), FrameCryptoError> {
        if key.len() != confer_wire::keys::MEDIA_KEY_LEN {
            return Err(FrameCryptoError::MalformedKey("the key is not 32 bytes"));
        }
        if epoch == 0 || epoch >= 1 << (64 - PARTICIPANT_BITS) {
            return Err(FrameCryptoError::MalformedKey(
                "the epoch does not fit a key id",
            ));
        }
        if let Some(current) = self.epochs.back().map(|e| e.number)
            && epoch <= current
        {
            return Err(FrameCryptoError::StaleEpoch { epoch, current });
        }
        let key_id = standard_key_id(epoch, me);
        match self.sender.as_mut() {
            Some(sender) => sender.rekey(key_id, key)?,
            None => self.sender = Some(SframeSender::new(key_id, key)?),
        }
        self.epochs.push_back(Epoch {
            number: epoch,
            key: Zeroizing::new(key.to_vec()),
        });
        while self.epochs.len() > EPOCHS_KEPT {
            if let Some(old) = self.epochs.pop_front() {
                self.forget_epoch(old.number);
            }
        }
        self.key_epochs_seen += 1;
        Ok(())
    }

    /// Seals our frames under `sender` from now on, and opens others'
    /// under the key ids `installed` (already in the receiver); the key
    /// ids of epochs before the previous one are dropped. For E2E epochs,
    /// which bring their own key ids.
    pub(crate) fn install_epoch(
        &mut self,
        sender: SframeSender,
        installed: Vec<KeyId>,
        code: String,
    ) {
        self.sender = Some(sender);
        self.mls_epochs.push_back(installed);
        while self.mls_epochs.len() > EPOCHS_KEPT {
            for id in self.mls_epochs.pop_front().unwrap_or_default() {
                self.receiver.remove_key(id);
            }
        }
        self.key_epochs_seen += 1;
        self.security_code = Some(code);
    }

    /// Stops sealing (we were removed from the E2E group).
    pub(crate) fn stop_sealing(&mut self) {
        self.sender = None;
        self.security_code = None;
    }

    /// The receiver, for installing E2E keys.
    pub(crate) fn receiver_mut(&mut self) -> &mut SframeReceiver {
        &mut self.receiver
    }

    /// Drops every receiver key of a standard epoch.
    fn forget_epoch(&mut self, epoch: u64) {
        let ids: Vec<KeyId> = self
            .receiver
            .key_ids()
            .filter(|id| id >> PARTICIPANT_BITS == epoch)
            .collect();
        for id in ids {
            self.receiver.remove_key(id);
        }
    }

    /// Seals one frame of ours.
    pub(crate) fn seal(
        &mut self,
        metadata: &[u8],
        frame: &[u8],
    ) -> Result<Vec<u8>, FrameCryptoError> {
        let Some(sender) = self.sender.as_mut() else {
            self.frames_without_key += 1;
            return Err(FrameCryptoError::NoKey);
        };
        let sealed = sender.seal(metadata, frame)?;
        self.frames_sealed += 1;
        Ok(sealed)
    }

    /// Opens one frame `sender` sealed.
    pub(crate) fn open(
        &mut self,
        sender: ParticipantId,
        metadata: &[u8],
        sealed: &[u8],
    ) -> Result<Vec<u8>, FrameCryptoError> {
        // Standard keys are per (epoch, sender); install them for this
        // sender on first sight rather than tracking the roster.
        for epoch in &self.epochs {
            let key_id = standard_key_id(epoch.number, sender);
            if !self.receiver.has_key(key_id) {
                self.receiver.add_key(key_id, &epoch.key)?;
            }
        }
        let mut out = Vec::new();
        let opened = self.receiver.open_into(metadata, sealed, &mut out)?;
        if self.encryption == Encryption::Standard {
            let claimed = participant_of_key_id(opened.key_id);
            if claimed != sender {
                self.wrong_sender += 1;
                return Err(FrameCryptoError::WrongSender { sender, claimed });
            }
        }
        Ok(out)
    }

    /// What was counted so far.
    pub(crate) fn stats(&self) -> EncryptionStats {
        let receiver = self.receiver.stats();
        EncryptionStats {
            encryption: self.encryption,
            key_epochs_seen: self.key_epochs_seen,
            current_epoch: self.epochs.back().map(|e| e.number),
            security_code: self.security_code.clone(),
            decrypt_failures: receiver
                .rejected()
                .saturating_add(self.wrong_sender)
                .saturating_add(self.mls.chat.failures),
            // A frame under another participant's KID verified, but was
            // refused after all.
            frames_opened: receiver.opened.saturating_sub(self.wrong_sender),
            frames_sealed: self.frames_sealed,
            frames_without_key: self.frames_without_key,
        }
    }
}

impl std::fmt::Debug for FrameKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys stay out of logs.
        f.debug_struct("FrameKeys")
            .field("encryption", &self.encryption)
            .field(
                "epochs",
                &self.epochs.iter().map(|e| e.number).collect::<Vec<_>>(),
            )
            .field("receiver", &self.receiver)
            .finish_non_exhaustive()
    }
}

/// How the meeting is keyed, as the join token's `policy.e2e` says. The
/// token is read, not verified (the router verifies it); a token that
/// cannot be read counts as standard, where the router's keys are needed.
pub(crate) fn encryption_of_token(token: &str) -> Encryption {
    use base64::Engine as _;

    #[derive(serde::Deserialize)]
    struct Claims {
        #[serde(default)]
        policy: Policy,
    }
    #[derive(Default, serde::Deserialize)]
    struct Policy {
        #[serde(default)]
        e2e: bool,
    }
    let e2e = token
        .split('.')
        .nth(1)
        .and_then(|payload| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .ok()
        })
        .and_then(|json| serde_json::from_slice::<Claims>(&json).ok())
        .is_some_and(|claims| claims.policy.e2e);
    if e2e {
        Encryption::E2e
    } else {
        Encryption::Standard
    }
}

#[cfg(feature = "test-secrets")]
impl super::Session {
    /// The base keys this session holds right now: the standard epochs'
    /// router keys, or the current MLS epoch's exporter output. Only with
    /// the `test-secrets` feature, so the whole-system privacy test can
    /// look for them in what the router saw; never in a normal build.
    #[doc(hidden)]
    pub fn test_media_base_keys(&self) -> Vec<Vec<u8>> {
        let keys = &self.frame_keys;
        let mut out: Vec<Vec<u8>> = keys.epochs.iter().map(|e| e.key.to_vec()).collect();
        out.extend(keys.mls.test_base_key());
        out
    }
}
