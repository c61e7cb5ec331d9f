//! The delivery queue: [`enqueue`] writes an event for every subscribed
//! endpoint into the database; [`Worker`] sends due deliveries, retrying
//! failures with exponential backoff, and survives restarts because all
//! its state is in the database.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::signature::{DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use crate::store::{Delivery, Store, StoreError};

/// Attempts before a delivery is given up (about 4 hours of retries with
/// the default base).
pub(crate) const MAX_ATTEMPTS: u32 = 12;
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60 * 60);
/// How long a worker holds a delivery it is sending before another may take it.
const LEASE: Duration = Duration::from_secs(60);
/// How often the worker looks for due deliveries when not woken.
const POLL: Duration = Duration::from_secs(1);
/// Deliveries taken per pass.
const BATCH: u32 = 16;

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The wait after `attempts` failed attempts: `base · 2^(attempts-1)`,
/// capped at an hour.
pub(crate) fn backoff(base: Duration, attempts: u32) -> Duration {
    let factor = 1u32 << attempts.saturating_sub(1).min(20);
    base.saturating_mul(factor).min(MAX_BACKOFF)
}

/// Queues `payload` as `event` for `org_id`'s endpoints and wakes the worker.
pub(crate) async fn enqueue(
    store: &Store,
    wake: &Notify,
    org_id: &str,
    event: &str,
    payload: serde_json::Value,
) -> Result<(), StoreError> {
    let now = now_ms();
    let body = serde_json::json!({ "event": event, "event_ts": now, "payload": payload });
    if store
        .enqueue_webhook_event(org_id, event, &body.to_string(), now)
        .await?
        > 0
    {
        wake.notify_one();
    }
    Ok(())
}

/// The background sender. Dropping the handle's shutdown sender (or
/// sending `true`) stops it after the delivery in progress.
#[derive(Debug)]
pub(crate) struct Worker {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Worker {
    /// Starts the worker.
    pub(crate) fn start(
        store: Store,
        http: reqwest::Client,
        wake: Arc<Notify>,
        retry_base: Duration,
    ) -> Worker {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                if let Err(e) = pass(&store, &http, retry_base, &mut stopped).await {
                    tracing::warn!(error = %e, "webhook queue pass failed");
                }
                if *stopped.borrow() {
                    return;
                }
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(POLL) => {}
                    _ = stopped.changed() => return,
                }
            }
        });
        Worker { stop, task }
    }

    /// Stops the worker and waits for it.
    pub(crate) async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Sends every due delivery once.
async fn pass(
    store: &Store,
    http: &reqwest::Client,
    retry_base: Duration,
    stopped: &mut watch::Receiver<bool>,
) -> Result<(), StoreError> {
    loop {
        let due = store.due_deliveries(now_ms(), BATCH).await?;
        if due.is_empty() {
            return Ok(());
        }
        for delivery in due {
            if *stopped.borrow() {
                return Ok(());
            }
            let lease = now_ms().saturating_add(u64::try_from(LEASE.as_millis()).unwrap_or(0));
            if !store.lease_delivery(&delivery, lease).await? {
                continue;
            }
            let result = send(http, &delivery).await;
            match result {
                Ok(()) => store.delivery_succeeded(&delivery.id, now_ms()).await?,
                Err(error) => {
                    let attempts = delivery.attempts + 1;
                    let retry = (attempts < MAX_ATTEMPTS).then(|| {
                        now_ms().saturating_add(
                            u64::try_from(backoff(retry_base, attempts).as_millis())
                                .unwrap_or(u64::MAX),
                        )
                    });
                    tracing::info!(
                        delivery = %delivery.id,
                        event = %delivery.event,
                        attempts,
                        error = %error,
                        gave_up = retry.is_none(),
                        "webhook delivery failed"
                    );
                    store.delivery_failed(&delivery.id, &error, retry).await?;
                }
            }
        }
    }
}

/// One attempt: POST the body, signed with a fresh timestamp; any 2xx is success.
async fn send(http: &reqwest::Client, delivery: &Delivery) -> Result<(), String> {
    let timestamp = now_ms() / 1000;
    let response = http
        .post(&delivery.url)
        .header("content-type", "application/json")
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(
            SIGNATURE_HEADER,
            sign(&delivery.secret, timestamp, delivery.body.as_bytes()),
        )
        .header(DELIVERY_HEADER, &delivery.id)
        .body(delivery.body.clone())
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("answered {}", response.status().as_u16()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let base = Duration::from_secs(10);
        assert_eq!(backoff(base, 1), Duration::from_secs(10));
        assert_eq!(backoff(base, 2), Duration::from_secs(20));
        assert_eq!(backoff(base, 4), Duration::from_secs(80));
        assert_eq!(backoff(base, 30), MAX_BACKOFF);
    }
}
