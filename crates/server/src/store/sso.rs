//! Single sign-on state: organisations' OIDC connections, sign-ins waiting
//! for the provider, one-time hand-off codes for the app, and the link
//! between a provider identity and an account.
//!
//! Everything short-lived is taken with `DELETE … RETURNING`, so two
//! requests racing with the same `state` or code cannot both succeed.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, unix_from_db, unix_to_db};

/// How a connection decides that a signed-in person belongs to its
/// organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OrgMapping {
    /// The verified email's domain must be one the organisation manages.
    EmailDomain,
    /// The claim `name` must be the string `value`.
    Claim {
        /// The claim's name, e.g. `org`.
        name: String,
        /// The value that means this organisation.
        value: String,
    },
}

/// An organisation's connection to an OpenID provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SsoConnection {
    /// The connection id.
    pub(crate) id: String,
    /// The organisation people signing in through it join.
    pub(crate) org_id: String,
    /// The name in `/sso/{slug}/start`.
    pub(crate) slug: String,
    /// The provider's issuer URL.
    pub(crate) issuer: String,
    /// Our client id at the provider.
    pub(crate) client_id: String,
    /// Our client secret at the provider (server-side only).
    pub(crate) client_secret: String,
    /// How claims map to the organisation.
    pub(crate) mapping: OrgMapping,
}

/// A sign-in sent to the provider, waiting for its callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingLogin {
    /// The `state` sent to the provider.
    pub(crate) state: String,
    /// The connection used.
    pub(crate) connection_id: String,
    /// The `nonce` the ID token must carry.
    pub(crate) nonce: String,
    /// Our PKCE verifier towards the provider.
    pub(crate) pkce_verifier: String,
    /// The app's loopback redirect URI.
    pub(crate) client_redirect_uri: String,
    /// The app's own `state`, echoed back to it.
    pub(crate) client_state: Option<String>,
    /// The app's PKCE S256 challenge towards us.
    pub(crate) client_code_challenge: String,
    /// Unix seconds after which the sign-in is void.
    pub(crate) expires_at: u64,
}

/// A finished sign-in waiting for the app to redeem its one-time code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Handoff {
    /// SHA-256 hex of the code.
    pub(crate) code_hash: String,
    /// The signed-in account.
    pub(crate) user_id: String,
    /// The redirect URI the code was sent to; the exchange must name it.
    pub(crate) client_redirect_uri: String,
    /// The app's PKCE S256 challenge.
    pub(crate) client_code_challenge: String,
    /// Unix seconds after which the code is void.
    pub(crate) expires_at: u64,
}

const CONNECTION_COLUMNS: &str =
    "id, org_id, slug, issuer, client_id, client_secret, mapping, claim_name, claim_value";

fn connection_from_row(row: &AnyRow) -> Result<SsoConnection, sqlx::Error> {
    let mapping: String = row.try_get("mapping")?;
    let mapping = if mapping == "claim" {
        OrgMapping::Claim {
            name: row
                .try_get::<Option<String>, _>("claim_name")?
                .unwrap_or_default(),
            value: row
                .try_get::<Option<String>, _>("claim_value")?
                .unwrap_or_default(),
        }
    } else {
        OrgMapping::EmailDomain
    };
    Ok(SsoConnection {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        slug: row.try_get("slug")?,
        issuer: row.try_get("issuer")?,
        client_id: row.try_get("client_id")?,
        client_secret: row.try_get("client_secret")?,
        mapping,
    })
}

