//! The OAuth 2.0 `authorization_code` grant (RFC 6749 §4.1) for API clients,
//! with PKCE S256 required (RFC 7636).
//!
//! - `PUT /api/v1/org/oauth-clients/{id}/redirect-uris`: an admin registers
//!   where a client may receive codes.
//! - `GET /oauth/authorize`: a signed-in user's app asks what a client
//!   requests (for the consent screen); everything is checked here.
//! - `POST /oauth/authorize`: the user approves (or denies); the answer is a
//!   303 to the client's redirect URI with `code` (or `error`) and `state`.
//! - `POST /oauth/token` with `grant_type=authorization_code` (dispatched
//!   from `oauth.rs` after client authentication) exchanges the code.
//!
//! A code lives one minute, is stored only as its hash, is bound to the
//! client, the redirect URI, the user, the approved scopes and the PKCE
//! challenge, and is spent by its first exchange attempt, right or wrong:
//! a replay gets `invalid_grant` and revokes nothing else.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::oauth::OAuthError;
use crate::access_token::{self, ACCESS_TOKEN_LIFETIME_SECS};
use crate::api_error::{ApiError, ApiJson};
use crate::audit::{self, Actor, Target};
use crate::auth::{Admin, SignedIn};
use crate::clock::now_unix;
use crate::oauth::scopes;
use crate::openapi::ErrorBody;
use crate::sso::pkce;
use crate::store::{AuthorizationCode, OAuthClient, User};

/// How long a code may wait for its exchange (1 minute).
const CODE_LIFETIME_SECS: u64 = 60;
/// Most redirect URIs one client may register.
const MAX_REDIRECT_URIS: usize = 10;

/// Body (and answer) of `PUT /api/v1/org/oauth-clients/{id}/redirect-uris`.
#[derive(Deserialize, Serialize, ToSchema)]
pub(super) struct RedirectUris {
    /// Absolute `https://` URLs, or `http://` to a loopback IP literal; at
    /// most 10. An authorization request must name one exactly.
    redirect_uris: Vec<String>,
}

/// Whether a client may register `raw`: an absolute `https` URL, or `http`
/// to a loopback IP literal (a native app, RFC 8252 §7.3); no fragment, no
/// user info.
fn registrable(raw: &str) -> bool {
    let Ok(url) = Url::parse(raw) else {
        return false;
    };
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    };
    raw.len() <= 512
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && url.host().is_some()
        && (url.scheme() == "https" || (url.scheme() == "http" && loopback))
}

/// `PUT /api/v1/org/oauth-clients/{id}/redirect-uris`: replaces where the
/// client may receive authorization codes.
#[utoipa::path(
    put,
    path = "/api/v1/org/oauth-clients/{id}/redirect-uris",
    tag = "api clients",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The client_id.")),
    request_body = RedirectUris,
    responses(
        (status = 200, description = "The client's redirect URIs now.", body = RedirectUris),
        (status = 400, description = "`invalid_request`: not https (or loopback http), a fragment, or too many.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin) or `insufficient_scope`.", body = ErrorBody),
        (status = 404, description = "`client_not_found`.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    ),
)]
pub(super) async fn set_redirect_uris(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RedirectUris>,
) -> Result<Json<RedirectUris>, ApiError> {
    if body.redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(ApiError::invalid_request(format!(
            "at most {MAX_REDIRECT_URIS} redirect URIs"
        )));
    }
    if let Some(bad) = body.redirect_uris.iter().find(|u| !registrable(u)) {
        return Err(ApiError::invalid_request(format!(
            "{bad:?} is not an https:// URL or http:// to a loopback address"
        )));
    }
    if !state
        .store
        .set_oauth_client_redirect_uris(&admin.org_id, &id, &body.redirect_uris)
        .await?
    {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "client_not_found",
            "no such API client",
        ));
    }
    audit::record(
        &state.store,
        &admin.org_id,
        &Actor::user(&admin),
        "oauth.redirect_uris_set",
        Some(Target {
            kind: "API client",
            id: id.clone(),
            label: id,
        }),
        serde_json::json!({ "redirect_uris": body.redirect_uris }),
    )
    .await?;
    Ok(Json(body))
}

