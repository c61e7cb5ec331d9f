//! One meeting: its participants, the ids it hands out, its chat numbering
//! and the precomputed list media is forwarded to.
//!
//! A meeting exists while someone is in it; the router creates it on the
//! first join and drops it when the last participant goes. Ids are never
//! reused while it exists; a meeting that emptied starts afresh (ids from 1,
//! chat from 1) when someone joins it again, as nobody is left who could
//! confuse the old ids with the new. Remembering every meeting ever held
//! would grow without bound. The meeting also keeps what host controls set
//! ([`Settings`]), who waits to enter, and which users were expelled
//! (`bans.rs`); the
//! decisions about them are made in `router/host_controls.rs`,
//! `router/waiting_room.rs` and `permissions.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use confer_wire::control::RosterEntry;
use confer_wire::host::{ChatPolicy, MeetingSettings, SharePolicy, WaitReason, WaitingEntry};
use confer_wire::ids::{MAX_PARTICIPANT_ID, ParticipantId, Role};
use confer_wire::token::JoinPolicy;

use super::bans::Bans;
use super::output::{ConnectionId, Recipients};
use super::router::forwarding::MeetingMedia;

/// Someone in a meeting (or waiting to enter it).
#[derive(Debug)]
pub(crate) struct Participant {
    /// The connection they joined on.
    pub(crate) conn: ConnectionId,
    /// Their line of the roster: id, name, role and guest flag from the
    /// join token, plus the state host controls and they themselves set.
    pub(crate) entry: RosterEntry,
    /// The user (`sub`) from their join token: what an expulsion bars.
    pub(crate) sub: String,
    /// Whether a host allowed them to record locally.
    pub(crate) may_record: bool,
    /// When their last reaction was relayed, for the reaction rate limit
    /// (`router/reactions.rs`).
    pub(crate) last_reaction: Option<Instant>,
}

impl Participant {
    /// How events name them.
    pub(crate) fn event_participant(&self) -> super::event::EventParticipant {
        super::event::EventParticipant {
            participant_id: self.entry.participant_id,
            sub: self.sub.clone(),
            name: self.entry.name.clone(),
            org: self.entry.org.clone(),
            guest: self.entry.guest,
        }
    }
}

/// Someone held before entering.
#[derive(Debug)]
pub(crate) struct Waiter {
    /// Who they will be once admitted.
    pub(crate) participant: Participant,
    /// Why they wait.
    pub(crate) reason: WaitReason,
}

/// Why a meeting cannot take another participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Full {
    /// The meeting holds as many participants as allowed.
    Capacity,
    /// Every participant id has been handed out (ids are never reused).
    IdsExhausted,
}

/// What hosts have set for the meeting. Starts from the first admitted
/// join token's [`JoinPolicy`] (the web service writes the meeting's
/// settings into every token), then only host actions change it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    /// Nobody new may join (except with a `host` token).
    pub(crate) locked: bool,
    /// Participants wait until a host admits them.
    pub(crate) waiting_room: bool,
    /// Participants may enter while no host is present.
    pub(crate) join_before_host: bool,
    /// Who participants may chat with.
    pub(crate) chat: ChatPolicy,
    /// Who may share their screen.
    pub(crate) share: SharePolicy,
    /// Participants may unmute themselves.
    pub(crate) unmute_self: bool,
    /// Participants may start their own video.
    pub(crate) start_video: bool,
    /// Participants may rename themselves.
    pub(crate) rename_self: bool,
    /// Newcomers may record locally.
    pub(crate) record_all: bool,
}

impl Settings {
    /// The settings a meeting starts with.
    pub(crate) fn from_policy(policy: &JoinPolicy) -> Self {
        Self {
            locked: false,
            waiting_room: policy.waiting_room,
            join_before_host: policy.join_before_host,
            chat: ChatPolicy::Everyone,
            share: SharePolicy::Everyone,
            unmute_self: true,
            start_video: true,
            rename_self: true,
            record_all: false,
        }
    }
}

impl Settings {
    /// The settings as `joined` tells a newcomer.
    pub(crate) fn to_wire(&self) -> MeetingSettings {
        MeetingSettings {
            locked: self.locked,
            waiting_room: self.waiting_room,
            join_before_host: self.join_before_host,
            chat: self.chat,
            share: self.share,
            unmute_self: self.unmute_self,
            start_video: self.start_video,
            rename_self: self.rename_self,
            record_all: self.record_all,
        }
    }
}

/// The state of one meeting.
#[derive(Debug)]
pub(crate) struct Meeting {
    /// Participants by id; ordered so the roster comes out in join order
    /// (and the longest-present participant comes first).
    participants: BTreeMap<ParticipantId, Participant>,
    /// People held before entering, by the id they will get.
    pub(crate) waiting: BTreeMap<ParticipantId, Waiter>,
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
    /// What hosts have set.
    pub(crate) settings: Settings,
    /// Who gets which simulcast layer of whom, and keyframe-request timing
    /// (`router/forwarding.rs`).
    pub(crate) media: MeetingMedia,
    /// Who was expelled and is not allowed back, by the id hosts saw
    /// (kept by the router after the meeting empties; see `bans.rs`).
    pub(crate) bans: Bans,
    /// The organisation of the first `host` token admitted; others' `org`
    /// is compared with it to mark them external.
    pub(crate) host_org: Option<String>,
    /// Since when the meeting has had participants but no host or co-host.
    pub(crate) hostless_since: Option<Instant>,
    /// Whether the "ending soon" warning for the current hostless stretch went out.
    pub(crate) hostless_warned: bool,
    /// Whether anyone was admitted yet (the meeting has started, so its
    /// end is reported too).
    pub(crate) started: bool,
}

