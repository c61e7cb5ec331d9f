//! Admission: whether a `join` is let in, and announcing it when it is.

use std::time::Instant;

use confer_wire::PROTOCOL_VERSION;
use confer_wire::control::{ErrorCode, ServerMessage};
use confer_wire::ids::MeetingId;
use confer_wire::token::JoinClaims;

use super::{ConnState, Router};
use crate::core::meeting::{Full, Meeting};
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
        let meeting = self.meetings.entry(meeting_id).or_insert_with(Meeting::new);
        let participant = match meeting.add(conn, claims.name, claims.role, claims.guest, capacity)
        {
            Ok(id) => id,
            Err(full) => {
                if meeting.is_empty() {
                    self.meetings.remove(&meeting_id);
                }
                self.stats.joins_refused += 1;
                let message = match full {
                    Full::Capacity => format!("the meeting holds at most {capacity} participants"),
                    Full::IdsExhausted => "the meeting has used every participant id".into(),
                };
                return self.refuse(conn, ErrorCode::MeetingFull, message);
            }
        };
        self.sessions
            .insert(claims.sid, claims.exp, now, verified_at_unix);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.state = ConnState::Joined {
                meeting: meeting_id,
                participant,
            };
        }
        self.stats.joins_admitted += 1;

        let roster = meeting.roster();
        let me = meeting.entry(participant).cloned();
        self.outputs.push_back(Output::Control {
            to: conn,
            message: ServerMessage::Joined {
                version: PROTOCOL_VERSION,
                participant_id: participant,
                meeting_id,
                role: claims.role,
                roster,
                keepalive_interval_ms: millis(self.config.keepalive_interval),
                silence_timeout_ms: millis(self.config.silence_timeout),
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
    }
}

/// A duration in whole milliseconds, as the protocol states intervals.
fn millis(d: std::time::Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}
