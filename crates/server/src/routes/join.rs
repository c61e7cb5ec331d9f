//! Join tokens: `POST /api/v1/meetings/{id}/join-token`.
//!
//! This is where the server decides who someone is in a meeting. The role
//! is `host` for the meeting's owner and `participant` for everyone else;
//! nothing in the request can change that (unknown fields such as `role` are
//! ignored).
//!
//! Before a token is issued the meeting's rules are checked here: only
//! signed-in users, only users at the allowed email domains, the passcode
//! (wrong guesses are rate-limited per caller and meeting), and expulsions
//! (`check_expulsion`). Rules the router
//! enforces (waiting room, join before host, E2E) travel in the token's
//! `policy`.

use std::net::SocketAddr;
use std::time::Instant;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use confer_wire::ids::{MeetingId, Role};
use confer_wire::token::JoinPolicy;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{AppState, RouterInfo, parse_meeting_id};
use crate::api_error::{ApiError, ApiJson};
use crate::audit::{self, Actor, Target};
use crate::auth::MaybeSignedIn;
use crate::clock::now_unix;
use crate::ids::new_guest_subject;
use crate::join_token::{self, Joiner};
use crate::openapi::ErrorBody;
use crate::store::{ExpulsionBar, Meeting, User};
use crate::validate;

/// Body of the join-token request; may be empty.
#[derive(Deserialize, ToSchema)]
pub(super) struct JoinRequest {
    /// The name to show in the meeting; required for guests.
    #[serde(default)]
    display_name: Option<String>,
    /// The meeting's passcode, if it has one (the host needs none).
    #[serde(default)]
    passcode: Option<String>,
}

/// Response of the join-token request.
#[derive(Serialize, ToSchema)]
pub(super) struct JoinGrant {
    /// The join token to present to the router.
    token: String,
    /// This session's id in the meeting.
    session_id: String,
    /// `host` for the meeting's owner, `participant` for everyone else.
    #[schema(value_type = JoinRole)]
    role: Role,
    /// When the token expires, Unix seconds.
    expires_at: u64,
    /// Where the router listens.
    router: RouterInfo,
    /// Whether the meeting is end-to-end encrypted, so a client that cannot
    /// read the meeting (a guest) can still say how it is protected.
    e2e: bool,
}

/// The roles a join token can carry (`confer_wire::ids::Role`, which the
/// wire crate keeps free of OpenAPI).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // only describes `Role` in the OpenAPI document
pub(super) enum JoinRole {
    /// The meeting's owner.
    Host,
    /// Appointed by the host.
    CoHost,
    /// Everyone else.
    Participant,
}

/// `POST /api/v1/meetings/{id}/join-token`: a signed-in user or a guest asks
/// to join a meeting.
#[utoipa::path(
    post,
    path = "/api/v1/meetings/{id}/join-token",
    tag = "meetings",
    security((), ("bearer" = []), ("oauth2" = ["meeting:join"])),
    params(("id" = String, Path, description = "The meeting id (digits).")),
    request_body(content = JoinRequest, description = "May be empty for a signed-in caller."),
    responses(
        (status = 200, description = "A join token and where the router is.", body = JoinGrant),
        (status = 400, description = "`invalid_request` (a guest without `display_name`, a bad name).", body = ErrorBody),
        (status = 401, description = "`unauthorized` (a bad access token) or `sign_in_required` (the meeting refuses guests).", body = ErrorBody),
        (status = 403, description = "`wrong_passcode`, `domain_not_allowed` or `insufficient_scope`.", body = ErrorBody),
        (status = 404, description = "`meeting_not_found`.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many wrong passcodes from this caller; see `Retry-After`.", body = ErrorBody,
         headers(("Retry-After" = u64, description = "Seconds to wait."))),
    ),
)]
pub(super) async fn join_token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
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
    check_rules(&state, &meeting, user.as_ref(), name.as_deref()).await?;
    check_expulsion(&state, &meeting, user.as_ref(), name.as_deref()).await?;

    // The owner needs no passcode (it is theirs); everyone else must give it.
    if let (Some(hash), false) = (&meeting.passcode_hash, is_owner) {
        // Signed-in users are limited per account, guests per address.
        let caller = match &user {
            Some(u) => format!("{id}:user:{}", u.id),
            None => format!("{id}:ip:{}", peer.ip()),
        };
        let now = Instant::now();
        state
            .passcode_limiter
            .check(&caller, now)
            .map_err(ApiError::rate_limited)?;
        let given = body.passcode.clone().unwrap_or_default();
        if given.is_empty() || !state.hasher.verify(given, Some(hash.clone())).await? {
            state.passcode_limiter.failed(&caller, now);
            let actor = joiner_actor(user.as_ref(), name.as_deref());
            audit::record(
                &state.store,
                &meeting.org_id,
                &actor,
                "join.wrong_passcode",
                Some(meeting_target(&meeting)),
                serde_json::json!({}),
            )
            .await?;
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "wrong_passcode",
                "wrong passcode",
            ));
        }
    }
    let actor = joiner_actor(user.as_ref(), name.as_deref());
    let org = user.as_ref().map(|u| u.org_id.clone());

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
        policy(&meeting, org),
        now_unix(),
    )?;
    audit::record(
        &state.store,
        &meeting.org_id,
        &actor,
        "join_token.issued",
        Some(meeting_target(&meeting)),
        serde_json::json!({ "role": signed.claims.role.to_string(), "session_id": signed.claims.sid }),
    )
    .await?;
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
        e2e: meeting.settings.e2e,
    }))
}

