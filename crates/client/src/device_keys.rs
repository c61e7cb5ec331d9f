//! This installation's device identity, kept in the OS keyring.
//!
//! [`DeviceKeyStore`] loads the identity (creating it on first use) from
//! the OS keyring under one service name, wrapped for this machine
//! (`confer_e2e::device`). The service name is `confer` unless the
//! environment variable [`SERVICE_ENV`] names another: tests and several
//! profiles on one machine keep their identities apart that way.
//!
//! Keyring calls block (on Linux a D-Bus round trip to the Secret Service,
//! which may first be started by D-Bus activation), so each runs on a
//! thread of its own and is given up after [`KEYRING_TIMEOUT`]: a keyring
//! that never answers turns into an error, not a hung client.

use std::sync::mpsc;
use std::time::Duration;

use confer_e2e::device::{DeviceError, OsKeyring, OsMachineId, StoreError};

pub use confer_e2e::device::{DeviceId, DeviceIdentity, DevicePublicKeys};

/// The keyring service the identity is stored under by default. Not the
/// e2e crate's `dev.confer.device`: the desktop app and the command line on
/// one machine are two devices (each may sit in the same E2E meeting, where
/// members must not share a signature key).
pub const DEFAULT_SERVICE: &str = "confer";

/// The environment variable that overrides [`DEFAULT_SERVICE`].
pub const SERVICE_ENV: &str = "CONFER_KEYRING_SERVICE";

/// How long one keyring operation may take before it is given up.
pub const KEYRING_TIMEOUT: Duration = Duration::from_secs(15);

/// Why this device's identity could not be loaded, created or deleted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceKeysError {
    /// No OS keyring could be reached (on Linux: no Secret Service on the
    /// session bus, or no session bus).
    #[error(
        "no OS keyring is available ({detail}); on Linux a Secret Service such as \
         gnome-keyring must run, unlocked, on the session D-Bus"
    )]
    NoKeyring {
        /// What the platform said.
        detail: String,
    },
    /// The keyring did not answer within [`KEYRING_TIMEOUT`] (it may be
    /// waiting for the user to unlock it).
    #[error("the OS keyring did not answer within {0:?}")]
    Timeout(Duration),
    /// Anything else: a keyring failure, an identity wrapped on another
    /// machine, a damaged entry, an unreadable machine id.
    #[error("device identity: {0}")]
    Device(#[source] DeviceError),
}

impl DeviceKeysError {
    /// Whether the failure is that no keyring is usable at all (as opposed
    /// to a keyring that holds something wrong).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::NoKeyring { .. } | Self::Timeout(_))
    }
}

impl From<DeviceError> for DeviceKeysError {
    fn from(error: DeviceError) -> Self {
        match error {
            DeviceError::Store(StoreError::Unavailable { detail }) => Self::NoKeyring { detail },
            other => Self::Device(other),
        }
    }
}

/// Where this device's identity lives: the OS keyring under one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceKeyStore {
    service: String,
}

impl DeviceKeyStore {
    /// The store under `$CONFER_KEYRING_SERVICE`, else [`DEFAULT_SERVICE`].
    pub fn from_env() -> Self {
        let service = std::env::var(SERVICE_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty());
        Self::with_service(service.as_deref().unwrap_or(DEFAULT_SERVICE))
    }

    /// The store under another service name.
    pub fn with_service(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    /// The keyring service name in use.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Loads this device's identity, creating and storing one on first use.
    ///
    /// # Errors
    /// [`DeviceKeysError`]; nothing is created when the keyring is
    /// unavailable.
    pub fn load_or_create(&self) -> Result<DeviceIdentity, DeviceKeysError> {
        let service = self.service.clone();
        with_timeout(move || {
            DeviceIdentity::load_or_create(&OsKeyring::with_service(service), &OsMachineId)
        })
    }

    /// Loads this device's identity, `None` when none is stored yet.
    ///
    /// # Errors
    /// [`DeviceKeysError`].
    pub fn load(&self) -> Result<Option<DeviceIdentity>, DeviceKeysError> {
        let service = self.service.clone();
        with_timeout(move || {
            match DeviceIdentity::load(&OsKeyring::with_service(service), &OsMachineId) {
                Ok(identity) => Ok(Some(identity)),
                Err(DeviceError::NotFound) => Ok(None),
                Err(other) => Err(other),
            }
        })
    }

    /// Deletes this device's identity from the keyring; returns whether
    /// there was one. Revoke it at the server first.
    ///
    /// # Errors
    /// [`DeviceKeysError`].
    pub fn delete(&self) -> Result<bool, DeviceKeysError> {
        let service = self.service.clone();
        with_timeout(move || DeviceIdentity::delete(&OsKeyring::with_service(service)))
    }
}

/// Runs one blocking keyring operation on its own thread and waits at most
/// [`KEYRING_TIMEOUT`]. A thread left behind by a timeout is detached: it
/// does not keep the process alive.
fn with_timeout<T: Send + 'static>(
    operation: impl FnOnce() -> Result<T, DeviceError> + Send + 'static,
) -> Result<T, DeviceKeysError> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("confer-keyring".into())
        .spawn(move || {
            let _ = tx.send(operation());
        })
        .map_err(|e| DeviceKeysError::NoKeyring {
            detail: format!("cannot start the keyring thread: {e}"),
        })?;
    match rx.recv_timeout(KEYRING_TIMEOUT) {
        Ok(result) => result.map_err(DeviceKeysError::from),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(DeviceKeysError::Timeout(KEYRING_TIMEOUT)),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(DeviceKeysError::Device(DeviceError::Internal {
                what: "the keyring thread ended without an answer",
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_keyring_is_told_apart_from_a_wrong_entry() {
        let e = DeviceKeysError::from(DeviceError::Store(StoreError::Unavailable {
            detail: "no bus".into(),
        }));
        assert!(e.is_unavailable());
        assert!(e.to_string().contains("no OS keyring is available"), "{e}");
        let e = DeviceKeysError::from(DeviceError::WrongMachine);
        assert!(!e.is_unavailable());
        assert!(DeviceKeysError::Timeout(KEYRING_TIMEOUT).is_unavailable());
    }

    #[test]
    fn the_service_name_defaults_and_can_be_chosen() {
        assert_eq!(DeviceKeyStore::with_service("x").service(), "x");
        // from_env reads the process environment, which other tests may
        // share; only check it yields some non-empty name.
        assert!(!DeviceKeyStore::from_env().service().is_empty());
    }

    #[test]
    fn an_operation_on_the_keyring_thread_reports_its_result() {
        let e = with_timeout::<()>(|| Err(DeviceError::Random)).unwrap_err();
        assert!(matches!(e, DeviceKeysError::Device(DeviceError::Random)));
        assert_eq!(with_timeout(|| Ok(7)).unwrap(), 7);
    }
}
