//! E2E chat relay (docs/api-devices-chat.md): the sender's device posts one
//! envelope per recipient device, sealed with `confer_e2e::chat::seal`
//! (HPKE to the recipient device's X25519 key, signed with the sender
//! device's Ed25519 key); each recipient device fetches its inbox and
//! acknowledges what it has, which deletes it.
//!
//! The server routes by the envelope's `recipient` and checks only what it
//! can: that the sender device is the caller's and active, that every
//! recipient is an active device in the caller's organisation, sizes and
//! duplicates. It cannot check the signature's meaning nor read anything:
//! it holds no secret key, and stores the envelope fields exactly as sent.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use confer_e2e::chat::{ChatEnvelope, MAX_MESSAGE_LEN};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::devices::PublicKeysView;
use crate::api_error::{ApiError, ApiJson};
use crate::auth::SignedIn;
use crate::clock::now_unix;
use crate::openapi::ErrorBody;
use crate::rate_limit::RateLimiter;
use crate::store::{Device, MailboxEntry, NewEnvelope, Refusal, User};

/// Most envelopes (recipient devices) in one message.
const MAX_ENVELOPES: usize = 64;
/// The AES-GCM tag every ciphertext ends with.
const TAG_LEN: usize = 16;
/// Largest ciphertext: the largest message plus its tag.
const MAX_CIPHERTEXT_LEN: usize = MAX_MESSAGE_LEN + TAG_LEN;
/// Largest `POST /api/v1/chat/messages` body: 64 envelopes of the largest
/// ciphertext in base64url (4/3 larger) with room for the other fields.
pub(super) const MAX_SEND_BODY_BYTES: usize = 6 * 1024 * 1024;
/// Messages (sends) per user per minute.
const SENDS_PER_MINUTE: u32 = 120;
/// Default and largest inbox page.
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;

/// A fresh limiter of sends per user ([`SENDS_PER_MINUTE`]), for
/// `AppState::chat_send_limiter`. In memory like the other limiters: a
/// restart forgets it, which only lets a sender start a fresh minute. It
/// belongs to one server's state, not the process, so two servers in one
/// process (tests, embedders) each count their own requests.
pub(crate) fn send_limiter() -> RateLimiter {
    RateLimiter::new(SENDS_PER_MINUTE, Duration::from_secs(60))
}

/// A chat envelope in JSON, as `confer_e2e::chat::ChatEnvelope`
/// serialises it; binary fields are unpadded base64url.
#[derive(Serialize, ToSchema)]
#[schema(as = ChatEnvelope)]
pub(super) struct EnvelopeView {
    /// Envelope format version (1).
    version: u8,
    /// The message id (16 bytes), the same in every copy of one message.
    message_id: String,
    /// The sending device's id.
    sender: String,
    /// The recipient device's id.
    recipient: String,
    /// HPKE encapsulated key (32 bytes).
    enc: String,
    /// HPKE ciphertext with its 16-byte tag (at most 64 KiB + 16 bytes).
    ciphertext: String,
    /// The sender device's Ed25519 signature (64 bytes).
    signature: String,
}

impl From<NewEnvelope> for EnvelopeView {
    fn from(e: NewEnvelope) -> Self {
        EnvelopeView {
            version: e.version,
            message_id: e.message_id,
            sender: e.sender,
            recipient: e.recipient,
            enc: e.enc,
            ciphertext: e.ciphertext,
            signature: e.signature,
        }
    }
}

/// Body of `POST /api/v1/chat/messages`.
#[derive(Deserialize, ToSchema)]
#[schema(as = SendChatMessage)]
#[serde(deny_unknown_fields)]
pub(super) struct Send {
    /// One envelope per recipient device (1 to 64), all with the same
    /// `message_id` and `sender`.
    #[schema(value_type = Vec<EnvelopeView>, min_items = 1, max_items = 64)]
    envelopes: Vec<ChatEnvelope>,
}

/// Response of `POST /api/v1/chat/messages`.
#[derive(Serialize, ToSchema)]
pub(super) struct Sent {
    /// The message id.
    message_id: String,
    /// How many envelopes were stored (one per recipient device).
    stored: usize,
}

fn error(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(status, code, message)
}

