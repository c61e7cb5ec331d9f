//! The store: everything the server remembers between requests and restarts
//! (accounts and meetings).
//!
//! It is SQLite for now (a file in the data directory, WAL mode). Callers see
//! only [`Store`] and plain records, and every query is runtime SQL with
//! `$N` placeholders that PostgreSQL also accepts, so adding PostgreSQL means
//! a second pool behind this type, not a change to the routes.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::data_dir::create_private_if_absent;
use crate::error::ServerError;
use crate::ids::new_meeting_id;

/// How often creating a meeting retries after drawing an id already in use.
/// With 9·10⁹ ids a second collision in a row means something else is wrong.
const MEETING_ID_ATTEMPTS: usize = 8;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum StoreError {
    /// An account with this email already exists.
    #[error("email already registered")]
    EmailTaken,
    /// No free meeting id was found after several attempts.
    #[error("could not allocate a meeting id")]
    MeetingIdsExhausted,
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct User {
    /// The user id.
    pub(crate) id: String,
    /// Normalised (lower-case) email.
    pub(crate) email: String,
    /// The name shown to others.
    pub(crate) display_name: String,
    /// Argon2id PHC string.
    pub(crate) password_hash: String,
}

/// A scheduled meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Meeting {
    /// The public 10-digit id.
    pub(crate) id: u64,
    /// Optional topic.
    pub(crate) topic: Option<String>,
    /// Argon2id PHC string of the passcode, if there is one.
    pub(crate) passcode_hash: Option<String>,
    /// The owner's user id.
    pub(crate) host_user_id: String,
}

/// Handle to the database; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    pool: SqlitePool,
    path: PathBuf,
}

type UserRow = (String, String, String, String);
type MeetingRow = (i64, Option<String>, Option<String>, String);

impl Store {
    /// Opens (creating if absent) the database named by `url`, or the SQLite
    /// file `default_path` when there is no URL, and applies the migrations.
    pub(crate) async fn open(url: Option<&str>, default_path: &Path) -> Result<Store, ServerError> {
        let options = match url {
            None => SqliteConnectOptions::new().filename(default_path),
            Some(url) if url.starts_with("sqlite:") => SqliteConnectOptions::from_str(url)?,
            Some(url) => return Err(ServerError::UnsupportedDatabaseUrl(redact_url(url))),
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable in WAL mode except for the last transactions
            // before a power cut, and much faster than FULL.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let path = options.get_filename().to_owned();
        let in_memory = url.is_some_and(|u| u.contains(":memory:") || u.contains("mode=memory"));
        if !in_memory {
            create_private_if_absent(&path)?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool, path })
    }

    /// The SQLite database file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Closes every connection (checkpointing the WAL).
    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    /// Creates an account; [`StoreError::EmailTaken`] if the email is in use.
    pub(crate) async fn create_user(&self, user: &User, now: u64) -> Result<(), StoreError> {
        let result = sqlx::query(
            "INSERT INTO users (id, email, display_name, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&user.id)
        .bind(&user.email)
        .bind(&user.display_name)
        .bind(&user.password_hash)
        .bind(unix_to_db(now))
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::EmailTaken),
            Err(e) => Err(e.into()),
        }
    }

    /// The account with this (normalised) email, if any.
    pub(crate) async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT id, email, display_name, password_hash FROM users WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(user_from_row))
    }

    /// The account with this id, if any.
    pub(crate) async fn user_by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT id, email, display_name, password_hash FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(user_from_row))
    }

    /// Creates a meeting under a fresh random id and returns it.
    pub(crate) async fn create_meeting(
        &self,
        topic: Option<String>,
        passcode_hash: Option<String>,
        host_user_id: &str,
        now: u64,
    ) -> Result<Meeting, StoreError> {
        for _ in 0..MEETING_ID_ATTEMPTS {
            let id = new_meeting_id();
            let result = sqlx::query(
                "INSERT INTO meetings (id, topic, passcode_hash, host_user_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(meeting_id_to_db(id))
            .bind(&topic)
            .bind(&passcode_hash)
            .bind(host_user_id)
            .bind(unix_to_db(now))
            .execute(&self.pool)
            .await;
            match result {
                Ok(_) => {
                    return Ok(Meeting {
                        id,
                        topic,
                        passcode_hash,
                        host_user_id: host_user_id.to_owned(),
                    });
                }
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::MeetingIdsExhausted)
    }

    /// The meeting with this id, if any.
    pub(crate) async fn meeting(&self, id: u64) -> Result<Option<Meeting>, StoreError> {
        let Ok(db_id) = i64::try_from(id) else {
            return Ok(None);
        };
        let row: Option<MeetingRow> = sqlx::query_as(
            "SELECT id, topic, passcode_hash, host_user_id FROM meetings WHERE id = $1",
        )
        .bind(db_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|(id, topic, passcode_hash, host_user_id)| {
            Some(Meeting {
                id: u64::try_from(id).ok()?,
                topic,
                passcode_hash,
                host_user_id,
            })
        }))
    }
}

fn user_from_row((id, email, display_name, password_hash): UserRow) -> User {
    User {
        id,
        email,
        display_name,
        password_hash,
    }
}

/// Unix seconds as the database's signed 64-bit integer (saturating, which
/// only matters past the year 292 billion).
fn unix_to_db(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// Meeting ids have 10 digits, far below `i64::MAX`.
fn meeting_id_to_db(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
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

    fn user(id: &str, email: &str) -> User {
        User {
            id: id.into(),
            email: email.into(),
            display_name: "Ada".into(),
            password_hash: "$argon2id$x".into(),
        }
    }

    #[tokio::test]
    async fn users_and_meetings_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(None, &dir.path().join("t.db")).await.unwrap();
        store
            .create_user(&user("u1", "ada@example.org"), 1)
            .await
            .unwrap();
        assert!(matches!(
            store.create_user(&user("u2", "ada@example.org"), 1).await,
            Err(StoreError::EmailTaken)
        ));
        let found = store
            .user_by_email("ada@example.org")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, "u1");
        assert_eq!(store.user_by_id("u1").await.unwrap(), Some(found));
        assert_eq!(store.user_by_id("nobody").await.unwrap(), None);

        let meeting = store
            .create_meeting(Some("standup".into()), None, "u1", 1)
            .await
            .unwrap();
        assert_eq!(store.meeting(meeting.id).await.unwrap(), Some(meeting));
        assert_eq!(store.meeting(1).await.unwrap(), None);
        assert_eq!(store.meeting(u64::MAX).await.unwrap(), None);
        store.close().await;
    }

    #[tokio::test]
    async fn only_sqlite_urls_are_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let err = Store::open(
            Some("postgres://me:secret@db/confer"),
            &dir.path().join("t.db"),
        )
        .await
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("postgres://…@db/confer"), "{text}");
        assert!(!text.contains("secret"));

        let url = format!("sqlite://{}", dir.path().join("u.db").display());
        let store = Store::open(Some(&url), &dir.path().join("t.db"))
            .await
            .unwrap();
        assert_eq!(store.path(), dir.path().join("u.db"));
    }
}
