//! Organisations (tenants) and the email domains they manage.

use sqlx::Row;

use super::{Store, StoreError, unix_to_db};

/// An organisation: the unit of isolation. No request reads or changes
/// data outside the caller's organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Organisation {
    /// The organisation id.
    pub(crate) id: String,
    /// Its name.
    pub(crate) name: String,
}

impl Store {
    /// The organisation with this id, if any.
    pub(crate) async fn organisation(&self, id: &str) -> Result<Option<Organisation>, StoreError> {
        let row = sqlx::query("SELECT id, name FROM organisations WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => Some(Organisation {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
            }),
            None => None,
        })
    }

    /// The organisation managing this (lower-case) email domain, if any.
    pub(crate) async fn org_for_domain(&self, domain: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT org_id FROM managed_domains WHERE domain = $1")
            .bind(domain)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("org_id")).transpose()?)
    }

    /// Makes `domain` managed by `org_id`; [`StoreError::DomainTaken`] if
    /// another organisation (or this one) already manages it.
    pub(crate) async fn add_managed_domain(
        &self,
        org_id: &str,
        domain: &str,
        now: u64,
    ) -> Result<(), StoreError> {
        let result = sqlx::query(
            "INSERT INTO managed_domains (domain, org_id, created_at) VALUES ($1, $2, $3)",
        )
        .bind(domain)
        .bind(org_id)
        .bind(unix_to_db(now))
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(StoreError::DomainTaken)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The domains an organisation manages, sorted.
    pub(crate) async fn managed_domains(&self, org_id: &str) -> Result<Vec<String>, StoreError> {
        let rows =
            sqlx::query("SELECT domain FROM managed_domains WHERE org_id = $1 ORDER BY domain")
                .bind(org_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get("domain"))
            .collect::<Result<_, _>>()?)
    }

    /// Stops managing a domain; false if this organisation did not manage it.
    pub(crate) async fn remove_managed_domain(
        &self,
        org_id: &str,
        domain: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM managed_domains WHERE domain = $1 AND org_id = $2")
            .bind(domain)
            .bind(org_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