/// The caller's active device `device_id`: 403 `device_not_yours` if it is
/// not the caller's, 403 `device_revoked` if revoked.
async fn own_active_device(
    state: &AppState,
    user: &User,
    device_id: &str,
) -> Result<Device, ApiError> {
    let device = state
        .store
        .device(device_id)
        .await?
        .filter(|d| d.user_id == user.id)
        .ok_or_else(|| {
            error(
                StatusCode::FORBIDDEN,
                "device_not_yours",
                "this device is not registered to you",
            )
        })?;
    if !device.is_active() {
        return Err(error(
            StatusCode::FORBIDDEN,
            "device_revoked",
            "this device was revoked",
        ));
    }
    Ok(device)
}

/// `POST /api/v1/chat/messages`: stores one message's envelopes for their
/// recipient devices.
#[utoipa::path(
    post,
    path = "/api/v1/chat/messages",
    tag = "chat",
    security(("bearer" = [])),
    request_body = Send,
    responses(
        (status = 202, description = "Stored for delivery.", body = Sent),
        (status = 400, description = "`invalid_request` (no envelopes, more than 64, mixed message ids or senders, a repeated recipient, a malformed envelope) or `unknown_recipient` (not an active device in your organisation).", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`device_not_yours`, `device_revoked` (the sender device), or `insufficient_scope` (API clients may not chat).", body = ErrorBody),
        (status = 409, description = "`duplicate_message`: a recipient already has this message.", body = ErrorBody),
        (status = 413, description = "`too_large` (a ciphertext over 64 KiB + 16 bytes) or `payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: more than 120 messages a minute.", body = ErrorBody),
    ),
)]
pub(super) async fn send(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<Send>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    let envelopes = body.envelopes;
    let Some(first) = envelopes.first() else {
        return Err(ApiError::invalid_request("send at least one envelope"));
    };
    if envelopes.len() > MAX_ENVELOPES {
        return Err(ApiError::invalid_request(format!(
            "at most {MAX_ENVELOPES} envelopes (recipient devices) per message"
        )));
    }
    let (message_id, sender) = (first.message_id, first.sender);
    let mut recipients = HashSet::new();
    for envelope in &envelopes {
        if envelope.message_id != message_id || envelope.sender != sender {
            return Err(ApiError::invalid_request(
                "every envelope must have the same message_id and sender",
            ));
        }
        if !recipients.insert(envelope.recipient) {
            return Err(ApiError::invalid_request(format!(
                "recipient {} appears twice",
                envelope.recipient
            )));
        }
        if envelope.ciphertext.len() > MAX_CIPHERTEXT_LEN {
            return Err(error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("a ciphertext may be at most {MAX_CIPHERTEXT_LEN} bytes"),
            ));
        }
        if envelope.ciphertext.len() < TAG_LEN {
            return Err(ApiError::invalid_request(
                "a ciphertext is at least its 16-byte tag",
            ));
        }
    }
    state
        .chat_send_limiter
        .check(&user.id, Instant::now())
        .map_err(ApiError::rate_limited)?;
    own_active_device(&state, &user, &sender.to_string()).await?;
    for recipient in &recipients {
        let recipient = recipient.to_string();
        if state
            .store
            .active_device_in_org(&user.org_id, &recipient)
            .await?
            .is_none()
        {
            return Err(unknown_recipient(&recipient));
        }
    }
    let rows: Vec<NewEnvelope> = envelopes
        .iter()
        .map(|e| NewEnvelope {
            message_id: e.message_id.to_string(),
            sender: e.sender.to_string(),
            recipient: e.recipient.to_string(),
            version: e.version,
            enc: URL_SAFE_NO_PAD.encode(e.enc),
            ciphertext: URL_SAFE_NO_PAD.encode(&e.ciphertext),
            signature: URL_SAFE_NO_PAD.encode(e.signature),
        })
        .collect();
    match state.store.store_envelopes(&rows, now_unix()).await? {
        Ok(()) => Ok((
            StatusCode::ACCEPTED,
            Json(Sent {
                message_id: message_id.to_string(),
                stored: rows.len(),
            }),
        )),
        Err(Refusal::RecipientGone(recipient)) => Err(unknown_recipient(&recipient)),
        Err(Refusal::Duplicate(recipient)) => Err(error(
            StatusCode::CONFLICT,
            "duplicate_message",
            format!("device {recipient} already has message {message_id}"),
        )),
    }
}

