//! A token bucket: lets through a burst of up to `capacity` units, then one
//! unit per `interval`, so a peer can be bursty but not sustain more than
//! the rate. Sans-IO: every call carries `now`.
//!
//! Written here rather than taken from a crate because the router needs a
//! few bytes of state per (receiver, track) on a virtual clock; the
//! rate-limiting crates (governor and the like) read a real clock or keep
//! atomics and far more state than this fast path wants.

use std::time::{Duration, Instant};

/// One bucket. Integer arithmetic only, so the same inputs always give the
/// same answers.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    /// Most tokens held: the largest burst let through at once.
    capacity: u32,
    /// Time to earn one token back.
    interval: Duration,
    /// Tokens available as of `refilled_at`.
    tokens: u32,
    /// When `tokens` was last brought up to date. Moves in whole
    /// `interval`s while the bucket is not full, so a fraction of an
    /// interval is never lost between calls.
    refilled_at: Instant,
}

impl TokenBucket {
    /// A full bucket as of `now`. An `interval` of zero is treated as one
    /// nanosecond (no limit in practice) rather than dividing by zero.
    pub(crate) fn new(now: Instant, capacity: u32, interval: Duration) -> Self {
        TokenBucket {
            capacity,
            interval: interval.max(Duration::from_nanos(1)),
            tokens: capacity,
            refilled_at: now,
        }
    }

    /// Takes `cost` tokens if that many are available at `now`; otherwise
    /// takes none and returns `false`. A `now` earlier than a previous call
    /// earns nothing.
    pub(crate) fn try_take(&mut self, now: Instant, cost: u32) -> bool {
        self.refill(now);
        if self.tokens < cost {
            return false;
        }
        self.tokens -= cost;
        true
    }

    /// Adds the tokens earned since `refilled_at`.
    fn refill(&mut self, now: Instant) {
        if self.tokens >= self.capacity {
            self.refilled_at = self.refilled_at.max(now);
            return;
        }
        let elapsed = now.saturating_duration_since(self.refilled_at);
        let earned = elapsed.as_nanos() / self.interval.as_nanos();
        if earned == 0 {
            return;
        }
        let room = self.capacity - self.tokens;
        if earned >= u128::from(room) {
            self.tokens = self.capacity;
            self.refilled_at = now;
        } else {
            // `earned < room <= u32::MAX`, so the casts cannot truncate.
            self.tokens += earned as u32;
            self.refilled_at += self.interval * earned as u32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lets_a_burst_through_then_the_rate() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut b = TokenBucket::new(t0, 3, ms(10));
        let passed = (0..10).filter(|_| b.try_take(t0, 1)).count();
        assert_eq!(passed, 3);
        // 25 ms earn two tokens; the half interval left over is kept.
        assert!(b.try_take(t0 + ms(25), 2));
        assert!(!b.try_take(t0 + ms(25), 1));
        assert!(b.try_take(t0 + ms(30), 1));
        // A cost above what is held takes nothing.
        assert!(!b.try_take(t0 + ms(40), 2));
        assert!(b.try_take(t0 + ms(40), 1));
        // A long pause refills to capacity, never beyond.
        let later = t0 + Duration::from_secs(60);
        assert_eq!((0..10).filter(|_| b.try_take(later, 1)).count(), 3);
        // Time going backwards earns nothing and does not panic.
        assert!(!b.try_take(t0, 1));
    }
}
