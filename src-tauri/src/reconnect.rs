//! When and how often to rejoin a meeting whose connection dropped, as pure
//! logic (the meeting task in `commands/meeting_session.rs` does the I/O).
//!
//! Only an unexpected end is retried: the connection or the router failed
//! after we had been admitted. Leaving, being expelled, the meeting ending
//! and the router refusing us are final. Retries wait 1, 2, 4, 8, 8… seconds
//! and stop once [`GIVE_UP_AFTER`] has passed since the drop.

use std::time::{Duration, Instant};

use confer_client::session::EndReason;

/// How long to keep trying before the meeting is reported ended.
pub(crate) const GIVE_UP_AFTER: Duration = Duration::from_secs(60);

/// The longest wait between two attempts.
const MAX_DELAY: Duration = Duration::from_secs(8);

/// Whether a session that ended with `reason` should be rejoined.
/// `was_admitted`: it had been in the meeting (a first join that fails is
/// reported, not retried).
pub(crate) fn should_reconnect(reason: &EndReason, was_admitted: bool) -> bool {
    was_admitted && matches!(reason, EndReason::Error(_))
}

/// The retry schedule after one drop.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    dropped_at: Instant,
    attempts: u32,
}

impl Backoff {
    /// The connection dropped at `now`.
    pub(crate) fn new(now: Instant) -> Self {
        Backoff {
            dropped_at: now,
            attempts: 0,
        }
    }

    /// How long to wait before the next attempt, or `None` to give up
    /// (the wait would end past [`GIVE_UP_AFTER`]).
    pub(crate) fn next_delay(&mut self, now: Instant) -> Option<Duration> {
        let delay = Duration::from_secs(1u64 << self.attempts.min(3)).min(MAX_DELAY);
        let elapsed = now.saturating_duration_since(self.dropped_at);
        if elapsed + delay > GIVE_UP_AFTER {
            return None;
        }
        self.attempts += 1;
        Some(delay)
    }

    /// Attempts made so far.
    #[cfg(test)]
    fn attempts(&self) -> u32 {
        self.attempts
    }
}

/// The words for a meeting given up on after reconnecting failed.
pub(crate) fn gave_up_words(last_error: &str) -> String {
    format!(
        "The connection to the meeting was lost and could not be restored within {} seconds \
         (last error: {last_error}).",
        GIVE_UP_AFTER.as_secs()
    )
}

#[cfg(test)]
mod tests {
    use confer_wire::control::ErrorCode;

    use super::*;

    #[test]
    fn only_unexpected_drops_after_admission_are_retried() {
        let dropped = EndReason::Error("the connection was reset".into());
        assert!(should_reconnect(&dropped, true));
        assert!(!should_reconnect(&dropped, false), "first join failing");
        for reason in [EndReason::Left, EndReason::Expelled, EndReason::Ended] {
            assert!(!should_reconnect(&reason, true), "{reason:?}");
        }
        let refused = EndReason::Refused {
            code: ErrorCode::InvalidToken,
            message: "no".into(),
        };
        assert!(!should_reconnect(&refused, true));
    }

    #[test]
    fn waits_double_to_eight_seconds_and_stop_after_a_minute() {
        let t0 = Instant::now();
        let mut b = Backoff::new(t0);
        let mut now = t0;
        let mut waits = Vec::new();
        while let Some(d) = b.next_delay(now) {
            waits.push(d.as_secs());
            // Each attempt itself takes a moment.
            now += d + Duration::from_millis(500);
        }
        assert_eq!(&waits[..5], &[1, 2, 4, 8, 8]);
        assert!(waits.iter().all(|w| *w <= 8));
        assert_eq!(b.attempts() as usize, waits.len());
        let total: u64 = waits.iter().sum();
        assert!(total <= GIVE_UP_AFTER.as_secs());
        assert!(now.duration_since(t0) > GIVE_UP_AFTER - MAX_DELAY - Duration::from_secs(1));
        assert!(gave_up_words("timed out").contains("60 seconds"));
    }
}
