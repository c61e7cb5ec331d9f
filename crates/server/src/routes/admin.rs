//! Organisation administration: users (add, pre-provision, change plan or
//! role, delete), managed domains, and the audit trail.
//!
//! Every handler takes [`Admin`], so the caller is a verified admin, and
//! every query is scoped to the caller's organisation: an id from another
//! organisation is simply not found.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::accounts::{Account, ProfileFields};
use crate::api_error::{ApiError, ApiJson};
use crate::audit::{self, Actor, AuditView, Target};
use crate::auth::Admin;
use crate::clock::now_unix;
use crate::ids::new_user_id;
use crate::openapi::ErrorBody;
use crate::store::{NewUser, StoreError, User, UserRole};
use crate::validate;

/// Most users one pre-provisioning call may create.
const MAX_PROVISION_BATCH: usize = 100;
/// Most audit events one call returns.
const MAX_AUDIT_EVENTS: u32 = 1000;

/// Response of `GET /api/v1/org`.
#[derive(Serialize, ToSchema)]
pub(super) struct OrganisationView {
    /// The organisation's id.
    org_id: String,
    /// Its name.
    name: String,
    /// Email domains whose new sign-ups join it.
    managed_domains: Vec<String>,
}

/// `GET /api/v1/org`: the caller's organisation.
#[utoipa::path(
    get,
    path = "/api/v1/org",
    tag = "organisation",
    security(("bearer" = []), ("oauth2" = ["user:read"])),
    responses(
        (status = 200, description = "The caller's organisation.", body = OrganisationView),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin) or `insufficient_scope`.", body = ErrorBody),
    ),
)]
pub(super) async fn organisation(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Json<OrganisationView>, ApiError> {
    let org = state
        .store
        .organisation(&admin.org_id)
        .await?
        .ok_or_else(|| ApiError::internal("the caller's organisation is missing"))?;
    let domains = state.store.managed_domains(&org.id).await?;
    Ok(Json(OrganisationView {
        org_id: org.id,
        name: org.name,
        managed_domains: domains,
    }))
}

/// `GET /api/v1/org/users`.
#[utoipa::path(
    get,
    path = "/api/v1/org/users",
    tag = "organisation",
    security(("bearer" = []), ("oauth2" = ["user:read"])),
    responses(
        (status = 200, description = "Every user of the organisation.", body = Vec<Account>),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin) or `insufficient_scope`.", body = ErrorBody),
    ),
)]
pub(super) async fn list_users(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Json<Vec<Account>>, ApiError> {
    let users = state.store.users_in_org(&admin.org_id).await?;
    Ok(Json(users.into_iter().map(Account::from).collect()))
}

/// Body of `POST /api/v1/org/users` and one entry of a provisioning batch.
#[derive(Deserialize, ToSchema)]
pub(super) struct AddUser {
    /// The user's email.
    #[schema(format = "email", max_length = 254)]
    email: String,
    /// Who the user is.
    #[serde(flatten)]
    profile: ProfileFields,
    /// `member` (default) or `admin`; `owner` cannot be given.
    #[serde(default)]
    role: Option<UserRole>,
    /// The plan (default `basic`).
    #[serde(default)]
    plan: Option<String>,
    /// Without one the account is pre-provisioned: it exists (and can be
    /// given meetings, plans, roles) but cannot log in with a password.
    #[serde(default)]
    #[schema(min_length = 8)]
    password: Option<String>,
    /// Any other field, refused: a misspelt field is an error rather than
    /// quietly ignored. (`deny_unknown_fields` cannot be combined with
    /// `flatten`.)
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: BTreeMap<String, serde::de::IgnoredAny>,
}

/// Validates and creates one user in the admin's organisation.
async fn add_one(state: &AppState, admin: &User, body: AddUser) -> Result<User, ApiError> {
    if let Some(field) = body.unknown.keys().next() {
        return Err(ApiError::invalid_request(format!(
            "unknown field `{field}`"
        )));
    }
    let email = validate::email(&body.email).map_err(ApiError::invalid_request)?;
    let profile = body.profile.validate()?;
    let role = match body.role.unwrap_or(UserRole::Member) {
        UserRole::Owner => {
            return Err(ApiError::invalid_request(
                "role must be member or admin; an organisation has one owner",
            ));
        }
        role => role,
    };
    let plan = validate::plan(body.plan.as_deref().unwrap_or("basic"))
        .map_err(ApiError::invalid_request)?;
    let password_hash = match body.password {
        Some(password) => {
            validate::password(&password).map_err(ApiError::invalid_request)?;
            Some(state.hasher.hash(password).await?)
        }
        None => None,
    };
    let new = NewUser {
        id: new_user_id(),
        org_id: admin.org_id.clone(),
        email,
        first_name: profile.first_name,
        last_name: profile.last_name,
        company: profile.company,
        phone: profile.phone,
        picture_url: profile.picture_url,
        role,
        plan,
        password_hash,
    };
    let user = state.store.create_user(&new, None, now_unix()).await?;
    audit::record(
        &state.store,
        &admin.org_id,
        &Actor::user(admin),
        "user.added",
        Some(Target {
            kind: "user",
            id: user.id.clone(),
            label: user.email.clone(),
        }),
        serde_json::json!({ "role": user.role.as_str(), "plan": user.plan, "pre_provisioned": user.password_hash.is_none() }),
    )
    .await?;
    Ok(user)
}

/// `POST /api/v1/org/users`: adds a user or an admin.
#[utoipa::path(
    post,
    path = "/api/v1/org/users",
    tag = "organisation",
    security(("bearer" = []), ("oauth2" = ["user:write"])),
    request_body = AddUser,
    responses(
        (status = 201, description = "The new user.", body = Account),
        (status = 400, description = "`invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin) or `insufficient_scope`.", body = ErrorBody),
        (status = 409, description = "`email_taken`.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    ),
)]
pub(super) async fn add_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<AddUser>,
) -> Result<(StatusCode, Json<Account>), ApiError> {
    let user = add_one(&state, &admin, body).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Body of `POST /api/v1/org/users/provision`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Provision {
    /// At most 100 users.
    #[schema(max_items = 100)]
    users: Vec<AddUser>,
}

/// One line of the provisioning result.
#[derive(Serialize, ToSchema)]
pub(super) struct ProvisionResult {
    /// The email of the entry this line answers.
    email: String,
    /// The new user, if created.
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<Account>,
    /// Why not, if not (`email_taken`, `invalid_request`).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// `POST /api/v1/org/users/provision`: pre-provisions up to 100 users at
/// once; each succeeds or fails on its own.
#[utoipa::path(
    post,
    path = "/api/v1/org/users/provision",
    tag = "organisation",
    security(("bearer" = []), ("oauth2" = ["user:write"])),
    request_body = Provision,
    responses(
        (status = 200, description = "One line per entry, in order.", body = Vec<ProvisionResult>),
        (status = 400, description = "`invalid_request` (the body, or more than 100 users).", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin) or `insufficient_scope`.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    ),
)]
pub(super) async fn provision(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<Provision>,
) -> Result<Json<Vec<ProvisionResult>>, ApiError> {
    if body.users.len() > MAX_PROVISION_BATCH {
        return Err(ApiError::invalid_request(format!(
            "at most {MAX_PROVISION_BATCH} users per call"
        )));
    }
    let mut results = Vec::with_capacity(body.users.len());
    for entry in body.users {
        let email = entry.email.clone();
        match add_one(&state, &admin, entry).await {
            Ok(user) => results.push(ProvisionResult {
                email,
                user: Some(user.into()),
                error: None,
            }),
            Err(e) if e.status().is_client_error() => results.push(ProvisionResult {
                email,
                user: None,
                error: Some(e.code().to_owned()),
            }),
            Err(e) => return Err(e),
        }
    }
    Ok(Json(results))
}

