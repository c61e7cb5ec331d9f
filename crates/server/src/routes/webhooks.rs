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
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use crate::api_error::{ApiError, ApiJson};
use crate::audit::{self, Actor, Target};
use crate::auth::Admin;
use crate::clock::now_unix;
use crate::ids::{new_token_id, new_webhook_secret};
use crate::oauth::jwks_fetch::is_https_url;
use crate::openapi::ErrorBody;
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
#[derive(Deserialize, ToSchema)]
#[schema(as = RegisterWebhook)]
#[serde(deny_unknown_fields)]
pub(super) struct Register {
    /// Where events are POSTed; must be `https://`.
    #[schema(pattern = "^https://", max_length = 2048)]
    url: String,
    /// The event names to receive (at least one).
    events: Vec<String>,
    /// A secret of the admin's choosing (32 to 128 characters), so the
    /// receiver can answer the validation challenge at once; generated if
    /// absent.
    #[serde(default)]
    #[schema(min_length = 32, max_length = 128)]
    secret: Option<String>,
}

/// A webhook endpoint as the API shows it.
#[derive(Serialize, ToSchema)]
pub(super) struct WebhookView {
    /// The endpoint's id.
    webhook_id: String,
    /// Where events are POSTed.
    url: String,
    /// The events it receives.
    events: Vec<String>,
    /// Whether it answered the URL validation challenge (events are only
    /// sent once it has).
    validated: bool,
    /// The signing secret: in the registration response only.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    /// Why the validation challenge failed, if it just did.
    #[serde(skip_serializing_if = "Option::is_none")]
    validation_error: Option<String>,
}

fn view(endpoint: &WebhookEndpoint) -> WebhookView {
    WebhookView {
        webhook_id: endpoint.id.clone(),
        url: endpoint.url.clone(),
        events: endpoint.events.clone(),
        validated: endpoint.validated,
        secret: None,
        validation_error: None,
    }
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
#[utoipa::path(
    post,
    path = "/api/v1/org/webhooks",
    tag = "webhooks",
    security(("bearer" = [])),
    request_body = Register,
    responses(
        (status = 201, description = "The new endpoint, with its `secret` (shown only here) and, if the challenge failed, `validation_error`.", body = WebhookView),
        (status = 400, description = "`invalid_request` (URL, events, secret, or too many endpoints).", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin) or `insufficient_scope` (API clients may not manage webhooks).", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    ),
)]
pub(super) async fn register(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<Register>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
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
    response.secret = Some(endpoint.secret.clone());
    response.validation_error = validation.err();
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
#[utoipa::path(
    post,
    path = "/api/v1/org/webhooks/{id}/validate",
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The webhook id.")),
    responses(
        (status = 200, description = "The endpoint; `validation_error` says why the challenge failed, if it did.", body = WebhookView),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin) or `insufficient_scope` (API clients may not manage webhooks).", body = ErrorBody),
        (status = 404, description = "`webhook_not_found` in this organisation.", body = ErrorBody),
    ),
)]
pub(super) async fn validate(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    let mut endpoint = own_endpoint(&state, &admin.org_id, &id).await?;
    let validation = challenge(&state, &endpoint).await;
    endpoint.validated = validation.is_ok();
    state
        .store
        .set_webhook_validated(&endpoint.id, endpoint.validated)
        .await?;
    let mut response = view(&endpoint);
    response.validation_error = validation.err();
    Ok(Json(response))
}

/// Response of `GET /api/v1/org/webhooks`.
#[derive(Serialize, ToSchema)]
pub(super) struct WebhookList {
    /// The organisation's endpoints, without secrets.
    webhooks: Vec<WebhookView>,
}

/// `GET /api/v1/org/webhooks`: the organisation's endpoints (no secrets).
#[utoipa::path(
    get,
    path = "/api/v1/org/webhooks",
    tag = "webhooks",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organisation's endpoints.", body = WebhookList),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin) or `insufficient_scope` (API clients may not manage webhooks).", body = ErrorBody),
    ),
)]
pub(super) async fn list(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Json<WebhookList>, ApiError> {
    let endpoints = state.store.webhooks_in_org(&admin.org_id).await?;
    let webhooks = endpoints.iter().map(view).collect();
    Ok(Json(WebhookList { webhooks }))
}

/// One delivery attempt series.
#[derive(Serialize, ToSchema)]
pub(super) struct DeliveryView {
    /// The delivery's id.
    delivery_id: String,
    /// The event name.
    event: String,
    /// `pending`, `delivered` or `failed`.
    status: String,
    /// Attempts so far.
    attempts: i64,
    /// The last attempt's error, if it failed.
    last_error: Option<String>,
}

/// Response of `GET /api/v1/org/webhooks/{id}/deliveries`.
#[derive(Serialize, ToSchema)]
pub(super) struct DeliveryList {
    /// The latest 100, newest first.
    deliveries: Vec<DeliveryView>,
}

/// `GET /api/v1/org/webhooks/{id}/deliveries`: the latest deliveries.
#[utoipa::path(
    get,
    path = "/api/v1/org/webhooks/{id}/deliveries",
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The webhook id.")),
    responses(
        (status = 200, description = "The latest deliveries.", body = DeliveryList),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin) or `insufficient_scope` (API clients may not manage webhooks).", body = ErrorBody),
        (status = 404, description = "`webhook_not_found` in this organisation.", body = ErrorBody),
    ),
)]
pub(super) async fn deliveries(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<Json<DeliveryList>, ApiError> {
    let endpoint = own_endpoint(&state, &admin.org_id, &id).await?;
    let rows = state.store.deliveries_for(&endpoint.id, 100).await?;
    let deliveries = rows
        .into_iter()
        .map(
            |(delivery_id, event, status, attempts, last_error)| DeliveryView {
                delivery_id,
                event,
                status,
                attempts,
                last_error,
            },
        )
        .collect();
    Ok(Json(DeliveryList { deliveries }))
}

/// `DELETE /api/v1/org/webhooks/{id}`.
#[utoipa::path(
    delete,
    path = "/api/v1/org/webhooks/{id}",
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The webhook id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin) or `insufficient_scope` (API clients may not manage webhooks).", body = ErrorBody),
        (status = 404, description = "`webhook_not_found` in this organisation.", body = ErrorBody),
    ),
)]
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

/// This file's endpoints in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(register, validate, list, deliveries, delete))]
pub(super) struct Api;
