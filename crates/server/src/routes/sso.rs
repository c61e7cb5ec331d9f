//! Single sign-on with OpenID Connect (see `sso/mod.rs` for the flow).
//!
//! - `POST|GET /api/v1/org/sso-connections`, `DELETE …/{id}`: an admin
//!   registers the organisation's provider (issuer, client id and secret,
//!   how claims map to the organisation).
//! - `GET /sso/{slug}/start`: the app's browser starts here.
//! - `GET /sso/callback`: the provider sends the browser back here.
//! - `POST /sso/token`: the app redeems its one-time code.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use crate::access_token::{self, ACCESS_TOKEN_LIFETIME_SECS};
use crate::api_error::{ApiError, ApiJson};
use crate::audit::{self, Actor, Target};
use crate::auth::Admin;
use crate::clock::now_unix;
use crate::openapi::ErrorBody;
use crate::sso::id_token::{self, Expected};
use crate::sso::org_mapping::{self, MappingError};
use crate::sso::provisioning::{self, ProvisionError};
use crate::sso::{HANDOFF_LIFETIME_SECS, LOGIN_LIFETIME_SECS, loopback_redirect, pkce, provider};
use crate::store::{Handoff, OrgMapping, PendingLogin, SsoConnection, StoreError};

/// The path of our callback at the provider.
const CALLBACK_PATH: &str = "/sso/callback";
/// The scopes we ask the provider for.
const SCOPES: &str = "openid email profile";

/// Body of `POST /api/v1/org/sso-connections`.
#[derive(Deserialize, ToSchema)]
pub(super) struct NewConnection {
    /// The name in `/sso/{slug}/start`: lower-case letters, digits, hyphens.
    slug: String,
    /// The provider's issuer URL (discovery at
    /// `{issuer}/.well-known/openid-configuration`).
    issuer: String,
    /// Our client id at the provider.
    client_id: String,
    /// Our client secret at the provider; kept server-side, never shown.
    client_secret: String,
    /// `email_domain` (default: the verified email's domain must be one the
    /// organisation manages) or `claim`.
    #[serde(default)]
    mapping: Option<String>,
    /// For `claim`: the claim's name, e.g. `org`.
    #[serde(default)]
    claim_name: Option<String>,
    /// For `claim`: the value that means this organisation.
    #[serde(default)]
    claim_value: Option<String>,
}

/// A connection as the API shows it: never the client secret.
#[derive(Serialize, ToSchema)]
pub(super) struct ConnectionView {
    /// The connection's id.
    connection_id: String,
    /// The name in `/sso/{slug}/start`.
    slug: String,
    /// The provider's issuer URL.
    issuer: String,
    /// Our client id at the provider.
    client_id: String,
    /// `email_domain` or `claim`.
    #[schema(value_type = String)]
    mapping: &'static str,
    /// For `claim`: the claim's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    claim_name: Option<String>,
    /// For `claim`: the value that means this organisation.
    #[serde(skip_serializing_if = "Option::is_none")]
    claim_value: Option<String>,
    /// The redirect URI to register at the provider.
    redirect_uri: String,
    /// Where the app starts a sign-in.
    start_url: String,
}

fn view(c: SsoConnection, api: &str) -> ConnectionView {
    let (mapping, claim_name, claim_value) = match c.mapping {
        OrgMapping::EmailDomain => ("email_domain", None, None),
        OrgMapping::Claim { name, value } => ("claim", Some(name), Some(value)),
    };
    ConnectionView {
        start_url: format!("{api}/sso/{}/start", c.slug),
        connection_id: c.id,
        slug: c.slug,
        issuer: c.issuer,
        client_id: c.client_id,
        mapping,
        claim_name,
        claim_value,
        redirect_uri: format!("{api}{CALLBACK_PATH}"),
    }
}

fn valid_slug(slug: &str) -> bool {
    (1..=63).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
}

fn text_field(field: &str, raw: &str) -> Result<String, ApiError> {
    let value = raw.trim();
    if value.is_empty() || value.len() > 512 || value.chars().any(char::is_control) {
        return Err(ApiError::invalid_request(format!(
            "{field} must be 1 to 512 characters"
        )));
    }
    Ok(value.to_owned())
}

