//! `POST /oauth/token`: the OAuth 2.0 token endpoint (RFC 6749 §3.2) for the
//! `client_credentials` grant (§4.4).
//!
//! Client authentication is either the client secret (form fields
//! `client_id` and `client_secret`, or HTTP Basic) or a client assertion
//! (`client_assertion_type` =
//! `urn:ietf:params:oauth:client-assertion-type:jwt-bearer` and
//! `client_assertion`, RFC 7523). Errors use the RFC 6749 §5.2 shape,
//! `{"error", "error_description"}`, not the rest of the API's.

use std::time::Instant;

use axum::Form;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use jsonwebtoken::jwk::JwkSet;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use crate::access_token::{self, ACCESS_TOKEN_LIFETIME_SECS};
use crate::audit::{self, Actor, Target};
use crate::clock::now_unix;
use crate::oauth::client_assertion::{self, CLIENT_ASSERTION_TYPE};
use crate::oauth::{jwks_fetch, scopes, secret_matches};
use crate::store::{ClientAuthMethod, OAuthClient};

/// The form body of a token request. Every field is optional here so that
/// a missing one gets an OAuth error rather than a generic rejection.
#[derive(Deserialize, Default, ToSchema)]
pub(super) struct TokenRequest {
    /// `client_credentials` or `authorization_code`.
    #[serde(default)]
    grant_type: Option<String>,
    /// Space-separated scopes; all the client's scopes if absent.
    #[serde(default)]
    scope: Option<String>,
    /// The client (with `client_secret`, or optionally with an assertion).
    #[serde(default)]
    client_id: Option<String>,
    /// The client secret, unless sent as HTTP Basic.
    #[serde(default)]
    client_secret: Option<String>,
    /// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer` for a
    /// `private_key_jwt` client.
    #[serde(default)]
    client_assertion_type: Option<String>,
    /// The signed client assertion (RFC 7523).
    #[serde(default)]
    client_assertion: Option<String>,
    /// For `authorization_code`: the code from the redirect.
    #[serde(default)]
    code: Option<String>,
    /// For `authorization_code`: the redirect URI the code was sent to.
    #[serde(default)]
    redirect_uri: Option<String>,
    /// For `authorization_code`: the PKCE verifier (RFC 7636).
    #[serde(default)]
    code_verifier: Option<String>,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Serialize, ToSchema)]
pub(super) struct TokenResponse {
    /// Send as `Authorization: Bearer ACCESS_TOKEN`.
    access_token: String,
    /// Always `Bearer`.
    #[schema(value_type = String, example = "Bearer")]
    token_type: &'static str,
    /// Seconds until the token expires.
    expires_in: u64,
    /// The scopes granted, space-separated.
    scope: String,
}

