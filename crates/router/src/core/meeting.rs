//! One meeting: its participants, the ids it hands out, its chat numbering
//! and the precomputed list media is forwarded to.
//!
//! A meeting exists while someone is in it; the router creates it on the
//! first join and drops it when the last participant goes. Ids are never
//! reused while it exists; a meeting that emptied starts afresh (ids from 1,
//! chat from 1) when someone joins it again, as nobody is left who could
//! confuse the old ids with the new. Remembering every meeting ever held
//! would grow without bound. Host controls
//! (mute, expel, lock, end, waiting room) will keep their state here too,
//! checked against each participant's [`Role`].

use std::collections::BTreeMap;
use std::sync::Arc;

use confer_wire::control::RosterEntry;
use confer_wire::ids::{MAX_PARTICIPANT_ID, ParticipantId, Role};

use super::output::{ConnectionId, Recipients};

/// Someone in a meeting.
#[derive(Debug)]
pub(crate) struct Participant {
    /// The connection they joined on.
    pub(crate) conn: ConnectionId,
    /// Their line of the roster: id, name, role and guest flag, all from
    /// the join token.
    pub(crate) entry: RosterEntry,
}

/// Why a meeting cannot take another participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Full {
    /// The meeting holds as many participants as allowed.
    Capacity,
    /// Every participant id has been handed out (ids are never reused).
    IdsExhausted,
}

/// The state of one meeting.
#[derive(Debug)]
pub(crate) struct Meeting {
    /// Participants by id; ordered so the roster comes out in join order.
    participants: BTreeMap<ParticipantId, Participant>,
    /// The id the next participant gets. Ids start at 1 and are never
    /// reused within a meeting, so a late packet or chat naming a departed
    /// participant can never reach a newcomer.
    next_participant: u32,
    /// The id of the next chat message (per meeting, increasing from 1).
    next_chat: u64,
    /// Every member's connection, rebuilt on each join and leave so that
    /// forwarding a packet is a reference-count increment, not a walk of
    /// the participant map.
    members: Arc<[ConnectionId]>,
}

impl Meeting {
    /// An empty meeting.
    pub(crate) fn new() -> Self {
        Self {
            participants: BTreeMap::new(),
            next_participant: 1,
            next_chat: 1,
            members: Arc::from(Vec::new()),
        }
    }

    /// Admits someone, returning their new participant id.
    pub(crate) fn add(
        &mut self,
        conn: ConnectionId,
        name: String,
        role: Role,
        guest: bool,
        capacity: usize,
    ) -> Result<ParticipantId, Full> {
        if self.participants.len() >= capacity {
            return Err(Full::Capacity);
        }
        if self.next_participant > MAX_PARTICIPANT_ID {
            return Err(Full::IdsExhausted);
        }
        let id = ParticipantId(self.next_participant);
        self.next_participant += 1;
        let entry = RosterEntry {
            participant_id: id,
            name,
            role,
            guest,
        };
        self.participants.insert(id, Participant { conn, entry });
        self.rebuild_members();
        Ok(id)
    }

    /// Removes a participant, returning them if they were here.
    pub(crate) fn remove(&mut self, id: ParticipantId) -> Option<Participant> {
        let gone = self.participants.remove(&id)?;
        self.rebuild_members();
        Some(gone)
    }

    /// Everyone's roster entry, in join order.
    pub(crate) fn roster(&self) -> Vec<RosterEntry> {
        self.participants
            .values()
            .map(|p| p.entry.clone())
            .collect()
    }

    /// A participant's roster entry.
    pub(crate) fn entry(&self, id: ParticipantId) -> Option<&RosterEntry> {
        self.participants.get(&id).map(|p| &p.entry)
    }

    /// The connection a participant is on.
    pub(crate) fn conn_of(&self, id: ParticipantId) -> Option<ConnectionId> {
        self.participants.get(&id).map(|p| p.conn)
    }

    /// Every member's connection, the sender included.
    pub(crate) fn members(&self) -> &[ConnectionId] {
        &self.members
    }

    /// Who a packet from `sender` goes to.
    pub(crate) fn recipients(&self, sender: ConnectionId) -> Recipients {
        Recipients::new(Arc::clone(&self.members), sender)
    }

    /// Takes the next chat message id.
    pub(crate) fn take_chat_id(&mut self) -> u64 {
        let id = self.next_chat;
        self.next_chat += 1;
        id
    }

    /// How many participants are in the meeting.
    pub(crate) fn len(&self) -> usize {
        self.participants.len()
    }

    /// Whether the meeting is empty (and should be dropped).
    pub(crate) fn is_empty(&self) -> bool {
        self.participants.is_empty()
    }

    fn rebuild_members(&mut self) {
        self.members = self.participants.values().map(|p| p.conn).collect();
    }
}
