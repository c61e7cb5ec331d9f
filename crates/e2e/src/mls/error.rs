//! The one error type of the MLS layer.

/// Why an MLS operation on a meeting group failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MlsError {
    /// The bytes are not an MLS message of the expected kind (key package,
    /// welcome, or handshake message): cut short, trailing bytes, or another
    /// message type.
    #[error("malformed MLS message: expected {expected}")]
    Malformed {
        /// What was expected.
        expected: &'static str,
    },
    /// A key package did not verify (bad signature, unsupported ciphersuite
    /// or version, expired lifetime).
    #[error("invalid MLS key package: {detail}")]
    InvalidKeyPackage {
        /// What openmls reported.
        detail: String,
    },
    /// The welcome is not for us (no key package of ours matches) or does
    /// not verify.
    #[error("cannot join from this welcome: {detail}")]
    InvalidWelcome {
        /// What openmls reported.
        detail: String,
    },
    /// A handshake message was rejected: wrong group or epoch, bad
    /// signature or membership tag, or an invalid commit.
    #[error("MLS message rejected: {detail}")]
    Rejected {
        /// What openmls reported.
        detail: String,
    },
    /// This member was removed from the group; it can no longer send,
    /// commit or derive keys.
    #[error("this member was removed from the meeting group")]
    Removed,
    /// No member has this index in the current epoch.
    #[error("no member with index {index}")]
    UnknownMember {
        /// The index asked for.
        index: u32,
    },
    /// The group is larger than the SFrame key id layout allows
    /// ([`MAX_MEMBERS`](super::MAX_MEMBERS)).
    #[error("member index {index} does not fit the SFrame key id layout")]
    TooManyMembers {
        /// The index that does not fit.
        index: u32,
    },
    /// A key package or group member is not the device its directory record
    /// describes (credential device id or signature key differ), or the
    /// record itself is inconsistent.
    #[error("MLS member is not device {device_id}")]
    CredentialMismatch {
        /// The device id of the record checked against.
        device_id: crate::device::DeviceId,
    },
    /// Adding or removing was asked for with an empty list.
    #[error("nothing to {what}")]
    EmptyInput {
        /// "add" or "remove".
        what: &'static str,
    },
    /// openmls failed an operation that should succeed for valid state (key
    /// generation, commit creation, storage). Usually a bug.
    #[error("MLS {operation} failed: {detail}")]
    Internal {
        /// Which operation.
        operation: &'static str,
        /// What openmls reported.
        detail: String,
    },
}

/// Maps an openmls error into [`MlsError::Internal`].
pub(super) fn internal<E: std::fmt::Display>(
    operation: &'static str,
) -> impl FnOnce(E) -> MlsError {
    move |err| MlsError::Internal {
        operation,
        detail: err.to_string(),
    }
}
