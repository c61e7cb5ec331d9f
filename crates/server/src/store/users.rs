//! Accounts: who someone is, which organisation they belong to, their role
//! there, and the login-failure count that drives lockout.
//!
//! The stored profile is deliberately small: email, first and last name,
//! company, phone and a picture URL. `display_name` is not extra data, only
//! the first and last name joined, kept as a column because join tokens and
//! the audit trail read it on every request.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, unix_from_db, unix_to_db};

/// What a user may do in their organisation.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub(crate) enum UserRole {
    /// Created the organisation; an admin who cannot be demoted or deleted
    /// by other admins.
    Owner,
    /// Manages users, domains and reads the audit trail.
    Admin,
    /// An ordinary user.
    Member,
}

impl UserRole {
    /// The stored spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            UserRole::Owner => "owner",
            UserRole::Admin => "admin",
            UserRole::Member => "member",
        }
    }

    /// Parses the stored spelling; anything unknown is the least privileged.
    pub(crate) fn parse(raw: &str) -> UserRole {
        match raw {
            "owner" => UserRole::Owner,
            "admin" => UserRole::Admin,
            _ => UserRole::Member,
        }
    }

    /// True for owners and admins.
    pub(crate) fn is_admin(self) -> bool {
        matches!(self, UserRole::Owner | UserRole::Admin)
    }
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct User {
    /// The user id.
    pub(crate) id: String,
    /// The organisation the user belongs to.
    pub(crate) org_id: String,
    /// Normalised (lower-case) email.
    pub(crate) email: String,
    /// The name shown to others: first and last name joined.
    pub(crate) display_name: String,
    /// First name.
    pub(crate) first_name: String,
    /// Last name (may be empty).
    pub(crate) last_name: String,
    /// Company, if given.
    pub(crate) company: Option<String>,
    /// Phone number, if given.
    pub(crate) phone: Option<String>,
    /// Picture URL, if given.
    pub(crate) picture_url: Option<String>,
    /// Role in the organisation.
    pub(crate) role: UserRole,
    /// The plan (licence) an admin assigned.
    pub(crate) plan: String,
    /// Argon2id PHC string; `None` for a pre-provisioned account that has
    /// no password yet (it cannot log in with one).
    pub(crate) password_hash: Option<String>,
    /// Consecutive failed logins since the last success or lockout.
    pub(crate) failed_logins: u32,
    /// Unix time until which logins are refused (0: not locked).
    pub(crate) locked_until: u64,
}

/// What creating an account needs; the rest of [`User`] starts at defaults.
#[derive(Debug, Clone)]
pub(crate) struct NewUser {
    /// The user id.
    pub(crate) id: String,
    /// The organisation to join.
    pub(crate) org_id: String,
    /// Normalised email.
    pub(crate) email: String,
    /// First name.
    pub(crate) first_name: String,
    /// Last name.
    pub(crate) last_name: String,
    /// Company.
    pub(crate) company: Option<String>,
    /// Phone.
    pub(crate) phone: Option<String>,
    /// Picture URL.
    pub(crate) picture_url: Option<String>,
    /// Role.
    pub(crate) role: UserRole,
    /// Plan.
    pub(crate) plan: String,
    /// Argon2id PHC string, if the account has a password.
    pub(crate) password_hash: Option<String>,
}

/// First and last name joined as the display name.
pub(crate) fn display_name(first: &str, last: &str) -> String {
    if last.is_empty() {
        first.to_owned()
    } else {
        format!("{first} {last}")
    }
}

const USER_COLUMNS: &str = "id, org_id, email, display_name, first_name, last_name, company, \
     phone, picture_url, role, plan, password_hash, failed_logins, locked_until";

