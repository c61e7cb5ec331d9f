//! Endpoints about the service itself: its public keys and its health.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;

/// `GET /.well-known/jwks.json`: the public keys that verify our tokens.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "service",
    responses(
        (status = 200, description = "A JWK Set (RFC 7517) of the keys that sign access and join tokens.",
         content_type = "application/json", body = Object,
         headers(("Cache-Control" = String, description = "`public, max-age=300`."))),
    ),
)]
pub(super) async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    // Short caching: long enough to spare us, short enough for key rotation.
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.signing_key.jwks()),
    )
}

/// Response of `GET /healthz`.
#[derive(Serialize, ToSchema)]
pub(super) struct Health {
    /// Always `ok`.
    #[schema(value_type = String, example = "ok")]
    status: &'static str,
}

/// `GET /healthz`: 200 while the server is up.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "service",
    responses((status = 200, description = "The server is up.", body = Health)),
)]
pub(super) async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// This file's endpoints in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(jwks, healthz))]
pub(super) struct Api;
