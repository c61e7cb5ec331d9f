//! The keyring seam: the one place this crate touches the outside world.
//!
//! [`SecretStore`] is what device identity needs from a keyring: read,
//! write and delete one named secret. [`OsKeyring`] is the production
//! implementation (the `keyring` crate: macOS Keychain, Windows Credential
//! Manager, the Secret Service on Linux and the BSDs); [`MemoryStore`]
//! keeps secrets in memory for tests and for hosts without a keyring.

use std::collections::HashMap;
use std::sync::Mutex;

use zeroize::Zeroizing;

/// Why the keyring refused or failed an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No keyring could be reached: on Linux no Secret Service is running on
    /// the session bus (or there is no session bus), or the keyring is
    /// locked and the user declined to unlock it.
    #[error("the OS keyring is unavailable: {detail}")]
    Unavailable {
        /// What the platform said.
        detail: String,
    },
    /// The keyring was reached but the operation failed.
    #[error("the OS keyring failed: {detail}")]
    Failed {
        /// What the platform said.
        detail: String,
    },
}

/// A keyring: named binary secrets that persist for the OS user.
///
/// Implementations must be safe to call from any thread; calls may block
/// (the Secret Service is a D-Bus round trip).
pub trait SecretStore: Send + Sync {
    /// Returns the secret stored under `name`, or `None` if there is none.
    ///
    /// # Errors
    /// [`StoreError`] if the keyring cannot be read.
    fn load(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError>;

    /// Stores `secret` under `name`, replacing any earlier secret.
    ///
    /// # Errors
    /// [`StoreError`] if the keyring cannot be written.
    fn save(&self, name: &str, secret: &[u8]) -> Result<(), StoreError>;

    /// Deletes the secret under `name`; returns whether there was one.
    ///
    /// # Errors
    /// [`StoreError`] if the keyring cannot be written.
    fn delete(&self, name: &str) -> Result<bool, StoreError>;
}

/// The OS keyring, under one service name.
///
/// Entries are `(service, name)` pairs; the service keeps Confer's entries
/// apart from other programs' and lets tests use a throw-away one.
#[derive(Debug, Clone)]
pub struct OsKeyring {
    service: String,
}

impl OsKeyring {
    /// The service name production clients use.
    pub const DEFAULT_SERVICE: &'static str = "dev.confer.device";

    /// The OS keyring under [`DEFAULT_SERVICE`](Self::DEFAULT_SERVICE).
    pub fn new() -> Self {
        Self::with_service(Self::DEFAULT_SERVICE)
    }

    /// The OS keyring under another service name (tests, several profiles).
    pub fn with_service(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, StoreError> {
        keyring::Entry::new(&self.service, name).map_err(map_keyring_error)
    }
}

impl Default for OsKeyring {
    fn default() -> Self {
        Self::new()
    }
}

impl SecretStore for OsKeyring {
    fn load(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
        match self.entry(name)?.get_secret() {
            Ok(secret) => Ok(Some(Zeroizing::new(secret))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(map_keyring_error(err)),
        }
    }

    fn save(&self, name: &str, secret: &[u8]) -> Result<(), StoreError> {
        self.entry(name)?
            .set_secret(secret)
            .map_err(map_keyring_error)
    }

    fn delete(&self, name: &str) -> Result<bool, StoreError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(err) => Err(map_keyring_error(err)),
        }
    }
}

fn map_keyring_error(err: keyring::Error) -> StoreError {
    match err {
        keyring::Error::PlatformFailure(_) | keyring::Error::NoStorageAccess(_) => {
            StoreError::Unavailable {
                detail: err.to_string(),
            }
        }
        other => StoreError::Failed {
            detail: other.to_string(),
        },
    }
}

/// Secrets kept in this process's memory: for tests, and for hosts that
/// must not touch a keyring (bots). Nothing survives the process.
#[derive(Default)]
pub struct MemoryStore {
    secrets: Mutex<HashMap<String, Zeroizing<Vec<u8>>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Zeroizing<Vec<u8>>>> {
        // A panic while holding the lock leaves the map consistent (every
        // operation is one insert/remove/clone), so a poisoned lock is safe
        // to keep using.
        self.secrets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entries", &self.lock().len())
            .finish()
    }
}

impl SecretStore for MemoryStore {
    fn load(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
        Ok(self.lock().get(name).cloned())
    }

    fn save(&self, name: &str, secret: &[u8]) -> Result<(), StoreError> {
        self.lock()
            .insert(name.to_owned(), Zeroizing::new(secret.to_vec()));
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.lock().remove(name).is_some())
    }
}
