//! A fixed-window rate limiter keyed by string: at most `limit` attempts per
//! key per `window`. Used for login attempts (per email) and meeting
//! passcode attempts (per meeting and caller).
//!
//! It lives in memory: a restart forgets it, which is acceptable because it
//! only slows guessing; lasting consequences (account lockout) are in the
//! database. Time comes in as `now`, so tests need no sleeping.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Above this many tracked keys, expired windows are swept before adding
/// another, so a flood of distinct keys cannot grow the map without bound
/// for longer than one window.
const SWEEP_ABOVE: usize = 10_000;

/// The limiter. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// At most `limit` attempts per key in any `window`.
    pub(crate) fn new(limit: u32, window: Duration) -> Self {
        RateLimiter {
            limit,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt for `key` at `now`. `Ok(())` if allowed, otherwise
    /// `Err(wait)`, how long until the window resets.
    pub(crate) fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        // A poisoned lock only means another request panicked mid-update;
        // the counts are still usable.
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > SWEEP_ABOVE {
            let window = self.window;
            windows.retain(|_, (start, _)| now.saturating_duration_since(*start) < window);
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.saturating_duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            return Err(self
                .window
                .saturating_sub(now.saturating_duration_since(entry.0)));
        }
        entry.1 += 1;
        Ok(())
    }
}

/// Counts only failures: [`FailureLimiter::check`] says whether a key may
/// try at all, [`FailureLimiter::failed`] counts a failed try. Used where
/// successes are normal and frequent (many guests entering one meeting with
/// the right passcode) and only guessing must be slowed.
#[derive(Debug)]
pub(crate) struct FailureLimiter(RateLimiter);

impl FailureLimiter {
    /// At most `limit` failures per key in any `window`.
    pub(crate) fn new(limit: u32, window: Duration) -> Self {
        FailureLimiter(RateLimiter::new(limit, window))
    }

    /// `Err(wait)` if `key` has used up its failures for this window.
    pub(crate) fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let windows = self
            .0
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match windows.get(key) {
            Some((start, count))
                if *count >= self.0.limit
                    && now.saturating_duration_since(*start) < self.0.window =>
            {
                Err(self
                    .0
                    .window
                    .saturating_sub(now.saturating_duration_since(*start)))
            }
            _ => Ok(()),
        }
    }

    /// Counts a failure for `key`.
    pub(crate) fn failed(&self, key: &str, now: Instant) {
        // The result only says whether the limit was already reached, which
        // `check` reports on the next try.
        let _ = self.0.check(key, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_limit_then_refuses_until_the_window_ends() {
        let limiter = RateLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check("a", t0).is_ok());
        }
        let wait = limiter
            .check("a", t0 + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(limiter.check("b", t0).is_ok(), "keys are independent");
        assert!(limiter.check("a", t0 + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn failure_limiter_counts_only_failures() {
        let limiter = FailureLimiter::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..10 {
            assert!(limiter.check("m", t0).is_ok());
        }
        limiter.failed("m", t0);
        assert!(limiter.check("m", t0).is_ok());
        limiter.failed("m", t0);
        assert!(limiter.check("m", t0).is_err());
        assert!(limiter.check("m", t0 + Duration::from_secs(61)).is_ok());
    }
}
