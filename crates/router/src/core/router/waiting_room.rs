//! The waiting room, the host role's succession and the hostless-meeting rule.
//!
//! - A participant (not a host or co-host) is held when the meeting has a
//!   waiting room (until a host admits or denies them), or when no host is
//!   present and the meeting does not allow joining before the host (until
//!   one arrives). Hosts and co-hosts see who waits in `waiting_room`.
//! - When the host leaves, the role passes to the longest-present co-host;
//!   failing that, if the meeting allows joining before the host, to the
//!   longest-present signed-in participant; failing that, nobody holds it:
//!   new participants wait for a host and the hostless rule applies.
//! - A meeting with participants but no host or co-host is warned
//!   `hostless_warning` before `hostless_limit` (25 of 30 min) and then
//!   ended for everyone.

use std::cmp::Reverse;
use std::time::Instant;

use confer_wire::control::{LeaveReason, ServerMessage};
use confer_wire::host::{MeetingEvent, WaitReason};
use confer_wire::ids::{MeetingId, ParticipantId, Role};

use super::{ConnState, Router};
use crate::core::event::{MeetingEndReason, RouterEvent};
use crate::core::meeting::{Participant, Waiter};
use crate::core::output::{CloseReason, Output};

impl Router {
    /// Holds a joiner outside the meeting and tells them and the hosts.
    pub(super) fn hold(&mut self, meeting_id: MeetingId, joiner: Participant, reason: WaitReason) {
        let conn = joiner.conn;
        let participant = joiner.entry.participant_id;
        let Some(meeting) = self.meetings.get_mut(&meeting_id) else {
            return;
        };
        meeting.waiting.insert(
            participant,
            Waiter {
                participant: joiner,
                reason,
            },
        );
        if let Some(c) = self.conns.get_mut(&conn) {
            c.state = ConnState::Waiting {
                meeting: meeting_id,
                participant,
            };
        }
        self.outputs.push_back(Output::Control {
            to: conn,
            message: ServerMessage::Waiting {
                meeting_id,
                participant_id: participant,
                reason,
            },
        });
        self.announce_waiting_room(meeting_id);
    }

    /// Sends the waiting room to every host and co-host present.
    pub(super) fn announce_waiting_room(&mut self, meeting_id: MeetingId) {
        let Some(meeting) = self.meetings.get(&meeting_id) else {
            return;
        };
        let waiting = meeting.waiting_list();
        for conn in meeting.host_conns() {
            self.outputs.push_back(Output::Control {
                to: conn,
                message: ServerMessage::WaitingRoom {
                    waiting: waiting.clone(),
                },
            });
        }
    }

    /// Lets one waiting person in; false if nobody waits under that id.
    pub(super) fn admit_waiting(&mut self, meeting_id: MeetingId, id: ParticipantId) -> bool {
        let Some(waiter) = self
            .meetings
            .get_mut(&meeting_id)
            .and_then(|m| m.waiting.remove(&id))
        else {
            return false;
        };
        self.enter(meeting_id, waiter.participant);
        true
    }

    /// Turns one waiting person away; false if nobody waits under that id.
    pub(super) fn deny_waiting(&mut self, meeting_id: MeetingId, id: ParticipantId) -> bool {
        let Some(waiter) = self
            .meetings
            .get_mut(&meeting_id)
            .and_then(|m| m.waiting.remove(&id))
        else {
            return false;
        };
        let conn = waiter.participant.conn;
        self.conns.remove(&conn);
        self.outputs.push_back(Output::Control {
            to: conn,
            message: ServerMessage::Removed {
                reason: LeaveReason::Denied,
            },
        });
        self.outputs.push_back(Output::Close {
            conn,
            reason: CloseReason::Denied,
        });
        true
    }

    /// A host is present now: those waiting only for a host come in (or,
    /// with a waiting room, wait for the host's decision instead).
    pub(super) fn release_host_absent(&mut self, meeting_id: MeetingId) {
        let Some(meeting) = self.meetings.get_mut(&meeting_id) else {
            return;
        };
        let waiting_room = meeting.settings.waiting_room;
        let mut admit = Vec::new();
        for (id, waiter) in &mut meeting.waiting {
            if waiter.reason == WaitReason::HostAbsent {
                if waiting_room {
                    waiter.reason = WaitReason::WaitingRoom;
                } else {
                    admit.push(*id);
                }
            }
        }
        for id in admit {
            self.admit_waiting(meeting_id, id);
        }
    }

