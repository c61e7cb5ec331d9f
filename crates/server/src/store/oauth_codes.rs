//! The OAuth `authorization_code` grant's state: the redirect URIs each API
//! client registered, and the codes users approved and clients have not
//! yet exchanged.
//!
//! A code is stored only as its SHA-256 and taken with `DELETE …
//! RETURNING`, so it is redeemed at most once even by racing requests.

use sqlx::Row;

use super::{Store, StoreError, unix_from_db, unix_to_db};

/// A code a user approved, waiting for the client to exchange it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthorizationCode {
    /// SHA-256 hex of the code.
    pub(crate) code_hash: String,
    /// The client it was issued to.
    pub(crate) client_id: String,
    /// The user who approved it.
    pub(crate) user_id: String,
    /// The redirect URI it was sent to; the exchange must name the same.
    pub(crate) redirect_uri: String,
    /// The approved scopes.
    pub(crate) scopes: Vec<String>,
    /// The PKCE S256 challenge.
    pub(crate) code_challenge: String,
    /// Unix seconds after which the code is void.
    pub(crate) expires_at: u64,
}

impl Store {
    /// A client's registered redirect URIs.
    pub(crate) async fn oauth_client_redirect_uris(
        &self,
        client_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        let row = sqlx::query("SELECT redirect_uris FROM oauth_clients WHERE id = $1")
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        let text: String = match row {
            Some(row) => row.try_get("redirect_uris")?,
            None => String::new(),
        };
        Ok(text.split_whitespace().map(str::to_owned).collect())
    }

    /// Replaces the redirect URIs of an organisation's client; false if the
    /// organisation has no such client.
    pub(crate) async fn set_oauth_client_redirect_uris(
        &self,
        org_id: &str,
        client_id: &str,
        uris: &[String],
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE oauth_clients SET redirect_uris = $1 WHERE id = $2 AND org_id = $3",
        )
        .bind(uris.join(" "))
        .bind(client_id)
        .bind(org_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores an approved code. Expired codes are swept on the way.
    pub(crate) async fn put_authorization_code(
        &self,
        code: &AuthorizationCode,
        now: u64,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM oauth_authorization_codes WHERE expires_at < $1")
            .bind(unix_to_db(now))
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO oauth_authorization_codes (code_hash, client_id, user_id, redirect_uri, \
             scopes, code_challenge, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&code.code_hash)
        .bind(&code.client_id)
        .bind(&code.user_id)
        .bind(&code.redirect_uri)
        .bind(code.scopes.join(" "))
        .bind(&code.code_challenge)
        .bind(unix_to_db(code.expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes (deletes and returns) the code with this hash, expired or not:
    /// the caller decides, and a code is gone after its first use either way.
    pub(crate) async fn take_authorization_code(
        &self,
        code_hash: &str,
    ) -> Result<Option<AuthorizationCode>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM oauth_authorization_codes WHERE code_hash = $1 RETURNING code_hash, \
             client_id, user_id, redirect_uri, scopes, code_challenge, expires_at",
        )
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let scopes: String = row.try_get("scopes")?;
        Ok(Some(AuthorizationCode {
            code_hash: row.try_get("code_hash")?,
            client_id: row.try_get("client_id")?,
            user_id: row.try_get("user_id")?,
            redirect_uri: row.try_get("redirect_uri")?,
            scopes: scopes.split_whitespace().map(str::to_owned).collect(),
            code_challenge: row.try_get("code_challenge")?,
            expires_at: unix_from_db(row.try_get("expires_at")?),
        }))
    }
}
