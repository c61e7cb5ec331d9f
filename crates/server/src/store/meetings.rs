//! Meetings, their settings, and the join/leave events reports are built from.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, unix_from_db, unix_to_db};
use crate::ids::{new_meeting_id, new_token_id};

/// How often creating a meeting retries after drawing an id already in use.
/// With 9·10⁹ ids a second collision in a row means something else is wrong.
const MEETING_ID_ATTEMPTS: usize = 8;

/// How a meeting repeats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Recurrence {
    /// `daily`, `weekly` or `monthly`.
    pub(crate) frequency: Frequency,
    /// Every how many days/weeks/months (1 = every one).
    #[serde(default = "one")]
    pub(crate) interval: u32,
    /// How many occurrences in all, if limited by count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) count: Option<u32>,
    /// The last possible start (Unix seconds), if limited by date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) until: Option<u64>,
}

fn one() -> u32 {
    1
}

/// The unit a meeting recurs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Frequency {
    /// Every `interval` days.
    Daily,
    /// Every `interval` weeks.
    Weekly,
    /// Every `interval` months.
    Monthly,
}

/// Everything about a meeting its host can set besides topic and passcode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MeetingSettings {
    /// Scheduled start, Unix seconds; `None` for an instant meeting.
    pub(crate) start_time: Option<u64>,
    /// Planned length in minutes.
    pub(crate) duration_minutes: Option<u32>,
    /// How it repeats; `None` for a one-time meeting.
    pub(crate) recurrence: Option<Recurrence>,
    /// Participants wait until a host admits them.
    pub(crate) waiting_room: bool,
    /// Participants may enter before the host.
    pub(crate) join_before_host: bool,
    /// End-to-end encrypted.
    pub(crate) e2e: bool,
    /// Only signed-in users may join (no guests).
    pub(crate) signed_in_only: bool,
    /// If not empty, only signed-in users with an email at one of these
    /// domains may join.
    pub(crate) allowed_domains: Vec<String>,
}

impl Default for MeetingSettings {
    fn default() -> Self {
        MeetingSettings {
            start_time: None,
            duration_minutes: None,
            recurrence: None,
            waiting_room: false,
            join_before_host: true,
            e2e: false,
            signed_in_only: false,
            allowed_domains: Vec::new(),
        }
    }
}

/// A scheduled meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Meeting {
    /// The public 10-digit id.
    pub(crate) id: u64,
    /// The host's organisation.
    pub(crate) org_id: String,
    /// Optional topic.
    pub(crate) topic: Option<String>,
    /// Argon2id PHC string of the passcode, if there is one.
    pub(crate) passcode_hash: Option<String>,
    /// The owner's user id.
    pub(crate) host_user_id: String,
    /// Schedule and joining rules.
    pub(crate) settings: MeetingSettings,
    /// The code in the invitation link.
    pub(crate) invite_code: String,
}

/// One row of a meeting's attendance record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MeetingEvent {
    /// The join token's session id.
    pub(crate) session_id: String,
    /// The joiner's subject (user id or `guest:…`).
    pub(crate) subject: String,
    /// The name shown in the meeting.
    pub(crate) name: String,
    /// `joined` or `left`.
    pub(crate) kind: String,
    /// Unix seconds.
    pub(crate) at: u64,
}

const MEETING_COLUMNS: &str = "id, org_id, topic, passcode_hash, host_user_id, start_time, \
     duration_minutes, recurrence, waiting_room, join_before_host, e2e, signed_in_only, \
     allowed_domains, invite_code";

