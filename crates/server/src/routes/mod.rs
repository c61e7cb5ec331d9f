//! The HTTP API (docs/api.md): the axum router and the state every handler
//! shares. One file per area: `accounts.rs` (sign-up, login), `meetings.rs`
//! (create, look up), `join.rs` (join tokens), `well_known.rs` (JWKS, health).

mod accounts;
mod join;
mod meetings;
mod well_known;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Serialize;

use crate::api_error::ApiError;
use crate::password::PasswordHasher;
use crate::signing_key::SigningKey;
use crate::store::Store;

/// Largest request body accepted. Every request is a small JSON object;
/// anything bigger is a mistake or an attack.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// Where the router listens, as handed to clients in a join-token response.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct RouterInfo {
    /// `HOST:PORT` of the QUIC listener.
    pub(crate) quic: String,
    /// `HOST:PORT` of the TLS-over-TCP listener.
    pub(crate) tls: String,
    /// The name the client must expect in the router's certificate.
    pub(crate) server_name: String,
}

/// What every handler can reach; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    /// Accounts and meetings.
    pub(crate) store: Store,
    /// Signs access and join tokens.
    pub(crate) signing_key: Arc<SigningKey>,
    /// Argon2id for passwords and passcodes.
    pub(crate) hasher: PasswordHasher,
    /// The API base URL: `iss` of every token we sign.
    pub(crate) issuer: Arc<str>,
    /// The router's addresses, for join-token responses.
    pub(crate) router: Arc<RouterInfo>,
}

/// The complete API.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/accounts", post(accounts::create))
        .route("/api/v1/login", post(accounts::login))
        .route("/api/v1/meetings", post(meetings::create))
        .route("/api/v1/meetings/{id}", get(meetings::get))
        .route("/api/v1/meetings/{id}/join-token", post(join::join_token))
        .route("/.well-known/jwks.json", get(well_known::jwks))
        .route("/healthz", get(well_known::healthz))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed here",
    )
}

/// Parses the `{id}` path segment. Anything that is not a meeting id names no
/// meeting, so it is a 404 like an unknown id, not a 400.
fn parse_meeting_id(raw: &str) -> Result<u64, ApiError> {
    raw.parse::<u64>()
        .map_err(|_| ApiError::meeting_not_found())
}
