//! The one error type for starting and running the server.
//!
//! Errors that a single HTTP request can cause are not here: they become a
//! JSON response (see `api_error.rs`) and never stop the server.

use std::path::PathBuf;

/// Why the server could not start (or its state could not be loaded).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// A file or directory in the data directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// No data directory was given and the platform has no default one.
    #[error("no data directory given and the platform has no default data directory")]
    NoDataDir,
    /// A key or certificate file exists but cannot be used.
    #[error("{path}: {reason}")]
    BadKeyFile {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Generating the development CA or the server certificate failed.
    #[error("certificate generation failed: {0}")]
    Certificate(#[from] rcgen::Error),
    /// The token-signing key could not be loaded or used.
    #[error("token signing key: {0}")]
    SigningKey(#[from] jsonwebtoken::errors::Error),
    /// `--database-url` names a database this build cannot use.
    #[error("unsupported database URL {0:?}: only sqlite: and postgres:// URLs are supported")]
    UnsupportedDatabaseUrl(String),
    /// Opening or querying the database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying the schema migrations failed.
    #[error("database migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The listen host did not resolve to any address.
    #[error("cannot resolve listen host {host:?}: {reason}")]
    Resolve {
        /// The host as given.
        host: String,
        /// Why it did not resolve.
        reason: String,
    },
    /// A listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address we tried to bind.
        addr: std::net::SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// rustls refused the server certificate or key for the HTTPS API.
    #[error("HTTPS TLS configuration: {0}")]
    Tls(String),
    /// The in-process router failed to start or to load our keys.
    #[error("router: {0}")]
    Router(String),
    /// A background task (password hashing) was cancelled or panicked.
    #[error("background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// Hashing a password failed (invalid parameters; should not happen).
    #[error("password hashing failed: {0}")]
    PasswordHash(String),
}

impl ServerError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ServerError::Io {
            path: path.into(),
            source,
        }
    }
}
