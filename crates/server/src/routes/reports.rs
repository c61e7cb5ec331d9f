//! Meeting attendance: who joined and left, per session
//! (`POST /api/v1/meetings/{id}/events`), and the host or an admin reads a
//! report of who was there, when and for how long
//! (`GET /api/v1/meetings/{id}/report`).
//!
//! Webhooks and the audit trail are not fed from here: the router beside
//! the API reports every start, end, join, leave and expulsion itself
//! (`meeting_events.rs`), so events reported here would duplicate them,
//! and anyone holding a join token could forge them.
//!
//! A report is authenticated by the participant's own join token, which
//! only we can sign: the router forwards the token it admitted, so an event
//! can only be about a session the service really issued, for the meeting
//! in the token. (A separate router credential comes with remote router
//! nodes.)

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use confer_wire::token::{JOIN_TOKEN_AUDIENCE, JoinClaims};
use jsonwebtoken::{Algorithm, Validation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::meetings::managed_meeting;
use super::parse_meeting_id;
use crate::api_error::{ApiError, ApiJson};
use crate::auth::SignedIn;
use crate::clock::now_unix;
use crate::openapi::ErrorBody;
use crate::store::MeetingEvent;

/// How long after a join token was issued its session may still report
/// leaving: a meeting can outlast the token's 2 hours.
const REPORTING_WINDOW_SECS: u64 = 24 * 60 * 60;

/// Body of `POST /api/v1/meetings/{id}/events`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ReportEvent {
    /// The participant's join token.
    token: String,
    /// `joined` or `left`.
    event: EventKind,
}

/// What happened.
#[derive(Deserialize, Clone, Copy, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum EventKind {
    /// The session entered the meeting.
    Joined,
    /// The session left.
    Left,
    /// The session was expelled by a host.
    Expelled,
}

/// `POST /api/v1/meetings/{id}/events`: records a join or leave for the
/// attendance report (no webhook: see the module docs).
#[utoipa::path(
    post,
    path = "/api/v1/meetings/{id}/events",
    tag = "meetings",
    params(("id" = String, Path, description = "The meeting id (digits).")),
    request_body = ReportEvent,
    responses(
        (status = 204, description = "Recorded."),
        (status = 400, description = "`invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: the join token is invalid, for another meeting or too old.", body = ErrorBody),
        (status = 403, description = "`forbidden`: only a host's session can start or end a meeting.", body = ErrorBody),
        (status = 404, description = "`meeting_not_found`.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    ),
)]
pub(super) async fn report_event(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReportEvent>,
) -> Result<StatusCode, ApiError> {
    let id = parse_meeting_id(&id)?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[JOIN_TOKEN_AUDIENCE]);
    validation.set_issuer(&[&*state.issuer]);
    // Expiry is checked below against the longer reporting window.
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["aud", "iss", "sub"]);
    let claims = state
        .signing_key
        .verify::<JoinClaims>(&body.token, &validation)
        .map_err(|_| ApiError::unauthorized("invalid join token"))?
        .claims;
    let now = now_unix();
    if claims.mid.0 != id || claims.iat.saturating_add(REPORTING_WINDOW_SECS) < now {
        return Err(ApiError::unauthorized(
            "the join token is for another meeting or too old",
        ));
    }
    let meeting = state
        .store
        .meeting(id)
        .await?
        .ok_or_else(ApiError::meeting_not_found)?;
    let kind = match body.event {
        EventKind::Joined => "joined",
        EventKind::Left => "left",
        EventKind::Expelled => "expelled",
    };
    state
        .store
        .record_meeting_event(
            &meeting,
            &MeetingEvent {
                session_id: claims.sid,
                subject: claims.sub,
                name: claims.name,
                kind: kind.to_owned(),
                at: now,
            },
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One session's attendance.
#[derive(Serialize, ToSchema)]
pub(super) struct Attendance {
    session_id: String,
    subject: String,
    name: String,
    joined_at: Option<u64>,
    left_at: Option<u64>,
    /// Seconds between joining and leaving; up to now while still present.
    duration_secs: u64,
}

/// Response of `GET /api/v1/meetings/{id}/report`.
#[derive(Serialize, ToSchema)]
pub(super) struct AttendanceReport {
    /// The meeting.
    meeting_id: u64,
    /// One entry per session, by joining time.
    participants: Vec<Attendance>,
}

/// `GET /api/v1/meetings/{id}/report`: who joined, when, and for how long.
#[utoipa::path(
    get,
    path = "/api/v1/meetings/{id}/report",
    tag = "meetings",
    security(("bearer" = []), ("oauth2" = ["report:read"])),
    params(("id" = String, Path, description = "The meeting id (digits).")),
    responses(
        (status = 200, description = "Who was there.", body = AttendanceReport),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (neither host nor admin) or `insufficient_scope`.", body = ErrorBody),
        (status = 404, description = "`meeting_not_found` in the caller's organisation.", body = ErrorBody),
    ),
)]
pub(super) async fn report(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> Result<Json<AttendanceReport>, ApiError> {
    let meeting = managed_meeting(&state, &user, &id).await?;
    let events = state.store.meeting_events(meeting.id).await?;
    let now = now_unix();
    let mut sessions: BTreeMap<String, Attendance> = BTreeMap::new();
    for e in events {
        let entry = sessions
            .entry(e.session_id.clone())
            .or_insert_with(|| Attendance {
                session_id: e.session_id.clone(),
                subject: e.subject.clone(),
                name: e.name.clone(),
                joined_at: None,
                left_at: None,
                duration_secs: 0,
            });
        match e.kind.as_str() {
            "joined" => {
                entry.joined_at.get_or_insert(e.at);
            }
            _ => entry.left_at = Some(e.at),
        }
    }
    let mut participants: Vec<Attendance> = sessions.into_values().collect();
    for p in &mut participants {
        if let Some(joined) = p.joined_at {
            p.duration_secs = p.left_at.unwrap_or(now).saturating_sub(joined);
        }
    }
    participants.sort_by_key(|p| p.joined_at);
    Ok(Json(AttendanceReport {
        meeting_id: meeting.id,
        participants,
    }))
}

/// This file's endpoints in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(report_event, report))]
pub(super) struct Api;
