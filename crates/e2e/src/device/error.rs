//! The one error type of device identity.

/// Why creating, loading, deleting or using a device identity failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// No device identity is stored yet: call
    /// [`DeviceIdentity::load_or_create`](super::DeviceIdentity::load_or_create)
    /// on first use.
    #[error("no device identity is stored in the keyring")]
    NotFound,
    /// The stored identity was wrapped on another machine (or this machine's
    /// id changed, e.g. an OS reinstall): its unwrapping key does not match.
    /// The entry is left untouched; the device must be enrolled afresh.
    #[error("the stored device identity belongs to another machine")]
    WrongMachine,
    /// The stored entry is not a device identity this version can read, or
    /// its bytes were altered: bad length or format tag, or the
    /// authentication tag failed although the machine matched.
    #[error("the stored device identity is corrupt: {reason}")]
    CorruptEntry {
        /// What was wrong with it.
        reason: &'static str,
    },
    /// The machine's unique id could not be read (on Linux:
    /// `/etc/machine-id` is missing or unreadable).
    #[error("cannot read this machine's unique id: {detail}")]
    MachineId {
        /// What the OS said.
        detail: String,
    },
    /// The keyring refused or failed the operation.
    #[error(transparent)]
    Store(#[from] super::StoreError),
    /// The OS random number generator failed.
    #[error("the OS random number generator failed")]
    Random,
    /// A public key or signature does not have the right length or is not a
    /// valid curve point.
    #[error("invalid {what}")]
    InvalidKey {
        /// Which value was invalid.
        what: &'static str,
    },
    /// A signature did not verify under the device's Ed25519 key.
    #[error("signature does not verify")]
    BadSignature,
    /// A [`DevicePublicKeys`](super::DevicePublicKeys)'s `device_id` is not
    /// the one its keys hash to: the record was altered or mixed up.
    #[error("device id does not match the device's public keys")]
    DeviceIdMismatch,
    /// The crypto backend failed where it cannot for valid inputs. A bug,
    /// reported instead of panicking.
    #[error("device crypto failed: {what}")]
    Internal {
        /// Which step failed.
        what: &'static str,
    },
}
