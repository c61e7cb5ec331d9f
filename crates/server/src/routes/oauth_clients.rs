//! Registering API clients (admins only, people only: an API client cannot
//! register another).
//!
//! A `client_secret` client gets its secret once, in the registration
//! response; only its SHA-256 is stored. A `private_key_jwt` client
//! registers public keys as one JWK, a JWKS, or a `jwks_uri` we fetch (at
//! registration, to check it, and again when an assertion names a key we do
//! not know).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use crate::api_error::{ApiError, ApiJson};
use crate::audit::{self, Actor, Target};
use crate::auth::Admin;
use crate::clock::now_unix;
use crate::ids::{new_client_id, new_client_secret};
use crate::oauth::{client_keys, jwks_fetch, scopes};
use crate::openapi::ErrorBody;
use crate::store::{ClientAuthMethod, OAuthClient};

/// Longest client name, in characters.
const MAX_NAME_CHARS: usize = 100;

/// Body of `POST /api/v1/org/oauth-clients`.
#[derive(Deserialize, ToSchema)]
#[schema(as = RegisterClient)]
#[serde(deny_unknown_fields)]
pub(super) struct Register {
    /// A name for people, 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    /// The scopes the client may ask for.
    scopes: Vec<String>,
    /// How the client will authenticate at the token endpoint.
    auth_method: ClientAuthMethod,
    /// One public key (private_key_jwt).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    jwk: Option<serde_json::Value>,
    /// A set of public keys (private_key_jwt).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    jwks: Option<serde_json::Value>,
    /// Where the client publishes its keys (private_key_jwt).
    #[serde(default)]
    jwks_uri: Option<String>,
}

/// A client as the API shows it; `client_secret` only in the registration
/// response.
#[derive(Serialize, ToSchema)]
pub(super) struct ClientView {
    client_id: String,
    name: String,
    auth_method: ClientAuthMethod,
    scopes: Vec<String>,
    jwks_uri: Option<String>,
    /// The `kid`s of the registered (or last fetched) keys.
    key_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    /// Where to get tokens; also the `aud` a client assertion must carry is
    /// the server's issuer, `issuer`.
    token_endpoint: String,
    issuer: String,
}

fn view(client: &OAuthClient, issuer: &str, secret: Option<String>) -> ClientView {
    let key_ids = client
        .jwks
        .as_deref()
        .and_then(|j| serde_json::from_str::<jsonwebtoken::jwk::JwkSet>(j).ok())
        .map(|set| {
            set.keys
                .iter()
                .filter_map(|k| k.common.key_id.clone())
                .collect()
        })
        .unwrap_or_default();
    ClientView {
        client_id: client.id.clone(),
        name: client.name.clone(),
        auth_method: client.auth_method,
        scopes: client.scopes.clone(),
        jwks_uri: client.jwks_uri.clone(),
        key_ids,
        client_secret: secret,
        token_endpoint: format!("{issuer}/oauth/token"),
        issuer: issuer.to_owned(),
    }
}

fn key_error(e: client_keys::KeyError) -> ApiError {
    let code = match e {
        client_keys::KeyError::PrivateKey(_) => "private_key_refused",
        _ => "invalid_key",
    };
    ApiError::new(StatusCode::BAD_REQUEST, code, e.to_string())
}

/// `POST /api/v1/org/oauth-clients`: registers an API client.
#[utoipa::path(
    post,
    path = "/api/v1/org/oauth-clients",
    tag = "api clients",
    security(("bearer" = [])),
    request_body = Register,
    responses(
        (status = 201, description = "The new client; `client_secret` appears here only.", body = ClientView),
        (status = 400, description = "`invalid_request`, `invalid_key`, `private_key_refused` or `invalid_jwks_uri`.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin) or `insufficient_scope` (API clients may not manage clients).", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    ),
)]
pub(super) async fn register(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<Register>,
) -> Result<(StatusCode, Json<ClientView>), ApiError> {
    let name = body.name.trim().to_owned();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::invalid_request(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    let scopes = scopes::parse(&body.scopes.join(" ")).map_err(ApiError::invalid_request)?;
    if scopes.is_empty() {
        return Err(ApiError::invalid_request("at least one scope is required"));
    }
    let now = now_unix();
    let mut client = OAuthClient {
        id: new_client_id(),
        org_id: admin.org_id.clone(),
        name,
        acting_user_id: admin.id.clone(),
        auth_method: body.auth_method,
        secret_hash: None,
        jwks: None,
        jwks_uri: None,
        jwks_fetched_at: 0,
        scopes,
    };
    let mut secret = None;
    match body.auth_method {
        ClientAuthMethod::ClientSecret => {
            if body.jwk.is_some() || body.jwks.is_some() || body.jwks_uri.is_some() {
                return Err(ApiError::invalid_request(
                    "a client_secret client registers no keys",
                ));
            }
            let new_secret = new_client_secret();
            client.secret_hash = Some(crate::oauth::secret_hash(&new_secret));
            secret = Some(new_secret);
        }
        ClientAuthMethod::PrivateKeyJwt => match (body.jwk, body.jwks, body.jwks_uri) {
            (Some(keys), None, None) | (None, Some(keys), None) => {
                let set = client_keys::validate(&keys).map_err(key_error)?;
                client.jwks = Some(
                    serde_json::to_string(&set)
                        .map_err(|e| ApiError::internal(format!("serialising keys: {e}")))?,
                );
            }
            (None, None, Some(uri)) => {
                let (_, text) =
                    jwks_fetch::fetch(&state.guarded_http, &uri)
                        .await
                        .map_err(|e| match e {
                            jwks_fetch::FetchError::Keys(k) => key_error(k),
                            other => ApiError::new(
                                StatusCode::BAD_REQUEST,
                                "invalid_jwks_uri",
                                other.to_string(),
                            ),
                        })?;
                client.jwks = Some(text);
                client.jwks_uri = Some(uri);
                client.jwks_fetched_at = now;
            }
            _ => {
                return Err(ApiError::invalid_request(
                    "a private_key_jwt client registers exactly one of jwk, jwks, jwks_uri",
                ));
            }
        },
    }
    state.store.create_oauth_client(&client, now).await?;
    audit::record(
        &state.store,
        &admin.org_id,
        &Actor::user(&admin),
        "oauth_client.registered",
        Some(Target {
            kind: "API client",
            id: client.id.clone(),
            label: client.name.clone(),
        }),
        serde_json::json!({ "scopes": client.scopes, "auth_method": body.auth_method }),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(view(&client, &state.issuer, secret)),
    ))
}

