//! The set of join-token session ids this router has admitted.
//!
//! A join token is a bearer ticket: whoever holds it could present it twice.
//! Each token carries a session id (`sid`) and the router admits each sid
//! once. A sid need only be remembered until its token expires; after that
//! the token is refused as expired anyway, so the set stays bounded by the
//! number of tokens that are live at once.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::time::{Duration, Instant};

use crate::join_token::CLOCK_SKEW_LEEWAY_SECS;

/// Session ids seen, each with the moment it may be forgotten.
#[derive(Debug, Default)]
pub(crate) struct SessionLedger {
    /// The sids currently remembered.
    used: HashSet<String>,
    /// The same sids ordered by when they may be forgotten.
    expiry: BinaryHeap<Reverse<(Instant, String)>>,
}

impl SessionLedger {
    /// Whether `sid` was admitted before (and not yet forgotten).
    pub(crate) fn contains(&self, sid: &str) -> bool {
        self.used.contains(sid)
    }

    /// Records `sid`, whose token expires at `exp_unix`, as used. `now` and
    /// `now_unix` are the same moment on the monotonic and wall clocks; the
    /// sid is kept until the token could no longer pass verification.
    pub(crate) fn insert(&mut self, sid: String, exp_unix: u64, now: Instant, now_unix: u64) {
        let remaining = exp_unix
            .saturating_add(CLOCK_SKEW_LEEWAY_SECS)
            .saturating_sub(now_unix);
        // One extra second so rounding of the wall clock never frees a sid
        // while its token still verifies.
        let keep = Duration::from_secs(remaining.saturating_add(1));
        let forget_at = now
            .checked_add(keep)
            .unwrap_or(now + Duration::from_secs(86_400));
        if self.used.insert(sid.clone()) {
            self.expiry.push(Reverse((forget_at, sid)));
        }
    }

    /// Forgets every sid whose time has come.
    pub(crate) fn prune(&mut self, now: Instant) {
        while let Some(Reverse((at, _))) = self.expiry.peek() {
            if *at > now {
                break;
            }
            if let Some(Reverse((_, sid))) = self.expiry.pop() {
                self.used.remove(&sid);
            }
        }
    }

    /// How many sids are remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.used.len()
    }
}
