//! Scheduling meetings: create, look up, list, edit, delete, and the public
//! view behind an invitation link.
//!
//! Meetings belong to the host's organisation. Looking one up, editing or
//! deleting it is scoped to the caller's organisation (another
//! organisation's meeting is 404); editing and deleting also need the host
//! or an organisation admin. Joining (`join.rs`) is the one door open to
//! people from outside.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::{AppState, parse_meeting_id};
use crate::api_error::{ApiError, ApiJson};
use crate::audit::{self, Actor, Target};
use crate::auth::SignedIn;
use crate::clock::now_unix;
use crate::openapi::ErrorBody;
use crate::store::{Meeting, MeetingSettings, Recurrence, User};
use crate::validate;

/// Longest scheduled meeting, in minutes (24 hours).
const MAX_DURATION_MINUTES: u32 = 24 * 60;
/// Most allowed domains on one meeting.
const MAX_ALLOWED_DOMAINS: usize = 20;
/// Most occurrences of a recurring meeting.
const MAX_OCCURRENCES: u32 = 365;
/// Largest recurrence interval.
const MAX_INTERVAL: u32 = 99;

/// Body of `POST /api/v1/meetings`; every field is optional.
#[derive(Deserialize, ToSchema)]
pub(super) struct CreateMeeting {
    /// What the meeting is about.
    #[serde(default)]
    #[schema(max_length = 200)]
    topic: Option<String>,
    /// What everyone but the host must give to join.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64)]
    passcode: Option<String>,
    /// Scheduled start, Unix seconds; none for an instant meeting.
    #[serde(default)]
    start_time: Option<u64>,
    /// Planned length, 1 to 1440 minutes.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1440)]
    duration_minutes: Option<u32>,
    /// How it repeats (needs `start_time`).
    #[serde(default)]
    recurrence: Option<Recurrence>,
    /// Participants wait until a host admits them.
    #[serde(default)]
    waiting_room: Option<bool>,
    /// Participants may enter before the host.
    #[serde(default)]
    join_before_host: Option<bool>,
    /// End-to-end encrypted.
    #[serde(default)]
    e2e: Option<bool>,
    /// Only signed-in users may join.
    #[serde(default)]
    signed_in_only: Option<bool>,
    /// Only users with an email at one of these domains may join (at most 20).
    #[serde(default)]
    #[schema(max_items = 20)]
    allowed_domains: Option<Vec<String>>,
}

/// Body of `PATCH /api/v1/meetings/{id}`: fields present are changed;
/// `null` clears topic, passcode, start time, duration or recurrence.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EditMeeting {
    /// The new topic; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    topic: Option<Option<String>>,
    /// The new passcode; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    passcode: Option<Option<String>>,
    /// The new start, Unix seconds; `null` makes it an instant meeting.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u64>)]
    start_time: Option<Option<u64>>,
    /// The new length in minutes; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    duration_minutes: Option<Option<u32>>,
    /// The new recurrence; `null` makes it a one-time meeting.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Recurrence>)]
    recurrence: Option<Option<Recurrence>>,
    /// Participants wait until a host admits them.
    #[serde(default)]
    waiting_room: Option<bool>,
    /// Participants may enter before the host.
    #[serde(default)]
    join_before_host: Option<bool>,
    /// End-to-end encrypted.
    #[serde(default)]
    e2e: Option<bool>,
    /// Only signed-in users may join.
    #[serde(default)]
    signed_in_only: Option<bool>,
    /// Only users with an email at one of these domains may join.
    #[serde(default)]
    allowed_domains: Option<Vec<String>>,
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A meeting as the API shows it: never the passcode, only whether there is one.
#[derive(Serialize, ToSchema)]
pub(super) struct MeetingView {
    meeting_id: u64,
    topic: Option<String>,
    has_passcode: bool,
    host_user_id: String,
    start_time: Option<u64>,
    duration_minutes: Option<u32>,
    recurrence: Option<Recurrence>,
    waiting_room: bool,
    join_before_host: bool,
    e2e: bool,
    signed_in_only: bool,
    allowed_domains: Vec<String>,
    /// The invitation link: anyone with it can see the meeting's id and
    /// topic and ask to join (passcode and joining rules still apply).
    /// `None` for meetings created before invitation links existed.
    invite_url: Option<String>,
}