/// `GET /api/v1/org/oauth-clients`: the organisation's clients (no secrets).
#[utoipa::path(
    get,
    path = "/api/v1/org/oauth-clients",
    tag = "api clients",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organisation's clients.", body = Vec<ClientView>),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin) or `insufficient_scope` (API clients may not manage clients).", body = ErrorBody),
    ),
)]
pub(super) async fn list(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Json<Vec<ClientView>>, ApiError> {
    let clients = state.store.oauth_clients_in_org(&admin.org_id).await?;
    Ok(Json(
        clients
            .iter()
            .map(|c| view(c, &state.issuer, None))
            .collect(),
    ))
}

/// `PUT /api/v1/org/oauth-clients/{id}/jwks`: replaces an inline-keyed
/// client's keys (rotation). Clients with a `jwks_uri` rotate by
/// publishing there.
#[utoipa::path(
    put,
    path = "/api/v1/org/oauth-clients/{id}/jwks",
    tag = "api clients",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The client_id.")),
    request_body(content = Object, description = "One public JWK or a JWKS."),
    responses(
        (status = 200, description = "The client with its new keys.", body = ClientView),
        (status = 400, description = "`invalid_request` (not an inline-keyed client), `invalid_key` or `private_key_refused`.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin) or `insufficient_scope` (API clients may not manage clients).", body = ErrorBody),
        (status = 404, description = "`client_not_found` in this organisation.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    ),
)]
pub(super) async fn replace_keys(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
    ApiJson(keys): ApiJson<serde_json::Value>,
) -> Result<Json<ClientView>, ApiError> {
    let mut client = state
        .store
        .oauth_client(&id)
        .await?
        .filter(|c| c.org_id == admin.org_id)
        .ok_or_else(client_not_found)?;
    if client.auth_method != ClientAuthMethod::PrivateKeyJwt || client.jwks_uri.is_some() {
        return Err(ApiError::invalid_request(
            "only a private_key_jwt client with registered keys (not a jwks_uri) can have them replaced",
        ));
    }
    let set = client_keys::validate(&keys).map_err(key_error)?;
    let text = serde_json::to_string(&set)
        .map_err(|e| ApiError::internal(format!("serialising keys: {e}")))?;
    state.store.set_oauth_client_jwks(&id, &text, 0).await?;
    client.jwks = Some(text);
    audit::record(
        &state.store,
        &admin.org_id,
        &Actor::user(&admin),
        "oauth_client.keys_replaced",
        Some(Target {
            kind: "API client",
            id: client.id.clone(),
            label: client.name.clone(),
        }),
        serde_json::json!({}),
    )
    .await?;
    Ok(Json(view(&client, &state.issuer, None)))
}

/// `DELETE /api/v1/org/oauth-clients/{id}`: deletes a client; its tokens
/// stop working at once.
#[utoipa::path(
    delete,
    path = "/api/v1/org/oauth-clients/{id}",
    tag = "api clients",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The client_id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin) or `insufficient_scope` (API clients may not manage clients).", body = ErrorBody),
        (status = 404, description = "`client_not_found` in this organisation.", body = ErrorBody),
    ),
)]
pub(super) async fn delete(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let client = state
        .store
        .oauth_client(&id)
        .await?
        .filter(|c| c.org_id == admin.org_id)
        .ok_or_else(client_not_found)?;
    state.store.delete_oauth_client(&admin.org_id, &id).await?;
    audit::record(
        &state.store,
        &admin.org_id,
        &Actor::user(&admin),
        "oauth_client.deleted",
        Some(Target {
            kind: "API client",
            id: client.id,
            label: client.name,
        }),
        serde_json::json!({}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn client_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "client_not_found",
        "no such API client",
    )
}

/// This file's endpoints in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(register, list, replace_keys, delete))]
pub(super) struct Api;
