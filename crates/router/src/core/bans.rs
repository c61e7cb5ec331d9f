//! Expulsions: who a meeting refuses because a host expelled them, and how
//! long the router keeps that after the meeting empties.
//!
//! A ban bars the user (`sub`) of the expelled participant's join token, so
//! a fresh token for the same account is refused too. A guest has a new
//! random `sub` in every token, so barring the `sub` alone would not stop a
//! guest from fetching another token: while any expelled guest is not
//! allowed back, the meeting admits no guest who is not already in it. The
//! web service applies the same rule when it issues tokens; the router's
//! copy covers tokens issued before the expulsion.
//!
//! A meeting's state is dropped when it empties, but its bans must not be:
//! [`RetainedBans`] keeps them (with the participant-id counter, so an id
//! named in `allow_rejoin` still means the expelled participant) for
//! [`BAN_RETENTION`] after the meeting empties. Every token that was issued
//! before the expulsion has expired by then (tokens live at most 2 h), and
//! the web service refuses new ones, so the router may forget.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use confer_wire::ids::{MeetingId, ParticipantId};
use confer_wire::token::MAX_JOIN_TOKEN_LIFETIME_SECS;

use crate::join_token::CLOCK_SKEW_LEEWAY_SECS;

/// How long the bans of a meeting that emptied are kept: a join token's
/// longest life plus the clock-skew leeway the verifier allows, plus one
/// second for rounding.
pub(crate) const BAN_RETENTION: Duration =
    Duration::from_secs(MAX_JOIN_TOKEN_LIFETIME_SECS + CLOCK_SKEW_LEEWAY_SECS + 1);

/// The most emptied meetings whose bans are kept at once; past it the ones
/// closest to expiry are forgotten first, so a flood of expulsions cannot
/// grow the router without bound.
pub(crate) const MAX_RETAINED_MEETINGS: usize = 65_536;

/// One expelled participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expelled {
    /// The user (`sub`) of their token.
    pub(crate) sub: String,
    /// The name they had when expelled.
    pub(crate) name: String,
    /// Whether they were a guest.
    pub(crate) guest: bool,
}

/// Why a joiner is barred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Barred {
    /// Their user was expelled.
    User,
    /// They are a guest and an expelled guest is not allowed back.
    Guest,
}

/// One meeting's bans, by the participant id each expelled person had.
#[derive(Debug, Default)]
pub(crate) struct Bans {
    /// Everyone expelled and not allowed back.
    by_id: HashMap<ParticipantId, Expelled>,
}

impl Bans {
    /// Records an expulsion.
    pub(crate) fn add(&mut self, id: ParticipantId, expelled: Expelled) {
        self.by_id.insert(id, expelled);
    }

    /// Lets the participant expelled as `id` back; returns who they were.
    pub(crate) fn lift(&mut self, id: ParticipantId) -> Option<Expelled> {
        self.by_id.remove(&id)
    }

    /// Who was expelled as `id`, if they are still barred.
    pub(crate) fn get(&self, id: ParticipantId) -> Option<&Expelled> {
        self.by_id.get(&id)
    }

    /// Whether a joiner with user `sub` (a guest or not) is barred.
    pub(crate) fn bars(&self, sub: &str, guest: bool) -> Option<Barred> {
        if self.by_id.values().any(|e| e.sub == sub) {
            Some(Barred::User)
        } else if guest && self.by_id.values().any(|e| e.guest) {
            Some(Barred::Guest)
        } else {
            None
        }
    }