/// The joining rules the router enforces, from the meeting's settings, and
/// the joiner's organisation (`None` for a guest), from which the router
/// tells members from external participants.
fn policy(meeting: &Meeting, joiner_org: Option<String>) -> JoinPolicy {
    JoinPolicy {
        waiting_room: meeting.settings.waiting_room,
        join_before_host: meeting.settings.join_before_host,
        e2e: meeting.settings.e2e,
        org: joiner_org,
    }
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

fn joiner_actor(user: Option<&User>, name: Option<&str>) -> Actor {
    match (user, name) {
        (Some(user), _) => Actor::user(user),
        (None, Some(name)) => Actor::named(&format!("Guest '{name}'")),
        (None, None) => Actor::named("A guest"),
    }
}

/// Who may join at all: `signed_in_only` refuses guests (401
/// `sign_in_required`); `allowed_domains` refuses anyone whose account email
/// is elsewhere (403 `domain_not_allowed`). Refusals are audited.
async fn check_rules(
    state: &AppState,
    meeting: &Meeting,
    user: Option<&User>,
    name: Option<&str>,
) -> Result<(), ApiError> {
    let s = &meeting.settings;
    let refusal = if (s.signed_in_only || !s.allowed_domains.is_empty()) && user.is_none() {
        Some(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
            "this meeting is only for signed-in users",
        ))
    } else if let Some(user) = user.filter(|_| !s.allowed_domains.is_empty()) {
        let domain = validate::email_domain(&user.email);
        let allowed =
            user.id == meeting.host_user_id || s.allowed_domains.iter().any(|d| d == domain);
        (!allowed).then(|| {
            ApiError::new(
                StatusCode::FORBIDDEN,
                "domain_not_allowed",
                "this meeting is only for users of certain email domains",
            )
        })
    } else {
        None
    };
    let Some(refusal) = refusal else {
        return Ok(());
    };
    audit::record(
        &state.store,
        &meeting.org_id,
        &joiner_actor(user, name),
        "join.refused",
        Some(meeting_target(meeting)),
        serde_json::json!({ "reason": refusal.code() }),
    )
    .await?;
    Err(refusal)
}

/// This file's endpoints in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(join_token))]
pub(super) struct Api;

/// Refuses a token to someone a host expelled from this meeting and has not
/// allowed back (403 `expelled`), and to every guest while an expelled guest
/// is not allowed back (403 `guests_expelled`): a guest gets a new random
/// subject with each token, so only refusing all guests stops the expelled
/// one from simply asking again. Refusals are audited.
async fn check_expulsion(
    state: &AppState,
    meeting: &Meeting,
    user: Option<&User>,
    name: Option<&str>,
) -> Result<(), ApiError> {
    let bar = state
        .store
        .expulsion_bar(meeting.id, user.map(|u| u.id.as_str()))
        .await?;
    let refusal = match bar {
        None => return Ok(()),
        Some(ExpulsionBar::User) => ApiError::new(
            StatusCode::FORBIDDEN,
            "expelled",
            "a host removed you from this meeting; you may join again only if a host allows it",
        ),
        Some(ExpulsionBar::Guest) => ApiError::new(
            StatusCode::FORBIDDEN,
            "guests_expelled",
            "a host removed a guest from this meeting; guests may join again only if a host allows it",
        ),
    };
    audit::record(
        &state.store,
        &meeting.org_id,
        &joiner_actor(user, name),
        "join.refused",
        Some(meeting_target(meeting)),
        serde_json::json!({ "reason": refusal.code() }),
    )
    .await?;
    Err(refusal)
}
