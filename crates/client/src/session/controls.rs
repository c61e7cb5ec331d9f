//! Host controls and meeting events on the client side: the session only
//! asks (a [`ClientMessage`] the router decides on) and mirrors what the
//! router announces (`participant_updated`, `event`, `waiting_room`,
//! `waiting`). Nothing here decides who may do what.

use std::time::{Duration, Instant};

use confer_wire::control::{ClientMessage, RosterEntry, ServerMessage};
use confer_wire::host::{
    HostAction, MeetingEvent, MeetingSettings, ShareState, WaitReason, WaitingEntry,
};
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

/// The meeting's rules as the router announced them: the settings in
/// `joined`, then every host action event that changes one, plus whether a
/// host let us record locally (our own grant, which a `set_recording` for
/// everyone or for us changes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Rules {
    /// The meeting-wide settings.
    settings: MeetingSettings,
    /// Whether a host allowed us to record.
    may_record: bool,
}

impl Rules {
    /// The rules a `joined` announced: we may record if everyone may.
    pub(super) fn joined(settings: MeetingSettings) -> Self {
        Self {
            may_record: settings.record_all,
            settings,
        }
    }

    /// Mirrors a host action that took effect; `me` is our participant id.
    fn apply(&mut self, action: &HostAction, me: Option<ParticipantId>) {
        self.settings.apply(action);
        if let HostAction::SetRecording {
            participant_id,
            allowed,
        } = action
            && (participant_id.is_none() || *participant_id == me)
        {
            self.may_record = *allowed;
        }
    }
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
                if let MeetingEvent::HostAction(action) = &event {
                    let me = self.participant_id();
                    self.rules.apply(action, me);
                }
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
    /// video, hand, share, recording, rename), or a reaction (unchecked,
    /// unlike [`Session::react`], so scripts see the router's refusal).
    /// The router decides; the answer is a
    /// `participant_updated`/`event`/`reaction`, or an error event.
    pub fn request(&mut self, msg: ClientMessage) -> Result<(), SessionError> {
        match msg {
            ClientMessage::Join { .. } => return Err(SessionError::NotARequest("join")),
            ClientMessage::Leave => return Err(SessionError::NotARequest("leave")),
            ClientMessage::Ping { .. } => return Err(SessionError::NotARequest("ping")),
            ClientMessage::Chat { .. } | ClientMessage::SealedChat { .. } => {
                return Err(SessionError::NotARequest("chat"));
            }
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

    /// The meeting's rules (lock, chat, screen share, self-unmute, video,
    /// rename, recording, waiting room) as the router last announced them:
    /// current from the moment we are admitted, even mid-meeting.
    pub fn settings(&self) -> &MeetingSettings {
        &self.rules.settings
    }

    /// Whether we may record locally: hosts and co-hosts always may,
    /// others once a host allowed them (or everyone).
    pub fn may_record(&self) -> bool {
        self.me().is_some_and(|e| e.role.is_host_like()) || self.rules.may_record
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

#[cfg(test)]
mod tests {
    use confer_wire::control::RosterEntry;
    use confer_wire::host::{ChatPolicy, Permission, SharePolicy};
    use confer_wire::ids::{MeetingId, Role};

    use super::*;
    use crate::session::SessionConfig;

    const MEETING: MeetingId = MeetingId(4_821_937_650);
    const ME: ParticipantId = ParticipantId(3);

    fn joined(now: Instant, settings: MeetingSettings) -> Session {
        let mut s = Session::new(SessionConfig::new(MEETING, "token"), now);
        s.handle_message(
            now,
            ServerMessage::Joined {
                version: confer_wire::PROTOCOL_VERSION,
                participant_id: ME,
                meeting_id: MEETING,
                role: Role::Participant,
                roster: vec![RosterEntry {
                    participant_id: ME,
                    name: "Late".into(),
                    ..RosterEntry::default()
                }],
                keepalive_interval_ms: 2000,
                silence_timeout_ms: 6000,
                settings,
            },
        );
        s
    }

    fn host_event(s: &mut Session, now: Instant, action: HostAction) {
        s.handle_message(
            now,
            ServerMessage::Event {
                by: Some(ParticipantId(1)),
                event: MeetingEvent::HostAction(action),
            },
        );
    }

    #[test]
    fn a_late_joiner_mirrors_the_settings_in_joined_then_every_change() {
        let now = Instant::now();
        let announced = MeetingSettings {
            locked: true,
            chat: ChatPolicy::Nobody,
            share: SharePolicy::HostOnly,
            unmute_self: false,
            record_all: true,
            ..MeetingSettings::default()
        };
        let mut s = joined(now, announced.clone());
        assert_eq!(s.settings(), &announced);
        assert!(s.may_record(), "everyone may record, so we may");

        host_event(&mut s, now, HostAction::Lock { locked: false });
        host_event(
            &mut s,
            now,
            HostAction::Allow {
                permission: Permission::UnmuteSelf,
                allowed: true,
            },
        );
        host_event(
            &mut s,
            now,
            HostAction::SetRecording {
                participant_id: Some(ME),
                allowed: false,
            },
        );
        assert!(!s.settings().locked && s.settings().unmute_self);
        assert_eq!(s.settings().chat, ChatPolicy::Nobody);
        assert!(!s.may_record(), "a host took our permission away");
        // Someone else's permission is not ours.
        host_event(
            &mut s,
            now,
            HostAction::SetRecording {
                participant_id: Some(ParticipantId(9)),
                allowed: true,
            },
        );
        assert!(!s.may_record());
    }

    #[test]
    fn a_joined_without_settings_reads_as_an_unrestricted_meeting() {
        let now = Instant::now();
        let mut s = Session::new(SessionConfig::new(MEETING, "token"), now);
        let old_router = br#"{"type":"joined","version":1,"participant_id":3,
            "meeting_id":4821937650,"role":"participant","roster":[],
            "keepalive_interval_ms":2000,"silence_timeout_ms":6000}"#;
        let Ok(msg) = ServerMessage::decode(old_router) else {
            panic!("an older router's joined must still decode");
        };
        s.handle_message(now, msg);
        assert_eq!(s.settings(), &MeetingSettings::default());
        assert!(!s.may_record());
    }
}
