//! When and how often to rejoin a meeting whose connection dropped, as pure
//! logic (the meeting task in `commands/meeting_session.rs` does the I/O).
//!
//! Only an unexpected end is retried: the connection or the router failed
//! after we had been admitted. Leaving, being expelled, the meeting ending
//! and the router refusing us are final. Retries wait 1, 2, 4, 8, 8… seconds
//! and stop once [`GIVE_UP_AFTER`] has passed since the drop.
//!
//! A rejoin starts a new media engine, which receives every camera at the
//! default simulcast layer, while the page asks for a layer only when the
//! one it wants changes. [`LayerMemory`] keeps what the page asked so the
//! meeting task can ask the new engine again.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use confer_client::session::EndReason;
use confer_wire::ids::ParticipantId;
use confer_wire::simulcast::LayerId;

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

/// Most participants whose layer is remembered (the media engine's own
/// limit on remote participants): the page names ids, and a bound keeps a
/// page gone wrong from growing the map without end.
const MAX_REMEMBERED: usize = 1024;

/// The simulcast layer the page last asked for, per participant, kept
/// across reconnects (sans-IO: the meeting task feeds it and sends what it
/// returns).
///
/// Driving contract: call [`LayerMemory::handle_asked`] for every
/// `set_video_layer` request (sent or not), [`LayerMemory::handle_left`]
/// when the router says a participant left, [`LayerMemory::replay`] with
/// the roster once admitted after a reconnect, and
/// [`LayerMemory::handle_joined`] when someone enters.
///
/// A participant absent from the roster we rejoin with is kept, not
/// forgotten: a router that restarted numbers participants from 1 again,
/// and the page, which asks only when a tile's layer changes, will not ask
/// again for an id it has asked about, so whoever enters with that id later
/// gets the layer the page believes it has.
#[derive(Debug, Default, Clone)]
pub(crate) struct LayerMemory {
    asked: BTreeMap<ParticipantId, LayerId>,
}

impl LayerMemory {
    /// The page asked to receive `participant`'s camera at `layer`.
    pub(crate) fn handle_asked(&mut self, participant: ParticipantId, layer: LayerId) {
        if self.asked.len() >= MAX_REMEMBERED && !self.asked.contains_key(&participant) {
            return;
        }
        self.asked.insert(participant, layer);
    }

    /// `participant` left the meeting: its id will not come back on this
    /// router, so its layer is no longer needed.
    pub(crate) fn handle_left(&mut self, participant: ParticipantId) {
        self.asked.remove(&participant);
    }

    /// `participant` entered: the layer to ask for at once, if the page
    /// asked for one under this id before (see the type's doc).
    pub(crate) fn handle_joined(&self, participant: ParticipantId) -> Option<LayerId> {
        self.asked.get(&participant).copied()
    }

    /// The layers to ask a new engine for, for those of `present` (the
    /// roster we were admitted with) the page asked about, in id order.
    pub(crate) fn replay(
        &self,
        present: impl IntoIterator<Item = ParticipantId>,
    ) -> Vec<(ParticipantId, LayerId)> {
        let mut replay: Vec<_> = present
            .into_iter()
            .filter_map(|p| self.asked.get(&p).map(|layer| (p, *layer)))
            .collect();
        replay.sort_unstable();
        replay.dedup();
        replay
    }
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

    fn p(id: u32) -> ParticipantId {
        ParticipantId(id)
    }

    #[test]
    fn layers_asked_are_replayed_for_those_present() {
        let mut m = LayerMemory::default();
        assert!(m.replay([p(2), p(3)]).is_empty(), "nothing asked yet");
        m.handle_asked(p(3), LayerId::Low);
        m.handle_asked(p(2), LayerId::High);
        m.handle_asked(p(5), LayerId::Low);
        // Only those in the new roster, in id order; us (1) was never asked.
        assert_eq!(
            m.replay([p(3), p(1), p(2), p(3)]),
            vec![(p(2), LayerId::High), (p(3), LayerId::Low)]
        );
    }

    #[test]
    fn a_later_request_overwrites_the_earlier_one() {
        let mut m = LayerMemory::default();
        m.handle_asked(p(2), LayerId::Low);
        m.handle_asked(p(2), LayerId::Medium);
        assert_eq!(m.replay([p(2)]), vec![(p(2), LayerId::Medium)]);
        assert_eq!(m.handle_joined(p(2)), Some(LayerId::Medium));
    }

    #[test]
    fn a_participant_who_left_is_forgotten() {
        let mut m = LayerMemory::default();
        m.handle_asked(p(2), LayerId::Low);
        m.handle_asked(p(3), LayerId::Low);
        m.handle_left(p(2));
        m.handle_left(p(9));
        assert_eq!(m.replay([p(2), p(3)]), vec![(p(3), LayerId::Low)]);
        assert_eq!(m.handle_joined(p(2)), None);
    }

    #[test]
    fn an_id_absent_at_rejoin_is_kept_for_whoever_enters_with_it() {
        // A restarted router numbers from 1 again: the page's tile for the
        // next participant with id 2 will not ask again.
        let mut m = LayerMemory::default();
        m.handle_asked(p(2), LayerId::Low);
        assert!(m.replay([p(1)]).is_empty());
        assert_eq!(m.handle_joined(p(2)), Some(LayerId::Low));
        assert_eq!(m.handle_joined(p(3)), None);
    }

    #[test]
    fn the_memory_is_bounded_but_known_ids_still_update() {
        let mut m = LayerMemory::default();
        for id in 0..u32::try_from(MAX_REMEMBERED).unwrap() {
            m.handle_asked(p(id), LayerId::Low);
        }
        m.handle_asked(p(u32::MAX), LayerId::High);
        assert_eq!(m.handle_joined(p(u32::MAX)), None);
        m.handle_asked(p(7), LayerId::High);
        assert_eq!(m.handle_joined(p(7)), Some(LayerId::High));
    }
}
