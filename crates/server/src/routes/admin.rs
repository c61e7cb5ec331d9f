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
use serde::{Deserialize, Serialize};

use super::AppState;
use super::accounts::{Account, profile};
use crate::api_error::{ApiError, ApiJson};
use crate::audit::{self, Actor, AuditView, Target};
use crate::auth::Admin;
use crate::clock::now_unix;
use crate::ids::new_user_id;
use crate::store::{NewUser, StoreError, User, UserRole};
use crate::validate;

/// Most users one pre-provisioning call may create.
const MAX_PROVISION_BATCH: usize = 100;
/// Most audit events one call returns.
const MAX_AUDIT_EVENTS: u32 = 1000;

/// `GET /api/v1/org`: the caller's organisation.
pub(super) async fn organisation(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Json<serde_json::Value>, ApiError> {
    let org = state
        .store
        .organisation(&admin.org_id)
        .await?
        .ok_or_else(|| ApiError::internal("the caller's organisation is missing"))?;
    let domains = state.store.managed_domains(&org.id).await?;
    Ok(Json(serde_json::json!({
        "org_id": org.id,
        "name": org.name,
        "managed_domains": domains,
    })))
}

/// `GET /api/v1/org/users`.
pub(super) async fn list_users(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Json<Vec<Account>>, ApiError> {
    let users = state.store.users_in_org(&admin.org_id).await?;
    Ok(Json(users.into_iter().map(Account::from).collect()))
}

/// Body of `POST /api/v1/org/users` and one entry of a provisioning batch.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AddUser {
    email: String,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    company: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    picture_url: Option<String>,
    /// `member` (default) or `admin`; `owner` cannot be given.
    #[serde(default)]
    role: Option<UserRole>,
    #[serde(default)]
    plan: Option<String>,
    /// Without one the account is pre-provisioned: it exists (and can be
    /// given meetings, plans, roles) but cannot log in with a password.
    #[serde(default)]
    password: Option<String>,
}

/// Validates and creates one user in the admin's organisation.
async fn add_one(state: &AppState, admin: &User, body: AddUser) -> Result<User, ApiError> {
    let email = validate::email(&body.email).map_err(ApiError::invalid_request)?;
    let profile = profile(
        body.display_name.as_deref(),
        body.first_name.as_deref(),
        body.last_name.as_deref(),
        body.company.as_deref(),
        body.phone.as_deref(),
        body.picture_url.as_deref(),
    )?;
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
pub(super) async fn add_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<AddUser>,
) -> Result<(StatusCode, Json<Account>), ApiError> {
    let user = add_one(&state, &admin, body).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Body of `POST /api/v1/org/users/provision`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Provision {
    users: Vec<AddUser>,
}

/// One line of the provisioning result.
#[derive(Serialize)]
pub(super) struct ProvisionResult {
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
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateUser {
    #[serde(default)]
    role: Option<UserRole>,
    #[serde(default)]
    plan: Option<String>,
}

/// `PATCH /api/v1/org/users/{id}`: changes a user's plan or role.
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

/// `GET /api/v1/org/domains`.
pub(super) async fn list_domains(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Json<serde_json::Value>, ApiError> {
    let domains = state.store.managed_domains(&admin.org_id).await?;
    Ok(Json(serde_json::json!({ "domains": domains })))
}

/// Body of `POST /api/v1/org/domains`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AddDomain {
    domain: String,
}

/// `POST /api/v1/org/domains`: makes a domain managed, so new sign-ups with
/// an email there join this organisation.
///
/// An admin may only claim the domain of their own email address. Domain
/// ownership is not otherwise proved (no DNS check yet), and without this
/// rule any admin could claim a public mail domain and absorb strangers'
/// sign-ups.
pub(super) async fn add_domain(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<AddDomain>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
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
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "domain": domain })),
    ))
}

/// `DELETE /api/v1/org/domains/{domain}`.
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
#[derive(Deserialize)]
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

/// `GET /api/v1/org/audit`: the organisation's audit trail, oldest first,
/// as JSON events (each with its `sentence`) or as plain text.
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
        None | Some("json") => Ok(Json(serde_json::json!({ "events": views })).into_response()),
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
