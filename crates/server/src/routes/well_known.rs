//! Endpoints about the service itself: its public keys and its health.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::AppState;

/// `GET /.well-known/jwks.json`: the public keys that verify our tokens.
pub(super) async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    // Short caching: long enough to spare us, short enough for key rotation.
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.signing_key.jwks()),
    )
}

/// `GET /healthz`: 200 while the server is up.
pub(super) async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}
