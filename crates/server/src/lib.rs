//! The Confer web service, with the router in the same process.
//!
//! `confer-server` is what people sign up with, schedule meetings on and get
//! join tokens from; the router (`confer-router`) it starts beside itself
//! admits anyone holding a join token this service signed. The HTTP contract
//! is `docs/api.md`; the join token is described in `docs/protocol.md`.
//!
//! How the modules fit:
//!
//! - `server`: [`start`] assembles everything and returns a [`RunningServer`].
//! - State in the data directory: `data_dir` (files written with safe
//!   modes), `certs` (development CA and server certificate),
//!   `signing_key` (the ES256 token key and its JWKS), `store` (SQLite or
//!   PostgreSQL through sqlx's `Any` driver, migrations in `migrations/`).
//! - `oauth`: API clients (client secrets, `private_key_jwt` assertions,
//!   registered keys and `jwks_uri` fetching, scopes).
//! - `webhooks`: signed event delivery from a durable queue.
//! - `meeting_events`: the router's reports of what happens in meetings
//!   (joins, leaves, host actions, start and end) turned into audit records
//!   and webhooks.
//! - Policy: `audit` (the audit trail and its sentences), `rate_limit`
//!   (login and passcode attempt limits).
//! - Tokens: `access_token` (API bearer tokens), `join_token` (router
//!   tickets), `password` (Argon2id for passwords and passcodes).
//! - `token_issuer`: [`TokenIssuer`], token signing without HTTP (benches).
//! - HTTP: `https` (TLS 1.3 accept loop), `routes` (the endpoints),
//!   `auth` (bearer token → account), `api_error` (the JSON error shape),
//!   `validate` (what counts as an email, a name, a password), `openapi`
//!   (the OpenAPI 3.1 description served at `/openapi.json`).
//!
//! ```no_run
//! # async fn run() -> Result<(), confer_server::ServerError> {
//! let mut config = confer_server::ServerConfig::new("/tmp/confer-data");
//! config.http_port = 0; // any free port
//! let server = confer_server::start(config).await?;
//! println!("{}", server.ready_line());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod access_token;
mod addresses;
mod api_error;
mod audit;
mod auth;
mod certs;
mod clock;
mod config;
mod data_dir;
mod error;
mod https;
mod ids;
mod join_token;
mod meeting_events;
mod oauth;
mod openapi;
mod password;
mod rate_limit;
mod routes;
mod server;
mod signing_key;
mod sso;
mod store;
mod token_issuer;
mod validate;
mod webhooks;

pub use config::{
    DATABASE_FILE, DEFAULT_HTTP_PORT, DEFAULT_LISTEN_HOST, DEFAULT_QUIC_PORT, DEFAULT_TLS_PORT,
    DEFAULT_WEBHOOK_RETRY_BASE, ServerConfig,
};
pub use error::ServerError;
pub use server::{RunningServer, start};
pub use token_issuer::TokenIssuer;

/// The CA certificate's file name in the data directory.
pub const CA_FILE: &str = certs::CA_CERT_FILE;
/// The token signing key's file name in the data directory (PKCS#8 PEM).
pub const SIGNING_KEY_FILE: &str = signing_key::SIGNING_KEY_FILE;