fn meeting_from_row(row: &AnyRow) -> Result<Option<Meeting>, sqlx::Error> {
    let Ok(id) = u64::try_from(row.try_get::<i64, _>("id")?) else {
        return Ok(None);
    };
    let recurrence: Option<String> = row.try_get("recurrence")?;
    let allowed: String = row.try_get("allowed_domains")?;
    Ok(Some(Meeting {
        id,
        org_id: row
            .try_get::<Option<String>, _>("org_id")?
            .unwrap_or_default(),
        topic: row.try_get("topic")?,
        passcode_hash: row.try_get("passcode_hash")?,
        host_user_id: row.try_get("host_user_id")?,
        settings: MeetingSettings {
            start_time: row
                .try_get::<Option<i64>, _>("start_time")?
                .map(unix_from_db),
            duration_minutes: row
                .try_get::<Option<i64>, _>("duration_minutes")?
                .and_then(|m| u32::try_from(m).ok()),
            // Written by us from a validated value; an unreadable one (never
            // expected) reads as one-time rather than failing the request.
            recurrence: recurrence.and_then(|r| serde_json::from_str(&r).ok()),
            waiting_room: row.try_get::<i64, _>("waiting_room")? != 0,
            join_before_host: row.try_get::<i64, _>("join_before_host")? != 0,
            e2e: row.try_get::<i64, _>("e2e")? != 0,
            signed_in_only: row.try_get::<i64, _>("signed_in_only")? != 0,
            allowed_domains: allowed.split_whitespace().map(str::to_owned).collect(),
        },
        invite_code: row
            .try_get::<Option<String>, _>("invite_code")?
            .unwrap_or_default(),
    }))
}

fn recurrence_to_db(r: Option<&Recurrence>) -> Option<String> {
    r.and_then(|r| serde_json::to_string(r).ok())
}

