//! What happened in meetings, for the world outside the router: the
//! [`RouterEvent`]s the core produces beside its [`Output`](super::Output)s,
//! drained with [`Router::poll_event`](super::Router::poll_event).
//!
//! Outputs are what the driver must do on the wire; events are facts for
//! observers (the web service's audit trail and webhooks). They are kept in
//! their own queue so that a driver without an observer can ignore them and
//! a slow observer never delays a control message.

use confer_wire::control::LeaveReason;
use confer_wire::host::HostAction;
use confer_wire::ids::{MeetingId, ParticipantId, Role};

/// Events the core keeps when nobody drains them; older ones are dropped
/// (and counted in `RouterStats::events_dropped`) so a bare core, as in
/// benchmarks, never grows without bound.
pub(crate) const MAX_PENDING_EVENTS: usize = 4096;

/// Someone an event is about, as their join token named them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventParticipant {
    /// Their id in the meeting.
    pub participant_id: ParticipantId,
    /// The user (`sub`) from their join token: a user id or `guest:…`.
    pub sub: String,
    /// The name shown in the meeting when the event happened.
    pub name: String,
    /// The organisation from their token's policy (`policy.org`), if any.
    pub org: Option<String>,
    /// Whether they joined as a guest (no account).
    pub guest: bool,
}

/// Why a meeting ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MeetingEndReason {
    /// A host ended it for everyone.
    EndedByHost,
    /// It ran too long without a host or co-host.
    Hostless,
    /// The last participant left.
    Empty,
}

impl MeetingEndReason {
    /// The reason's name in webhook bodies and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            MeetingEndReason::EndedByHost => "ended_by_host",
            MeetingEndReason::Hostless => "hostless",
            MeetingEndReason::Empty => "empty",
        }
    }
}

/// One thing that happened in a meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RouterEvent {
    /// The first participant was admitted to a meeting with nobody in it.
    MeetingStarted {
        /// The meeting.
        meeting_id: MeetingId,
        /// Who was admitted first.
        first: EventParticipant,
    },
    /// A meeting's last participant went, or it was ended.
    MeetingEnded {
        /// The meeting.
        meeting_id: MeetingId,
        /// Why.
        reason: MeetingEndReason,
    },
    /// Someone entered a meeting (straight away or admitted from the
    /// waiting room).
    ParticipantJoined {
        /// The meeting.
        meeting_id: MeetingId,
        /// Who.
        participant: EventParticipant,
        /// Their role on entering.
        role: Role,
    },
    /// Someone who was in a meeting left it.
    ParticipantLeft {
        /// The meeting.
        meeting_id: MeetingId,
        /// Who.
        participant: EventParticipant,
        /// Their role when they left.
        role: Role,
        /// Why (`left`, `timed_out`, `expelled`, `ended`, …).
        reason: LeaveReason,
    },
    /// A host or co-host carried out a host action (refused ones are not
    /// reported).
    HostAction {
        /// The meeting.
        meeting_id: MeetingId,
        /// Who acted.
        actor: EventParticipant,
        /// Whom it was aimed at, when it named one participant (in the
        /// meeting or its waiting room).
        target: Option<EventParticipant>,
        /// The action as sent.
        action: HostAction,
    },
}

impl RouterEvent {
    /// The meeting the event belongs to.
    pub fn meeting_id(&self) -> MeetingId {
        match self {
            RouterEvent::MeetingStarted { meeting_id, .. }
            | RouterEvent::MeetingEnded { meeting_id, .. }
            | RouterEvent::ParticipantJoined { meeting_id, .. }
            | RouterEvent::ParticipantLeft { meeting_id, .. }
            | RouterEvent::HostAction { meeting_id, .. } => *meeting_id,
        }
    }
}
