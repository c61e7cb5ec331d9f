//! Expulsions: who a host expelled from a meeting and has not allowed back
//! (`meeting_expulsions`), so the join-token endpoint can refuse them a
//! token. Recorded from the router's reports in `meeting_events.rs`.

use sqlx::Row;

use super::{Store, StoreError, unix_to_db};

/// Why the store bars a joiner from a meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExpulsionBar {
    /// This user was expelled.
    User,
    /// An expelled guest is not allowed back, so no guest may join.
    Guest,
}

/// One expulsion, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expulsion {
    /// The meeting.
    pub(crate) meeting_id: u64,
    /// The `sub` of the expelled participant's join token.
    pub(crate) subject: String,
    /// Their display name when expelled.
    pub(crate) name: String,
    /// Whether they were a guest.
    pub(crate) guest: bool,
    /// Unix seconds.
    pub(crate) at: u64,
}

/// A meeting id as stored (ids are 10-digit, far below `i64::MAX`).
fn db_id(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

impl Store {
    /// Records an expulsion; a repeated one (the same user expelled again)
    /// keeps the first record.
    pub(crate) async fn record_expulsion(&self, e: &Expulsion) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO meeting_expulsions (meeting_id, subject, name, guest, expelled_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (meeting_id, subject) DO NOTHING",
        )
        .bind(db_id(e.meeting_id))
        .bind(&e.subject)
        .bind(&e.name)
        .bind(i64::from(e.guest))
        .bind(unix_to_db(e.at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Lets `subject` back into `meeting_id`; false if they were not barred.
    pub(crate) async fn lift_expulsion(
        &self,
        meeting_id: u64,
        subject: &str,
    ) -> Result<bool, StoreError> {
        let done =
            sqlx::query("DELETE FROM meeting_expulsions WHERE meeting_id = $1 AND subject = $2")
                .bind(db_id(meeting_id))
                .bind(subject)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Whether a joiner is barred from `meeting_id`: `user_id` for a
    /// signed-in user, `None` for a guest.
    pub(crate) async fn expulsion_bar(
        &self,
        meeting_id: u64,
        user_id: Option<&str>,
    ) -> Result<Option<ExpulsionBar>, StoreError> {
        let (query, bar) = match user_id {
            Some(user) => (
                sqlx::query(
                    "SELECT COUNT(*) AS n FROM meeting_expulsions \
                     WHERE meeting_id = $1 AND subject = $2",
                )
                .bind(db_id(meeting_id))
                .bind(user.to_owned()),
                ExpulsionBar::User,
            ),
            None => (
                sqlx::query(
                    "SELECT COUNT(*) AS n FROM meeting_expulsions \
                     WHERE meeting_id = $1 AND guest = 1",
                )
                .bind(db_id(meeting_id)),
                ExpulsionBar::Guest,
            ),
        };
        let row = query.fetch_one(&self.pool).await?;
        let n: i64 = row.try_get("n")?;
        Ok((n > 0).then_some(bar))
    }
}
