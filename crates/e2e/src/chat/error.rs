//! The one error type of E2E chat.

use crate::device::{DeviceError, DeviceId};

/// Why sealing or opening a chat message failed.
///
/// Opening errors are normal for hostile input: drop the message and, for
/// [`BadSignature`](Self::BadSignature) and
/// [`Tampered`](Self::Tampered), tell the user it could not be verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChatError {
    /// The envelope is addressed to another device: the server delivered it
    /// to the wrong place, or the caller picked the wrong identity.
    #[error("message is for device {addressed_to}, not this device {this_device}")]
    WrongRecipient {
        /// The recipient named in the envelope.
        addressed_to: DeviceId,
        /// The device trying to open it.
        this_device: DeviceId,
    },
    /// The envelope names a different sender than the public keys given to
    /// check it with.
    #[error("message claims sender {claimed}, but keys of {given} were given")]
    SenderMismatch {
        /// The sender named in the envelope.
        claimed: DeviceId,
        /// The device whose keys were passed in.
        given: DeviceId,
    },
    /// The sender's signature does not verify over the envelope: something
    /// in it (ids, message id, encapsulated key, ciphertext) was altered, or
    /// it was not signed by the claimed sender.
    #[error("message signature does not verify")]
    BadSignature,
    /// The signature verified but the ciphertext did not decrypt for this
    /// device: the sender encrypted to another key than the one it
    /// addressed (a broken or malicious sender).
    #[error("message does not decrypt for this device")]
    Tampered,
    /// The envelope is not one this version can read: unknown version, or a
    /// field of the wrong size.
    #[error("malformed chat envelope: {reason}")]
    Malformed {
        /// What was wrong.
        reason: &'static str,
    },
    /// The message is longer than [`MAX_MESSAGE_LEN`](super::MAX_MESSAGE_LEN).
    #[error("message of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// Length of the plaintext or ciphertext.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A device record (sender or recipient) is inconsistent or holds an
    /// invalid key.
    #[error("invalid device record: {0}")]
    Device(#[from] DeviceError),
    /// The HPKE layer failed where it cannot for valid inputs (e.g. an
    /// all-zero shared secret from a small-order recipient key).
    #[error("HPKE failed to seal for device {device_id}")]
    SealFailed {
        /// The recipient it failed for.
        device_id: DeviceId,
    },
    /// The OS random number generator failed.
    #[error("the OS random number generator failed")]
    Random,
}
