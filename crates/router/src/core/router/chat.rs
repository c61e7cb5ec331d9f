//! Chat: relaying a message to everyone, or privately to one participant.

use confer_wire::control::{ErrorCode, MAX_CHAT_LEN, ServerMessage};
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
