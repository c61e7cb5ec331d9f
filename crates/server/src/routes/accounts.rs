//! Sign-up and login.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::access_token::{self, ACCESS_TOKEN_LIFETIME_SECS};
use crate::api_error::{ApiError, ApiJson};
use crate::clock::now_unix;
use crate::ids::new_user_id;
use crate::store::User;
use crate::validate;

/// Body of `POST /api/v1/accounts`.
#[derive(Deserialize)]
pub(super) struct CreateAccount {
    email: String,
    display_name: String,
    password: String,
}

/// Response of `POST /api/v1/accounts`.
#[derive(Serialize)]
pub(super) struct Account {
    user_id: String,
    email: String,
    display_name: String,
}

/// `POST /api/v1/accounts`: creates an account.
pub(super) async fn create(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateAccount>,
) -> Result<(StatusCode, Json<Account>), ApiError> {
    let email = validate::email(&body.email).map_err(ApiError::invalid_request)?;
    let display_name =
        validate::display_name(&body.display_name).map_err(ApiError::invalid_request)?;
    validate::password(&body.password).map_err(ApiError::invalid_request)?;
    // Checked before hashing only to save the work; the UNIQUE constraint
    // is what actually decides a race between two sign-ups.
    if state.store.user_by_email(&email).await?.is_some() {
        return Err(crate::store::StoreError::EmailTaken.into());
    }
    let password_hash = state.hasher.hash(body.password).await?;
    let user = User {
        id: new_user_id(),
        email,
        display_name,
        password_hash,
    };
    state.store.create_user(&user, now_unix()).await?;
    tracing::info!(user_id = %user.id, "account created");
    Ok((
        StatusCode::CREATED,
        Json(Account {
            user_id: user.id,
            email: user.email,
            display_name: user.display_name,
        }),
    ))
}

/// Body of `POST /api/v1/login`.
#[derive(Deserialize)]
pub(super) struct Login {
    email: String,
    password: String,
}

/// Response of `POST /api/v1/login`.
#[derive(Serialize)]
pub(super) struct AccessToken {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
}

/// `POST /api/v1/login`: exchanges email and password for an access token.
pub(super) async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Login>,
) -> Result<Json<AccessToken>, ApiError> {
    let email = validate::normalise_email(&body.email);
    let user = state.store.user_by_email(&email).await?;
    // An unknown email still costs one Argon2 verification (against a dummy
    // hash), so response time does not reveal which emails have accounts.
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let ok = state.hasher.verify(body.password, stored_hash).await?;
    let user = match user {
        Some(user) if ok => user,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "wrong email or password",
            ));
        }
    };
    let access_token =
        access_token::issue(&state.signing_key, &state.issuer, &user.id, now_unix())?;
    tracing::info!(user_id = %user.id, "logged in");
    Ok(Json(AccessToken {
        access_token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_LIFETIME_SECS,
    }))
}