    /// The host (`previous`) left: passes the role on (see the module docs).
    pub(super) fn pass_host_role(&mut self, meeting_id: MeetingId, previous: ParticipantId) {
        let Some(meeting) = self.meetings.get_mut(&meeting_id) else {
            return;
        };
        let co_host = meeting
            .participants()
            .find(|p| p.entry.role == Role::CoHost)
            .map(|p| p.entry.participant_id);
        let signed_in = || {
            meeting
                .participants()
                .find(|p| !p.entry.guest)
                .map(|p| p.entry.participant_id)
        };
        let next = co_host.or_else(|| {
            if meeting.settings.join_before_host {
                signed_in()
            } else {
                None
            }
        });
        if let Some(id) = next
            && let Some(p) = meeting.get_mut(id)
        {
            p.entry.role = Role::Host;
        }
        if !meeting.has_participants() {
            return;
        }
        self.announce_updates(meeting_id, &next.into_iter().collect::<Vec<_>>());
        self.announce_event(
            meeting_id,
            None,
            MeetingEvent::HostChanged {
                participant_id: next,
                previous: Some(previous),
            },
        );
        let anyone_waiting = self
            .meetings
            .get(&meeting_id)
            .is_some_and(|m| !m.waiting.is_empty());
        if next.is_some() && anyone_waiting {
            self.release_host_absent(meeting_id);
            self.announce_waiting_room(meeting_id);
        }
    }

    /// Starts or stops the hostless clock after anything that may have
    /// changed whether a host or co-host is present.
    pub(super) fn refresh_hostless(&mut self, meeting_id: MeetingId) {
        let now = self.now;
        let Some(meeting) = self.meetings.get_mut(&meeting_id) else {
            return;
        };
        if meeting.has_participants() && !meeting.has_host() {
            if meeting.hostless_since.is_none() {
                meeting.hostless_since = Some(now);
                meeting.hostless_warned = false;
                let warn_at = now
                    + self
                        .config
                        .hostless_limit
                        .saturating_sub(self.config.hostless_warning);
                self.meeting_timers.push(Reverse((warn_at, meeting_id)));
            }
        } else {
            meeting.hostless_since = None;
            meeting.hostless_warned = false;
        }
    }

    /// Warns and ends meetings whose hostless stretch ran out.
    pub(super) fn hostless_timeouts(&mut self, now: Instant) {
        while let Some(&Reverse((at, meeting_id))) = self.meeting_timers.peek() {
            if at > now {
                break;
            }
            self.meeting_timers.pop();
            let Some(meeting) = self.meetings.get_mut(&meeting_id) else {
                continue;
            };
            let Some(since) = meeting.hostless_since else {
                continue;
            };
            let end_at = since + self.config.hostless_limit;
            let warn_at = end_at - self.config.hostless_warning.min(self.config.hostless_limit);
            if now >= end_at {
                self.end_meeting(meeting_id, MeetingEndReason::Hostless);
            } else if now >= warn_at && !meeting.hostless_warned {
                meeting.hostless_warned = true;
                self.meeting_timers.push(Reverse((end_at, meeting_id)));
                let in_secs = end_at.saturating_duration_since(now).as_secs();
                self.announce_event(meeting_id, None, MeetingEvent::EndingSoon { in_secs });
            } else {
                let next = if meeting.hostless_warned {
                    end_at
                } else {
                    warn_at
                };
                self.meeting_timers.push(Reverse((next, meeting_id)));
            }
        }
    }

    /// Ends a meeting: everyone in it or waiting for it is told `ended` and
    /// disconnected, and the meeting is forgotten (all but its bans).
    pub(super) fn end_meeting(&mut self, meeting_id: MeetingId, why: MeetingEndReason) {
        let Some(meeting) = self.meetings.remove(&meeting_id) else {
            return;
        };
        self.media_keys.forget_meeting(meeting_id);
        for p in meeting.participants() {
            self.emit(RouterEvent::ParticipantLeft {
                meeting_id,
                participant: p.event_participant(),
                role: p.entry.role,
                reason: LeaveReason::Ended,
            });
        }
        let conns: Vec<_> = meeting
            .participants()
            .map(|p| p.conn)
            .chain(meeting.waiting.values().map(|w| w.participant.conn))
            .collect();
        if self.retire_meeting(meeting_id, meeting) {
            self.emit(RouterEvent::MeetingEnded {
                meeting_id,
                reason: why,
            });
        }
        for conn in conns {
            self.conns.remove(&conn);
            self.outputs.push_back(Output::Control {
                to: conn,
                message: ServerMessage::Removed {
                    reason: LeaveReason::Ended,
                },
            });
            self.outputs.push_back(Output::Close {
                conn,
                reason: CloseReason::Ended,
            });
        }
    }
}
