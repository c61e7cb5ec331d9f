//! The audit trail's rows. What goes in and how it reads is `crate::audit`.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Row;

use super::{Store, StoreError};
use crate::ids::new_token_id;

/// An audit event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewAuditEvent {
    /// The organisation whose trail it joins.
    pub(crate) org_id: String,
    /// Milliseconds since the Unix epoch.
    pub(crate) at_ms: u64,
    /// Who did it (user id), if known.
    pub(crate) actor_id: Option<String>,
    /// Their name at the time.
    pub(crate) actor_name: String,
    /// Their company at the time, if any.
    pub(crate) actor_company: Option<String>,
    /// A dotted action name (`meeting.created`).
    pub(crate) action: String,
    /// What kind of thing it was done to (`meeting`, `user`…), if anything.
    pub(crate) target_kind: Option<String>,
    /// Its id.
    pub(crate) target_id: Option<String>,
    /// Its human name (a topic, an email) at the time.
    pub(crate) target_label: Option<String>,
    /// Further details as a JSON object (never a secret).
    pub(crate) detail: serde_json::Value,
}

/// A recorded audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuditEvent {
    /// The event id.
    pub(crate) id: String,
    /// What was recorded.
    pub(crate) event: NewAuditEvent,
}

/// The last `seq` this process handed out.
static LAST_SEQ: AtomicU64 = AtomicU64::new(0);

/// A sequence number for a new event: now in microseconds, or one more than
/// the last if the clock has not moved on (or went back), so events from one
/// process keep the order they happened in.
fn next_seq() -> u64 {
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let mut last = LAST_SEQ.load(Ordering::Relaxed);
    loop {
        let next = now_us.max(last.saturating_add(1));
        match LAST_SEQ.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(actual) => last = actual,
        }
    }
}

impl Store {
    /// Appends an event to an organisation's audit trail.
    pub(crate) async fn record_audit(&self, event: &NewAuditEvent) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_events (id, org_id, at_ms, actor_id, actor_name, actor_company, \
             action, target_kind, target_id, target_label, detail, seq) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(new_token_id())
        .bind(&event.org_id)
        .bind(i64::try_from(event.at_ms).unwrap_or(i64::MAX))
        .bind(&event.actor_id)
        .bind(&event.actor_name)
        .bind(&event.actor_company)
        .bind(&event.action)
        .bind(&event.target_kind)
        .bind(&event.target_id)
        .bind(&event.target_label)
        .bind(event.detail.to_string())
        .bind(i64::try_from(next_seq()).unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// An organisation's audit trail, oldest first, at most `limit` events
    /// from `since_ms` on.
    pub(crate) async fn audit_events(
        &self,
        org_id: &str,
        since_ms: u64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, org_id, at_ms, actor_id, actor_name, actor_company, action, target_kind, \
             target_id, target_label, detail FROM audit_events \
             WHERE org_id = $1 AND at_ms >= $2 ORDER BY seq, id LIMIT $3",
        )
        .bind(org_id)
        .bind(i64::try_from(since_ms).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let detail: String = r.try_get("detail")?;
                Ok(AuditEvent {
                    id: r.try_get("id")?,
                    event: NewAuditEvent {
                        org_id: r.try_get("org_id")?,
                        at_ms: u64::try_from(r.try_get::<i64, _>("at_ms")?).unwrap_or(0),
                        actor_id: r.try_get("actor_id")?,
                        actor_name: r.try_get("actor_name")?,
                        actor_company: r.try_get("actor_company")?,
                        action: r.try_get("action")?,
                        target_kind: r.try_get("target_kind")?,
                        target_id: r.try_get("target_id")?,
                        target_label: r.try_get("target_label")?,
                        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
                    },
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}