/// Body of `PATCH /api/v1/org/users/{id}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateUser {
    /// `member` or `admin`; the owner's role cannot change.
    #[serde(default)]
    role: Option<UserRole>,
    /// The new plan.
    #[serde(default)]
    plan: Option<String>,
}

/// `PATCH /api/v1/org/users/{id}`: changes a user's plan or role.
#[utoipa::path(
    patch,
    path = "/api/v1/org/users/{id}",
    tag = "organisation",
    security(("bearer" = []), ("oauth2" = ["user:write"])),
    params(("id" = String, Path, description = "The user's id.")),
    request_body = UpdateUser,
    responses(
        (status = 200, description = "The user as changed.", body = Account),
        (status = 400, description = "`invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin; the owner's role) or `insufficient_scope`.", body = ErrorBody),
        (status = 404, description = "`user_not_found` in this organisation.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    ),
)]
pub(super) async fn update_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateUser>,
) -> Result<Json<Account>, ApiError> {
    let user = state
        .store
        .user_in_org(&admin.org_id, &id)
        .await?
        .ok_or_else(user_not_found)?;
    let role = match (user.role, body.role) {
        (UserRole::Owner, Some(role)) if role != UserRole::Owner => {
            return Err(ApiError::forbidden("the owner's role cannot be changed"));
        }
        (_, Some(UserRole::Owner)) if user.role != UserRole::Owner => {
            return Err(ApiError::invalid_request("role must be member or admin"));
        }
        (current, role) => role.unwrap_or(current),
    };
    let plan = match body.plan {
        Some(plan) => validate::plan(&plan).map_err(ApiError::invalid_request)?,
        None => user.plan.clone(),
    };
    state
        .store
        .update_user_role_and_plan(&admin.org_id, &id, role, &plan)
        .await?;
    audit::record(
        &state.store,
        &admin.org_id,
        &Actor::user(&admin),
        "user.updated",
        Some(Target {
            kind: "user",
            id: user.id.clone(),
            label: user.email.clone(),
        }),
        serde_json::json!({ "role": role.as_str(), "plan": plan }),
    )
    .await?;
    let user = state
        .store
        .user_in_org(&admin.org_id, &id)
        .await?
        .ok_or_else(user_not_found)?;
    Ok(Json(user.into()))
}

