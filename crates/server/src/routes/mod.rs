//! The HTTP API (docs/api.md): the axum router and the state every handler
//! shares. One file per area: `accounts.rs` (sign-up, login, profile),
//! `admin.rs` (organisation users, domains, audit trail), `meetings.rs`
//! (schedule, edit, delete, invitations), `join.rs` (join tokens),
//! `reports.rs` (attendance), `oauth.rs` (the token endpoint),
//! `oauth_authorize.rs` (the authorization code grant), `sso.rs` (OpenID
//! Connect single sign-on), `oauth_clients.rs` (API client registration), `webhooks.rs` (webhook
//! endpoints), `devices.rs` (the device directory), `chat.rs` (the E2E chat
//! mailbox), `well_known.rs` (JWKS, health).

mod accounts;
mod admin;
mod chat;
mod devices;
mod join;
mod meetings;
mod oauth;
mod oauth_authorize;
mod oauth_clients;
mod reports;
mod sso;
mod webhooks;
mod well_known;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use serde::Serialize;

use crate::api_error::ApiError;
use crate::password::PasswordHasher;
use crate::rate_limit::{FailureLimiter, RateLimiter};
use crate::signing_key::SigningKey;
use crate::store::Store;

pub(crate) use chat::send_limiter as chat_send_limiter;

/// Largest request body accepted. Every request is a small JSON object;
/// anything bigger is a mistake or an attack.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// Where the router listens, as handed to clients in a join-token response.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
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
    /// Failed login attempts per email.
    pub(crate) login_limiter: Arc<FailureLimiter>,
    /// The client for outbound HTTPS (webhooks).
    pub(crate) outbound: reqwest::Client,
    /// The SSRF-guarded client for URLs others chose: API clients'
    /// `jwks_uri`, OpenID providers.
    pub(crate) guarded_http: crate::oauth::jwks_fetch::GuardedHttp,
    /// `jwks_uri` refetches per API client.
    pub(crate) jwks_refresh_limiter: Arc<RateLimiter>,
    /// Wrong meeting passcodes per caller and meeting.
    pub(crate) passcode_limiter: Arc<FailureLimiter>,
    /// E2E chat sends per user (`chat::send_limiter`).
    pub(crate) chat_send_limiter: Arc<RateLimiter>,
}

/// The complete API.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/accounts", post(accounts::create))
        .route("/api/v1/login", post(accounts::login))
        .route("/api/v1/me", get(accounts::me))
        .route("/api/v1/org", get(admin::organisation))
        .route(
            "/api/v1/org/users",
            get(admin::list_users).post(admin::add_user),
        )
        .route("/api/v1/org/users/provision", post(admin::provision))
        .route(
            "/api/v1/org/users/{id}",
            delete(admin::delete_user).patch(admin::update_user),
        )
        .route(
            "/api/v1/org/domains",
            get(admin::list_domains).post(admin::add_domain),
        )
        .route("/api/v1/org/domains/{domain}", delete(admin::remove_domain))
        .route("/api/v1/org/audit", get(admin::audit_trail))
        .route(
            "/api/v1/org/oauth-clients",
            get(oauth_clients::list).post(oauth_clients::register),
        )
        .route(
            "/api/v1/org/oauth-clients/{id}",
            delete(oauth_clients::delete),
        )
        .route(
            "/api/v1/org/oauth-clients/{id}/jwks",
            axum::routing::put(oauth_clients::replace_keys),
        )
        .route("/oauth/token", post(oauth::token))
        .route(
            "/oauth/authorize",
            get(oauth_authorize::describe).post(oauth_authorize::decide),
        )
        .route(
            "/api/v1/org/oauth-clients/{id}/redirect-uris",
            axum::routing::put(oauth_authorize::set_redirect_uris),
        )
        .route(
            "/api/v1/org/sso-connections",
            get(sso::list).post(sso::register),
        )
        .route("/api/v1/org/sso-connections/{id}", delete(sso::delete))
        .route("/sso/{slug}/start", get(sso::start))
        .route("/sso/callback", get(sso::callback))
        .route("/sso/token", post(sso::token))
        .route(
            "/api/v1/org/webhooks",
            get(webhooks::list).post(webhooks::register),
        )
        .route("/api/v1/org/webhooks/{id}", delete(webhooks::delete))
        .route(
            "/api/v1/org/webhooks/{id}/validate",
            post(webhooks::validate),
        )
        .route(
            "/api/v1/org/webhooks/{id}/deliveries",
            get(webhooks::deliveries),
        )
        .route(
            "/api/v1/meetings",
            post(meetings::create).get(meetings::list),
        )
        .route(
            "/api/v1/meetings/{id}",
            get(meetings::get)
                .patch(meetings::edit)
                .delete(meetings::delete),
        )
        .route("/api/v1/meetings/{id}/join-token", post(join::join_token))
        .route("/api/v1/meetings/{id}/events", post(reports::report_event))
        .route("/api/v1/meetings/{id}/report", get(reports::report))
        .route("/api/v1/invitations/{code}", get(meetings::invitation))
        .route(
            "/api/v1/devices",
            get(devices::list).post(devices::register),
        )
        .route("/api/v1/devices/{device_id}", delete(devices::revoke))
        .route("/api/v1/directory/devices", get(devices::directory))
        .route(
            "/api/v1/chat/messages",
            post(chat::send).layer(DefaultBodyLimit::max(chat::MAX_SEND_BODY_BYTES)),
        )
        .route("/api/v1/chat/inbox", get(chat::inbox))
        .route("/api/v1/chat/inbox/ack", post(chat::acknowledge))
        .route("/.well-known/jwks.json", get(well_known::jwks))
        .route("/healthz", get(well_known::healthz))
        .route("/openapi.json", get(crate::openapi::serve))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Each route file's part of the OpenAPI document (`crate::openapi` merges
/// them); a new route file adds its `Api` here.
pub(crate) fn openapi_parts() -> Vec<utoipa::openapi::OpenApi> {
    use utoipa::OpenApi as _;
    vec![
        accounts::Api::openapi(),
        admin::Api::openapi(),
        meetings::Api::openapi(),
        join::Api::openapi(),
        reports::Api::openapi(),
        oauth::Api::openapi(),
        oauth_clients::Api::openapi(),
        oauth_authorize::Api::openapi(),
        sso::Api::openapi(),
        webhooks::Api::openapi(),
        well_known::Api::openapi(),
        devices::Api::openapi(),
        chat::Api::openapi(),
    ]
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
