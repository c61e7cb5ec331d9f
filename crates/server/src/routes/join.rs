//! Join tokens: `POST /api/v1/meetings/{id}/join-token`.
//!
//! This is where the server decides who someone is in a meeting. The role
//! is `host` for the meeting's owner and `participant` for everyone else;
//! nothing in the request can change that (unknown fields such as `role` are
//! ignored).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use confer_wire::ids::{MeetingId, Role};
use serde::{Deserialize, Serialize};

use super::{AppState, RouterInfo, parse_meeting_id};
use crate::api_error::{ApiError, ApiJson};
use crate::auth::MaybeSignedIn;
use crate::clock::now_unix;
use crate::ids::new_guest_subject;
use crate::join_token::{self, Joiner};
use crate::validate;

/// Body of the join-token request.
#[derive(Deserialize)]
pub(super) struct JoinRequest {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    passcode: Option<String>,
}

/// Response of the join-token request.
#[derive(Serialize)]
pub(super) struct JoinGrant {
    token: String,
    session_id: String,
    role: Role,
    expires_at: u64,
    router: RouterInfo,
}

/// `POST /api/v1/meetings/{id}/join-token`: a signed-in user or a guest asks
/// to join a meeting.
pub(super) async fn join_token(
    State(state): State<AppState>,
    MaybeSignedIn(user): MaybeSignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<JoinRequest>,
) -> Result<Json<JoinGrant>, ApiError> {
    let id = parse_meeting_id(&id)?;
    let meeting = state
        .store
        .meeting(id)
        .await?
        .ok_or_else(ApiError::meeting_not_found)?;

    let name = match &body.display_name {
        Some(name) => Some(validate::display_name(name).map_err(ApiError::invalid_request)?),
        None => None,
    };
    if user.is_none() && name.is_none() {
        return Err(ApiError::invalid_request(
            "display_name is required when joining as a guest",
        ));
    }
    let is_owner = user.as_ref().is_some_and(|u| u.id == meeting.host_user_id);

    // The owner needs no passcode (it is theirs); everyone else must give it.
    if let (Some(hash), false) = (&meeting.passcode_hash, is_owner) {
        let given = body.passcode.unwrap_or_default();
        if given.is_empty() || !state.hasher.verify(given, Some(hash.clone())).await? {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "wrong_passcode",
                "wrong passcode",
            ));
        }
    }

    let joiner = match user {
        Some(user) => Joiner {
            name: name.unwrap_or(user.display_name),
            subject: user.id,
            role: if is_owner {
                Role::Host
            } else {
                Role::Participant
            },
            guest: false,
        },
        None => Joiner {
            // Checked above; repeated so there is no panic path.
            name: name.ok_or_else(|| {
                ApiError::invalid_request("display_name is required when joining as a guest")
            })?,
            subject: new_guest_subject(),
            role: Role::Participant,
            guest: true,
        },
    };
    let signed = join_token::issue(
        &state.signing_key,
        &state.issuer,
        MeetingId(id),
        joiner,
        now_unix(),
    )?;
    tracing::info!(
        meeting_id = id,
        sub = %signed.claims.sub,
        role = %signed.claims.role,
        "join token issued"
    );
    Ok(Json(JoinGrant {
        session_id: signed.claims.sid.clone(),
        role: signed.claims.role,
        expires_at: signed.claims.exp,
        token: signed.token,
        router: RouterInfo::clone(&state.router),
    }))
}