/// `POST /api/v1/org/sso-connections`: registers an OpenID provider for the
/// caller's organisation. The provider's discovery document is fetched now,
/// so a wrong issuer fails here rather than at the first sign-in.
#[utoipa::path(
    post,
    path = "/api/v1/org/sso-connections",
    tag = "single sign-on",
    security(("bearer" = [])),
    request_body = NewConnection,
    responses(
        (status = 201, description = "The connection; register its `redirect_uri` at the provider.", body = ConnectionView),
        (status = 400, description = "`invalid_request`, or `invalid_issuer` (discovery failed, or the issuer is not a public https URL).", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin) or `insufficient_scope`.", body = ErrorBody),
        (status = 409, description = "`slug_taken`.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    ),
)]
pub(super) async fn register(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<NewConnection>,
) -> Result<(StatusCode, Json<ConnectionView>), ApiError> {
    if !valid_slug(&body.slug) {
        return Err(ApiError::invalid_request(
            "slug must be 1 to 63 lower-case letters, digits and hyphens",
        ));
    }
    let mapping = match body.mapping.as_deref().unwrap_or("email_domain") {
        "email_domain" => OrgMapping::EmailDomain,
        "claim" => OrgMapping::Claim {
            name: text_field("claim_name", body.claim_name.as_deref().unwrap_or(""))?,
            value: text_field("claim_value", body.claim_value.as_deref().unwrap_or(""))?,
        },
        _ => {
            return Err(ApiError::invalid_request(
                "mapping must be email_domain or claim",
            ));
        }
    };
    let issuer = text_field("issuer", &body.issuer)?;
    provider::discover(&state.guarded_http, &issuer)
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_issuer", e.to_string()))?;
    let connection = SsoConnection {
        id: format!("s{}", &pkce::code_hash(&pkce::random_secret())[..32]),
        org_id: admin.org_id.clone(),
        slug: body.slug,
        issuer,
        client_id: text_field("client_id", &body.client_id)?,
        client_secret: text_field("client_secret", &body.client_secret)?,
        mapping,
    };
    if !state
        .store
        .create_sso_connection(&connection, now_unix())
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "slug_taken",
            "another SSO connection already uses this slug",
        ));
    }
    audit::record(
        &state.store,
        &admin.org_id,
        &Actor::user(&admin),
        "sso.connection_added",
        Some(Target {
            kind: "SSO connection",
            id: connection.id.clone(),
            label: connection.issuer.clone(),
        }),
        serde_json::json!({ "slug": connection.slug }),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view(connection, &state.issuer))))
}

/// `GET /api/v1/org/sso-connections`: the organisation's connections.
#[utoipa::path(
    get,
    path = "/api/v1/org/sso-connections",
    tag = "single sign-on",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organisation's connections (no secrets).", body = Vec<ConnectionView>),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin) or `insufficient_scope`.", body = ErrorBody),
    ),
)]
pub(super) async fn list(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Json<Vec<ConnectionView>>, ApiError> {
    let connections = state.store.sso_connections_in_org(&admin.org_id).await?;
    Ok(Json(
        connections
            .into_iter()
            .map(|c| view(c, &state.issuer))
            .collect(),
    ))
}

/// `DELETE /api/v1/org/sso-connections/{id}`: removes a connection.
#[utoipa::path(
    delete,
    path = "/api/v1/org/sso-connections/{id}",
    tag = "single sign-on",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The connection id.")),
    responses(
        (status = 204, description = "Removed; accounts it provisioned stay."),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin) or `insufficient_scope`.", body = ErrorBody),
        (status = 404, description = "`sso_connection_not_found`.", body = ErrorBody),
    ),
)]
pub(super) async fn delete(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state
        .store
        .delete_sso_connection(&admin.org_id, &id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(connection_not_found())
    }
}

fn connection_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "sso_connection_not_found",
        "no such SSO connection",
    )
}