    /// Whether nobody is barred.
    pub(crate) fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// What is kept of a meeting that emptied while someone was barred from it.
#[derive(Debug)]
pub(crate) struct Retained {
    /// Its bans.
    pub(crate) bans: Bans,
    /// The id its next participant gets (ids are not reused while bans
    /// name them).
    pub(crate) next_participant: u32,
    /// When it may be forgotten.
    forget_at: Instant,
}

/// The bans of meetings that emptied, each until [`BAN_RETENTION`] has passed.
#[derive(Debug, Default)]
pub(crate) struct RetainedBans {
    /// By meeting.
    by_meeting: HashMap<MeetingId, Retained>,
    /// The same meetings ordered by when they may be forgotten. An entry
    /// whose meeting was taken back (it restarted) is stale and skipped.
    expiry: BinaryHeap<Reverse<(Instant, MeetingId)>>,
}

impl RetainedBans {
    /// Keeps `bans` of `meeting`, which emptied at `now` (nothing is kept
    /// when nobody is barred).
    pub(crate) fn keep(
        &mut self,
        meeting: MeetingId,
        bans: Bans,
        next_participant: u32,
        now: Instant,
    ) {
        if bans.is_empty() {
            return;
        }
        let forget_at = now + BAN_RETENTION;
        self.by_meeting.insert(
            meeting,
            Retained {
                bans,
                next_participant,
                forget_at,
            },
        );
        self.expiry.push(Reverse((forget_at, meeting)));
        while self.by_meeting.len() > MAX_RETAINED_MEETINGS {
            let Some(Reverse((_, oldest))) = self.expiry.pop() else {
                break;
            };
            self.by_meeting.remove(&oldest);
        }
    }

    /// Takes back what was kept of `meeting`, which is starting again.
    pub(crate) fn take(&mut self, meeting: MeetingId) -> Option<Retained> {
        self.by_meeting.remove(&meeting)
    }

    /// Whether a joiner is barred from `meeting`, which emptied earlier.
    /// Checked before the meeting is started again, so a refused join does
    /// not restart the retention.
    pub(crate) fn bars(&self, meeting: MeetingId, sub: &str, guest: bool) -> Option<Barred> {
        self.by_meeting.get(&meeting)?.bans.bars(sub, guest)
    }

    /// Forgets every meeting whose time has come.
    pub(crate) fn prune(&mut self, now: Instant) {
        while let Some(&Reverse((at, meeting))) = self.expiry.peek() {
            if at > now {
                break;
            }
            self.expiry.pop();
            if self
                .by_meeting
                .get(&meeting)
                .is_some_and(|r| r.forget_at <= now)
            {
                self.by_meeting.remove(&meeting);
            }
        }
    }

    /// How many meetings' bans are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_meeting.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expelled(sub: &str, guest: bool) -> Expelled {
        Expelled {
            sub: sub.into(),
            name: "Mallory".into(),
            guest,
        }
    }

    #[test]
    fn a_ban_bars_the_user_and_a_guest_ban_bars_every_new_guest() {
        let mut bans = Bans::default();
        bans.add(ParticipantId(2), expelled("user-1", false));
        assert_eq!(bans.bars("user-1", false), Some(Barred::User));
        assert_eq!(bans.bars("user-2", false), None);
        assert_eq!(bans.bars("guest:a", true), None);
        bans.add(ParticipantId(3), expelled("guest:x", true));
        assert_eq!(bans.bars("guest:y", true), Some(Barred::Guest));
        assert_eq!(bans.bars("user-2", false), None);
        assert_eq!(bans.lift(ParticipantId(3)).map(|e| e.guest), Some(true));
        assert_eq!(bans.bars("guest:y", true), None);
        assert_eq!(bans.lift(ParticipantId(3)), None);
    }

    #[test]
    fn emptied_meetings_keep_their_bans_for_the_token_lifetime_only() {
        let t0 = Instant::now();
        let mut kept = RetainedBans::default();
        kept.keep(MeetingId(1), Bans::default(), 5, t0);
        assert_eq!(kept.len(), 0, "nothing to keep without a ban");
        let mut bans = Bans::default();
        bans.add(ParticipantId(2), expelled("user-1", false));
        kept.keep(MeetingId(1), bans, 5, t0);
        kept.prune(t0 + BAN_RETENTION - Duration::from_secs(1));
        assert_eq!(kept.len(), 1);
        kept.prune(t0 + BAN_RETENTION);
        assert_eq!(kept.len(), 0);
        assert!(kept.take(MeetingId(1)).is_none());
    }
}
