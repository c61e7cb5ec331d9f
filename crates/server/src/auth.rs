//! Who is calling: the `Authorization: Bearer ACCESS_TOKEN` header turned
//! into the signed-in account.
//!
//! [`SignedIn`] requires a valid token; [`MaybeSignedIn`] also admits callers
//! with no header at all (guests). A header that is present but wrong is
//! refused in both cases rather than quietly treated as a guest, so a client
//! with an expired token learns it instead of joining under the wrong name.

use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::StatusCode;
use axum::http::header;
use axum::http::request::Parts;

use crate::access_token;
use crate::api_error::ApiError;
use crate::oauth::scopes::required_scope;
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
    if let Some(client_id) = &claims.client_id {
        check_client_scope(parts, state, client_id, claims.scope.as_deref()).await?;
    }
    match state.store.user_by_id(&claims.sub).await? {
        // The organisation comes from the verified token and must still be
        // the account's: isolation rests on claims, never on the request.
        Some(user) if user.org_id == claims.org => Ok(Some(user)),
        Some(_) => Err(ApiError::unauthorized(
            "this token was issued for another organisation",
        )),
        None => Err(ApiError::unauthorized(
            "the account for this token no longer exists",
        )),
    }
}

/// For an API client's token: the client must still exist and the token's
/// scopes must include the one this endpoint needs (403
/// `insufficient_scope` otherwise, as RFC 6750 §3.1 names it).
async fn check_client_scope(
    parts: &Parts,
    state: &AppState,
    client_id: &str,
    scope: Option<&str>,
) -> Result<(), ApiError> {
    if state.store.oauth_client(client_id).await?.is_none() {
        return Err(ApiError::unauthorized("this API client has been deleted"));
    }
    let path = parts
        .extensions
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or("");
    let granted = scope.unwrap_or("");
    match required_scope(&parts.method, path) {
        Some(needed) if granted.split(' ').any(|s| s == needed) => Ok(()),
        Some(needed) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("this token lacks the {needed} scope"),
        )),
        None => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "API clients may not call this endpoint",
        )),
    }
}

/// The caller's account, which must be an admin (or owner) of its
/// organisation: 401 without a valid token, 403 `forbidden` otherwise.
#[derive(Debug, Clone)]
pub(crate) struct Admin(pub(crate) User);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let SignedIn(user) = SignedIn::from_request_parts(parts, state).await?;
        if user.role.is_admin() {
            Ok(Admin(user))
        } else {
            Err(ApiError::forbidden(
                "only an organisation admin may do this",
            ))
        }
    }
}