impl Store {
    /// Stores a connection; false if its slug is already taken.
    pub(crate) async fn create_sso_connection(
        &self,
        connection: &SsoConnection,
        now: u64,
    ) -> Result<bool, StoreError> {
        let (mapping, name, value) = match &connection.mapping {
            OrgMapping::EmailDomain => ("email_domain", None, None),
            OrgMapping::Claim { name, value } => ("claim", Some(name), Some(value)),
        };
        let result = sqlx::query(
            "INSERT INTO sso_connections (id, org_id, slug, issuer, client_id, client_secret, \
             mapping, claim_name, claim_value, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&connection.id)
        .bind(&connection.org_id)
        .bind(&connection.slug)
        .bind(&connection.issuer)
        .bind(&connection.client_id)
        .bind(&connection.client_secret)
        .bind(mapping)
        .bind(name)
        .bind(value)
        .bind(unix_to_db(now))
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(true),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The connection with this slug, if any.
    pub(crate) async fn sso_connection_by_slug(
        &self,
        slug: &str,
    ) -> Result<Option<SsoConnection>, StoreError> {
        self.one_connection("slug", slug).await
    }

    /// The connection with this id, if any.
    pub(crate) async fn sso_connection(
        &self,
        id: &str,
    ) -> Result<Option<SsoConnection>, StoreError> {
        self.one_connection("id", id).await
    }

    async fn one_connection(
        &self,
        column: &'static str,
        value: &str,
    ) -> Result<Option<SsoConnection>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM sso_connections WHERE {column} = $1"
        ))
        .bind(value)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(connection_from_row).transpose()?)
    }

    /// An organisation's connections.
    pub(crate) async fn sso_connections_in_org(
        &self,
        org_id: &str,
    ) -> Result<Vec<SsoConnection>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM sso_connections WHERE org_id = $1 \
             ORDER BY created_at, id"
        ))
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(connection_from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Deletes a connection of an organisation; false if there was none.
    pub(crate) async fn delete_sso_connection(
        &self,
        org_id: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM sso_connections WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Remembers a sign-in sent to the provider. Expired ones are swept on
    /// the way.
    pub(crate) async fn put_sso_login(
        &self,
        login: &PendingLogin,
        now: u64,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sso_logins WHERE expires_at < $1")
            .bind(unix_to_db(now))
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO sso_logins (state, connection_id, nonce, pkce_verifier, \
             client_redirect_uri, client_state, client_code_challenge, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&login.state)
        .bind(&login.connection_id)
        .bind(&login.nonce)
        .bind(&login.pkce_verifier)
        .bind(&login.client_redirect_uri)
        .bind(&login.client_state)
        .bind(&login.client_code_challenge)
        .bind(unix_to_db(login.expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes (deletes and returns) the sign-in with this `state`; `None` if
    /// there is none or it has expired. A `state` works once.
    pub(crate) async fn take_sso_login(
        &self,
        state: &str,
        now: u64,
    ) -> Result<Option<PendingLogin>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM sso_logins WHERE state = $1 RETURNING state, connection_id, nonce, \
             pkce_verifier, client_redirect_uri, client_state, client_code_challenge, expires_at",
        )
        .bind(state)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let login = PendingLogin {
            state: row.try_get("state")?,
            connection_id: row.try_get("connection_id")?,
            nonce: row.try_get("nonce")?,
            pkce_verifier: row.try_get("pkce_verifier")?,
            client_redirect_uri: row.try_get("client_redirect_uri")?,
            client_state: row.try_get("client_state")?,
            client_code_challenge: row.try_get("client_code_challenge")?,
            expires_at: unix_from_db(row.try_get("expires_at")?),
        };
        Ok((login.expires_at >= now).then_some(login))
    }

    /// Remembers a one-time hand-off code. Expired ones are swept on the way.
    pub(crate) async fn put_sso_handoff(
        &self,
        handoff: &Handoff,
        now: u64,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sso_handoffs WHERE expires_at < $1")
            .bind(unix_to_db(now))
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO sso_handoffs (code_hash, user_id, client_redirect_uri, \
             client_code_challenge, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&handoff.code_hash)
        .bind(&handoff.user_id)
        .bind(&handoff.client_redirect_uri)
        .bind(&handoff.client_code_challenge)
        .bind(unix_to_db(handoff.expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes the hand-off with this code hash; `None` if there is none or it
    /// has expired. A code works once, even if the exchange then fails.
    pub(crate) async fn take_sso_handoff(
        &self,
        code_hash: &str,
        now: u64,
    ) -> Result<Option<Handoff>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM sso_handoffs WHERE code_hash = $1 RETURNING code_hash, user_id, \
             client_redirect_uri, client_code_challenge, expires_at",
        )
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let handoff = Handoff {
            code_hash: row.try_get("code_hash")?,
            user_id: row.try_get("user_id")?,
            client_redirect_uri: row.try_get("client_redirect_uri")?,
            client_code_challenge: row.try_get("client_code_challenge")?,
            expires_at: unix_from_db(row.try_get("expires_at")?),
        };
        Ok((handoff.expires_at >= now).then_some(handoff))
    }

    /// The account linked to a provider identity, if any.
    pub(crate) async fn sso_identity(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<String>, StoreError> {
        let row =
            sqlx::query("SELECT user_id FROM sso_identities WHERE issuer = $1 AND subject = $2")
                .bind(issuer)
                .bind(subject)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|r| r.try_get("user_id")).transpose()?)
    }

    /// Links a provider identity to an account.
    pub(crate) async fn link_sso_identity(
        &self,
        issuer: &str,
        subject: &str,
        user_id: &str,
        connection_id: &str,
        now: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sso_identities (issuer, subject, user_id, connection_id, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(issuer)
        .bind(subject)
        .bind(user_id)
        .bind(connection_id)
        .bind(unix_to_db(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
