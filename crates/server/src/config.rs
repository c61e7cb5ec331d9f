//! What the server needs to know before it starts: where its state lives and
//! where it listens.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::ServerError;

/// The default HTTPS API port.
pub const DEFAULT_HTTP_PORT: u16 = 8443;
/// The default router QUIC (UDP) port.
pub const DEFAULT_QUIC_PORT: u16 = 8801;
/// The default router TLS-over-TCP port.
pub const DEFAULT_TLS_PORT: u16 = 8802;
/// The default listen host: loopback, so a fresh install is not exposed.
pub const DEFAULT_LISTEN_HOST: &str = "127.0.0.1";
/// The default wait before the first webhook retry.
pub const DEFAULT_WEBHOOK_RETRY_BASE: Duration = Duration::from_secs(10);
/// The database file's name inside the data directory.
pub const DATABASE_FILE: &str = "confer.db";

/// Configuration for [`crate::start`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Directory holding keys, certificates and (by default) the database;
    /// created if absent.
    pub data_dir: PathBuf,
    /// Host name or IP address every listener binds to; also the name in the
    /// URLs and addresses the server hands out.
    pub listen_host: String,
    /// HTTPS API port; 0 picks a free port.
    pub http_port: u16,
    /// Router QUIC (UDP) port; 0 picks a free port.
    pub quic_port: u16,
    /// Router TLS-over-TCP port; 0 picks a free port.
    pub tls_port: u16,
    /// Database URL; `None` means `confer.db` in the data directory.
    /// `sqlite:` and `postgres://` (or `postgresql://`) URLs are accepted.
    pub database_url: Option<String>,
    /// An extra CA certificate (PEM file) trusted, besides the system's,
    /// for the server's own outbound HTTPS requests (API clients'
    /// `jwks_uri`): for private PKI and for tests.
    pub outbound_ca_file: Option<PathBuf>,
    /// The wait before the first webhook retry; each further retry waits
    /// twice as long (capped at an hour).
    pub webhook_retry_base: Duration,
    /// Let the server fetch URLs others registered (API clients' `jwks_uri`,
    /// OpenID providers) on loopback addresses, and OpenID providers over
    /// plain `http://` to a loopback address. Off by default: those URLs
    /// may only reach public `https://` hosts (an SSRF guard). For tests
    /// that run such services on 127.0.0.1.
    pub allow_loopback_outbound: bool,
}

impl ServerConfig {
    /// A configuration with the defaults: loopback host, ports 8443 (API),
    /// 8801 (QUIC) and 8802 (TLS), SQLite in `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ServerConfig {
            data_dir: data_dir.into(),
            listen_host: DEFAULT_LISTEN_HOST.to_owned(),
            http_port: DEFAULT_HTTP_PORT,
            quic_port: DEFAULT_QUIC_PORT,
            tls_port: DEFAULT_TLS_PORT,
            database_url: None,
            outbound_ca_file: None,
            webhook_retry_base: DEFAULT_WEBHOOK_RETRY_BASE,
            allow_loopback_outbound: false,
        }
    }

    /// The platform's default data directory for Confer
    /// (`$XDG_DATA_HOME/confer` on Linux).
    pub fn default_data_dir() -> Result<PathBuf, ServerError> {
        dirs::data_dir()
            .map(|d| d.join("confer"))
            .ok_or(ServerError::NoDataDir)
    }

    /// The database file used when no URL is given.
    pub(crate) fn default_database_path(data_dir: &Path) -> PathBuf {
        data_dir.join(DATABASE_FILE)
    }
}
