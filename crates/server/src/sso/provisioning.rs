//! Finding the account for a validated sign-in, and provisioning it on
//! first sign-in.
//!
//! The account is the one linked to the provider identity `(issuer, sub)`;
//! else an account with the same verified email in the connection's
//! organisation, which is then linked; else a new member account with no
//! password. Emails in another organisation, or at a domain another
//! organisation manages, are refused rather than linked or squatted.

use crate::audit::{self, Actor, Target};
use crate::ids::new_user_id;
use crate::store::{NewUser, SsoConnection, Store, StoreError, User, UserRole};
use crate::validate;

use super::id_token::IdClaims;

/// Why no account could be given.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ProvisionError {
    /// The identity, the email or its domain belongs to another
    /// organisation.
    #[error("{0}")]
    OtherOrganisation(String),
    /// The account linked to this identity was deleted.
    #[error("the linked account was deleted")]
    LinkedAccountDeleted,
    /// The provider's email is not one we accept.
    #[error("{0}")]
    InvalidEmail(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The account for a validated sign-in through `connection` (see the
/// module doc); `email` is the verified, normalised email.
pub(crate) async fn account_for(
    store: &Store,
    connection: &SsoConnection,
    claims: &IdClaims,
    email: &str,
    now: u64,
) -> Result<User, ProvisionError> {
    let wrong_org =
        || ProvisionError::OtherOrganisation("this account belongs to another organisation".into());
    if let Some(user_id) = store
        .sso_identity(&connection.issuer, &claims.subject)
        .await?
    {
        let user = store
            .user_by_id(&user_id)
            .await?
            .ok_or(ProvisionError::LinkedAccountDeleted)?;
        return if user.org_id == connection.org_id {
            Ok(user)
        } else {
            Err(wrong_org())
        };
    }
    let email = validate::email(email).map_err(ProvisionError::InvalidEmail)?;
    let user = match store.user_by_email(&email).await? {
        Some(user) if user.org_id == connection.org_id => user,
        Some(_) => return Err(wrong_org()),
        None => {
            // A provider mapping by claim could otherwise hand out addresses
            // at a domain another organisation manages, and squat them.
            let domain = validate::email_domain(&email);
            if let Some(owner) = store.org_for_domain(domain).await?
                && owner != connection.org_id
            {
                return Err(ProvisionError::OtherOrganisation(format!(
                    "{domain} is managed by another organisation"
                )));
            }
            provision(store, connection, claims, &email, now).await?
        }
    };
    store
        .link_sso_identity(
            &connection.issuer,
            &claims.subject,
            &user.id,
            &connection.id,
            now,
        )
        .await?;
    Ok(user)
}

/// Creates the member account of someone signing in for the first time.
async fn provision(
    store: &Store,
    connection: &SsoConnection,
    claims: &IdClaims,
    email: &str,
    now: u64,
) -> Result<User, StoreError> {
    let local_part = email.split('@').next().unwrap_or(email);
    // Names the provider sends that we would refuse from a person are
    // replaced, not fatal: the sign-in matters more than the name.
    let first = claims
        .string("given_name")
        .or_else(|| claims.string("name"))
        .and_then(|n| validate::name_part("first_name", n, true).ok())
        .unwrap_or_else(|| local_part.to_owned());
    let last = claims
        .string("family_name")
        .and_then(|n| validate::name_part("last_name", n, false).ok())
        .unwrap_or_default();
    let new = NewUser {
        id: new_user_id(),
        org_id: connection.org_id.clone(),
        email: email.to_owned(),
        first_name: first,
        last_name: last,
        company: None,
        phone: None,
        picture_url: None,
        role: UserRole::Member,
        plan: "basic".to_owned(),
        // Signs in through the provider only, never with a password.
        password_hash: None,
    };
    let user = store.create_user(&new, None, now).await?;
    audit::record(
        store,
        &user.org_id,
        &Actor::user(&user),
        "sso.user_provisioned",
        Some(Target {
            kind: "user",
            id: user.id.clone(),
            label: user.email.clone(),
        }),
        serde_json::json!({ "issuer": connection.issuer }),
    )
    .await?;
    tracing::info!(user_id = %user.id, org_id = %user.org_id, "SSO user provisioned");
    Ok(user)
}
