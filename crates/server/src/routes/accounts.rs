//! Sign-up, login (rate-limited, with lockout) and the caller's own profile.

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use crate::access_token::{self, ACCESS_TOKEN_LIFETIME_SECS};
use crate::api_error::{ApiError, ApiJson};
use crate::audit::{self, Actor};
use crate::auth::SignedIn;
use crate::clock::now_unix;
use crate::ids::{new_org_id, new_user_id};
use crate::openapi::ErrorBody;
use crate::store::{NewUser, User, UserRole};
use crate::validate;

/// Consecutive wrong passwords that lock an account.
pub(crate) const LOCKOUT_THRESHOLD: u32 = 5;
/// How long a locked account refuses logins (15 minutes).
pub(crate) const LOCKOUT_SECS: u64 = 15 * 60;

/// Body of `POST /api/v1/accounts`.
#[derive(Deserialize, ToSchema)]
pub(super) struct CreateAccount {
    /// The sign-in email; also decides the organisation (see the endpoint).
    #[schema(format = "email", max_length = 254)]
    email: String,
    /// At least 8 characters.
    #[schema(min_length = 8)]
    password: String,
    /// Who the person is.
    #[serde(flatten)]
    profile: ProfileFields,
}

/// The profile fields sign-up and an admin adding a user both take. Either
/// `display_name` or `first_name` (and optionally `last_name`) names the
/// user.
#[derive(Deserialize, ToSchema)]
pub(super) struct ProfileFields {
    /// The whole name; split at its first space into first and last name
    /// when `first_name` is not given.
    #[serde(default)]
    #[schema(max_length = 64)]
    display_name: Option<String>,
    /// Given name.
    #[serde(default)]
    #[schema(max_length = 64)]
    first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    #[schema(max_length = 64)]
    last_name: Option<String>,
    /// Company; also names a new organisation.
    #[serde(default)]
    company: Option<String>,
    /// Phone number.
    #[serde(default)]
    phone: Option<String>,
    /// An `https://` URL of a profile picture.
    #[serde(default)]
    #[schema(pattern = "^https://")]
    picture_url: Option<String>,
}

/// An account as the API shows it: the whole stored profile, never the
/// password hash.
#[derive(Serialize, ToSchema)]
pub(super) struct Account {
    user_id: String,
    email: String,
    display_name: String,
    first_name: String,
    last_name: String,
    company: Option<String>,
    phone: Option<String>,
    picture_url: Option<String>,
    org_id: String,
    role: UserRole,
    plan: String,
}

impl From<User> for Account {
    fn from(u: User) -> Self {
        Account {
            user_id: u.id,
            email: u.email,
            display_name: u.display_name,
            first_name: u.first_name,
            last_name: u.last_name,
            company: u.company,
            phone: u.phone,
            picture_url: u.picture_url,
            org_id: u.org_id,
            role: u.role,
            plan: u.plan,
        }
    }
}

/// [`ProfileFields`], validated.
pub(super) struct Profile {
    pub(super) first_name: String,
    pub(super) last_name: String,
    pub(super) company: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) picture_url: Option<String>,
}

impl ProfileFields {
    /// Validates the fields. A `display_name` alone is split at its first
    /// space into first and last name (the first cut of the API only had
    /// `display_name`, and the CLI still sends just that).
    pub(super) fn validate(&self) -> Result<Profile, ApiError> {
        let (first, last) = match (self.first_name.as_deref(), self.display_name.as_deref()) {
            (Some(first), _) => (
                validate::name_part("first_name", first, true)
                    .map_err(ApiError::invalid_request)?,
                validate::name_part("last_name", self.last_name.as_deref().unwrap_or(""), false)
                    .map_err(ApiError::invalid_request)?,
            ),
            (None, Some(name)) => {
                let name = validate::display_name(name).map_err(ApiError::invalid_request)?;
                match name.split_once(' ') {
                    Some((first, last)) => (first.to_owned(), last.trim().to_owned()),
                    None => (name, String::new()),
                }
            }
            (None, None) => {
                return Err(ApiError::invalid_request(
                    "display_name or first_name is required",
                ));
            }
        };
        if crate::store::display_name(&first, &last).chars().count()
            > validate::MAX_DISPLAY_NAME_CHARS
        {
            return Err(ApiError::invalid_request(format!(
                "first and last name together must be at most {} characters",
                validate::MAX_DISPLAY_NAME_CHARS
            )));
        }
        Ok(Profile {
            first_name: first,
            last_name: last,
            company: validate::optional_text("company", self.company.as_deref())
                .map_err(ApiError::invalid_request)?,
            phone: validate::phone(self.phone.as_deref()).map_err(ApiError::invalid_request)?,
            picture_url: validate::picture_url(self.picture_url.as_deref())
                .map_err(ApiError::invalid_request)?,
        })
    }
}

