//! Chat: relaying a message to everyone, or privately to one participant,
//! within the chat rule a host set (hosts and co-hosts are never limited).

use confer_wire::control::{ErrorCode, MAX_CHAT_LEN, ServerMessage};
use confer_wire::host::ChatPolicy;
use confer_wire::ids::{MeetingId, ParticipantId};

use super::Router;
use crate::core::output::{ConnectionId, Output};

impl Router {
    /// Relays a chat message to everyone, or to one participant, and back to
    /// its sender as confirmation.
    pub(super) fn chat(
        &mut self,
        conn: ConnectionId,
        meeting: MeetingId,
        from: ParticipantId,
        to: Option<ParticipantId>,
        text: String,
    ) {
        if text.is_empty() || text.len() > MAX_CHAT_LEN {
            let message = format!(
                "chat text must be 1 to {MAX_CHAT_LEN} bytes, not {}",
                text.len()
            );
            return self.reject(conn, ErrorCode::InvalidChat, message);
        }
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
        let message = ServerMessage::Chat { id, from, to, text };
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
