//! Creating and looking up meetings.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{AppState, parse_meeting_id};
use crate::api_error::{ApiError, ApiJson};
use crate::auth::SignedIn;
use crate::clock::now_unix;
use crate::store::Meeting;
use crate::validate;

/// Body of `POST /api/v1/meetings`.
#[derive(Deserialize)]
pub(super) struct CreateMeeting {
    #[serde(default)]
    topic: Option<String>,
    #[serde(default)]
    passcode: Option<String>,
}

/// A meeting as the API shows it: never the passcode, only whether there is one.
#[derive(Serialize)]
pub(super) struct MeetingView {
    meeting_id: u64,
    topic: Option<String>,
    has_passcode: bool,
    host_user_id: String,
}

impl From<Meeting> for MeetingView {
    fn from(meeting: Meeting) -> Self {
        MeetingView {
            meeting_id: meeting.id,
            topic: meeting.topic,
            has_passcode: meeting.passcode_hash.is_some(),
            host_user_id: meeting.host_user_id,
        }
    }
}

/// `POST /api/v1/meetings`: creates a meeting owned by the caller.
pub(super) async fn create(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<CreateMeeting>,
) -> Result<(StatusCode, Json<MeetingView>), ApiError> {
    let topic = validate::topic(body.topic.as_deref()).map_err(ApiError::invalid_request)?;
    let passcode_hash = match body.passcode {
        Some(passcode) => {
            validate::passcode(&passcode).map_err(ApiError::invalid_request)?;
            Some(state.hasher.hash(passcode).await?)
        }
        None => None,
    };
    let meeting = state
        .store
        .create_meeting(topic, passcode_hash, &user.id, now_unix())
        .await?;
    tracing::info!(meeting_id = meeting.id, host = %user.id, "meeting created");
    Ok((StatusCode::CREATED, Json(meeting.into())))
}

/// `GET /api/v1/meetings/{id}`.
pub(super) async fn get(
    State(state): State<AppState>,
    SignedIn(_user): SignedIn,
    Path(id): Path<String>,
) -> Result<Json<MeetingView>, ApiError> {
    let id = parse_meeting_id(&id)?;
    let meeting = state
        .store
        .meeting(id)
        .await?
        .ok_or_else(ApiError::meeting_not_found)?;
    Ok(Json(meeting.into()))
}