fn unknown_recipient(recipient: &str) -> ApiError {
    error(
        StatusCode::BAD_REQUEST,
        "unknown_recipient",
        format!("{recipient} is not an active device in your organisation"),
    )
}

/// Query of `GET /api/v1/chat/inbox`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct InboxQuery {
    /// One of the caller's active devices.
    device_id: String,
    /// Only entries with a larger cursor (default 0: all).
    #[serde(default)]
    after: Option<u64>,
    /// Most entries to return (default 50).
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// One entry of the inbox.
#[derive(Serialize, ToSchema)]
pub(super) struct InboxMessage {
    /// This entry's cursor: acknowledge up to it once handled.
    cursor: u64,
    /// The sender device's user.
    sender_user_id: String,
    /// That user's email.
    sender_email: String,
    /// The sender device's public keys from the directory: verify the
    /// envelope's signature against these.
    sender_keys: PublicKeysView,
    /// The envelope as the sender sealed it.
    envelope: EnvelopeView,
    /// When the server stored it, Unix seconds.
    stored_at: u64,
}

impl From<MailboxEntry> for InboxMessage {
    fn from(entry: MailboxEntry) -> Self {
        InboxMessage {
            cursor: entry.cursor,
            sender_user_id: entry.sender_user_id,
            sender_email: entry.sender_email,
            sender_keys: PublicKeysView {
                device_id: entry.envelope.sender.clone(),
                ed25519: entry.sender_ed25519,
                x25519: entry.sender_x25519,
            },
            envelope: entry.envelope.into(),
            stored_at: entry.stored_at,
        }
    }
}

/// Response of `GET /api/v1/chat/inbox`.
#[derive(Serialize, ToSchema)]
pub(super) struct Inbox {
    /// Entries in cursor order.
    messages: Vec<InboxMessage>,
    /// The last entry's cursor (or `after` when there is none): pass it as
    /// `after` for the next page.
    next_cursor: u64,
}

/// `GET /api/v1/chat/inbox`: what waits for one of the caller's devices.
#[utoipa::path(
    get,
    path = "/api/v1/chat/inbox",
    tag = "chat",
    security(("bearer" = [])),
    params(InboxQuery),
    responses(
        (status = 200, description = "Entries after `after`, in cursor order.", body = Inbox),
        (status = 400, description = "`invalid_request`: a bad query parameter.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`device_not_yours`, `device_revoked` or `insufficient_scope`.", body = ErrorBody),
    ),
)]
pub(super) async fn inbox(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    query: Result<Query<InboxQuery>, QueryRejection>,
) -> Result<Json<Inbox>, ApiError> {
    // axum's own rejection is plain text; every API error is JSON.
    let Query(query) = query.map_err(|e| ApiError::invalid_request(e.body_text()))?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid_request(format!(
            "limit must be 1 to {MAX_PAGE}"
        )));
    }
    let after = query.after.unwrap_or(0);
    let device = own_active_device(&state, &user, &query.device_id).await?;
    let entries = state.store.mailbox(&device.device_id, after, limit).await?;
    let next_cursor = entries.last().map_or(after, |e| e.cursor);
    Ok(Json(Inbox {
        messages: entries.into_iter().map(InboxMessage::from).collect(),
        next_cursor,
    }))
}

/// Body of `POST /api/v1/chat/inbox/ack`.
#[derive(Deserialize, ToSchema)]
#[schema(as = AcknowledgeInbox)]
#[serde(deny_unknown_fields)]
pub(super) struct Ack {
    /// One of the caller's active devices.
    device_id: String,
    /// Delete this device's entries with cursors up to and including this.
    up_to: u64,
}

/// `POST /api/v1/chat/inbox/ack`: deletes what a device has received.
#[utoipa::path(
    post,
    path = "/api/v1/chat/inbox/ack",
    tag = "chat",
    security(("bearer" = [])),
    request_body = Ack,
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "`invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`device_not_yours`, `device_revoked` or `insufficient_scope`.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    ),
)]
pub(super) async fn acknowledge(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<Ack>,
) -> Result<StatusCode, ApiError> {
    let device = own_active_device(&state, &user, &body.device_id).await?;
    state
        .store
        .acknowledge(&device.device_id, body.up_to)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This file's endpoints in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(send, inbox, acknowledge))]
pub(super) struct Api;
