//! The one error type of the SFrame layer.

use super::{Counter, KeyId};

/// Why sealing or opening a frame, or managing keys, failed.
///
/// The frame-rejection variants ([`Malformed`](Self::Malformed),
/// [`UnknownKeyId`](Self::UnknownKeyId), [`Replayed`](Self::Replayed),
/// [`TooOld`](Self::TooOld), [`AuthenticationFailed`](Self::AuthenticationFailed))
/// are normal on a lossy, hostile network: drop the frame and go on. Each is
/// counted in [`ReceiverStats`](super::ReceiverStats). Key ids and counters
/// in them come from the unauthenticated header: log them, don't trust them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SframeError {
    /// The bytes are not an SFrame ciphertext: the header is cut short, or
    /// there is no room after it for the 16-byte tag.
    #[error("malformed SFrame: {len} bytes do not hold a header and a tag")]
    Malformed {
        /// Length of the rejected input.
        len: usize,
    },
    /// The header names a key id this receiver holds no key for (a sender we
    /// have not been given a key for yet, or one whose key was removed).
    #[error("no key for SFrame key id {key_id}")]
    UnknownKeyId {
        /// The key id from the header.
        key_id: KeyId,
    },
    /// This counter was already opened under this key id: a replay or a
    /// duplicate from the network.
    #[error("replayed SFrame: key id {key_id}, counter {counter} was already received")]
    Replayed {
        /// The key id from the header.
        key_id: KeyId,
        /// The repeated counter.
        counter: Counter,
    },
    /// The counter is older than the replay window: it cannot be told apart
    /// from a replay, so it is rejected too.
    #[error("stale SFrame: key id {key_id}, counter {counter} is behind the replay window")]
    TooOld {
        /// The key id from the header.
        key_id: KeyId,
        /// The rejected counter.
        counter: Counter,
    },
    /// The tag did not verify: the header, metadata or ciphertext was altered,
    /// or the frame was sealed with another key under the same key id.
    #[error("SFrame authentication failed: key id {key_id}, counter {counter}")]
    AuthenticationFailed {
        /// The key id from the header.
        key_id: KeyId,
        /// The counter from the header.
        counter: Counter,
    },
    /// A key for this key id is already installed. Key ids are never reused
    /// for another key; remove the old key first if this is deliberate.
    #[error("SFrame key id {key_id} already has a key")]
    DuplicateKeyId {
        /// The key id that is taken.
        key_id: KeyId,
    },
    /// The sender has used every counter value under its key; it must
    /// [`rekey`](super::SframeSender::rekey) before sealing more frames
    /// (reusing a counter would reuse a nonce).
    #[error("SFrame counters exhausted for key id {key_id}; rekey before sealing")]
    CounterExhausted {
        /// The key id whose counters ran out.
        key_id: KeyId,
    },
    /// The replay window size is outside what the receiver supports.
    #[error("replay window of {size} frames is out of range (1..={max})")]
    InvalidReplayWindow {
        /// The requested size.
        size: usize,
        /// The largest supported size.
        max: usize,
    },
    /// The crypto backend failed where it cannot for valid inputs (key
    /// derivation, encryption). A bug, reported instead of panicking.
    #[error("SFrame crypto backend failed: {what}")]
    Internal {
        /// Which step failed.
        what: &'static str,
    },
}
