//! Sealing frames: one key, one counter.

use ::sframe::{crypto::EncryptionBufferView, header::SframeHeader};

use super::suite::EncryptionKey;

use super::{Counter, KeyId, MAX_HEADER_LEN, SUITE, SframeError, TAG_LEN};

/// Seals a sender's frames under its current key.
///
/// Holds the derived key and the next counter. Counters start at 0, go up by
/// one per sealed frame and never wrap: after `u64::MAX` has been used,
/// [`seal`](Self::seal) fails with [`SframeError::CounterExhausted`] until
/// [`rekey`](Self::rekey). A counter is consumed even if sealing fails, so no
/// nonce is ever used twice.
///
/// ```
/// use confer_e2e::sframe::{SframeReceiver, SframeSender};
///
/// let base_key = [7u8; 32]; // from the meeting key schedule
/// let mut sender = SframeSender::new(42, &base_key)?;
/// let mut receiver = SframeReceiver::new();
/// receiver.add_key(42, &base_key)?;
///
/// let rtp_header = b"rtp header bytes"; // authenticated, sent in clear
/// let sealed = sender.seal(rtp_header, b"an encoded frame")?;
/// assert_eq!(receiver.open(rtp_header, &sealed)?, b"an encoded frame");
/// # Ok::<(), confer_e2e::sframe::SframeError>(())
/// ```
#[derive(Debug)]
pub struct SframeSender {
    /// `sframe_key` and `sframe_salt` derived from the base key and KID.
    key: EncryptionKey,
    /// The KID written into every header.
    key_id: KeyId,
    /// The counter the next frame gets; `None` once `u64::MAX` was used.
    next_counter: Option<Counter>,
    /// Scratch for `header | metadata`, the AEAD's associated data, kept to
    /// avoid an allocation per frame.
    aad: Vec<u8>,
}

impl SframeSender {
    /// Derives the SFrame key for `key_id` from `base_key` (RFC 9605 §4.4.2)
    /// and starts counting at 0.
    ///
    /// # Errors
    /// [`SframeError::Internal`] if key derivation fails (it cannot for
    /// this suite).
    pub fn new(key_id: KeyId, base_key: &[u8]) -> Result<Self, SframeError> {
        Self::with_first_counter(key_id, base_key, 0)
    }

    /// Like [`new`](Self::new), but the first frame gets `first_counter`.
    ///
    /// Only for resuming a key whose earlier counters are known to be spent,
    /// and for tests; the caller vouches that no counter from here on was
    /// used before with this base key and KID.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn with_first_counter(
        key_id: KeyId,
        base_key: &[u8],
        first_counter: Counter,
    ) -> Result<Self, SframeError> {
        Ok(Self {
            key: derive_key(key_id, base_key)?,
            key_id,
            next_counter: Some(first_counter),
            aad: Vec::with_capacity(MAX_HEADER_LEN + 64),
        })
    }

    /// Switches to a new key (a new epoch: someone left, or counters ran
    /// low) and restarts the counter at 0.
    ///
    /// `key_id` must not have been used before with another base key.
    ///
    /// # Errors
    /// As [`new`](Self::new); on error the old key stays in use.
    pub fn rekey(&mut self, key_id: KeyId, base_key: &[u8]) -> Result<(), SframeError> {
        self.key = derive_key(key_id, base_key)?;
        self.key_id = key_id;
        self.next_counter = Some(0);
        Ok(())
    }

    /// The KID frames are sealed under.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The counter the next sealed frame will carry, or `None` if the
    /// counters are exhausted.
    pub fn next_counter(&self) -> Option<Counter> {
        self.next_counter
    }

    /// Seals `frame`, authenticating `metadata` with it, and returns the
    /// SFrame ciphertext `header | encrypted frame | tag`.
    ///
    /// `metadata` is not included in the output; send it alongside and pass
    /// the same bytes to [`SframeReceiver::open`](super::SframeReceiver::open).
    ///
    /// # Errors
    /// [`SframeError::CounterExhausted`] when no counter is left;
    /// [`SframeError::Internal`] if the AEAD fails.
    pub fn seal(&mut self, metadata: &[u8], frame: &[u8]) -> Result<Vec<u8>, SframeError> {
        let mut out = Vec::new();
        self.seal_into(metadata, frame, &mut out)?;
        Ok(out)
    }

    /// Like [`seal`](Self::seal), writing into `out` (cleared first) so a
    /// caller can reuse one buffer per stream. Returns the counter used.
    ///
    /// # Errors
    /// As [`seal`](Self::seal); `out` is left empty on error.
    pub fn seal_into(
        &mut self,
        metadata: &[u8],
        frame: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Counter, SframeError> {
        out.clear();
        let key_id = self.key_id;
        let counter = self
            .next_counter
            .ok_or(SframeError::CounterExhausted { key_id })?;
        // Consume the counter before anything can fail: a nonce is never
        // used twice, even if this frame is lost.
        self.next_counter = counter.checked_add(1);

        let header = SframeHeader::new(key_id, counter);
        let header_len = header.len();
        let mut header_bytes = [0u8; MAX_HEADER_LEN];
        let header_bytes = header_bytes
            .get_mut(..header_len)
            .ok_or(SframeError::Internal {
                what: "header length",
            })?;
        header
            .serialize(&mut *header_bytes)
            .map_err(|_| SframeError::Internal {
                what: "header encoding",
            })?;

        self.aad.clear();
        self.aad.extend_from_slice(header_bytes);
        self.aad.extend_from_slice(metadata);

        out.reserve(header_len + frame.len() + TAG_LEN);
        out.extend_from_slice(header_bytes);
        out.extend_from_slice(frame);
        out.extend_from_slice(&[0u8; TAG_LEN]);
        let (data, tag) = out[header_len..].split_at_mut(frame.len());
        let sealed = self.key.encrypt(
            EncryptionBufferView {
                aad: &mut self.aad,
                data,
                tag,
            },
            counter,
        );
        if sealed.is_err() {
            out.clear();
            return Err(SframeError::Internal { what: "AEAD seal" });
        }
        Ok(counter)
    }
}

/// Derives `sframe_key` and `sframe_salt` for one KID (RFC 9605 §4.4.2).
fn derive_key(key_id: KeyId, base_key: &[u8]) -> Result<EncryptionKey, SframeError> {
    EncryptionKey::derive_from(SUITE, key_id, base_key).map_err(|_| SframeError::Internal {
        what: "key derivation",
    })
}
