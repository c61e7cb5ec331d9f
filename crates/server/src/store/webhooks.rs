//! Webhook endpoints and the durable delivery queue.
//!
//! Deliveries are rows: an event is enqueued in the request that caused it
//! and stays until delivered or given up, so a restart loses nothing (a
//! delivery in flight when the process died is simply sent again, so
//! receivers see it at least once and can deduplicate by delivery id).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, unix_to_db};
use crate::ids::new_token_id;

/// A registered endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WebhookEndpoint {
    /// The endpoint id.
    pub(crate) id: String,
    /// Its organisation.
    pub(crate) org_id: String,
    /// Where events are POSTed (https).
    pub(crate) url: String,
    /// The HMAC key.
    pub(crate) secret: String,
    /// Event names it wants.
    pub(crate) events: Vec<String>,
    /// Whether it answered the URL validation challenge.
    pub(crate) validated: bool,
}

/// A delivery due to be attempted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Delivery {
    /// The delivery id (sent as `x-confer-delivery-id`).
    pub(crate) id: String,
    /// The event name.
    pub(crate) event: String,
    /// The JSON body.
    pub(crate) body: String,
    /// Attempts made so far.
    pub(crate) attempts: u32,
    /// The `next_attempt_ms` it was found with (to take the lease).
    pub(crate) due_ms: i64,
    /// The endpoint URL.
    pub(crate) url: String,
    /// The endpoint secret.
    pub(crate) secret: String,
}

fn endpoint_from_row(row: &AnyRow) -> Result<WebhookEndpoint, sqlx::Error> {
    let events: String = row.try_get("events")?;
    Ok(WebhookEndpoint {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        url: row.try_get("url")?,
        secret: row.try_get("secret")?,
        events: events.split_whitespace().map(str::to_owned).collect(),
        validated: row.try_get::<i64, _>("validated")? != 0,
    })
}

fn ms(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Store {
    /// Registers an endpoint.
    pub(crate) async fn create_webhook(
        &self,
        endpoint: &WebhookEndpoint,
        now: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, org_id, url, secret, events, validated, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&endpoint.id)
        .bind(&endpoint.org_id)
        .bind(&endpoint.url)
        .bind(&endpoint.secret)
        .bind(endpoint.events.join(" "))
        .bind(i64::from(endpoint.validated))
        .bind(unix_to_db(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// An organisation's endpoints.
    pub(crate) async fn webhooks_in_org(
        &self,
        org_id: &str,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, org_id, url, secret, events, validated FROM webhook_endpoints \
             WHERE org_id = $1 ORDER BY created_at, id",
        )
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(endpoint_from_row)
            .collect::<Result<_, _>>()?)
    }

    /// One endpoint of an organisation.
    pub(crate) async fn webhook_in_org(
        &self,
        org_id: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        Ok(self
            .webhooks_in_org(org_id)
            .await?
            .into_iter()
            .find(|e| e.id == id))
    }

    /// Marks an endpoint validated (or not).
    pub(crate) async fn set_webhook_validated(
        &self,
        id: &str,
        validated: bool,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE webhook_endpoints SET validated = $1 WHERE id = $2")
            .bind(i64::from(validated))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes an endpoint and its queue.
    pub(crate) async fn delete_webhook(&self, org_id: &str, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM webhook_deliveries WHERE endpoint_id IN \
             (SELECT id FROM webhook_endpoints WHERE id = $1 AND org_id = $2)",
        )
        .bind(id)
        .bind(org_id)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Queues `body` as event `event` for every validated endpoint of
    /// `org_id` that wants it; returns how many deliveries were queued.
    pub(crate) async fn enqueue_webhook_event(
        &self,
        org_id: &str,
        event: &str,
        body: &str,
        now_ms: u64,
    ) -> Result<usize, StoreError> {
        let endpoints = self.webhooks_in_org(org_id).await?;
        let mut queued = 0;
        for endpoint in endpoints
            .iter()
            .filter(|e| e.validated && e.events.iter().any(|x| x == event))
        {
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, endpoint_id, event, body, status, attempts, \
                 next_attempt_ms, created_ms) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6)",
            )
            .bind(new_token_id())
            .bind(&endpoint.id)
            .bind(event)
            .bind(body)
            .bind(ms(now_ms))
            .bind(ms(now_ms))
            .execute(&self.pool)
            .await?;
            queued += 1;
        }
        Ok(queued)
    }

    /// Up to `limit` pending deliveries due at `now_ms`, oldest first.
    pub(crate) async fn due_deliveries(
        &self,
        now_ms: u64,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let rows = sqlx::query(
            "SELECT d.id, d.event, d.body, d.attempts, d.next_attempt_ms, e.url, e.secret \
             FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             WHERE d.status = 'pending' AND d.next_attempt_ms <= $1 \
             ORDER BY d.next_attempt_ms, d.created_ms LIMIT $2",
        )
        .bind(ms(now_ms))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Delivery {
                    id: r.try_get("id")?,
                    event: r.try_get("event")?,
                    body: r.try_get("body")?,
                    attempts: u32::try_from(r.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
                    due_ms: r.try_get("next_attempt_ms")?,
                    url: r.try_get("url")?,
                    secret: r.try_get("secret")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Takes a delivery for one attempt by pushing its due time to
    /// `lease_until_ms`; false if another worker took it first.
    pub(crate) async fn lease_delivery(
        &self,
        delivery: &Delivery,
        lease_until_ms: u64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_ms = $1 \
             WHERE id = $2 AND next_attempt_ms = $3 AND status = 'pending'",
        )
        .bind(ms(lease_until_ms))
        .bind(&delivery.id)
        .bind(delivery.due_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a successful delivery.
    pub(crate) async fn delivery_succeeded(&self, id: &str, now_ms: u64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, \
             delivered_ms = $1, last_error = NULL WHERE id = $2",
        )
        .bind(ms(now_ms))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a failed attempt: retry at `retry_at_ms`, or give up if `None`.
    pub(crate) async fn delivery_failed(
        &self,
        id: &str,
        error: &str,
        retry_at_ms: Option<u64>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = $1, \
             status = $2, next_attempt_ms = $3 WHERE id = $4",
        )
        .bind(error)
        .bind(if retry_at_ms.is_some() {
            "pending"
        } else {
            "failed"
        })
        .bind(ms(retry_at_ms.unwrap_or(0)))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// An endpoint's deliveries, newest first, for its owner to inspect:
    /// (id, event, status, attempts, last error).
    pub(crate) async fn deliveries_for(
        &self,
        endpoint_id: &str,
        limit: u32,
    ) -> Result<Vec<(String, String, String, i64, Option<String>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, event, status, attempts, last_error FROM webhook_deliveries \
             WHERE endpoint_id = $1 ORDER BY created_ms DESC, id LIMIT $2",
        )
        .bind(endpoint_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("id")?,
                    r.try_get("event")?,
                    r.try_get("status")?,
                    r.try_get("attempts")?,
                    r.try_get("last_error")?,
                ))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}