/// The authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3), as query
/// (`GET`) or JSON body (`POST`, with `approve`).
#[derive(Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct AuthorizeRequest {
    /// Must be `code`.
    #[serde(default)]
    response_type: Option<String>,
    /// The API client, of the user's organisation.
    #[serde(default)]
    client_id: Option<String>,
    /// Exactly one of the client's registered redirect URIs.
    #[serde(default)]
    redirect_uri: Option<String>,
    /// Space-separated scopes; all the client's scopes if absent.
    #[serde(default)]
    scope: Option<String>,
    /// Echoed to the redirect URI.
    #[serde(default)]
    state: Option<String>,
    /// The PKCE S256 challenge (required).
    #[serde(default)]
    code_challenge: Option<String>,
    /// Must be `S256`.
    #[serde(default)]
    code_challenge_method: Option<String>,
    /// `POST` only: true to approve, false to deny.
    #[serde(default)]
    approve: Option<bool>,
}

/// What the user is asked to approve (`GET /oauth/authorize`).
#[derive(Serialize, ToSchema)]
pub(super) struct ConsentView {
    /// The client.
    client_id: String,
    /// Its name, to show.
    client_name: String,
    /// The scopes it would get.
    scopes: Vec<String>,
    /// Where the answer goes.
    redirect_uri: String,
    /// The client's state.
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<String>,
}

/// A request whose client and redirect URI are known good: errors from here
/// on go back to the client by redirect.
struct Checked {
    client: OAuthClient,
    redirect_uri: String,
    state: Option<String>,
}

/// An error the client learns on its redirect URI (§4.1.2.1).
struct RedirectError {
    error: &'static str,
    description: String,
}

/// Checks the client and redirect URI: failures here must not redirect
/// (§4.1.2.1), since the URI is not known to be the client's.
async fn check_client(
    state: &AppState,
    user: &User,
    request: &AuthorizeRequest,
) -> Result<Checked, ApiError> {
    let client_id = request
        .client_id
        .as_deref()
        .ok_or_else(|| ApiError::invalid_request("client_id is required"))?;
    let client = state
        .store
        .oauth_client(client_id)
        .await?
        // A client is its organisation's; another organisation's users
        // cannot hand it their tokens.
        .filter(|c| c.org_id == user.org_id)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                "no such API client in your organisation",
            )
        })?;
    let redirect_uri = request
        .redirect_uri
        .as_deref()
        .ok_or_else(|| ApiError::invalid_request("redirect_uri is required"))?;
    let registered = state.store.oauth_client_redirect_uris(&client.id).await?;
    // Exact string match (RFC 9700 §4.1.3): no prefix or pattern matching.
    if !registered.iter().any(|r| r == redirect_uri) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_redirect_uri",
            "redirect_uri is not one this client registered",
        ));
    }
    Ok(Checked {
        redirect_uri: redirect_uri.to_owned(),
        state: request.state.clone(),
        client,
    })
}

/// Checks the rest of the request; returns the scopes to grant.
fn check_rest(
    client: &OAuthClient,
    request: &AuthorizeRequest,
) -> Result<Vec<String>, RedirectError> {
    let fail = |error, description: &str| RedirectError {
        error,
        description: description.to_owned(),
    };
    if request.response_type.as_deref() != Some("code") {
        return Err(fail(
            "unsupported_response_type",
            "response_type must be code",
        ));
    }
    let challenge_ok = request
        .code_challenge
        .as_deref()
        .is_some_and(pkce::is_s256_challenge);
    if !challenge_ok || request.code_challenge_method.as_deref() != Some("S256") {
        return Err(fail(
            "invalid_request",
            "PKCE is required: code_challenge with code_challenge_method=S256",
        ));
    }
    if request.state.as_ref().is_some_and(|s| s.len() > 512) {
        return Err(fail("invalid_request", "state is too long"));
    }
    let requested = match request.scope.as_deref().map(scopes::parse) {
        None => client.scopes.clone(),
        Some(Err(e)) => return Err(fail("invalid_scope", &e)),
        Some(Ok(s)) if s.is_empty() => client.scopes.clone(),
        Some(Ok(s)) => s,
    };
    if let Some(extra) = requested.iter().find(|s| !client.scopes.contains(s)) {
        return Err(RedirectError {
            error: "invalid_scope",
            description: format!("this client may not ask for {extra}"),
        });
    }
    Ok(requested)
}

