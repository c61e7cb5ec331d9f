//! Registering webhook endpoints (organisation admins, people only).
//!
//! An endpoint receives nothing until its URL has answered the validation
//! challenge: a signed POST of `{"event": "endpoint.url_validation",
//! "payload": {"plainToken"}}` that must be answered with `{"plainToken",
//! "encryptedToken": HEX(HMAC-SHA256(secret, plainToken))}`. The challenge
//! runs at registration; if the receiver could not answer yet (it learns the
//! secret from the registration response), `POST …/validate` runs it again.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use crate::api_error::{ApiError, ApiJson};
use crate::audit::{self, Actor, Target};
use crate::auth::Admin;
use crate::clock::now_unix;
use crate::ids::{new_token_id, new_webhook_secret};
use crate::oauth::jwks_fetch::is_https_url;
use crate::store::WebhookEndpoint;
use crate::webhooks::EVENTS;
use crate::webhooks::queue::now_ms;
use crate::webhooks::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, validation_answer};

/// Shortest secret an admin may choose.
const MIN_SECRET_CHARS: usize = 32;
/// Longest secret an admin may choose.
const MAX_SECRET_CHARS: usize = 128;
/// Most endpoints per organisation.
const MAX_ENDPOINTS: usize = 20;

/// Body of `POST /api/v1/org/webhooks`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Register {
    url: String,
    events: Vec<String>,
    /// A secret of the admin's choosing (32 to 128 characters), so the
    /// receiver can answer the validation challenge at once; generated if
    /// absent.
    #[serde(default)]
    secret: Option<String>,
}

fn view(endpoint: &WebhookEndpoint) -> serde_json::Value {
    serde_json::json!({
        "webhook_id": endpoint.id,
        "url": endpoint.url,
        "events": endpoint.events,
        "validated": endpoint.validated,
    })
}

/// Runs the URL validation challenge; `Err(reason)` if it failed.
async fn challenge(state: &AppState, endpoint: &WebhookEndpoint) -> Result<(), String> {
    let plain = new_token_id();
    let body = serde_json::json!({
        "event": "endpoint.url_validation",
        "event_ts": now_ms(),
        "payload": { "plainToken": plain },
    })
    .to_string();
    let timestamp = now_unix();
    let response = state
        .outbound
        .post(&endpoint.url)
        .header("content-type", "application/json")
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(
            SIGNATURE_HEADER,
            sign(&endpoint.secret, timestamp, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("answered {}", response.status().as_u16()));
    }
    let answer: serde_json::Value = response
        .json()
        .await
        .map_err(|_| "the answer is not JSON".to_owned())?;
    let expected = validation_answer(&endpoint.secret, &plain);
    if answer["plainToken"] == plain.as_str() && answer["encryptedToken"] == expected.as_str() {
        Ok(())
    } else {
        Err("wrong plainToken or encryptedToken".to_owned())
    }
}

/// `POST /api/v1/org/webhooks`: registers an endpoint; the secret is in
/// this response and never again.
pub(super) async fn register(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<Register>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    if !is_https_url(&body.url) {
        return Err(ApiError::invalid_request("url must be an https:// URL"));
    }
    let mut events: Vec<String> = Vec::new();
    for event in &body.events {
        if !EVENTS.contains(&event.as_str()) {
            return Err(ApiError::invalid_request(format!(
                "unknown event {event:?}; known: {}",
                EVENTS.join(", ")
            )));
        }
        if !events.contains(event) {
            events.push(event.clone());
        }
    }
    if events.is_empty() {
        return Err(ApiError::invalid_request("subscribe to at least one event"));
    }
    let secret = match body.secret {
        Some(secret) => {
            let n = secret.chars().count();
            if !(MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&n)
                || secret.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                return Err(ApiError::invalid_request(format!(
                    "secret must be {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} visible characters"
                )));
            }
            secret
        }
        None => new_webhook_secret(),
    };
    if state.store.webhooks_in_org(&admin.org_id).await?.len() >= MAX_ENDPOINTS {
        return Err(ApiError::invalid_request(format!(
            "at most {MAX_ENDPOINTS} webhook endpoints per organisation"
        )));
    }
    let mut endpoint = WebhookEndpoint {
        id: format!("w{}", new_token_id()),
        org_id: admin.org_id.clone(),
        url: body.url,
        secret,
        events,
        validated: false,
    };
    state.store.create_webhook(&endpoint, now_unix()).await?;
    let validation = challenge(&state, &endpoint).await;
    if validation.is_ok() {
        state
            .store
            .set_webhook_validated(&endpoint.id, true)
            .await?;
        endpoint.validated = true;
    }
    audit::record(
        &state.store,
        &admin.org_id,
        &Actor::user(&admin),
        "webhook.registered",
        Some(Target {
            kind: "webhook",
            id: endpoint.id.clone(),
            label: endpoint.url.clone(),
        }),
        serde_json::json!({ "events": endpoint.events, "validated": endpoint.validated }),
    )
    .await?;
    let mut response = view(&endpoint);
    response["secret"] = endpoint.secret.clone().into();
    if let Err(reason) = validation {
        response["validation_error"] = reason.into();
    }
    Ok((StatusCode::CREATED, Json(response)))
}

async fn own_endpoint(
    state: &AppState,
    org_id: &str,
    id: &str,
) -> Result<WebhookEndpoint, ApiError> {
    state
        .store
        .webhook_in_org(org_id, id)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "webhook_not_found",
                "no such webhook",
            )
        })
}

/// `POST /api/v1/org/webhooks/{id}/validate`: runs the challenge again.
pub(super) async fn validate(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut endpoint = own_endpoint(&state, &admin.org_id, &id).await?;
    let validation = challenge(&state, &endpoint).await;
    endpoint.validated = validation.is_ok();
    state
        .store
        .set_webhook_validated(&endpoint.id, endpoint.validated)
        .await?;
    let mut response = view(&endpoint);
    if let Err(reason) = validation {
        response["validation_error"] = reason.into();
    }
    Ok(Json(response))
}

/// `GET /api/v1/org/webhooks`: the organisation's endpoints (no secrets).
pub(super) async fn list(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Json<serde_json::Value>, ApiError> {
    let endpoints = state.store.webhooks_in_org(&admin.org_id).await?;
    let views: Vec<serde_json::Value> = endpoints.iter().map(view).collect();
    Ok(Json(serde_json::json!({ "webhooks": views })))
}

/// `GET /api/v1/org/webhooks/{id}/deliveries`: the latest deliveries.
pub(super) async fn deliveries(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let endpoint = own_endpoint(&state, &admin.org_id, &id).await?;
    let rows = state.store.deliveries_for(&endpoint.id, 100).await?;
    let list: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|(id, event, status, attempts, last_error)| {
            serde_json::json!({
                "delivery_id": id, "event": event, "status": status,
                "attempts": attempts, "last_error": last_error,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "deliveries": list })))
}

/// `DELETE /api/v1/org/webhooks/{id}`.
pub(super) async fn delete(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let endpoint = own_endpoint(&state, &admin.org_id, &id).await?;
    state.store.delete_webhook(&admin.org_id, &id).await?;
    audit::record(
        &state.store,
        &admin.org_id,
        &Actor::user(&admin),
        "webhook.deleted",
        Some(Target {
            kind: "webhook",
            id: endpoint.id,
            label: endpoint.url,
        }),
        serde_json::json!({}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
