//! The timer task: calls the core's `handle_timeout` when its next deadline
//! comes (join timeouts, silence timeouts).

use std::sync::Arc;

use super::shared::Shared;

/// Runs until aborted.
pub(super) async fn run(shared: Arc<Shared>) {
    let mut next = shared.timeout();
    loop {
        match next {
            Some(deadline) => {
                tokio::select! {
                    () = tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)) => {}
                    () = shared.timer_wake.notified() => {}
                }
            }
            None => shared.timer_wake.notified().await,
        }
        next = shared.timeout();
    }
}