/// Query of `GET /sso/{slug}/start`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct StartQuery {
    /// Where the app waits: `http://127.0.0.1:PORT/…` or `http://[::1]:PORT/…`
    /// (RFC 8252), or a URL on this server.
    redirect_uri: String,
    /// The app's PKCE S256 challenge; `POST /sso/token` needs its verifier.
    code_challenge: String,
    /// `S256` (the default; nothing else is accepted).
    #[serde(default)]
    code_challenge_method: Option<String>,
    /// Echoed to the app's redirect URI.
    #[serde(default)]
    state: Option<String>,
}

/// `GET /sso/{slug}/start`: sends the browser to the provider.
#[utoipa::path(
    get,
    path = "/sso/{slug}/start",
    tag = "single sign-on",
    params(("slug" = String, Path, description = "The SSO connection's slug."), StartQuery),
    responses(
        (status = 303, description = "To the provider's authorization endpoint (PKCE S256, state, nonce)."),
        (status = 400, description = "`invalid_request`: a redirect_uri other than loopback or this server, or no S256 code_challenge.", body = ErrorBody),
        (status = 404, description = "`sso_connection_not_found`.", body = ErrorBody),
        (status = 502, description = "`provider_unavailable`: discovery failed.", body = ErrorBody),
    ),
)]
pub(super) async fn start(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    query: Result<Query<StartQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid_request(e.body_text()))?;
    if !loopback_redirect::allowed(&query.redirect_uri, &state.issuer) {
        return Err(ApiError::invalid_request(
            "redirect_uri must be http://127.0.0.1:PORT/… (or [::1]) or on this server",
        ));
    }
    if query.code_challenge_method.as_deref().unwrap_or("S256") != "S256"
        || !pkce::is_s256_challenge(&query.code_challenge)
    {
        return Err(ApiError::invalid_request(
            "code_challenge must be a PKCE S256 challenge",
        ));
    }
    if query.state.as_ref().is_some_and(|s| s.len() > 512) {
        return Err(ApiError::invalid_request("state is too long"));
    }
    let connection = state
        .store
        .sso_connection_by_slug(&slug)
        .await?
        .ok_or_else(connection_not_found)?;
    let metadata = provider::discover(&state.guarded_http, &connection.issuer)
        .await
        .map_err(provider_unavailable)?;
    let now = now_unix();
    let login = PendingLogin {
        state: pkce::random_secret(),
        connection_id: connection.id.clone(),
        nonce: pkce::random_secret(),
        pkce_verifier: pkce::random_secret(),
        client_redirect_uri: query.redirect_uri,
        client_state: query.state,
        client_code_challenge: query.code_challenge,
        expires_at: now + LOGIN_LIFETIME_SECS,
    };
    let mut url = Url::parse(&metadata.authorization_endpoint)
        .map_err(|_| provider_unavailable("unparsable authorization_endpoint"))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &connection.client_id)
        .append_pair("redirect_uri", &format!("{}{CALLBACK_PATH}", state.issuer))
        .append_pair("scope", SCOPES)
        .append_pair("state", &login.state)
        .append_pair("nonce", &login.nonce)
        .append_pair(
            "code_challenge",
            &pkce::challenge_s256(&login.pkce_verifier),
        )
        .append_pair("code_challenge_method", "S256");
    state.store.put_sso_login(&login, now).await?;
    Ok(no_store(Redirect::to(url.as_str()).into_response()))
}

fn provider_unavailable(e: impl std::fmt::Display) -> ApiError {
    tracing::warn!(error = %e, "OpenID provider unusable");
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        "provider_unavailable",
        format!("the identity provider cannot be used: {e}"),
    )
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Query of `GET /sso/callback` (the provider's authorization response).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct CallbackQuery {
    /// The provider's code.
    #[serde(default)]
    code: Option<String>,
    /// The state we sent.
    #[serde(default)]
    state: Option<String>,
    /// The provider's error, instead of a code.
    #[serde(default)]
    error: Option<String>,
}

