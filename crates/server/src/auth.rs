//! Who is calling: the `Authorization: Bearer ACCESS_TOKEN` header turned
//! into the signed-in account.
//!
//! [`SignedIn`] requires a valid token; [`MaybeSignedIn`] also admits callers
//! with no header at all (guests). A header that is present but wrong is
//! refused in both cases rather than quietly treated as a guest, so a client
//! with an expired token learns it instead of joining under the wrong name.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::access_token;
use crate::api_error::ApiError;
use crate::routes::AppState;
use crate::store::User;

/// The caller's account; rejects the request with 401 if there is none.
#[derive(Debug, Clone)]
pub(crate) struct SignedIn(pub(crate) User);

/// The caller's account if a bearer token was sent, `None` if no
/// `Authorization` header was sent at all.
#[derive(Debug, Clone)]
pub(crate) struct MaybeSignedIn(pub(crate) Option<User>);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match authenticate(parts, state).await? {
            Some(user) => Ok(SignedIn(user)),
            None => Err(ApiError::unauthorized(
                "this call needs Authorization: Bearer ACCESS_TOKEN",
            )),
        }
    }
}

impl FromRequestParts<AppState> for MaybeSignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(MaybeSignedIn(authenticate(parts, state).await?))
    }
}

/// `Ok(None)` without an `Authorization` header; the account for a valid
/// bearer token; 401 otherwise.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<Option<User>, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| ApiError::unauthorized("expected Authorization: Bearer ACCESS_TOKEN"))?;
    let claims = access_token::verify(&state.signing_key, &state.issuer, token).map_err(|e| {
        // The reason (expired, bad signature…) helps operators; the token
        // itself is never logged.
        tracing::debug!(reason = %e, "access token refused");
        ApiError::unauthorized("invalid or expired access token")
    })?;
    match state.store.user_by_id(&claims.sub).await? {
        Some(user) => Ok(Some(user)),
        None => Err(ApiError::unauthorized(
            "the account for this token no longer exists",
        )),
    }
}