fn redirect_with(checked: &Checked, params: &[(&str, &str)]) -> Response {
    // Registered URIs were checked to parse when registered.
    let Ok(mut url) = Url::parse(&checked.redirect_uri) else {
        return ApiError::internal("a registered redirect_uri does not parse").into_response();
    };
    {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in params {
            pairs.append_pair(k, v);
        }
        if let Some(s) = &checked.state {
            pairs.append_pair("state", s);
        }
    }
    let mut response = Redirect::to(url.as_str()).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /oauth/authorize`: what the client asks for, for the consent
/// screen of the signed-in user's app. Nothing is granted here.
#[utoipa::path(
    get,
    path = "/oauth/authorize",
    tag = "oauth",
    security(("bearer" = [])),
    params(AuthorizeRequest),
    responses(
        (status = 200, description = "The request is valid; this is what the user would approve.", body = ConsentView),
        (status = 400, description = "`invalid_request`, `invalid_client`, `invalid_redirect_uri`, `invalid_scope` or `unsupported_response_type`.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`: API clients may not approve clients.", body = ErrorBody),
    ),
)]
pub(super) async fn describe(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    query: Result<Query<AuthorizeRequest>, QueryRejection>,
) -> Result<Json<ConsentView>, ApiError> {
    let Query(request) = query.map_err(|e| ApiError::invalid_request(e.body_text()))?;
    let checked = check_client(&state, &user, &request).await?;
    let scopes = check_rest(&checked.client, &request)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.error, e.description))?;
    Ok(Json(ConsentView {
        client_id: checked.client.id,
        client_name: checked.client.name,
        scopes,
        redirect_uri: checked.redirect_uri,
        state: checked.state,
    }))
}

/// `POST /oauth/authorize`: the signed-in user approves or denies; answers
/// with a 303 to the client's redirect URI.
#[utoipa::path(
    post,
    path = "/oauth/authorize",
    tag = "oauth",
    security(("bearer" = [])),
    request_body = AuthorizeRequest,
    responses(
        (status = 303, description = "To the redirect URI with `code` and `state`, or `error` (`access_denied`, `invalid_request`, `invalid_scope`, `unsupported_response_type`), `error_description` and `state`."),
        (status = 400, description = "`invalid_request`, `invalid_client` or `invalid_redirect_uri`: no redirect, since the URI is not known to be the client's.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`: API clients may not approve clients.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    ),
)]
pub(super) async fn decide(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(request): ApiJson<AuthorizeRequest>,
) -> Result<Response, ApiError> {
    let checked = check_client(&state, &user, &request).await?;
    let scopes = match check_rest(&checked.client, &request) {
        Ok(scopes) => scopes,
        Err(e) => {
            return Ok(redirect_with(
                &checked,
                &[("error", e.error), ("error_description", &e.description)],
            ));
        }
    };
    if request.approve != Some(true) {
        return Ok(redirect_with(
            &checked,
            &[
                ("error", "access_denied"),
                ("error_description", "the user denied the request"),
            ],
        ));
    }
    let now = now_unix();
    let code = pkce::random_secret();
    state
        .store
        .put_authorization_code(
            &AuthorizationCode {
                code_hash: pkce::code_hash(&code),
                client_id: checked.client.id.clone(),
                user_id: user.id.clone(),
                redirect_uri: checked.redirect_uri.clone(),
                scopes: scopes.clone(),
                code_challenge: request.code_challenge.clone().unwrap_or_default(),
                expires_at: now + CODE_LIFETIME_SECS,
            },
            now,
        )
        .await?;
    audit::record(
        &state.store,
        &user.org_id,
        &Actor::user(&user),
        "oauth.client_authorized",
        Some(Target {
            kind: "API client",
            id: checked.client.id.clone(),
            label: checked.client.name.clone(),
        }),
        serde_json::json!({ "scope": scopes.join(" ") }),
    )
    .await?;
    Ok(redirect_with(&checked, &[("code", &code)]))
}

