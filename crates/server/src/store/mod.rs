//! The store: everything the server remembers between requests and restarts
//! (organisations, accounts, meetings, the audit trail).
//!
//! One [`Store`] over sqlx's `Any` driver serves both engines: SQLite (a file
//! in the data directory, WAL mode; the default) and PostgreSQL (a
//! `postgres://` URL). Every query is runtime SQL with `$N` placeholders,
//! which both accept, and the migrations in `migrations/` are plain SQL both
//! accept, so the same code and schema run on either. Booleans are stored as
//! `BIGINT` 0/1 because that is the one representation the `Any` driver
//! decodes the same way from both engines.
//!
//! One file per area: `users.rs`, `orgs.rs`, `meetings.rs`, `audit.rs`,
//! `oauth.rs`, `webhooks.rs`, `devices.rs` (the device directory),
//! `chat.rs` (the E2E chat mailbox).

mod audit;
mod chat;
mod devices;
mod expulsions;
mod meetings;
mod oauth;
mod oauth_codes;
mod orgs;
mod sso;
mod users;
mod webhooks;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyPool, ConnectOptions, Executor};

pub(crate) use audit::{AuditEvent, NewAuditEvent};
pub(crate) use chat::{MailboxEntry, NewEnvelope, Refusal};
pub(crate) use devices::{Device, Registration};
pub(crate) use expulsions::{Expulsion, ExpulsionBar};
pub(crate) use meetings::{Meeting, MeetingEvent, MeetingSettings, Recurrence};
pub(crate) use oauth::{ClientAuthMethod, OAuthClient};
pub(crate) use oauth_codes::AuthorizationCode;
pub(crate) use sso::{Handoff, OrgMapping, PendingLogin, SsoConnection};
pub(crate) use users::{NewUser, User, UserRole, display_name};
pub(crate) use webhooks::{Delivery, WebhookEndpoint};

use crate::data_dir::create_private_if_absent;
use crate::error::ServerError;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum StoreError {
    /// An account with this email already exists.
    #[error("email already registered")]
    EmailTaken,
    /// Another organisation already manages this email domain.
    #[error("domain already managed")]
    DomainTaken,
    /// No free meeting id was found after several attempts.
    #[error("could not allocate a meeting id")]
    MeetingIdsExhausted,
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// Which engine is behind the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Backend {
    /// SQLite, with the database file (empty for an in-memory database).
    Sqlite(PathBuf),
    /// PostgreSQL.
    Postgres,
}

/// Handle to the database; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// SQLite settings applied to every new connection. The `Any` driver only
/// takes a URL, which cannot say these, hence the statements.
/// WAL lets readers and the writer proceed together; NORMAL is durable in
/// WAL mode except for the last transactions before a power cut, and much
/// faster than FULL.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";

impl Store {
    /// Opens (creating if absent) the database named by `url`, or the SQLite
    /// file `default_path` when there is no URL, and applies the migrations.
    ///
    /// `sqlite:` URLs and `postgres://` / `postgresql://` URLs are accepted.
    pub(crate) async fn open(url: Option<&str>, default_path: &Path) -> Result<Store, ServerError> {
        sqlx::any::install_default_drivers();
        let (options, backend) = match url {
            None => sqlite_options(SqliteConnectOptions::new().filename(default_path), None)?,
            Some(url) if url.starts_with("sqlite:") => {
                sqlite_options(SqliteConnectOptions::from_str(url)?, Some(url))?
            }
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                (AnyConnectOptions::from_str(url)?, Backend::Postgres)
            }
            Some(url) => return Err(ServerError::UnsupportedDatabaseUrl(redact_url(url))),
        };
        let is_sqlite = matches!(backend, Backend::Sqlite(_));
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if is_sqlite {
                        conn.execute(SQLITE_PRAGMAS).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool, backend })
    }

    /// The SQLite database file, or `None` on PostgreSQL or in memory.
    pub(crate) fn path(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Sqlite(path) if !path.as_os_str().is_empty() => Some(path),
            _ => None,
        }
    }

    /// Closes every connection (checkpointing SQLite's WAL).
    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }
}

/// Turns SQLite options into `Any` options, creating the file with owner-only
/// permissions first (SQLite itself would create it world-readable).
fn sqlite_options(
    options: SqliteConnectOptions,
    url: Option<&str>,
) -> Result<(AnyConnectOptions, Backend), ServerError> {
    let options = options.create_if_missing(true);
    let in_memory = url.is_some_and(|u| u.contains(":memory:") || u.contains("mode=memory"));
    let path = if in_memory {
        PathBuf::new()
    } else {
        let path = options.get_filename().to_owned();
        create_private_if_absent(&path)?;
        path
    };
    let any = AnyConnectOptions::from_url(&options.to_url_lossy())?;
    Ok((any, Backend::Sqlite(path)))
}

/// Unix seconds as the database's signed 64-bit integer (saturating, which
/// only matters past the year 292 billion).
pub(crate) fn unix_to_db(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// A stored Unix time back as `u64`; a negative value (never written by us)
/// reads as 0.
pub(crate) fn unix_from_db(secs: i64) -> u64 {
    u64::try_from(secs).unwrap_or(0)
}

/// A database URL for an error message, without any password in it.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://…@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_sqlite_and_postgres_urls_are_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let err = Store::open(
            Some("mysql://me:secret@db/confer"),
            &dir.path().join("t.db"),
        )
        .await
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("mysql://…@db/confer"), "{text}");
        assert!(!text.contains("secret"));

        let url = format!("sqlite://{}", dir.path().join("u.db").display());
        let store = Store::open(Some(&url), &dir.path().join("t.db"))
            .await
            .unwrap();
        assert_eq!(store.path(), Some(dir.path().join("u.db").as_path()));
        store.close().await;
    }

    /// A database made by the first cut (accounts and meetings, no
    /// organisations) upgrades: each account becomes the owner of an
    /// organisation of its own, and its meetings belong there.
    #[tokio::test]
    async fn first_cut_databases_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        sqlx::any::install_default_drivers();
        let pool = AnyPool::connect(&url).await.unwrap();
        let mut first_cut = sqlx::migrate!("./migrations");
        first_cut.migrations = std::borrow::Cow::Owned(first_cut.migrations[..1].to_vec());
        first_cut.run(&pool).await.unwrap();
        sqlx::query(
            "INSERT INTO users (id, email, display_name, password_hash, created_at) \
             VALUES ('u1', 'ada@example.org', 'Ada Lovelace', '$argon2id$x', 1)",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO meetings (id, topic, host_user_id, created_at) \
             VALUES (1234567890, 'Old', 'u1', 1)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;

        let store = Store::open(Some(&url), &dir.path().join("unused.db"))
            .await
            .unwrap();
        let user = store.user_by_id("u1").await.unwrap().unwrap();
        assert_eq!(user.org_id, "ou1");
        assert_eq!(user.role, UserRole::Owner);
        assert_eq!(user.first_name, "Ada Lovelace");
        assert_eq!(user.display_name, "Ada Lovelace");
        let meeting = store.meeting(1_234_567_890).await.unwrap().unwrap();
        assert_eq!(meeting.org_id, "ou1");
        assert_eq!(meeting.settings, MeetingSettings::default());
        assert!(store.organisation("ou1").await.unwrap().is_some());
        store.close().await;
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:pw@h:5432/db"),
            "postgres://…@h:5432/db"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