/// The body of an error response (RFC 6749 §5.2), as [`OAuthError`]
/// renders it.
#[derive(Serialize, ToSchema)]
pub(super) struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_scope`,
    /// `unsupported_grant_type` or `server_error`.
    error: String,
    /// What went wrong, for people.
    error_description: String,
}

/// An error response (RFC 6749 §5.2).
#[derive(Debug)]
pub(super) struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl OAuthError {
    pub(super) fn new(error: &'static str, description: impl Into<String>) -> Self {
        let status = if error == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        OAuthError {
            status,
            error,
            description: description.into(),
        }
    }

    pub(super) fn server(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "token request failed");
        OAuthError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error: "server_error",
            description: "internal server error".into(),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body =
            serde_json::json!({ "error": self.error, "error_description": self.description });
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
        }
        response
    }
}

impl<E: Into<crate::api_error::ApiError>> From<E> for OAuthError {
    fn from(err: E) -> Self {
        let api: crate::api_error::ApiError = err.into();
        OAuthError::server(api.code())
    }
}

/// `POST /oauth/token`.
#[utoipa::path(
    post,
    path = "/oauth/token",
    tag = "oauth",
    security((), ("client_basic" = [])),
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "An access token for the client.", body = TokenResponse,
         headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 400, description = "`invalid_request`, `invalid_scope` or `unsupported_grant_type`.", body = OAuthErrorBody),
        (status = 401, description = "`invalid_client`: client authentication failed.", body = OAuthErrorBody),
    ),
)]
pub(super) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Result<Response, OAuthError> {
    let Form(request) = form.map_err(|e| OAuthError::new("invalid_request", e.body_text()))?;
    match request.grant_type.as_deref() {
        Some("client_credentials") => {}
        Some("authorization_code") => {
            let now = now_unix();
            let client = authenticate(&state, &headers, &request, now).await?;
            return super::oauth_authorize::exchange(
                &state,
                &client,
                super::oauth_authorize::Redemption {
                    code: request.code.as_deref(),
                    redirect_uri: request.redirect_uri.as_deref(),
                    code_verifier: request.code_verifier.as_deref(),
                },
                now,
            )
            .await;
        }
        Some(_) => {
            return Err(OAuthError::new(
                "unsupported_grant_type",
                "only client_credentials and authorization_code are supported",
            ));
        }
        None => return Err(OAuthError::new("invalid_request", "grant_type is required")),
    }
    let now = now_unix();
    let client = authenticate(&state, &headers, &request, now).await?;

    let granted = match request.scope.as_deref().map(scopes::parse) {
        None => client.scopes.clone(),
        Some(Err(e)) => return Err(OAuthError::new("invalid_scope", e)),
        Some(Ok(requested)) if requested.is_empty() => client.scopes.clone(),
        Some(Ok(requested)) => {
            if let Some(extra) = requested.iter().find(|s| !client.scopes.contains(s)) {
                return Err(OAuthError::new(
                    "invalid_scope",
                    format!("this client may not ask for {extra}"),
                ));
            }
            requested
        }
    };
    let user = state
        .store
        .user_by_id(&client.acting_user_id)
        .await?
        .filter(|u| u.org_id == client.org_id)
        .ok_or_else(|| OAuthError::new("invalid_client", "the client's user no longer exists"))?;
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
        &client_actor(&client),
        "oauth.token_issued",
        None,
        serde_json::json!({ "scope": granted.join(" ") }),
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

fn client_actor(client: &OAuthClient) -> Actor {
    Actor::named(&format!("API client '{}'", client.name))
}

fn bad_client() -> OAuthError {
    OAuthError::new("invalid_client", "client authentication failed")
}

/// Finds the client and checks its credentials.
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    request: &TokenRequest,
    now: u64,
) -> Result<OAuthClient, OAuthError> {
    let basic = basic_credentials(headers);
    match (
        &request.client_assertion_type,
        &request.client_assertion,
        basic,
    ) {
        (Some(kind), Some(assertion), None) if kind == CLIENT_ASSERTION_TYPE => {
            assertion_client(state, request.client_id.as_deref(), assertion, now).await
        }
        (Some(_), _, _) | (None, Some(_), _) => Err(OAuthError::new(
            "invalid_request",
            format!(
                "a client assertion needs client_assertion_type={CLIENT_ASSERTION_TYPE} and client_assertion, and no other credentials"
            ),
        )),
        (None, None, basic) => {
            let (id, secret) = match (basic, &request.client_id, &request.client_secret) {
                (Some(pair), None, None) => pair,
                (None, Some(id), Some(secret)) => (id.clone(), secret.clone()),
                _ => return Err(bad_client()),
            };
            let client = state
                .store
                .oauth_client(&id)
                .await?
                .filter(|c| c.auth_method == ClientAuthMethod::ClientSecret)
                .ok_or_else(bad_client)?;
            let ok = client
                .secret_hash
                .as_deref()
                .is_some_and(|hash| secret_matches(&secret, hash));
            if !ok {
                refuse(state, &client, "wrong client secret").await?;
                return Err(bad_client());
            }
            Ok(client)
        }
    }
}

/// `Authorization: Basic` credentials (RFC 6749 §2.3.1: both parts
/// form-urlencoded), if sent.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| form_urlencoded_decode(s);
    Some((unescape(id)?, unescape(secret)?))
}

/// Decodes `application/x-www-form-urlencoded` text (`+` and `%XX`).
fn form_urlencoded_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Records a refused client authentication in the client's organisation.
async fn refuse(state: &AppState, client: &OAuthClient, reason: &str) -> Result<(), OAuthError> {
    tracing::info!(client_id = %client.id, reason, "client authentication refused");
    audit::record(
        &state.store,
        &client.org_id,
        &client_actor(client),
        "oauth.client_auth_failed",
        Some(Target {
            kind: "API client",
            id: client.id.clone(),
            label: client.name.clone(),
        }),
        serde_json::json!({ "reason": reason }),
    )
    .await?;
    Ok(())
}

/// Authenticates a `private_key_jwt` client by its assertion.
async fn assertion_client(
    state: &AppState,
    client_id: Option<&str>,
    assertion: &str,
    now: u64,
) -> Result<OAuthClient, OAuthError> {
    let id = match client_id {
        Some(id) => id.to_owned(),
        None => client_assertion::unverified_issuer(assertion).ok_or_else(bad_client)?,
    };
    let client = state
        .store
        .oauth_client(&id)
        .await?
        .filter(|c| c.auth_method == ClientAuthMethod::PrivateKeyJwt)
        .ok_or_else(bad_client)?;
    let mut keys: JwkSet = client
        .jwks
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or(JwkSet { keys: Vec::new() });
    let kid = client_assertion::key_id(assertion).map_err(|_| bad_client())?;
    if !client_assertion::has_key(&keys, kid.as_deref())
        && let Some(uri) = &client.jwks_uri
    {
        // An unknown kid may mean the client rotated its keys: look again,
        // but only a few times a minute per client.
        if state
            .jwks_refresh_limiter
            .check(&client.id, Instant::now())
            .is_ok()
        {
            match jwks_fetch::fetch(&state.guarded_http, uri).await {
                Ok((fresh, text)) => {
                    state
                        .store
                        .set_oauth_client_jwks(&client.id, &text, now)
                        .await?;
                    keys = fresh;
                }
                Err(e) => {
                    tracing::warn!(client_id = %client.id, error = %e, "jwks_uri refresh failed")
                }
            }
        }
    }
    let verified = match client_assertion::verify(assertion, &client.id, &keys, &state.issuer, now)
    {
        Ok(v) => v,
        Err(e) => {
            refuse(state, &client, &e.to_string()).await?;
            return Err(OAuthError::new("invalid_client", e.to_string()));
        }
    };
    if !state
        .store
        .use_assertion_jti(&client.id, &verified.jti, verified.exp, now)
        .await?
    {
        refuse(state, &client, "replayed jti").await?;
        return Err(OAuthError::new(
            "invalid_client",
            "this client assertion (jti) was already used",
        ));
    }
    Ok(client)
}

/// This file's endpoints in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(token))]
pub(super) struct Api;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        assert_eq!(form_urlencoded_decode("a+b%3Ac").as_deref(), Some("a b:c"));
        assert_eq!(form_urlencoded_decode("%zz"), None);
        assert_eq!(form_urlencoded_decode("%4"), None);
    }
}
