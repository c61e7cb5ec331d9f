//! Admission: whether a `join` is let in, held in the waiting room, or
//! refused (expelled user, locked meeting, full), and announcing it when it
//! enters, with the meeting's current settings in `joined`.

use std::time::Instant;

use confer_wire::PROTOCOL_VERSION;
use confer_wire::control::{ErrorCode, RosterEntry, ServerMessage};
use confer_wire::host::WaitReason;
use confer_wire::ids::{MeetingId, Role};
use confer_wire::token::JoinClaims;

use super::{ConnState, Router};
use crate::core::bans::Barred;
use crate::core::event::RouterEvent;
use crate::core::meeting::{Full, Meeting, Participant};
use crate::core::output::{ConnectionId, Output};
use crate::join_token::TokenError;

impl Router {
    /// Decides a `join` on a connection that has not joined yet.
    pub(super) fn join(
        &mut self,
        now: Instant,
        conn: ConnectionId,
        version: u16,
        meeting_id: MeetingId,
        claims: Result<JoinClaims, TokenError>,
        verified_at_unix: u64,
    ) {
        if version != PROTOCOL_VERSION {
            self.stats.joins_refused += 1;
            let message = format!("this router speaks version {PROTOCOL_VERSION}, not {version}");
            return self.refuse(conn, ErrorCode::UnsupportedVersion, message);
        }
        let claims = match claims {
            Ok(claims) => claims,
            Err(error) => {
                self.stats.joins_refused += 1;
                return self.refuse(conn, error.error_code(), error.to_string());
            }
        };
        if claims.mid != meeting_id {
            self.stats.joins_refused += 1;
            let message = format!("the token is for another meeting than {meeting_id}");
            return self.refuse(conn, ErrorCode::WrongMeeting, message);
        }
        self.sessions.prune(now);
        if self.sessions.contains(&claims.sid) {
            self.stats.joins_refused += 1;
            return self.refuse(
                conn,
                ErrorCode::SessionReused,
                "this join token was already used".into(),
            );
        }
        let capacity = self.config.max_participants_per_meeting;
        self.retained_bans.prune(now);
        let barred = match self.meetings.get(&meeting_id) {
            Some(meeting) => meeting.bans.bars(&claims.sub, claims.guest),
            None => self
                .retained_bans
                .bars(meeting_id, &claims.sub, claims.guest),
        };
        if let Some(why) = barred {
            self.stats.joins_refused += 1;
            let message = match why {
                Barred::User => "you were removed from this meeting and may not rejoin",
                Barred::Guest => {
                    "a guest was removed from this meeting: guests may not join until a host allows it"
                }
            };
            return self.refuse(conn, ErrorCode::Expelled, message.to_owned());
        }
        let retained = &mut self.retained_bans;
        let meeting = self.meetings.entry(meeting_id).or_insert_with(|| {
            let mut meeting = Meeting::new(&claims.policy);
            // Bans outlive the meeting's other state (`bans.rs`).
            if let Some(kept) = retained.take(meeting_id) {
                meeting.bans = kept.bans;
                meeting.resume_ids_from(kept.next_participant);
            }
            meeting
        });
        let barred = if meeting.settings.locked && claims.role != Role::Host {
            Some((
                ErrorCode::MeetingLocked,
                "the meeting is locked: nobody new may join".to_owned(),
            ))
        } else {
            None
        };
        let participant = match barred {
            Some(refusal) => Err(refusal),
            None => meeting.allocate(capacity).map_err(|full| {
                let message = match full {
                    Full::Capacity => format!("the meeting holds at most {capacity} participants"),
                    Full::IdsExhausted => "the meeting has used every participant id".into(),
                };
                (ErrorCode::MeetingFull, message)
            }),
        };
        let participant = match participant {
            Ok(id) => id,
            Err((code, message)) => {
                self.drop_if_empty(meeting_id);
                self.stats.joins_refused += 1;
                return self.refuse(conn, code, message);
            }
        };
        self.sessions
            .insert(claims.sid.clone(), claims.exp, now, verified_at_unix);
        self.media_keys
            .note_join(meeting_id, claims.policy.e2e, meeting.is_empty());
        // One host at a time: a second `host` token (the owner coming back
        // after handing the role over) enters as a co-host.
        let mut role = claims.role;
        if role == Role::Host && meeting.host().is_some() {
            role = Role::CoHost;
        }
        let joiner = Participant {
            conn,
            entry: RosterEntry {
                participant_id: participant,
                name: claims.name,
                role,
                guest: claims.guest,
                org: claims.policy.org,
                ..RosterEntry::default()
            },
            sub: claims.sub,
            may_record: meeting.settings.record_all,
            last_reaction: None,
        };
        let wait = if role.is_host_like() {
            None
        } else if meeting.settings.waiting_room {
            Some(WaitReason::WaitingRoom)
        } else if !meeting.has_host() && !meeting.settings.join_before_host {
            Some(WaitReason::HostAbsent)
        } else {
            None
        };
        match wait {
            Some(reason) => self.hold(meeting_id, joiner, reason),
            None => self.enter(meeting_id, joiner),
        }
    }

