//! Host controls and meeting events on the client side: the session only
//! asks (a [`ClientMessage`] the router decides on) and mirrors what the
//! router announces (`participant_updated`, `event`, `waiting_room`,
//! `waiting`). Nothing here decides who may do what.

use std::time::{Duration, Instant};

use confer_wire::control::{ClientMessage, RosterEntry, ServerMessage};
use confer_wire::host::{MeetingEvent, ShareState, WaitReason, WaitingEntry};
use confer_wire::ids::ParticipantId;

use super::{Event, Output, Phase, Session, SessionError};

/// How often to ping while held in the waiting room (the router's
/// keep-alive interval is only announced on `joined`; this is the
/// protocol's 2 s).
pub(super) const WAITING_KEEPALIVE: Duration = Duration::from_secs(2);

/// How long we tolerate hearing nothing while waiting (the protocol's 6 s
/// silence timeout plus one keep-alive, as when joined).
pub(super) const WAITING_SILENCE: Duration = Duration::from_secs(8);

/// One meeting event as received, for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingEventRecord {
    /// Milliseconds since the session started.
    pub at_ms: u64,
    /// Who caused it, if someone did.
    pub by: Option<ParticipantId>,
    /// What happened.
    pub event: MeetingEvent,
}

impl Session {
    /// The router holds us before entering.
    pub(super) fn on_waiting(&mut self, now: Instant, reason: WaitReason) {
        self.phase = Phase::Waiting;
        self.waiting = Some(reason);
        self.next_ping = Some(now + WAITING_KEEPALIVE);
        self.outputs
            .push_back(Output::Event(Event::Waiting(reason)));
    }

    /// Time passes in the waiting room: keep pinging, give up on silence.
    pub(super) fn waiting_timeout(&mut self, now: Instant) {
        if now >= self.last_heard + WAITING_SILENCE {
            self.end(super::EndReason::Error(
                "heard nothing from the router while waiting to be admitted".into(),
            ));
            return;
        }
        if let Some(due) = self.next_ping
            && now >= due
        {
            let nonce = self.next_nonce;
            self.next_nonce += 1;
            self.outputs
                .push_back(Output::Control(ClientMessage::Ping { nonce }));
            self.next_ping = Some(now + WAITING_KEEPALIVE);
        }
    }

    /// `participant_updated`, `event` or `waiting_room` while joined.
    pub(super) fn on_meeting_message(&mut self, now: Instant, msg: ServerMessage) {
        match msg {
            ServerMessage::ParticipantUpdated { participant } => {
                if Some(participant.participant_id) == self.participant_id()
                    && let Some(admission) = self.admission.as_mut()
                {
                    admission.role = participant.role;
                }
                self.roster.insert(participant.clone());
                self.outputs
                    .push_back(Output::Event(Event::ParticipantUpdated(participant)));
            }
            ServerMessage::Event { by, event } => {
                self.meeting_events.push(MeetingEventRecord {
                    at_ms: self.ms_since_start(now),
                    by,
                    event: event.clone(),
                });
                self.outputs
                    .push_back(Output::Event(Event::Meeting { by, event }));
            }
            ServerMessage::WaitingRoom { waiting } => {
                self.waiting_room = waiting.clone();
                self.outputs
                    .push_back(Output::Event(Event::WaitingRoom(waiting)));
            }
            _ => {}
        }
    }

    /// Asks the router for a host action or a change to ourselves (mute,
    /// video, hand, share, recording, rename). The router decides; the
    /// answer is a `participant_updated`/`event`, or an error event.
    pub fn request(&mut self, msg: ClientMessage) -> Result<(), SessionError> {
        match msg {
            ClientMessage::Join { .. } => return Err(SessionError::NotARequest("join")),
            ClientMessage::Leave => return Err(SessionError::NotARequest("leave")),
            ClientMessage::Ping { .. } => return Err(SessionError::NotARequest("ping")),
            ClientMessage::Chat { .. } => return Err(SessionError::NotARequest("chat")),
            _ => {}
        }
        self.require_joined()?;
        self.outputs.push_back(Output::Control(msg));
        Ok(())
    }

    /// The front end saw a new window open on the screen. While we share a
    /// whole screen, the share pauses (the router tells the others) until
    /// the user resumes it with `set_share` `on`. Returns whether it paused.
    pub fn handle_new_window_detected(&mut self, whole_screen: bool) -> bool {
        let sharing = self
            .participant_id()
            .and_then(|id| self.roster.get(id))
            .map(|e| e.sharing);
        if !whole_screen || sharing != Some(ShareState::On) {
            return false;
        }
        self.request(ClientMessage::SetShare {
            state: ShareState::Paused,
        })
        .is_ok()
    }

    /// Our own roster entry as the router last announced it.
    pub fn me(&self) -> Option<&RosterEntry> {
        self.participant_id().and_then(|id| self.roster.get(id))
    }

    /// Why we are held before entering, while we are.
    pub fn waiting(&self) -> Option<WaitReason> {
        self.waiting
    }

    /// Who waits to enter, as last announced (hosts and co-hosts only).
    pub fn waiting_room(&self) -> &[WaitingEntry] {
        &self.waiting_room
    }

    /// Every meeting event received, in order.
    pub fn meeting_events(&self) -> &[MeetingEventRecord] {
        &self.meeting_events
    }
}
