//! The one error type commands return across the IPC boundary.
//!
//! The UI receives every failure as `{ "kind": "...", "message": "..." }`
//! (TypeScript: `IpcError` in `ui/src/bindings.ts`): `kind` is stable and
//! meant for code to branch on; `message` is plain words for people and may
//! change.

use confer_client::api::ApiError;
use serde::{Serialize, Serializer};

/// The stable, machine-readable part of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub(crate) enum ErrorKind {
    /// Something inside the app failed; not the user's doing.
    Internal,
    /// The command needs a signed-in account and there is none.
    NotSignedIn,
    /// What the user typed cannot be used (the message says why).
    InvalidInput,
    /// The server or router could not be reached.
    Unreachable,
    /// The server or router said no (wrong password, no such meeting,
    /// wrong passcode, not allowed).
    Refused,
    /// The command needs a meeting in progress and there is none.
    NotInMeeting,
    /// A meeting is already in progress; leave it first.
    AlreadyInMeeting,
    /// The OS keyring could not store or read the session token.
    Keyring,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum Error {
    /// Tauri itself failed (window, path or runtime error).
    #[error("desktop runtime error: {0}")]
    Tauri(#[from] tauri::Error),
    /// No account is signed in.
    #[error("you are not signed in")]
    NotSignedIn,
    /// The user's input is unusable; the text says why, in plain words.
    #[error("{0}")]
    InvalidInput(String),
    /// A web service call failed.
    #[error("{}", describe_api(.0))]
    Api(#[from] ApiError),
    /// The router could not be reached or refused the connection.
    #[error("could not connect to the meeting: {0}")]
    Connect(#[from] confer_client::driver::DriverError),
    /// No meeting is in progress.
    #[error("you are not in a meeting")]
    NotInMeeting,
    /// A meeting is already in progress.
    #[error("you are already in a meeting; leave it first")]
    AlreadyInMeeting,
    /// The OS keyring failed.
    #[error("the system keyring could not keep your sign-in: {0}")]
    Keyring(String),
    /// The app's settings (server URL, CA file) are unusable.
    #[error("{0}")]
    Settings(String),
}

/// Plain words for a web service failure, by what the user can do about it.
fn describe_api(e: &ApiError) -> String {
    match (e.status(), e.code()) {
        (Some(401), _) if matches!(e, ApiError::Server { .. }) => {
            "the email or password is wrong, or your sign-in has expired".into()
        }
        (Some(404), _) => "no such meeting".into(),
        (Some(status), _) if (400..500).contains(&status) => match e {
            ApiError::Server { message, .. } if !message.is_empty() => message.clone(),
            _ => format!("the server said no: {e}"),
        },
        (None, _) if matches!(e, ApiError::Request { .. }) => {
            format!("could not reach the server: {e}")
        }
        _ => format!("the server failed: {e}"),
    }
}

impl Error {
    /// The kind the UI sees.
    pub(crate) fn kind(&self) -> ErrorKind {
        match self {
            Error::Tauri(_) => ErrorKind::Internal,
            Error::NotSignedIn => ErrorKind::NotSignedIn,
            Error::InvalidInput(_) | Error::Settings(_) => ErrorKind::InvalidInput,
            Error::Api(ApiError::NotLoggedIn) => ErrorKind::NotSignedIn,
            Error::Api(ApiError::Request { .. } | ApiError::InvalidUrl { .. }) => {
                ErrorKind::Unreachable
            }
            Error::Api(e) if e.status().is_some_and(|s| (400..500).contains(&s)) => {
                ErrorKind::Refused
            }
            Error::Api(_) => ErrorKind::Internal,
            Error::Connect(_) => ErrorKind::Unreachable,
            Error::NotInMeeting => ErrorKind::NotInMeeting,
            Error::AlreadyInMeeting => ErrorKind::AlreadyInMeeting,
            Error::Keyring(_) => ErrorKind::Keyring,
        }
    }
}

/// The wire shape of an [`Error`] (TypeScript: `IpcError`).
#[derive(Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "IpcError"))]
pub(crate) struct Wire<'a> {
    kind: ErrorKind,
    message: &'a str,
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let message = self.to_string();
        Wire {
            kind: self.kind(),
            message: &message,
        }
        .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_kind_and_message() {
        let err = Error::from(tauri::Error::UnknownPath);
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["kind"], "internal");
        assert!(
            json["message"]
                .as_str()
                .unwrap()
                .starts_with("desktop runtime error: ")
        );
    }

    #[test]
    fn kinds_are_snake_case_for_the_ui() {
        let json = serde_json::to_value(Error::AlreadyInMeeting).unwrap();
        assert_eq!(json["kind"], "already_in_meeting");
        assert_eq!(
            json["message"],
            "you are already in a meeting; leave it first"
        );
        let json = serde_json::to_value(Error::Api(ApiError::NotLoggedIn)).unwrap();
        assert_eq!(json["kind"], "not_signed_in");
    }
}