    /// Puts someone into the meeting: tells them who is here and the others
    /// that they came. A host or co-host arriving also sees the waiting room
    /// and lets in those who were only waiting for a host.
    pub(super) fn enter(&mut self, meeting_id: MeetingId, joiner: Participant) {
        let conn = joiner.conn;
        let participant = joiner.entry.participant_id;
        let role = joiner.entry.role;
        let Some(meeting) = self.meetings.get_mut(&meeting_id) else {
            return;
        };
        let mut external_changed = Vec::new();
        if role == Role::Host && meeting.host_org.is_none() && joiner.entry.org.is_some() {
            meeting.host_org = joiner.entry.org.clone();
            for id in meeting.ids() {
                let external = meeting
                    .entry(id)
                    .is_some_and(|e| meeting.is_external(e.org.as_deref()));
                if let Some(p) = meeting.get_mut(id)
                    && p.entry.external != external
                {
                    p.entry.external = external;
                    external_changed.push(id);
                }
            }
        }
        let joined = joiner.event_participant();
        let first = !std::mem::replace(&mut meeting.started, true);
        meeting.insert(joiner);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.state = ConnState::Joined {
                meeting: meeting_id,
                participant,
            };
        }
        self.stats.joins_admitted += 1;
        if first {
            self.emit(RouterEvent::MeetingStarted {
                meeting_id,
                first: joined.clone(),
            });
        }
        self.emit(RouterEvent::ParticipantJoined {
            meeting_id,
            participant: joined,
            role,
        });

        let Some(meeting) = self.meetings.get(&meeting_id) else {
            return;
        };
        let roster = meeting.roster();
        let me = meeting.entry(participant).cloned();
        self.outputs.push_back(Output::Control {
            to: conn,
            message: ServerMessage::Joined {
                version: PROTOCOL_VERSION,
                participant_id: participant,
                meeting_id,
                role,
                roster,
                keepalive_interval_ms: millis(self.config.keepalive_interval),
                silence_timeout_ms: millis(self.config.silence_timeout),
                settings: meeting.settings.to_wire(),
            },
        });
        if let Some(entry) = me {
            for &other in meeting.members().iter().filter(|c| **c != conn) {
                self.outputs.push_back(Output::Control {
                    to: other,
                    message: ServerMessage::ParticipantJoined {
                        participant: entry.clone(),
                    },
                });
            }
        }
        self.announce_updates(meeting_id, &external_changed);
        let anyone_waiting = self
            .meetings
            .get(&meeting_id)
            .is_some_and(|m| !m.waiting.is_empty());
        if role.is_host_like() && anyone_waiting {
            self.release_host_absent(meeting_id);
            self.announce_waiting_room(meeting_id);
        }
        self.refresh_hostless(meeting_id);
        self.send_media_key(meeting_id, conn);
    }
}

/// A duration in whole milliseconds, as the protocol states intervals.
fn millis(d: std::time::Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}
