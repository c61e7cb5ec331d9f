//! The session token's home: the OS keyring (Secret Service, Keychain,
//! Credential Manager), one entry per server. Never a plain file.
//!
//! The keyring calls block (they talk to a daemon), so callers run them on
//! a blocking thread.

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The keyring service name the app's entries are filed under.
const SERVICE: &str = "dev.confer.desktop";

/// What is kept per server: who signed in and their access token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredSession {
    /// The account's email.
    pub(crate) email: String,
    /// The bearer token for the web service.
    pub(crate) token: String,
}

impl std::fmt::Debug for StoredSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token signs its holder in: never in logs.
        f.debug_struct("StoredSession")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

fn entry(server_url: &str) -> Result<keyring::Entry, Error> {
    keyring::Entry::new(SERVICE, server_url).map_err(|e| Error::Keyring(e.to_string()))
}

/// Keeps `session` for `server_url`, replacing what was there.
pub(crate) fn store(server_url: &str, session: &StoredSession) -> Result<(), Error> {
    let json = serde_json::to_string(session).map_err(|e| Error::Keyring(e.to_string()))?;
    entry(server_url)?
        .set_password(&json)
        .map_err(|e| Error::Keyring(e.to_string()))
}

/// The session kept for `server_url`, if any. An unreadable entry counts
/// as none: signing in again replaces it.
pub(crate) fn load(server_url: &str) -> Result<Option<StoredSession>, Error> {
    match entry(server_url)?.get_password() {
        Ok(json) => Ok(serde_json::from_str(&json).ok()),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(Error::Keyring(e.to_string())),
    }
}

/// Forgets the session kept for `server_url`.
pub(crate) fn forget(server_url: &str) -> Result<(), Error> {
    match entry(server_url)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(Error::Keyring(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Round trip through the real OS keyring. Runs only where one is
    /// promised (`CONFER_REQUIRE_KEYRING=1`, as `scripts/test.sh` sets under
    /// a private D-Bus session with gnome-keyring).
    #[test]
    fn keeps_and_forgets_a_session_in_the_os_keyring() {
        if std::env::var_os("CONFER_REQUIRE_KEYRING").is_none_or(|v| v != "1") {
            eprintln!("SKIPPED: set CONFER_REQUIRE_KEYRING=1 with a Secret Service running");
            return;
        }
        let server = format!("https://test.invalid:{}", std::process::id());
        let session = StoredSession {
            email: "ada@example.com".into(),
            token: "secret-token".into(),
        };
        assert_eq!(load(&server).unwrap(), None);
        store(&server, &session).unwrap();
        assert_eq!(load(&server).unwrap(), Some(session));
        forget(&server).unwrap();
        assert_eq!(load(&server).unwrap(), None);
        // Forgetting twice is not an error.
        forget(&server).unwrap();
    }
}