impl Store {
    /// Creates a meeting under a fresh random id and invitation code.
    pub(crate) async fn create_meeting(
        &self,
        org_id: &str,
        topic: Option<String>,
        passcode_hash: Option<String>,
        host_user_id: &str,
        settings: MeetingSettings,
        now: u64,
    ) -> Result<Meeting, StoreError> {
        let invite_code = new_token_id();
        for _ in 0..MEETING_ID_ATTEMPTS {
            let id = new_meeting_id();
            let result = sqlx::query(
                "INSERT INTO meetings (id, org_id, topic, passcode_hash, host_user_id, \
                 start_time, duration_minutes, recurrence, waiting_room, join_before_host, e2e, \
                 signed_in_only, allowed_domains, invite_code, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            )
            .bind(i64::try_from(id).unwrap_or(i64::MAX))
            .bind(org_id)
            .bind(&topic)
            .bind(&passcode_hash)
            .bind(host_user_id)
            .bind(settings.start_time.map(unix_to_db))
            .bind(settings.duration_minutes.map(i64::from))
            .bind(recurrence_to_db(settings.recurrence.as_ref()))
            .bind(i64::from(settings.waiting_room))
            .bind(i64::from(settings.join_before_host))
            .bind(i64::from(settings.e2e))
            .bind(i64::from(settings.signed_in_only))
            .bind(settings.allowed_domains.join(" "))
            .bind(&invite_code)
            .bind(unix_to_db(now))
            .bind(unix_to_db(now))
            .execute(&self.pool)
            .await;
            match result {
                Ok(_) => {
                    return Ok(Meeting {
                        id,
                        org_id: org_id.to_owned(),
                        topic,
                        passcode_hash,
                        host_user_id: host_user_id.to_owned(),
                        settings,
                        invite_code,
                    });
                }
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::MeetingIdsExhausted)
    }

    /// The meeting with this id, whatever its organisation: only for
    /// joining, where people from outside may take part.
    pub(crate) async fn meeting(&self, id: u64) -> Result<Option<Meeting>, StoreError> {
        let Ok(db_id) = i64::try_from(id) else {
            return Ok(None);
        };
        let row = sqlx::query(&format!(
            "SELECT {MEETING_COLUMNS} FROM meetings WHERE id = $1"
        ))
        .bind(db_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(meeting_from_row).transpose()?.flatten())
    }

    /// The meeting with this id if it belongs to `org_id`.
    pub(crate) async fn meeting_in_org(
        &self,
        org_id: &str,
        id: u64,
    ) -> Result<Option<Meeting>, StoreError> {
        Ok(self.meeting(id).await?.filter(|m| m.org_id == org_id))
    }

    /// The meeting an invitation code names, if any.
    pub(crate) async fn meeting_by_invite(
        &self,
        code: &str,
    ) -> Result<Option<Meeting>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {MEETING_COLUMNS} FROM meetings WHERE invite_code = $1"
        ))
        .bind(code)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(meeting_from_row).transpose()?.flatten())
    }

    /// The meetings of an organisation, optionally only one host's.
    pub(crate) async fn meetings_in_org(
        &self,
        org_id: &str,
        host: Option<&str>,
    ) -> Result<Vec<Meeting>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {MEETING_COLUMNS} FROM meetings WHERE org_id = $1 \
             AND ($2 = '' OR host_user_id = $3) ORDER BY created_at, id"
        ))
        .bind(org_id)
        .bind(host.unwrap_or(""))
        .bind(host.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        let mut meetings = Vec::with_capacity(rows.len());
        for row in &rows {
            if let Some(m) = meeting_from_row(row)? {
                meetings.push(m);
            }
        }
        Ok(meetings)
    }

    /// Overwrites a meeting's topic, passcode and settings (in its
    /// organisation); false if there is no such meeting there.
    pub(crate) async fn update_meeting(
        &self,
        meeting: &Meeting,
        now: u64,
    ) -> Result<bool, StoreError> {
        let s = &meeting.settings;
        let done = sqlx::query(
            "UPDATE meetings SET topic = $1, passcode_hash = $2, start_time = $3, \
             duration_minutes = $4, recurrence = $5, waiting_room = $6, join_before_host = $7, \
             e2e = $8, signed_in_only = $9, allowed_domains = $10, updated_at = $11 \
             WHERE id = $12 AND org_id = $13",
        )
        .bind(&meeting.topic)
        .bind(&meeting.passcode_hash)
        .bind(s.start_time.map(unix_to_db))
        .bind(s.duration_minutes.map(i64::from))
        .bind(recurrence_to_db(s.recurrence.as_ref()))
        .bind(i64::from(s.waiting_room))
        .bind(i64::from(s.join_before_host))
        .bind(i64::from(s.e2e))
        .bind(i64::from(s.signed_in_only))
        .bind(s.allowed_domains.join(" "))
        .bind(unix_to_db(now))
        .bind(i64::try_from(meeting.id).unwrap_or(i64::MAX))
        .bind(&meeting.org_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a meeting in an organisation; false if there was none.
    pub(crate) async fn delete_meeting(&self, org_id: &str, id: u64) -> Result<bool, StoreError> {
        let Ok(db_id) = i64::try_from(id) else {
            return Ok(false);
        };
        let done = sqlx::query("DELETE FROM meetings WHERE id = $1 AND org_id = $2")
            .bind(db_id)
            .bind(org_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that someone joined or left a meeting.
    pub(crate) async fn record_meeting_event(
        &self,
        meeting: &Meeting,
        event: &MeetingEvent,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO meeting_events (id, meeting_id, org_id, session_id, subject, name, kind, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(new_token_id())
        .bind(i64::try_from(meeting.id).unwrap_or(i64::MAX))
        .bind(&meeting.org_id)
        .bind(&event.session_id)
        .bind(&event.subject)
        .bind(&event.name)
        .bind(&event.kind)
        .bind(unix_to_db(event.at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A meeting's attendance events, oldest first.
    pub(crate) async fn meeting_events(&self, id: u64) -> Result<Vec<MeetingEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT session_id, subject, name, kind, at FROM meeting_events \
             WHERE meeting_id = $1 ORDER BY at, kind DESC",
        )
        .bind(i64::try_from(id).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MeetingEvent {
                    session_id: r.try_get("session_id")?,
                    subject: r.try_get("subject")?,
                    name: r.try_get("name")?,
                    kind: r.try_get("kind")?,
                    at: unix_from_db(r.try_get("at")?),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}
