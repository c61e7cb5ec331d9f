//! OAuth API clients and the client-assertion ids already used.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, unix_from_db, unix_to_db};

/// How a client authenticates at the token endpoint.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ClientAuthMethod {
    /// A shared secret (`client_secret_post` or `client_secret_basic`).
    ClientSecret,
    /// A JWT signed with the client's private key (RFC 7523).
    PrivateKeyJwt,
}

impl ClientAuthMethod {
    fn as_str(self) -> &'static str {
        match self {
            ClientAuthMethod::ClientSecret => "client_secret",
            ClientAuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

/// A registered API client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OAuthClient {
    /// The client_id.
    pub(crate) id: String,
    /// Its organisation.
    pub(crate) org_id: String,
    /// A name for people.
    pub(crate) name: String,
    /// The user it acts as.
    pub(crate) acting_user_id: String,
    /// How it authenticates.
    pub(crate) auth_method: ClientAuthMethod,
    /// SHA-256 hex of the secret (client_secret clients).
    pub(crate) secret_hash: Option<String>,
    /// Its public keys as JWKS JSON (private_key_jwt clients).
    pub(crate) jwks: Option<String>,
    /// Where its keys are published, if registered by URL.
    pub(crate) jwks_uri: Option<String>,
    /// When `jwks` was last fetched from `jwks_uri` (Unix seconds).
    pub(crate) jwks_fetched_at: u64,
    /// Scopes it may ask for.
    pub(crate) scopes: Vec<String>,
}

const CLIENT_COLUMNS: &str = "id, org_id, name, acting_user_id, auth_method, secret_hash, jwks, \
     jwks_uri, jwks_fetched_at, scopes";

fn client_from_row(row: &AnyRow) -> Result<OAuthClient, sqlx::Error> {
    let method: String = row.try_get("auth_method")?;
    let scopes: String = row.try_get("scopes")?;
    Ok(OAuthClient {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        name: row.try_get("name")?,
        acting_user_id: row.try_get("acting_user_id")?,
        auth_method: if method == "private_key_jwt" {
            ClientAuthMethod::PrivateKeyJwt
        } else {
            ClientAuthMethod::ClientSecret
        },
        secret_hash: row.try_get("secret_hash")?,
        jwks: row.try_get("jwks")?,
        jwks_uri: row.try_get("jwks_uri")?,
        jwks_fetched_at: unix_from_db(row.try_get("jwks_fetched_at")?),
        scopes: scopes.split_whitespace().map(str::to_owned).collect(),
    })
}

impl Store {
    /// Registers a client.
    pub(crate) async fn create_oauth_client(
        &self,
        client: &OAuthClient,
        now: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO oauth_clients (id, org_id, name, acting_user_id, auth_method, \
             secret_hash, jwks, jwks_uri, jwks_fetched_at, scopes, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&client.id)
        .bind(&client.org_id)
        .bind(&client.name)
        .bind(&client.acting_user_id)
        .bind(client.auth_method.as_str())
        .bind(&client.secret_hash)
        .bind(&client.jwks)
        .bind(&client.jwks_uri)
        .bind(unix_to_db(client.jwks_fetched_at))
        .bind(client.scopes.join(" "))
        .bind(unix_to_db(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The client with this id, if any.
    pub(crate) async fn oauth_client(&self, id: &str) -> Result<Option<OAuthClient>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CLIENT_COLUMNS} FROM oauth_clients WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(client_from_row).transpose()?)
    }

    /// An organisation's clients.
    pub(crate) async fn oauth_clients_in_org(
        &self,
        org_id: &str,
    ) -> Result<Vec<OAuthClient>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CLIENT_COLUMNS} FROM oauth_clients WHERE org_id = $1 ORDER BY created_at, id"
        ))
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(client_from_row).collect::<Result<_, _>>()?)
    }

    /// Replaces a client's key set (rotation, or a fresh copy of its
    /// `jwks_uri`).
    pub(crate) async fn set_oauth_client_jwks(
        &self,
        id: &str,
        jwks: &str,
        fetched_at: u64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE oauth_clients SET jwks = $1, jwks_fetched_at = $2 WHERE id = $3")
            .bind(jwks)
            .bind(unix_to_db(fetched_at))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes a client of an organisation; false if there was none.
    pub(crate) async fn delete_oauth_client(
        &self,
        org_id: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM oauth_clients WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Remembers a client assertion's `jti` until `expires_at`. Returns
    /// false if this client already used it (a replay). Expired ids are
    /// swept on the way.
    pub(crate) async fn use_assertion_jti(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: u64,
        now: u64,
    ) -> Result<bool, StoreError> {
        sqlx::query("DELETE FROM client_assertion_jtis WHERE expires_at < $1")
            .bind(unix_to_db(now))
            .execute(&self.pool)
            .await?;
        let result = sqlx::query(
            "INSERT INTO client_assertion_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(client_id)
        .bind(jti)
        .bind(unix_to_db(expires_at))
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(true),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
