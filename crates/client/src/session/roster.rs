//! The roster: who is in the meeting, as the router last announced it, and
//! everyone who was there at some point while we were.
//!
//! The client never decides who is present; it mirrors `joined`,
//! `participant_joined` and `participant_left` in the order they arrive.

use std::collections::BTreeMap;

use confer_wire::control::{LeaveReason, RosterEntry};
use confer_wire::ids::{ParticipantId, Role};

/// Someone who was in the meeting at some point during our session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenParticipant {
    /// Their roster entry as last announced.
    pub entry: RosterEntry,
    /// Why they left, if they did before our session ended.
    pub left: Option<LeaveReason>,
    /// The role they had when we first saw them (the one their join token
    /// gave them); `entry.role` is their latest, after any hand-over.
    pub first_role: Role,
}

/// The participants of a meeting, kept in participant-id order (join order,
/// since the router never reuses an id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    /// Present participants by id.
    entries: BTreeMap<ParticipantId, RosterEntry>,
    /// Everyone ever present while we were, by id. Kept because a meeting's
    /// end is a race: by the time we leave, others may already have left,
    /// and a report of who took part must not depend on who left first.
    seen: BTreeMap<ParticipantId, SeenParticipant>,
}

impl Roster {
    /// Replaces the present participants with the roster from a `joined`
    /// message.
    pub(crate) fn reset(&mut self, entries: Vec<RosterEntry>) {
        self.entries = entries.into_iter().map(|e| (e.participant_id, e)).collect();
        for e in self.entries.values() {
            remember(&mut self.seen, e.clone());
        }
    }

    /// Adds (or, if the router re-announces someone, updates) one entry.
    pub(crate) fn insert(&mut self, entry: RosterEntry) {
        remember(&mut self.seen, entry.clone());
        self.entries.insert(entry.participant_id, entry);
    }

    /// Removes a participant who left for `reason`, returning their entry
    /// if they were present.
    pub(crate) fn remove(&mut self, id: ParticipantId, reason: LeaveReason) -> Option<RosterEntry> {
        if let Some(seen) = self.seen.get_mut(&id) {
            seen.left = Some(reason);
        }
        self.entries.remove(&id)
    }

    /// The entry for `id`, if that participant is present.
    pub fn get(&self, id: ParticipantId) -> Option<&RosterEntry> {
        self.entries.get(&id)
    }

    /// Number of participants present, yourself included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nobody is present (before joining).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The present participants in participant-id order.
    pub fn iter(&self) -> impl Iterator<Item = &RosterEntry> {
        self.entries.values()
    }

    /// The present participants in participant-id order, as a vector.
    pub fn to_vec(&self) -> Vec<RosterEntry> {
        self.entries.values().cloned().collect()
    }

    /// Everyone who was present at some point while we were (ourselves
    /// included), in participant-id order, with why they left if they did.
    pub fn seen(&self) -> impl Iterator<Item = &SeenParticipant> {
        self.seen.values()
    }
}

/// Records the latest entry of someone present, keeping the role we first
/// saw them with.
fn remember(seen: &mut BTreeMap<ParticipantId, SeenParticipant>, entry: RosterEntry) {
    let first_role = seen
        .get(&entry.participant_id)
        .map_or(entry.role, |s| s.first_role);
    seen.insert(
        entry.participant_id,
        SeenParticipant {
            entry,
            left: None,
            first_role,
        },
    );
}

#[cfg(test)]
mod tests {
    use confer_wire::ids::Role;

    use super::*;

    fn entry(id: u32, name: &str) -> RosterEntry {
        RosterEntry {
            participant_id: ParticipantId(id),
            name: name.into(),
            role: Role::Participant,
            guest: true,
            ..RosterEntry::default()
        }
    }

    #[test]
    fn remembers_everyone_seen_and_why_they_left() {
        let mut r = Roster::default();
        r.reset(vec![entry(1, "Ada"), entry(2, "Bo")]);
        r.insert(entry(3, "Cy"));
        assert_eq!(
            r.remove(ParticipantId(1), LeaveReason::Left)
                .map(|e| e.name),
            Some("Ada".into())
        );
        assert_eq!(r.remove(ParticipantId(9), LeaveReason::Left), None);
        assert_eq!(r.len(), 2);
        let seen: Vec<_> = r
            .seen()
            .map(|s| (s.entry.participant_id.0, s.left))
            .collect();
        assert_eq!(
            seen,
            vec![(1, Some(LeaveReason::Left)), (2, None), (3, None)]
        );
    }
}
