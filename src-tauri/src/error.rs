//! The one error type commands return across the IPC boundary.
//!
//! The UI receives every failure as `{ "kind": "...", "message": "..." }`
//! (TypeScript: `IpcError` in `ui/src/bindings.ts`): `kind` is stable and
//! meant for code to branch on; `message` is for people and may change.

use std::fmt;

use serde::{Serialize, Serializer};

/// The stable, machine-readable part of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ErrorKind {
    /// Something inside the app failed; not the user's doing.
    Internal,
}

/// Why a command failed.
#[derive(Debug)]
#[non_exhaustive]
pub(crate) enum Error {
    /// Tauri itself failed (window, path or runtime error).
    Tauri(tauri::Error),
}

impl Error {
    /// The kind the UI sees.
    pub(crate) fn kind(&self) -> ErrorKind {
        match self {
            Error::Tauri(_) => ErrorKind::Internal,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Tauri(e) => write!(f, "desktop runtime error: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Tauri(e) => Some(e),
        }
    }
}

impl From<tauri::Error> for Error {
    fn from(e: tauri::Error) -> Self {
        Error::Tauri(e)
    }
}

/// The wire shape of an [`Error`].
#[derive(Serialize)]
struct Wire<'a> {
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
}