fn user_from_row(row: &AnyRow) -> Result<User, sqlx::Error> {
    let password_hash: String = row.try_get("password_hash")?;
    let failed: i64 = row.try_get("failed_logins")?;
    Ok(User {
        id: row.try_get("id")?,
        org_id: row
            .try_get::<Option<String>, _>("org_id")?
            .unwrap_or_default(),
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        company: row.try_get("company")?,
        phone: row.try_get("phone")?,
        picture_url: row.try_get("picture_url")?,
        role: UserRole::parse(&row.try_get::<String, _>("role")?),
        plan: row.try_get("plan")?,
        // Pre-provisioned accounts store an empty string: the column is
        // NOT NULL since the first migration.
        password_hash: (!password_hash.is_empty()).then_some(password_hash),
        failed_logins: u32::try_from(failed).unwrap_or(u32::MAX),
        locked_until: unix_from_db(row.try_get("locked_until")?),
    })
}

impl Store {
    /// Creates an account; [`StoreError::EmailTaken`] if the email is in use.
    /// With `new_org` the organisation is created in the same transaction.
    pub(crate) async fn create_user(
        &self,
        user: &NewUser,
        new_org: Option<&str>,
        now: u64,
    ) -> Result<User, StoreError> {
        let mut tx = self.pool.begin().await?;
        if let Some(org_name) = new_org {
            sqlx::query("INSERT INTO organisations (id, name, created_at) VALUES ($1, $2, $3)")
                .bind(&user.org_id)
                .bind(org_name)
                .bind(unix_to_db(now))
                .execute(&mut *tx)
                .await?;
        }
        let result = sqlx::query(
            "INSERT INTO users (id, org_id, email, display_name, first_name, last_name, company, \
             phone, picture_url, role, plan, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&user.id)
        .bind(&user.org_id)
        .bind(&user.email)
        .bind(display_name(&user.first_name, &user.last_name))
        .bind(&user.first_name)
        .bind(&user.last_name)
        .bind(&user.company)
        .bind(&user.phone)
        .bind(&user.picture_url)
        .bind(user.role.as_str())
        .bind(&user.plan)
        .bind(user.password_hash.clone().unwrap_or_default())
        .bind(unix_to_db(now))
        .execute(&mut *tx)
        .await;
        match result {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::EmailTaken);
            }
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        self.user_by_id(&user.id)
            .await?
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound))
    }

    /// The account with this (normalised) email, if any.
    pub(crate) async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email = $1"
        ))
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    /// The account with this id, if any.
    pub(crate) async fn user_by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    /// The account with this id in this organisation, if any: how admin
    /// operations look users up, so no id from another organisation matches.
    pub(crate) async fn user_in_org(
        &self,
        org_id: &str,
        id: &str,
    ) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1 AND org_id = $2"
        ))
        .bind(id)
        .bind(org_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    /// Every account in an organisation, by email.
    pub(crate) async fn users_in_org(&self, org_id: &str) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 ORDER BY email"
        ))
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(user_from_row).collect::<Result<_, _>>()?)
    }

    /// Sets a user's role and plan (within the organisation).
    pub(crate) async fn update_user_role_and_plan(
        &self,
        org_id: &str,
        id: &str,
        role: UserRole,
        plan: &str,
    ) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE users SET role = $1, plan = $2 WHERE id = $3 AND org_id = $4")
                .bind(role.as_str())
                .bind(plan)
                .bind(id)
                .bind(org_id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a user, the meetings they host and the API clients acting as
    /// them (within the organisation).
    pub(crate) async fn delete_user(&self, org_id: &str, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Clients acting as this user would otherwise act as nobody.
        sqlx::query("DELETE FROM oauth_clients WHERE acting_user_id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM meetings WHERE host_user_id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM users WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Counts a failed login; at `threshold` consecutive failures the
    /// account locks until `lock_until` and the count restarts. Returns true
    /// when this failure locked the account.
    pub(crate) async fn record_login_failure(
        &self,
        id: &str,
        threshold: u32,
        lock_until: u64,
    ) -> Result<bool, StoreError> {
        // One statement, so two failures racing each other both count.
        let row = sqlx::query(
            "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 \
             RETURNING failed_logins",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(false) };
        let failed: i64 = row.try_get("failed_logins")?;
        if failed < i64::from(threshold) {
            return Ok(false);
        }
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = $1 WHERE id = $2")
            .bind(unix_to_db(lock_until))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(true)
    }

    /// Clears the failure count after a successful login.
    pub(crate) async fn record_login_success(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
