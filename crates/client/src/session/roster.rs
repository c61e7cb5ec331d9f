//! The roster: who is in the meeting, as the router last announced it.
//!
//! The client never decides who is present; it mirrors `joined`,
//! `participant_joined` and `participant_left` in the order they arrive.

use std::collections::BTreeMap;

use confer_wire::control::RosterEntry;
use confer_wire::ids::ParticipantId;

/// The participants of a meeting, kept in participant-id order (join order,
/// since the router never reuses an id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    /// Entries by participant id.
    entries: BTreeMap<ParticipantId, RosterEntry>,
}

impl Roster {
    /// Replaces everything with the roster from a `joined` message.
    pub(crate) fn reset(&mut self, entries: Vec<RosterEntry>) {
        self.entries = entries.into_iter().map(|e| (e.participant_id, e)).collect();
    }

    /// Adds (or, if the router re-announces someone, updates) one entry.
    pub(crate) fn insert(&mut self, entry: RosterEntry) {
        self.entries.insert(entry.participant_id, entry);
    }

    /// Removes a participant, returning their entry if they were present.
    pub(crate) fn remove(&mut self, id: ParticipantId) -> Option<RosterEntry> {
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

    /// True when nobody is present (before joining, or after the end).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in participant-id order.
    pub fn iter(&self) -> impl Iterator<Item = &RosterEntry> {
        self.entries.values()
    }

    /// The entries in participant-id order, as a vector.
    pub fn to_vec(&self) -> Vec<RosterEntry> {
        self.entries.values().cloned().collect()
    }
}