/// The `authorization_code` fields of a token request.
#[derive(Debug, Clone, Copy)]
pub(super) struct Redemption<'a> {
    /// The code.
    pub(super) code: Option<&'a str>,
    /// The redirect URI it was sent to.
    pub(super) redirect_uri: Option<&'a str>,
    /// The PKCE verifier.
    pub(super) code_verifier: Option<&'a str>,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    scope: String,
}

/// Exchanges a code for an access token, for an already authenticated
/// `client`.
pub(super) async fn exchange(
    state: &AppState,
    client: &OAuthClient,
    redemption: Redemption<'_>,
    now: u64,
) -> Result<Response, OAuthError> {
    let (Some(code), Some(redirect_uri), Some(verifier)) = (
        redemption.code,
        redemption.redirect_uri,
        redemption.code_verifier,
    ) else {
        // Nothing is spent by a malformed request.
        return Err(OAuthError::new(
            "invalid_request",
            "code, redirect_uri and code_verifier are required",
        ));
    };
    let bad = |why: &str| OAuthError::new("invalid_grant", why);
    // Taken before any check: the first attempt spends it, so a replay or a
    // guess with the wrong verifier cannot be retried.
    let stored = state
        .store
        .take_authorization_code(&pkce::code_hash(code))
        .await?
        .ok_or_else(|| bad("unknown or already used code"))?;
    if stored.client_id != client.id {
        return Err(bad("this code was issued to another client"));
    }
    if stored.expires_at < now {
        return Err(bad("the code has expired"));
    }
    if stored.redirect_uri != redirect_uri {
        return Err(bad("redirect_uri differs from the authorization request's"));
    }
    if !pkce::verify_s256(verifier, &stored.code_challenge) {
        return Err(bad("code_verifier does not match the code_challenge"));
    }
    let user = state
        .store
        .user_by_id(&stored.user_id)
        .await?
        .filter(|u| u.org_id == client.org_id)
        .ok_or_else(|| bad("the approving user no longer exists"))?;
    // Scopes the client lost since approval are not granted.
    let granted: Vec<String> = stored
        .scopes
        .into_iter()
        .filter(|s| client.scopes.contains(s))
        .collect();
    let access_token = access_token::issue_for_client(
        &state.signing_key,
        &state.issuer,
        &user.id,
        &user.org_id,
        &client.id,
        &granted,
        now,
    )
    .map_err(OAuthError::server)?;
    audit::record(
        &state.store,
        &client.org_id,
        &Actor::named(&format!("API client '{}'", client.name)),
        "oauth.token_issued",
        None,
        serde_json::json!({
            "scope": granted.join(" "),
            "grant_type": "authorization_code",
            "user_id": user.id,
        }),
    )
    .await?;
    let mut response = Json(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_LIFETIME_SECS,
        scope: granted.join(" "),
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// This file's endpoints in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(set_redirect_uris, describe, decide))]
pub(super) struct Api;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_redirect_uris() {
        assert!(registrable("https://app.example/cb"));
        assert!(registrable("http://127.0.0.1:8080/cb"));
        assert!(registrable("http://[::1]/cb"));
        for bad in [
            "http://app.example/cb",
            "https://app.example/cb#x",
            "https://u:p@app.example/cb",
            "custom:/cb",
            "/relative",
        ] {
            assert!(!registrable(bad), "{bad}");
        }
    }
}