/// `DELETE /api/v1/org/users/{id}`: deletes a user and the meetings they host.
#[utoipa::path(
    delete,
    path = "/api/v1/org/users/{id}",
    tag = "organisation",
    security(("bearer" = []), ("oauth2" = ["user:write"])),
    params(("id" = String, Path, description = "The user's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin; the owner) or `insufficient_scope`.", body = ErrorBody),
        (status = 404, description = "`user_not_found` in this organisation.", body = ErrorBody),
    ),
)]
pub(super) async fn delete_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = state
        .store
        .user_in_org(&admin.org_id, &id)
        .await?
        .ok_or_else(user_not_found)?;
    if user.role == UserRole::Owner {
        return Err(ApiError::forbidden(
            "the organisation's owner cannot be deleted",
        ));
    }
    state.store.delete_user(&admin.org_id, &id).await?;
    audit::record(
        &state.store,
        &admin.org_id,
        &Actor::user(&admin),
        "user.deleted",
        Some(Target {
            kind: "user",
            id: user.id.clone(),
            label: user.email.clone(),
        }),
        serde_json::json!({}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn user_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "user_not_found", "no such user")
}

/// Response of `GET /api/v1/org/domains`.
#[derive(Serialize, ToSchema)]
pub(super) struct DomainList {
    /// The managed domains.
    domains: Vec<String>,
}

/// `GET /api/v1/org/domains`.
#[utoipa::path(
    get,
    path = "/api/v1/org/domains",
    tag = "organisation",
    security(("bearer" = []), ("oauth2" = ["user:read"])),
    responses(
        (status = 200, description = "The organisation's managed domains.", body = DomainList),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin) or `insufficient_scope`.", body = ErrorBody),
    ),
)]
pub(super) async fn list_domains(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Json<DomainList>, ApiError> {
    let domains = state.store.managed_domains(&admin.org_id).await?;
    Ok(Json(DomainList { domains }))
}

/// Body of `POST /api/v1/org/domains`.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AddDomain {
    /// A domain name such as `example.com`.
    domain: String,
}

