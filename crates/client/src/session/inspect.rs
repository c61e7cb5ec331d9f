//! Reading a [`Session`]: where it is, who is present, and what it counted.
//! Kept apart from the state machine so the decisions read on their own.

use std::time::Duration;

use confer_wire::control::ErrorCode;
use confer_wire::ids::{MeetingId, ParticipantId, Role};

use super::{ChatRecord, EndReason, MediaStats, Phase, Roster, RosterEvent, Session, SessionState};

impl Session {
    /// Where the session is in its life.
    pub fn state(&self) -> SessionState {
        match self.phase {
            Phase::Joining { .. } | Phase::Waiting => SessionState::Joining,
            Phase::Joined => SessionState::Joined,
            Phase::Leaving { .. } => SessionState::Leaving,
            Phase::Ended(_) => SessionState::Ended,
        }
    }

    /// True once the session is over.
    pub fn is_ended(&self) -> bool {
        matches!(self.phase, Phase::Ended(_))
    }

    /// How the session ended, once it has.
    pub fn end_reason(&self) -> Option<&EndReason> {
        match &self.phase {
            Phase::Ended(reason) => Some(reason),
            _ => None,
        }
    }

    /// Our participant id, once admitted.
    pub fn participant_id(&self) -> Option<ParticipantId> {
        self.admission.map(|a| a.participant_id)
    }

    /// The meeting, once admitted.
    pub fn meeting_id(&self) -> Option<MeetingId> {
        self.admission.map(|a| a.meeting_id)
    }

    /// Our role, once admitted.
    pub fn role(&self) -> Option<Role> {
        self.admission.map(|a| a.role)
    }

    /// The roster as last announced (kept after the session ends).
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// Roster changes after joining, in order.
    pub fn roster_events(&self) -> &[RosterEvent] {
        &self.roster_events
    }

    /// Chat from others (our own echoed messages excluded), in order.
    pub fn chat_received(&self) -> &[ChatRecord] {
        &self.chat_received
    }

    /// Every reaction the router relayed (ours included), in order.
    pub fn reactions(&self) -> &[super::ReactionRecord] {
        &self.reactions
    }

    /// Chat messages we sent.
    pub fn chat_sent(&self) -> u64 {
        self.chat_sent
    }

    /// Media counters.
    pub fn media(&self) -> &MediaStats {
        &self.media
    }

    /// The latest ping round-trip time.
    pub fn rtt(&self) -> Option<Duration> {
        self.rtt
    }

    /// Non-fatal errors the router reported, in order.
    pub fn router_errors(&self) -> &[(ErrorCode, String)] {
        &self.router_errors
    }

    /// Messages from the router that were dropped as unusable.
    pub fn protocol_violations(&self) -> u64 {
        self.protocol_violations
    }
}
