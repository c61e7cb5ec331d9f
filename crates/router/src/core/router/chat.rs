//! Chat: relaying a message to everyone, or privately to one participant,
//! within the chat rule a host set (hosts and co-hosts are never limited).
//!
//! A standard meeting's chat is plain text (`chat`). In an E2E meeting
//! chat must be sealed by the sender as an MLS application message
//! (`sealed_chat`): the router applies exactly the same rules to it, but
//! the ciphertext is opaque bytes it never looks inside (this crate does
//! not link MLS). Each kind is refused in the other kind of meeting, so an
//! E2E meeting's text never reaches the router in clear, even from a
//! client that forgot to seal.

use confer_wire::control::{ErrorCode, MAX_CHAT_LEN, MAX_SEALED_CHAT_LEN, ServerMessage};
use confer_wire::host::ChatPolicy;
use confer_wire::ids::{MeetingId, ParticipantId};
use confer_wire::keys::KeyBytes;

use super::Router;
use crate::core::output::{ConnectionId, Output};

/// What a chat message carries: text, or a sealed message.
enum Body {
    Text(String),
    Sealed(KeyBytes),
}

impl Router {
    /// Relays a plain chat message to everyone, or to one participant, and
    /// back to its sender as confirmation. Refused in an E2E meeting.
    pub(super) fn chat(
        &mut self,
        conn: ConnectionId,
        meeting: MeetingId,
        from: ParticipantId,
        to: Option<ParticipantId>,
        text: String,
    ) {
        if self.media_keys.is_e2e(meeting) {
            let message = "chat in an end-to-end encrypted meeting must be sealed".to_owned();
            return self.reject(conn, ErrorCode::NotAllowed, message);
        }
        if text.is_empty() || text.len() > MAX_CHAT_LEN {
            let message = format!(
                "chat text must be 1 to {MAX_CHAT_LEN} bytes, not {}",
                text.len()
            );
            return self.reject(conn, ErrorCode::InvalidChat, message);
        }
        self.relay_chat(conn, meeting, from, to, Body::Text(text));
    }

    /// Relays a sealed chat message (E2E meetings) under the same rules as
    /// [`chat`](Self::chat). Refused in a standard meeting, whose members
    /// hold no group to open it with.
    pub(super) fn sealed_chat(
        &mut self,
        conn: ConnectionId,
        meeting: MeetingId,
        from: ParticipantId,
        to: Option<ParticipantId>,
        ciphertext: KeyBytes,
    ) {
        if !self.media_keys.is_e2e(meeting) {
            let message = "sealed chat is only for end-to-end encrypted meetings".to_owned();
            return self.reject(conn, ErrorCode::NotAllowed, message);
        }
        let len = ciphertext.as_bytes().len();
        if len == 0 || len > MAX_SEALED_CHAT_LEN {
            let message =
                format!("sealed chat must be 1 to {MAX_SEALED_CHAT_LEN} bytes, not {len}");
            return self.reject(conn, ErrorCode::InvalidChat, message);
        }
        self.relay_chat(conn, meeting, from, to, Body::Sealed(ciphertext));
    }

    /// The chat rules and the relaying, shared by both kinds.
    fn relay_chat(
        &mut self,
        conn: ConnectionId,
        meeting: MeetingId,
        from: ParticipantId,
        to: Option<ParticipantId>,
        body: Body,
    ) {
        let Some(m) = self.meetings.get_mut(&meeting) else {
            return;
        };
        let sender_free = m.role_of(from).is_some_and(|r| r.is_host_like());
        let refusal = match m.settings.chat {
            _ if sender_free => None,
            ChatPolicy::Everyone => None,
            ChatPolicy::Nobody => Some("a host has turned chat off for participants"),
            ChatPolicy::HostOnly => match to.and_then(|pid| m.role_of(pid)) {
                Some(role) if role.is_host_like() => None,
                _ => Some("participants may only chat privately with hosts"),
            },
        };
        if let Some(why) = refusal {
            self.stats.host_actions_refused += 1;
            return self.reject(conn, ErrorCode::NotAllowed, why.to_owned());
        }
        let recipient = match to {
            Some(pid) => match m.conn_of(pid) {
                Some(c) => Some(c),
                None => {
                    let message = format!("participant {pid} is not in the meeting");
                    return self.reject(conn, ErrorCode::UnknownParticipant, message);
                }
            },
            None => None,
        };
        let id = m.take_chat_id();
        let message = match body {
            Body::Text(text) => ServerMessage::Chat { id, from, to, text },
            Body::Sealed(ciphertext) => ServerMessage::SealedChat {
                id,
                from,
                to,
                ciphertext,
            },
        };
        self.stats.chat_messages += 1;
        match recipient {
            Some(other) => {
                if other != conn {
                    self.outputs.push_back(Output::Control {
                        to: other,
                        message: message.clone(),
                    });
                }
                self.outputs
                    .push_back(Output::Control { to: conn, message });
            }
            None => {
                for &member in m.members() {
                    self.outputs.push_back(Output::Control {
                        to: member,
                        message: message.clone(),
                    });
                }
            }
        }
    }
}