/// `POST /api/v1/org/domains`: makes a domain managed, so new sign-ups with
/// an email there join this organisation.
///
/// An admin may only claim the domain of their own email address. Domain
/// ownership is not otherwise proved (no DNS check yet), and without this
/// rule any admin could claim a public mail domain and absorb strangers'
/// sign-ups.
#[utoipa::path(
    post,
    path = "/api/v1/org/domains",
    tag = "organisation",
    security(("bearer" = []), ("oauth2" = ["user:write"])),
    request_body = AddDomain,
    responses(
        (status = 201, description = "The domain, normalised.", body = AddDomain),
        (status = 400, description = "`invalid_request`.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin; not the admin's own domain) or `insufficient_scope`.", body = ErrorBody),
        (status = 409, description = "`domain_taken` by an organisation.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`.", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`.", body = ErrorBody),
    ),
)]
pub(super) async fn add_domain(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<AddDomain>,
) -> Result<(StatusCode, Json<AddDomain>), ApiError> {
    let domain = validate::domain(&body.domain).map_err(ApiError::invalid_request)?;
    if validate::email_domain(&admin.email) != domain {
        return Err(ApiError::forbidden(
            "an admin may only manage the domain of their own email address",
        ));
    }
    match state
        .store
        .add_managed_domain(&admin.org_id, &domain, now_unix())
        .await
    {
        Ok(()) => {}
        Err(StoreError::DomainTaken) => return Err(StoreError::DomainTaken.into()),
        Err(e) => return Err(e.into()),
    }
    audit::record(
        &state.store,
        &admin.org_id,
        &Actor::user(&admin),
        "domain.added",
        Some(Target {
            kind: "domain",
            id: domain.clone(),
            label: domain.clone(),
        }),
        serde_json::json!({}),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(AddDomain { domain })))
}

/// `DELETE /api/v1/org/domains/{domain}`.
#[utoipa::path(
    delete,
    path = "/api/v1/org/domains/{domain}",
    tag = "organisation",
    security(("bearer" = []), ("oauth2" = ["user:write"])),
    params(("domain" = String, Path, description = "A managed domain.")),
    responses(
        (status = 204, description = "No longer managed."),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin) or `insufficient_scope`.", body = ErrorBody),
        (status = 404, description = "`domain_not_found`.", body = ErrorBody),
    ),
)]
pub(super) async fn remove_domain(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(domain): Path<String>,
) -> Result<StatusCode, ApiError> {
    let domain = domain.to_ascii_lowercase();
    if !state
        .store
        .remove_managed_domain(&admin.org_id, &domain)
        .await?
    {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "domain_not_found",
            "this organisation does not manage that domain",
        ));
    }
    audit::record(
        &state.store,
        &admin.org_id,
        &Actor::user(&admin),
        "domain.removed",
        Some(Target {
            kind: "domain",
            id: domain.clone(),
            label: domain,
        }),
        serde_json::json!({}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Query of `GET /api/v1/org/audit`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct AuditQuery {
    /// `json` (default) or `text` (one sentence per line).
    #[serde(default)]
    format: Option<String>,
    /// Only events at or after this time, milliseconds since the epoch.
    #[serde(default)]
    since_ms: Option<u64>,
    /// At most this many events (default and maximum 1000).
    #[serde(default)]
    limit: Option<u32>,
}

/// The JSON answer of `GET /api/v1/org/audit`.
#[derive(Serialize, ToSchema)]
pub(super) struct AuditEvents {
    /// Oldest first.
    events: Vec<AuditView>,
}

/// `GET /api/v1/org/audit`: the organisation's audit trail, oldest first,
/// as JSON events (each with its `sentence`) or as plain text.
#[utoipa::path(
    get,
    path = "/api/v1/org/audit",
    tag = "organisation",
    security(("bearer" = []), ("oauth2" = ["audit:read"])),
    params(AuditQuery),
    responses(
        (status = 200, description = "The events, oldest first: JSON, or one sentence a line with `format=text`.",
         content((AuditEvents = "application/json"), (String = "text/plain"))),
        (status = 400, description = "`invalid_request`: a bad query parameter.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token.", body = ErrorBody),
        (status = 403, description = "`forbidden` (not an admin) or `insufficient_scope`.", body = ErrorBody),
    ),
)]
pub(super) async fn audit_trail(
    State(state): State<AppState>,
    Admin(admin): Admin,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    // axum's own rejection is plain text; every API error is JSON.
    let Query(query) = query.map_err(|e| ApiError::invalid_request(e.body_text()))?;
    let limit = query
        .limit
        .unwrap_or(MAX_AUDIT_EVENTS)
        .clamp(1, MAX_AUDIT_EVENTS);
    let events = state
        .store
        .audit_events(&admin.org_id, query.since_ms.unwrap_or(0), limit)
        .await?;
    let views: Vec<AuditView> = events.into_iter().map(AuditView::from).collect();
    match query.format.as_deref() {
        None | Some("json") => Ok(Json(AuditEvents { events: views }).into_response()),
        Some("text") => {
            let mut text = String::new();
            for view in &views {
                text.push_str(&view.sentence);
                text.push('\n');
            }
            Ok((
                [(
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; charset=utf-8",
                )],
                text,
            )
                .into_response())
        }
        Some(_) => Err(ApiError::invalid_request("format must be json or text")),
    }
}

/// This file's endpoints in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    organisation,
    list_users,
    add_user,
    provision,
    update_user,
    delete_user,
    list_domains,
    add_domain,
    remove_domain,
    audit_trail
))]
pub(super) struct Api;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_user_keeps_profile_fields_and_collects_unknown_ones() {
        let body: AddUser = serde_json::from_value(serde_json::json!({
            "email": "ada@engines.example",
            "first_name": "Ada",
            "company": "Analytical Engines",
            "plan": "pro",
            "plna": "typo",
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let profile = body.profile.validate().unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(profile.first_name, "Ada");
        assert_eq!(profile.company.as_deref(), Some("Analytical Engines"));
        assert_eq!(body.plan.as_deref(), Some("pro"));
        // Only the misspelt field is left over, so add_one refuses it.
        assert_eq!(body.unknown.keys().collect::<Vec<_>>(), ["plna"]);
    }
}