impl MeetingView {
    fn new(meeting: Meeting, issuer: &str) -> Self {
        let s = meeting.settings;
        MeetingView {
            meeting_id: meeting.id,
            topic: meeting.topic,
            has_passcode: meeting.passcode_hash.is_some(),
            host_user_id: meeting.host_user_id,
            start_time: s.start_time,
            duration_minutes: s.duration_minutes,
            recurrence: s.recurrence,
            waiting_room: s.waiting_room,
            join_before_host: s.join_before_host,
            e2e: s.e2e,
            signed_in_only: s.signed_in_only,
            allowed_domains: s.allowed_domains,
            invite_url: (!meeting.invite_code.is_empty())
                .then(|| format!("{issuer}/api/v1/invitations/{}", meeting.invite_code)),
        }
    }
}

fn check_duration(minutes: Option<u32>) -> Result<Option<u32>, ApiError> {
    match minutes {
        Some(m) if m == 0 || m > MAX_DURATION_MINUTES => Err(ApiError::invalid_request(format!(
            "duration_minutes must be 1 to {MAX_DURATION_MINUTES}"
        ))),
        other => Ok(other),
    }
}

fn check_recurrence(
    recurrence: Option<Recurrence>,
    start_time: Option<u64>,
) -> Result<Option<Recurrence>, ApiError> {
    let Some(r) = recurrence else { return Ok(None) };
    if start_time.is_none() {
        return Err(ApiError::invalid_request(
            "a recurring meeting needs a start_time",
        ));
    }
    if r.interval == 0 || r.interval > MAX_INTERVAL {
        return Err(ApiError::invalid_request(format!(
            "recurrence.interval must be 1 to {MAX_INTERVAL}"
        )));
    }
    if r.count.is_some_and(|c| c == 0 || c > MAX_OCCURRENCES) {
        return Err(ApiError::invalid_request(format!(
            "recurrence.count must be 1 to {MAX_OCCURRENCES}"
        )));
    }
    if r.count.is_some() && r.until.is_some() {
        return Err(ApiError::invalid_request(
            "give recurrence.count or recurrence.until, not both",
        ));
    }
    if let (Some(until), Some(start)) = (r.until, start_time)
        && until < start
    {
        return Err(ApiError::invalid_request(
            "recurrence.until is before start_time",
        ));
    }
    Ok(Some(r))
}

fn check_domains(domains: Vec<String>) -> Result<Vec<String>, ApiError> {
    if domains.len() > MAX_ALLOWED_DOMAINS {
        return Err(ApiError::invalid_request(format!(
            "at most {MAX_ALLOWED_DOMAINS} allowed_domains"
        )));
    }
    let mut clean = domains
        .iter()
        .map(|d| validate::domain(d).map_err(ApiError::invalid_request))
        .collect::<Result<Vec<_>, _>>()?;
    clean.sort();
    clean.dedup();
    Ok(clean)
}

async fn hash_passcode(
    state: &AppState,
    passcode: Option<String>,
) -> Result<Option<String>, ApiError> {
    match passcode {
        Some(passcode) => {
            validate::passcode(&passcode).map_err(ApiError::invalid_request)?;
            Ok(Some(state.hasher.hash(passcode).await?))
        }
        None => Ok(None),
    }
}

/// Records `action` on `meeting`, done by `user`, in the user's organisation's audit trail.
async fn audit_meeting(
    state: &AppState,
    user: &User,
    action: &str,
    meeting: &Meeting,
) -> Result<(), ApiError> {
    audit::record(
        &state.store,
        &user.org_id,
        &Actor::user(user),
        action,
        Some(meeting_target(meeting)),
        serde_json::json!({}),
    )
    .await?;
    Ok(())
}

fn meeting_target(meeting: &Meeting) -> Target {
    Target {
        kind: "meeting",
        id: meeting.id.to_string(),
        label: meeting
            .topic
            .clone()
            .unwrap_or_else(|| meeting.id.to_string()),
    }
}

