//! The device directory (docs/api-devices-chat.md): a signed-in user
//! registers the public keys of each device they use, lists and revokes
//! them, and looks up the active devices of people in their organisation to
//! encrypt chat messages to.
//!
//! Only public keys are accepted: a record whose id is not the hash of its
//! keys, or whose Ed25519 key is not a valid point, is refused
//! (`DevicePublicKeys::check`). API clients' tokens may not call any of
//! these (`insufficient_scope`): devices belong to people.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use confer_e2e::device::DevicePublicKeys;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use crate::api_error::{ApiError, ApiJson};
use crate::audit::{self, Actor, Target};
use crate::auth::SignedIn;
use crate::clock::now_unix;
use crate::openapi::ErrorBody;
use crate::store::{Device, Registration};
use crate::validate::normalise_email;

/// Most active devices one user may have.
pub(crate) const MAX_ACTIVE_DEVICES: usize = 20;
/// Longest device name, in characters.
const MAX_NAME_CHARS: usize = 64;

/// Body of `POST /api/v1/devices`: the device's public record (as
/// `confer_e2e::device::DevicePublicKeys` serialises it) and a name.
#[derive(Deserialize, ToSchema)]
#[schema(as = RegisterDevice)]
pub(super) struct Register {
    /// The device id: base64url of the first 16 bytes of
    /// SHA-256("confer device id v1" | ed25519 | x25519).
    #[schema(example = "q83vEjRWeJCrze8SNFZ4kA")]
    device_id: String,
    /// Ed25519 verifying key, base64url (32 bytes).
    ed25519: String,
    /// X25519 public key, base64url (32 bytes).
    x25519: String,
    /// What the user calls the device.
    #[serde(default)]
    #[schema(max_length = 64)]
    name: Option<String>,
}

/// A device as its owner sees it.
#[derive(Serialize, ToSchema)]
pub(crate) struct DeviceView {
    /// The device id, base64url.
    device_id: String,
    /// Ed25519 verifying key, base64url.
    ed25519: String,
    /// X25519 public key, base64url.
    x25519: String,
    /// The user's name for it.
    name: Option<String>,
    /// When it was registered, Unix seconds.
    created_at: u64,
    /// When it was revoked, Unix seconds; `null` while active.
    revoked_at: Option<u64>,
}

fn view(device: Device) -> DeviceView {
    DeviceView {
        device_id: device.device_id,
        ed25519: device.ed25519,
        x25519: device.x25519,
        name: device.name,
        created_at: device.created_at,
        revoked_at: device.revoked_at,
    }
}

/// A device's public keys, as the directory hands them to others (and the
/// chat inbox names a sender by).
#[derive(Serialize, ToSchema)]
pub(crate) struct PublicKeysView {
    /// The device id, base64url.
    pub(crate) device_id: String,
    /// Ed25519 verifying key, base64url.
    pub(crate) ed25519: String,
    /// X25519 public key, base64url.
    pub(crate) x25519: String,
}

fn conflict(code: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, code, message)
}

/// `POST /api/v1/devices`: registers a device's public keys for the caller.
#[utoipa::path(
    post,
    path = "/api/v1/devices",
    tag = "devices",
    security(("bearer" = [])),
    request_body = Register,
    responses(
        (status = 201, description = "Registered.", body = DeviceView),
        (status = 200, description = "The caller had already registered this device; nothing changed.", body = DeviceView),
        (status = 400, description = "`invalid_device` (the id is not the keys' id, or a key is invalid) or `invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`: API clients may not register devices.", body = ErrorBody),
        (status = 409, description = "`device_taken` (another user's device), `device_revoked` (revocation is permanent) or `too_many_devices` (20 active).", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    ),
)]
pub(super) async fn register(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<Register>,
) -> Result<(StatusCode, Json<DeviceView>), ApiError> {
    let keys: DevicePublicKeys = serde_json::from_value(serde_json::json!({
        "device_id": body.device_id,
        "ed25519": body.ed25519,
        "x25519": body.x25519,
    }))
    .map_err(|e| invalid_device(&e.to_string()))?;
    keys.check().map_err(|e| invalid_device(&e.to_string()))?;
    let name = body
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if let Some(name) = &name
        && (name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control))
    {
        return Err(ApiError::invalid_request(format!(
            "name must be at most {MAX_NAME_CHARS} characters without control characters"
        )));
    }
    // Stored re-encoded from the parsed keys, so the directory holds one
    // canonical spelling of each.
    let device = Device {
        device_id: keys.device_id.to_string(),
        user_id: user.id.clone(),
        ed25519: URL_SAFE_NO_PAD.encode(keys.ed25519),
        x25519: URL_SAFE_NO_PAD.encode(keys.x25519),
        name,
        created_at: now_unix(),
        revoked_at: None,
    };
    let device = match state
        .store
        .register_device(&device, MAX_ACTIVE_DEVICES)
        .await?
    {
        Registration::Created(device) => device,
        Registration::Existing(device) => return Ok((StatusCode::OK, Json(view(device)))),
        Registration::Taken => {
            return Err(conflict(
                "device_taken",
                "this device id is registered to another user",
            ));
        }
        Registration::Revoked => {
            return Err(conflict(
                "device_revoked",
                "this device was revoked; a revoked device id cannot be registered again",
            ));
        }
        Registration::TooMany => {
            return Err(conflict(
                "too_many_devices",
                &format!("at most {MAX_ACTIVE_DEVICES} active devices per user; revoke one first"),
            ));
        }
    };
    audit::record(
        &state.store,
        &user.org_id,
        &Actor::user(&user),
        "device.registered",
        Some(device_target(&device)),
        serde_json::json!({}),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view(device))))
}