/// A sign-in that failed after we knew where to send the app: the app gets
/// `error` and `error_description` on its redirect URI.
struct Refusal {
    error: &'static str,
    description: String,
}

impl Refusal {
    fn new(error: &'static str, description: impl Into<String>) -> Refusal {
        Refusal {
            error,
            description: description.into(),
        }
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Refusal {
        tracing::error!(error = %e, "SSO callback failed");
        Refusal::new("server_error", "internal server error")
    }
}

/// Sends the browser back to the app with `params` and the app's state.
fn back_to_app(login: &PendingLogin, params: &[(&str, &str)]) -> Response {
    // The URI was checked at start, so it parses; were it not, a plain
    // error page is the safe answer.
    let Ok(mut url) = Url::parse(&login.client_redirect_uri) else {
        return ApiError::invalid_request("bad redirect_uri").into_response();
    };
    {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in params {
            pairs.append_pair(k, v);
        }
        if let Some(s) = &login.client_state {
            pairs.append_pair("state", s);
        }
    }
    no_store(Redirect::to(url.as_str()).into_response())
}

/// `GET /sso/callback`: finishes a sign-in.
#[utoipa::path(
    get,
    path = "/sso/callback",
    tag = "single sign-on",
    params(CallbackQuery),
    responses(
        (status = 303, description = "To the app's redirect_uri with `code` and `state`, or with `error` (`access_denied`, `invalid_id_token`, `no_matching_organisation`, `sso_failed`, `server_error`), `error_description` and `state`."),
        (status = 400, description = "`invalid_state`: unknown, used or expired sign-in.", body = ErrorBody),
    ),
)]
pub(super) async fn callback(
    State(state): State<AppState>,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid_request(e.body_text()))?;
    let now = now_unix();
    let login = match &query.state {
        Some(s) => state.store.take_sso_login(s, now).await?,
        None => None,
    }
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_state",
            "unknown, used or expired sign-in (state); start again",
        )
    })?;
    match finish(&state, &login, &query, now).await {
        Ok(code) => Ok(back_to_app(&login, &[("code", &code)])),
        Err(refusal) => {
            tracing::info!(error = refusal.error, reason = %refusal.description, "SSO sign-in refused");
            Ok(back_to_app(
                &login,
                &[
                    ("error", refusal.error),
                    ("error_description", &refusal.description),
                ],
            ))
        }
    }
}

/// Redeems the provider's code, validates the ID token, finds or
/// provisions the account, and returns the app's one-time code.
async fn finish(
    state: &AppState,
    login: &PendingLogin,
    query: &CallbackQuery,
    now: u64,
) -> Result<String, Refusal> {
    if let Some(error) = &query.error {
        return Err(Refusal::new(
            "access_denied",
            format!("the identity provider said {error}"),
        ));
    }
    let code = query
        .code
        .as_deref()
        .ok_or_else(|| Refusal::new("invalid_request", "the provider sent no code"))?;
    let connection = state
        .store
        .sso_connection(&login.connection_id)
        .await?
        .ok_or_else(|| Refusal::new("access_denied", "the SSO connection was removed"))?;
    let sso_failed = |e: crate::sso::SsoError| Refusal::new("sso_failed", e.to_string());
    let metadata = provider::discover(&state.guarded_http, &connection.issuer)
        .await
        .map_err(sso_failed)?;
    let token = provider::exchange_code(
        &state.guarded_http,
        &metadata,
        provider::CodeExchange {
            client_id: &connection.client_id,
            client_secret: &connection.client_secret,
            code,
            redirect_uri: &format!("{}{CALLBACK_PATH}", state.issuer),
            code_verifier: &login.pkce_verifier,
        },
    )
    .await
    .map_err(sso_failed)?;
    let keys = provider::keys(&state.guarded_http, &metadata)
        .await
        .map_err(sso_failed)?;
    let claims = id_token::validate(
        &token,
        &keys,
        Expected {
            issuer: &connection.issuer,
            client_id: &connection.client_id,
            nonce: &login.nonce,
        },
        now,
    )
    .map_err(|e| Refusal::new("invalid_id_token", e.to_string()))?;
    let domains = state.store.managed_domains(&connection.org_id).await?;
    let email =
        org_mapping::check(&connection.mapping, &claims, &domains).map_err(|e| match e {
            MappingError::NoMatch(_) => Refusal::new("no_matching_organisation", e.to_string()),
            other => Refusal::new("access_denied", other.to_string()),
        })?;
    let user = provisioning::account_for(&state.store, &connection, &claims, &email, now)
        .await
        .map_err(|e| match e {
            ProvisionError::Store(e) => Refusal::from(e),
            ProvisionError::OtherOrganisation(_) => {
                Refusal::new("no_matching_organisation", e.to_string())
            }
            other => Refusal::new("access_denied", other.to_string()),
        })?;
    audit::record(
        &state.store,
        &user.org_id,
        &Actor::user(&user),
        "login.sso",
        None,
        serde_json::json!({ "issuer": connection.issuer }),
    )
    .await?;
    let code = pkce::random_secret();
    state
        .store
        .put_sso_handoff(
            &Handoff {
                code_hash: pkce::code_hash(&code),
                user_id: user.id,
                client_redirect_uri: login.client_redirect_uri.clone(),
                client_code_challenge: login.client_code_challenge.clone(),
                expires_at: now + HANDOFF_LIFETIME_SECS,
            },
            now,
        )
        .await?;
    Ok(code)
}

