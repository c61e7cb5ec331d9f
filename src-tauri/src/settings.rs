//! Where the app finds its web service: the server URL and the CA that
//! signs the server's and routers' certificates.
//!
//! Read once at start from the environment (`CONFER_SERVER_URL`,
//! `CONFER_CA_FILE`), so an installer, a launcher script or a test can point
//! the app at a server without a settings file the user has to edit.

use std::path::PathBuf;

use crate::error::Error;

/// The server used when `CONFER_SERVER_URL` is not set: a local
/// `confer-server` on its default port.
const DEFAULT_SERVER_URL: &str = "https://127.0.0.1:8443";

/// The app's connection settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    /// The web service's base URL.
    pub(crate) server_url: String,
    /// A PEM file with the CA to trust instead of the system's roots.
    pub(crate) ca_file: Option<PathBuf>,
}

impl Settings {
    /// Settings from the environment, with defaults.
    pub(crate) fn from_env() -> Self {
        Self::from_vars(
            std::env::var("CONFER_SERVER_URL").ok(),
            std::env::var_os("CONFER_CA_FILE").map(PathBuf::from),
        )
    }

    /// Settings from the two variables' values (split out to test without
    /// touching the process environment).
    pub(crate) fn from_vars(server_url: Option<String>, ca_file: Option<PathBuf>) -> Self {
        Settings {
            server_url: server_url
                .map(|u| u.trim().trim_end_matches('/').to_owned())
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| DEFAULT_SERVER_URL.to_owned()),
            ca_file: ca_file.filter(|p| !p.as_os_str().is_empty()),
        }
    }

    /// The CA's PEM, when one is configured.
    pub(crate) fn ca_pem(&self) -> Result<Option<Vec<u8>>, Error> {
        match &self.ca_file {
            None => Ok(None),
            Some(path) => std::fs::read(path).map(Some).map_err(|e| {
                Error::Settings(format!(
                    "cannot read the CA certificate {}: {e}",
                    path.display()
                ))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_a_local_server_and_trims_the_url() {
        let s = Settings::from_vars(None, None);
        assert_eq!(s.server_url, DEFAULT_SERVER_URL);
        let s = Settings::from_vars(Some(" https://meet.example/ ".into()), Some("".into()));
        assert_eq!(s.server_url, "https://meet.example");
        assert_eq!(s.ca_file, None);
    }

    #[test]
    fn a_missing_ca_file_is_a_plain_error() {
        let s = Settings::from_vars(None, Some("/nonexistent/ca.pem".into()));
        let err = s.ca_pem().unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot read the CA certificate")
        );
    }
}