impl Meeting {
    /// An empty meeting with the joining rules of its first token.
    pub(crate) fn new(policy: &JoinPolicy) -> Self {
        Self {
            participants: BTreeMap::new(),
            waiting: BTreeMap::new(),
            next_participant: 1,
            next_chat: 1,
            members: Arc::from(Vec::new()),
            settings: Settings::from_policy(policy),
            media: MeetingMedia::default(),
            bans: Bans::default(),
            host_org: None,
            hostless_since: None,
            hostless_warned: false,
            started: false,
        }
    }

    /// The id the next participant would get.
    pub(crate) fn next_participant_id(&self) -> u32 {
        self.next_participant
    }

    /// Continues handing out ids from `next` (a meeting restarting while
    /// its bans still name earlier ids).
    pub(crate) fn resume_ids_from(&mut self, next: u32) {
        self.next_participant = self.next_participant.max(next);
    }

    /// Hands out the next participant id, if the meeting has room.
    pub(crate) fn allocate(&mut self, capacity: usize) -> Result<ParticipantId, Full> {
        if self.participants.len() + self.waiting.len() >= capacity {
            return Err(Full::Capacity);
        }
        if self.next_participant > MAX_PARTICIPANT_ID {
            return Err(Full::IdsExhausted);
        }
        let id = ParticipantId(self.next_participant);
        self.next_participant += 1;
        Ok(id)
    }

    /// Puts someone (with an id from [`Meeting::allocate`]) into the meeting.
    pub(crate) fn insert(&mut self, mut participant: Participant) {
        participant.entry.external = self.is_external(participant.entry.org.as_deref());
        self.participants
            .insert(participant.entry.participant_id, participant);
        self.rebuild_members();
    }

    /// Whether someone with organisation `org` is from outside the host's.
    pub(crate) fn is_external(&self, org: Option<&str>) -> bool {
        match &self.host_org {
            Some(host) => org != Some(host.as_str()),
            None => false,
        }
    }

    /// Removes a participant, returning them if they were here.
    pub(crate) fn remove(&mut self, id: ParticipantId) -> Option<Participant> {
        let gone = self.participants.remove(&id)?;
        self.media.forget(id);
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

    /// The waiting room as hosts see it.
    pub(crate) fn waiting_list(&self) -> Vec<WaitingEntry> {
        self.waiting
            .values()
            .map(|w| WaitingEntry {
                participant_id: w.participant.entry.participant_id,
                name: w.participant.entry.name.clone(),
                guest: w.participant.entry.guest,
                external: self.is_external(w.participant.entry.org.as_deref()),
                reason: w.reason,
            })
            .collect()
    }

    /// A participant's roster entry.
    pub(crate) fn entry(&self, id: ParticipantId) -> Option<&RosterEntry> {
        self.participants.get(&id).map(|p| &p.entry)
    }

    /// A participant, to read.
    pub(crate) fn get(&self, id: ParticipantId) -> Option<&Participant> {
        self.participants.get(&id)
    }

    /// A participant, to change.
    pub(crate) fn get_mut(&mut self, id: ParticipantId) -> Option<&mut Participant> {
        self.participants.get_mut(&id)
    }

    /// Every participant, in join order.
    pub(crate) fn participants(&self) -> impl Iterator<Item = &Participant> {
        self.participants.values()
    }

    /// Every participant's id, in join order.
    pub(crate) fn ids(&self) -> Vec<ParticipantId> {
        self.participants.keys().copied().collect()
    }

    /// The role of participant `id`, if present.
    pub(crate) fn role_of(&self, id: ParticipantId) -> Option<Role> {
        self.participants.get(&id).map(|p| p.entry.role)
    }

    /// Whether a host or co-host is present.
    pub(crate) fn has_host(&self) -> bool {
        self.participants
            .values()
            .any(|p| p.entry.role.is_host_like())
    }

    /// The participant holding the host role, if any.
    pub(crate) fn host(&self) -> Option<ParticipantId> {
        self.participants
            .values()
            .find(|p| p.entry.role == Role::Host)
            .map(|p| p.entry.participant_id)
    }

    /// The connections of hosts and co-hosts.
    pub(crate) fn host_conns(&self) -> Vec<ConnectionId> {
        self.participants
            .values()
            .filter(|p| p.entry.role.is_host_like())
            .map(|p| p.conn)
            .collect()
    }

    /// The connection a participant is on.
    pub(crate) fn conn_of(&self, id: ParticipantId) -> Option<ConnectionId> {
        self.participants.get(&id).map(|p| p.conn)
    }

    /// Every participant with the media forwarding state, borrowed apart
    /// so the forwarder can walk receivers while updating their selectors.
    pub(crate) fn media_parts(
        &mut self,
    ) -> (impl Iterator<Item = &Participant>, &mut MeetingMedia) {
        (self.participants.values(), &mut self.media)
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

    /// Whether anyone is in the meeting (waiting people do not count).
    pub(crate) fn has_participants(&self) -> bool {
        !self.participants.is_empty()
    }

    /// Whether nobody is in the meeting or waiting to enter (it should be dropped).
    pub(crate) fn is_empty(&self) -> bool {
        self.participants.is_empty() && self.waiting.is_empty()
    }

    fn rebuild_members(&mut self) {
        self.members = self.participants.values().map(|p| p.conn).collect();
    }
}