/// `POST /api/v1/accounts`: creates an account. An email at a domain some
/// organisation manages joins that organisation as a member; any other
/// email gets a new organisation of its own, with the user as its owner.
#[utoipa::path(
    post,
    path = "/api/v1/accounts",
    tag = "accounts",
    request_body = CreateAccount,
    responses(
        (status = 201, description = "The new account.", body = Account),
        (status = 400, description = "`invalid_request`: a field is missing or invalid.", body = ErrorBody),
        (status = 409, description = "`email_taken`.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    ),
)]
pub(super) async fn create(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateAccount>,
) -> Result<(StatusCode, Json<Account>), ApiError> {
    let email = validate::email(&body.email).map_err(ApiError::invalid_request)?;
    let profile = body.profile.validate()?;
    validate::password(&body.password).map_err(ApiError::invalid_request)?;
    // Checked before hashing only to save the work; the UNIQUE constraint
    // is what actually decides a race between two sign-ups.
    if state.store.user_by_email(&email).await?.is_some() {
        return Err(crate::store::StoreError::EmailTaken.into());
    }
    let password_hash = state.hasher.hash(body.password).await?;
    let managed = state
        .store
        .org_for_domain(validate::email_domain(&email))
        .await?;
    let (org_id, new_org, role) = match managed {
        Some(org_id) => (org_id, None, UserRole::Member),
        None => {
            let name = profile.company.clone().unwrap_or_else(|| {
                crate::store::display_name(&profile.first_name, &profile.last_name)
            });
            (new_org_id(), Some(name), UserRole::Owner)
        }
    };
    let new = NewUser {
        id: new_user_id(),
        org_id,
        email,
        first_name: profile.first_name,
        last_name: profile.last_name,
        company: profile.company,
        phone: profile.phone,
        picture_url: profile.picture_url,
        role,
        plan: "basic".to_owned(),
        password_hash: Some(password_hash),
    };
    let user = state
        .store
        .create_user(&new, new_org.as_deref(), now_unix())
        .await?;
    audit::record(
        &state.store,
        &user.org_id,
        &Actor::user(&user),
        "account.created",
        None,
        serde_json::json!({}),
    )
    .await?;
    tracing::info!(user_id = %user.id, org_id = %user.org_id, "account created");
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Body of `POST /api/v1/login`.
#[derive(Deserialize, ToSchema)]
pub(super) struct Login {
    /// The account's email.
    email: String,
    /// Its password.
    password: String,
}

/// Response of `POST /api/v1/login`.
#[derive(Serialize, ToSchema)]
pub(super) struct AccessToken {
    /// Send as `Authorization: Bearer ACCESS_TOKEN`.
    access_token: String,
    /// Always `Bearer`.
    #[schema(value_type = String, example = "Bearer")]
    token_type: &'static str,
    /// Seconds until the token expires.
    expires_in: u64,
}

/// `POST /api/v1/login`: exchanges email and password for an access token.
///
/// Failed attempts per email are rate-limited (429 `rate_limited`; this
/// also covers emails with no account, which cannot be locked), and
/// [`LOCKOUT_THRESHOLD`] wrong passwords in a row lock the account for
/// [`LOCKOUT_SECS`] (423 `account_locked`, even with the right password).
/// Failures and lockouts go to the organisation's audit trail.
#[utoipa::path(
    post,
    path = "/api/v1/login",
    tag = "accounts",
    request_body = Login,
    responses(
        (status = 200, description = "An access token.", body = AccessToken),
        (status = 400, description = "`invalid_request`.", body = ErrorBody),
        (status = 401, description = "`invalid_credentials`: wrong email or password.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
        (status = 423, description = "`account_locked` after repeated wrong passwords; see `Retry-After`.", body = ErrorBody,
         headers(("Retry-After" = u64, description = "Seconds until the lock ends."))),
        (status = 429, description = "`rate_limited`: too many failed logins for this email; see `Retry-After`.", body = ErrorBody,
         headers(("Retry-After" = u64, description = "Seconds to wait."))),
    ),
)]
pub(super) async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Login>,
) -> Result<Json<AccessToken>, ApiError> {
    let email = validate::normalise_email(&body.email);
    let started = Instant::now();
    state
        .login_limiter
        .check(&email, started)
        .map_err(ApiError::rate_limited)?;
    let user = state.store.user_by_email(&email).await?;
    let now = now_unix();
    if let Some(user) = user.as_ref().filter(|u| u.locked_until > now) {
        audit::record(
            &state.store,
            &user.org_id,
            &Actor::user(user),
            "login.refused_locked",
            None,
            serde_json::json!({}),
        )
        .await?;
        return Err(locked(user.locked_until - now));
    }
    // An unknown email still costs one Argon2 verification (against a dummy
    // hash), so response time does not reveal which emails have accounts.
    let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = state.hasher.verify(body.password, stored_hash).await?;
    let user = match user {
        Some(user) if ok => user,
        Some(user) => {
            state.login_limiter.failed(&email, started);
            let locked_now = state
                .store
                .record_login_failure(&user.id, LOCKOUT_THRESHOLD, now + LOCKOUT_SECS)
                .await?;
            let actor = Actor::user(&user);
            audit::record(
                &state.store,
                &user.org_id,
                &actor,
                "login.failed",
                None,
                serde_json::json!({}),
            )
            .await?;
            if locked_now {
                audit::record(
                    &state.store,
                    &user.org_id,
                    &actor,
                    "account.locked",
                    None,
                    serde_json::json!({ "failed_logins": LOCKOUT_THRESHOLD, "locked_for_secs": LOCKOUT_SECS }),
                )
                .await?;
                tracing::warn!(user_id = %user.id, "account locked after repeated failed logins");
                return Err(locked(LOCKOUT_SECS));
            }
            return Err(bad_credentials());
        }
        None => {
            state.login_limiter.failed(&email, started);
            return Err(bad_credentials());
        }
    };
    state.store.record_login_success(&user.id).await?;
    let access_token = access_token::issue(
        &state.signing_key,
        &state.issuer,
        &user.id,
        &user.org_id,
        now,
    )?;
    audit::record(
        &state.store,
        &user.org_id,
        &Actor::user(&user),
        "login.succeeded",
        None,
        serde_json::json!({}),
    )
    .await?;
    tracing::info!(user_id = %user.id, "logged in");
    Ok(Json(AccessToken {
        access_token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_LIFETIME_SECS,
    }))
}

fn bad_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "wrong email or password",
    )
}

fn locked(remaining_secs: u64) -> ApiError {
    ApiError::new(
        StatusCode::LOCKED,
        "account_locked",
        format!(
            "too many failed logins: this account is locked for {} more minute(s)",
            remaining_secs.div_ceil(60)
        ),
    )
    .with_retry_after(remaining_secs)
}

/// `GET /api/v1/me`: the caller's own profile.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "accounts",
    security(("bearer" = []), ("oauth2" = ["user:read"])),
    responses(
        (status = 200, description = "The caller's account.", body = Account),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`insufficient_scope` (API client tokens).", body = ErrorBody),
    ),
)]
pub(super) async fn me(SignedIn(user): SignedIn) -> Json<Account> {
    Json(user.into())
}

/// This file's endpoints in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create, login, me))]
pub(super) struct Api;