/// Body of `POST /sso/token`.
#[derive(Deserialize, ToSchema)]
pub(super) struct TokenRequest {
    /// The one-time code from the app's redirect.
    code: String,
    /// The redirect_uri given to `/sso/{slug}/start`.
    redirect_uri: String,
    /// The PKCE verifier of the `code_challenge` given there.
    code_verifier: String,
}

/// Response of `POST /sso/token`: a password login's, plus who signed in.
#[derive(Serialize, ToSchema)]
pub(super) struct TokenResponse {
    /// Send as `Authorization: Bearer ACCESS_TOKEN`.
    access_token: String,
    /// Always `Bearer`.
    #[schema(value_type = String)]
    token_type: &'static str,
    /// Seconds until it expires.
    expires_in: u64,
    /// The signed-in account.
    user_id: String,
    /// Its organisation.
    org_id: String,
}

/// `POST /sso/token`: the app redeems its one-time code for an access token.
#[utoipa::path(
    post,
    path = "/sso/token",
    tag = "single sign-on",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "An access token, as from a password login.", body = TokenResponse),
        (status = 400, description = "`invalid_request`, or `invalid_grant`: unknown, used or expired code, or wrong redirect_uri or code_verifier (the code is spent either way).", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    ),
)]
pub(super) async fn token(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<Response, ApiError> {
    let now = now_unix();
    let refused = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown, used or expired code, or wrong redirect_uri or code_verifier",
        )
    };
    // Taken first: a code is spent by any attempt, right or wrong.
    let handoff = state
        .store
        .take_sso_handoff(&pkce::code_hash(&body.code), now)
        .await?
        .ok_or_else(refused)?;
    if handoff.client_redirect_uri != body.redirect_uri
        || !pkce::verify_s256(&body.code_verifier, &handoff.client_code_challenge)
    {
        return Err(refused());
    }
    let user = state
        .store
        .user_by_id(&handoff.user_id)
        .await?
        .ok_or_else(refused)?;
    let access_token = access_token::issue(
        &state.signing_key,
        &state.issuer,
        &user.id,
        &user.org_id,
        now,
    )
    .map_err(ApiError::internal)?;
    Ok(no_store(
        Json(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_LIFETIME_SECS,
            user_id: user.id,
            org_id: user.org_id,
        })
        .into_response(),
    ))
}

/// This file's endpoints in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(register, list, delete, start, callback, token))]
pub(super) struct Api;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(valid_slug("acme"));
        assert!(valid_slug("acme-2"));
        for bad in ["", "-acme", "Acme", "a/b", "a b", &"a".repeat(64)] {
            assert!(!valid_slug(bad), "{bad}");
        }
    }
}