fn invalid_device(reason: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_device",
        format!("invalid device record: {reason}"),
    )
}

fn device_target(device: &Device) -> Target {
    Target {
        kind: "device",
        id: device.device_id.clone(),
        label: device
            .name
            .clone()
            .unwrap_or_else(|| device.device_id.clone()),
    }
}

/// Response of `GET /api/v1/devices`.
#[derive(Serialize, ToSchema)]
pub(super) struct DeviceList {
    /// The caller's devices, revoked ones included, oldest first.
    devices: Vec<DeviceView>,
}

/// `GET /api/v1/devices`: the caller's devices.
#[utoipa::path(
    get,
    path = "/api/v1/devices",
    tag = "devices",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's devices, oldest first.", body = DeviceList),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`: API clients may not list devices.", body = ErrorBody),
    ),
)]
pub(super) async fn list(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<DeviceList>, ApiError> {
    let devices = state.store.devices_of_user(&user.id).await?;
    Ok(Json(DeviceList {
        devices: devices.into_iter().map(view).collect(),
    }))
}

/// `DELETE /api/v1/devices/{device_id}`: revokes one of the caller's
/// devices for good and drops its undelivered messages.
#[utoipa::path(
    delete,
    path = "/api/v1/devices/{device_id}",
    tag = "devices",
    security(("bearer" = [])),
    params(("device_id" = String, Path, description = "The device id.")),
    responses(
        (status = 204, description = "Revoked (or already was)."),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`: API clients may not revoke devices.", body = ErrorBody),
        (status = 404, description = "`not_found`: not one of the caller's devices.", body = ErrorBody),
    ),
)]
pub(super) async fn revoke(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(device_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let Some(device) = state
        .store
        .device(&device_id)
        .await?
        .filter(|d| d.user_id == user.id)
    else {
        return Err(not_found("no such device"));
    };
    state
        .store
        .revoke_device(&user.id, &device_id, now_unix())
        .await?;
    audit::record(
        &state.store,
        &user.org_id,
        &Actor::user(&user),
        "device.revoked",
        Some(device_target(&device)),
        serde_json::json!({}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn not_found(message: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
}

/// Query of `GET /api/v1/directory/devices`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct DirectoryQuery {
    /// The user's email.
    email: String,
}

/// Response of `GET /api/v1/directory/devices`.
#[derive(Serialize, ToSchema)]
pub(super) struct DirectoryEntry {
    /// The user's id.
    user_id: String,
    /// The user's email.
    email: String,
    /// Their active devices, oldest first: encrypt a message to each.
    devices: Vec<PublicKeysView>,
}

/// `GET /api/v1/directory/devices?email=…`: the active devices of a user
/// in the caller's organisation.
#[utoipa::path(
    get,
    path = "/api/v1/directory/devices",
    tag = "devices",
    security(("bearer" = [])),
    params(DirectoryQuery),
    responses(
        (status = 200, description = "The user's active devices.", body = DirectoryEntry),
        (status = 400, description = "`invalid_request`: no `email`.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`: API clients may not read the directory.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such user in the caller's organisation.", body = ErrorBody),
    ),
)]
pub(super) async fn directory(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    query: Result<Query<DirectoryQuery>, QueryRejection>,
) -> Result<Json<DirectoryEntry>, ApiError> {
    // axum's own rejection is plain text; every API error is JSON.
    let Query(query) = query.map_err(|e| ApiError::invalid_request(e.body_text()))?;
    // Users of other organisations are "not found" like unknown emails, so
    // the directory does not tell who has an account elsewhere.
    let Some(target) = state
        .store
        .user_by_email(&normalise_email(&query.email))
        .await?
        .filter(|u| u.org_id == user.org_id)
    else {
        return Err(not_found("no such user in your organisation"));
    };
    let devices = state
        .store
        .devices_of_user(&target.id)
        .await?
        .into_iter()
        .filter(Device::is_active)
        .map(|d| PublicKeysView {
            device_id: d.device_id,
            ed25519: d.ed25519,
            x25519: d.x25519,
        })
        .collect();
    Ok(Json(DirectoryEntry {
        user_id: target.id,
        email: target.email,
        devices,
    }))
}

/// This file's endpoints in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(register, list, revoke, directory))]
pub(super) struct Api;
