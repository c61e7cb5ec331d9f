//! One-shot sign-in handed over by a launcher (`scripts/run.sh`), so the
//! demo opens signed in without anyone typing a password.
//!
//! The launcher logs in with the `confer` CLI into a private config
//! directory, which leaves the CLI's `session.json` (mode 0600: server,
//! email, access token), and starts the app with `CONFER_SIGN_IN_FILE`
//! naming that file. At start the app reads the file **once and deletes it
//! at once**, whatever it holds (the variable, still seen by child
//! processes, then names nothing). The token then goes where
//! a typed-in sign-in's token goes: the OS keyring, or memory when there is
//! none. So the bearer token sits on disk only between the launcher's
//! login and the app's start, in a file only its owner can read.
//!
//! A file others could read, one for another server, or one that does not
//! parse is refused (and still deleted): the app then starts signed out.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::credentials::StoredSession;

/// The variable naming the hand-off file.
pub(crate) const ENV_VAR: &str = "CONFER_SIGN_IN_FILE";

/// Why a hand-off file was not used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum HandoffError {
    /// The file could not be read.
    #[error("cannot read the sign-in file {}: {source}", .path.display())]
    Read {
        /// The file named by [`ENV_VAR`].
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Group or others may read the file, so the token may have leaked.
    #[error("the sign-in file {} is readable by other users; refusing it", .0.display())]
    NotPrivate(PathBuf),
    /// The file is not a `confer login` session.
    #[error("the sign-in file is not a confer session: {0}")]
    Invalid(#[from] serde_json::Error),
    /// The session is for a server other than the one the app uses.
    #[error("the sign-in file is for {found}, but the app uses {expected}")]
    OtherServer {
        /// The server the app is configured for.
        expected: String,
        /// The server the session came from.
        found: String,
    },
}

/// The fields used from the CLI's `session.json` (others are ignored).
#[derive(Deserialize)]
struct CliSession {
    server: String,
    email: Option<String>,
    access_token: String,
}

/// Takes the hand-off named by [`ENV_VAR`], if set, for `server_url`.
pub(crate) fn take_from_env(server_url: &str) -> Result<Option<StoredSession>, HandoffError> {
    let Some(path) = std::env::var_os(ENV_VAR).filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    take(Path::new(&path), server_url).map(Some)
}

/// Reads the hand-off at `path` and deletes it, then checks it is private,
/// well formed and for `server_url`.
pub(crate) fn take(path: &Path, server_url: &str) -> Result<StoredSession, HandoffError> {
    let read = read_private(path);
    // Deleted whatever it held: a token must not outlive its one use, and a
    // refused file is not worth keeping either. A file already gone is fine.
    let _ = std::fs::remove_file(path);
    let session: CliSession = serde_json::from_slice(&read?)?;
    let normalise = |u: &str| u.trim().trim_end_matches('/').to_owned();
    if normalise(&session.server) != normalise(server_url) {
        return Err(HandoffError::OtherServer {
            expected: normalise(server_url),
            found: normalise(&session.server),
        });
    }
    Ok(StoredSession {
        email: session.email.unwrap_or_default(),
        token: session.access_token,
    })
}

fn read_private(path: &Path) -> Result<Vec<u8>, HandoffError> {
    let read_err = |source| HandoffError::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata().map_err(read_err)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(HandoffError::NotPrivate(path.to_owned()));
        }
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut &file, &mut bytes).map_err(read_err)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: &str = "https://127.0.0.1:8443";

    fn write(dir: &Path, body: &str, mode: u32) -> PathBuf {
        let path = dir.join("session.json");
        std::fs::write(&path, body).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        #[cfg(not(unix))]
        let _ = mode;
        path
    }

    /// The CLI's own `session.json`, as `confer login` writes it.
    fn cli_session(server: &str) -> String {
        format!(
            r#"{{"server":"{server}","ca":"/tmp/ca.pem","email":"demo@confer.local","access_token":"tok-123"}}"#
        )
    }

    #[test]
    fn takes_a_cli_session_once_and_deletes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), &cli_session("https://127.0.0.1:8443/"), 0o600);
        let session = take(&path, SERVER).unwrap();
        assert_eq!(session.email, "demo@confer.local");
        assert_eq!(session.token, "tok-123");
        assert!(!path.exists(), "the token file must be gone after one use");
        // A second start finds nothing to take.
        assert!(matches!(
            take(&path, SERVER),
            Err(HandoffError::Read { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn refuses_and_deletes_a_file_others_can_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), &cli_session(SERVER), 0o644);
        assert!(matches!(
            take(&path, SERVER),
            Err(HandoffError::NotPrivate(_))
        ));
        assert!(!path.exists());
    }

    #[test]
    fn refuses_a_session_for_another_server() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), &cli_session("https://evil.example"), 0o600);
        assert!(matches!(
            take(&path, SERVER),
            Err(HandoffError::OtherServer { .. })
        ));
        assert!(!path.exists());
    }

    #[test]
    fn refuses_and_deletes_a_malformed_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "not json", 0o600);
        assert!(matches!(take(&path, SERVER), Err(HandoffError::Invalid(_))));
        assert!(!path.exists());
    }
}