/// `POST /api/v1/meetings`: creates a meeting owned by the caller.
#[utoipa::path(
    post,
    path = "/api/v1/meetings",
    tag = "meetings",
    security(("bearer" = []), ("oauth2" = ["meeting:write"])),
    request_body = CreateMeeting,
    responses(
        (status = 201, description = "The new meeting.", body = MeetingView),
        (status = 400, description = "`invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`insufficient_scope` (API client tokens).", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    ),
)]
pub(super) async fn create(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<CreateMeeting>,
) -> Result<(StatusCode, Json<MeetingView>), ApiError> {
    let topic = validate::topic(body.topic.as_deref()).map_err(ApiError::invalid_request)?;
    let defaults = MeetingSettings::default();
    let settings = MeetingSettings {
        start_time: body.start_time,
        duration_minutes: check_duration(body.duration_minutes)?,
        recurrence: check_recurrence(body.recurrence, body.start_time)?,
        waiting_room: body.waiting_room.unwrap_or(defaults.waiting_room),
        join_before_host: body.join_before_host.unwrap_or(defaults.join_before_host),
        e2e: body.e2e.unwrap_or(defaults.e2e),
        signed_in_only: body.signed_in_only.unwrap_or(defaults.signed_in_only),
        allowed_domains: check_domains(body.allowed_domains.unwrap_or_default())?,
    };
    let passcode_hash = hash_passcode(&state, body.passcode).await?;
    let meeting = state
        .store
        .create_meeting(
            &user.org_id,
            topic,
            passcode_hash,
            &user.id,
            settings,
            now_unix(),
        )
        .await?;
    audit_meeting(&state, &user, "meeting.created", &meeting).await?;
    tracing::info!(meeting_id = meeting.id, host = %user.id, "meeting created");
    Ok((
        StatusCode::CREATED,
        Json(MeetingView::new(meeting, &state.issuer)),
    ))
}

/// The caller's organisation's meeting with this id, or 404.
async fn own_org_meeting(state: &AppState, user: &User, raw_id: &str) -> Result<Meeting, ApiError> {
    let id = parse_meeting_id(raw_id)?;
    state
        .store
        .meeting_in_org(&user.org_id, id)
        .await?
        .ok_or_else(ApiError::meeting_not_found)
}

/// Like `own_org_meeting`, and the caller must be the host or an admin.
pub(super) async fn managed_meeting(
    state: &AppState,
    user: &User,
    raw_id: &str,
) -> Result<Meeting, ApiError> {
    let meeting = own_org_meeting(state, user, raw_id).await?;
    if meeting.host_user_id != user.id && !user.role.is_admin() {
        return Err(ApiError::forbidden(
            "only the meeting's host or an organisation admin may do this",
        ));
    }
    Ok(meeting)
}

/// `GET /api/v1/meetings/{id}`: a meeting of the caller's organisation.
#[utoipa::path(
    get,
    path = "/api/v1/meetings/{id}",
    tag = "meetings",
    security(("bearer" = []), ("oauth2" = ["meeting:read"])),
    params(("id" = String, Path, description = "The meeting id (digits).")),
    responses(
        (status = 200, description = "The meeting.", body = MeetingView),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`insufficient_scope` (API client tokens).", body = ErrorBody),
        (status = 404, description = "`meeting_not_found` in the caller's organisation.", body = ErrorBody),
    ),
)]
pub(super) async fn get(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> Result<Json<MeetingView>, ApiError> {
    let meeting = own_org_meeting(&state, &user, &id).await?;
    Ok(Json(MeetingView::new(meeting, &state.issuer)))
}

/// Response of `GET /api/v1/meetings`.
#[derive(Serialize, ToSchema)]
pub(super) struct MeetingList {
    /// The meetings the caller hosts.
    meetings: Vec<MeetingView>,
}

/// `GET /api/v1/meetings`: the meetings the caller hosts.
#[utoipa::path(
    get,
    path = "/api/v1/meetings",
    tag = "meetings",
    security(("bearer" = []), ("oauth2" = ["meeting:read"])),
    responses(
        (status = 200, description = "The caller's meetings.", body = MeetingList),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`insufficient_scope` (API client tokens).", body = ErrorBody),
    ),
)]
pub(super) async fn list(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<MeetingList>, ApiError> {
    let meetings = state
        .store
        .meetings_in_org(&user.org_id, Some(&user.id))
        .await?;
    let views: Vec<MeetingView> = meetings
        .into_iter()
        .map(|m| MeetingView::new(m, &state.issuer))
        .collect();
    Ok(Json(MeetingList { meetings: views }))
}

/// `PATCH /api/v1/meetings/{id}`: edits a meeting (host or admin).
#[utoipa::path(
    patch,
    path = "/api/v1/meetings/{id}",
    tag = "meetings",
    security(("bearer" = []), ("oauth2" = ["meeting:write"])),
    params(("id" = String, Path, description = "The meeting id (digits).")),
    request_body = EditMeeting,
    responses(
        (status = 200, description = "The meeting as changed.", body = MeetingView),
        (status = 400, description = "`invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (neither host nor admin) or `insufficient_scope`.", body = ErrorBody),
        (status = 404, description = "`meeting_not_found` in the caller's organisation.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    ),
)]
pub(super) async fn edit(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EditMeeting>,
) -> Result<Json<MeetingView>, ApiError> {
    let mut meeting = managed_meeting(&state, &user, &id).await?;
    if let Some(topic) = body.topic {
        meeting.topic = validate::topic(topic.as_deref()).map_err(ApiError::invalid_request)?;
    }
    if let Some(passcode) = body.passcode {
        meeting.passcode_hash = hash_passcode(&state, passcode).await?;
    }
    let s = &mut meeting.settings;
    if let Some(start) = body.start_time {
        s.start_time = start;
    }
    if let Some(duration) = body.duration_minutes {
        s.duration_minutes = check_duration(duration)?;
    }
    if let Some(recurrence) = body.recurrence {
        s.recurrence = recurrence;
    }
    s.recurrence = check_recurrence(s.recurrence.take(), s.start_time)?;
    if let Some(v) = body.waiting_room {
        s.waiting_room = v;
    }
    if let Some(v) = body.join_before_host {
        s.join_before_host = v;
    }
    if let Some(v) = body.e2e {
        s.e2e = v;
    }
    if let Some(v) = body.signed_in_only {
        s.signed_in_only = v;
    }
    if let Some(domains) = body.allowed_domains {
        s.allowed_domains = check_domains(domains)?;
    }
    if !state.store.update_meeting(&meeting, now_unix()).await? {
        return Err(ApiError::meeting_not_found());
    }
    audit_meeting(&state, &user, "meeting.updated", &meeting).await?;
    Ok(Json(MeetingView::new(meeting, &state.issuer)))
}

/// `DELETE /api/v1/meetings/{id}` (host or admin).
#[utoipa::path(
    delete,
    path = "/api/v1/meetings/{id}",
    tag = "meetings",
    security(("bearer" = []), ("oauth2" = ["meeting:write"])),
    params(("id" = String, Path, description = "The meeting id (digits).")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (neither host nor admin) or `insufficient_scope`.", body = ErrorBody),
        (status = 404, description = "`meeting_not_found` in the caller's organisation.", body = ErrorBody),
    ),
)]
pub(super) async fn delete(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let meeting = managed_meeting(&state, &user, &id).await?;
    if !state.store.delete_meeting(&user.org_id, meeting.id).await? {
        return Err(ApiError::meeting_not_found());
    }
    audit_meeting(&state, &user, "meeting.deleted", &meeting).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What an invitation link shows.
#[derive(Serialize, ToSchema)]
pub(super) struct InvitationView {
    /// The meeting to join.
    meeting_id: u64,
    /// Its topic.
    topic: Option<String>,
    /// Whether joining asks for a passcode.
    has_passcode: bool,
    /// Scheduled start, Unix seconds.
    start_time: Option<u64>,
    /// Planned length in minutes.
    duration_minutes: Option<u32>,
    /// Whether guests are refused.
    signed_in_only: bool,
    /// Where to ask for a join token.
    join_token_url: String,
}

/// `GET /api/v1/invitations/{code}`: what an invitation link shows anyone
/// holding it: the meeting id to join, its topic and schedule, and whether
/// a passcode will be asked for.
#[utoipa::path(
    get,
    path = "/api/v1/invitations/{code}",
    tag = "meetings",
    params(("code" = String, Path, description = "The code from the invitation link.")),
    responses(
        (status = 200, description = "The invited meeting.", body = InvitationView),
        (status = 404, description = "`meeting_not_found`: no meeting has this code.", body = ErrorBody),
    ),
)]
pub(super) async fn invitation(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<InvitationView>, ApiError> {
    let meeting = state
        .store
        .meeting_by_invite(&code)
        .await?
        .ok_or_else(ApiError::meeting_not_found)?;
    Ok(Json(InvitationView {
        meeting_id: meeting.id,
        topic: meeting.topic,
        has_passcode: meeting.passcode_hash.is_some(),
        start_time: meeting.settings.start_time,
        duration_minutes: meeting.settings.duration_minutes,
        signed_in_only: meeting.settings.signed_in_only,
        join_token_url: format!("{}/api/v1/meetings/{}/join-token", state.issuer, meeting.id),
    }))
}

/// This file's endpoints in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create, get, list, edit, delete, invitation))]
pub(super) struct Api;
