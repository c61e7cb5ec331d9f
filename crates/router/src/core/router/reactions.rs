//! Reactions: a participant's emoji, relayed to everyone in the meeting
//! (the sender included, as confirmation).
//!
//! Only the fixed set [`REACTIONS`] is relayed, and at most one reaction
//! per participant every [`REACTION_INTERVAL_MS`] on the core's clock
//! (the `now` of the input), so a stuck key or a bot cannot flood every
//! screen in the meeting. Reactions are not subject to the chat rule: they
//! say nothing a raised hand does not.

use std::time::Duration;

use confer_wire::control::{ErrorCode, REACTION_INTERVAL_MS, REACTIONS, ServerMessage};
use confer_wire::ids::{MeetingId, ParticipantId};

use super::Router;
use crate::core::output::ConnectionId;

impl Router {
    /// Relays `emoji` from `from` to everyone, or refuses it (not in the
    /// set, or too soon after the sender's last reaction).
    pub(super) fn react(
        &mut self,
        conn: ConnectionId,
        meeting: MeetingId,
        from: ParticipantId,
        emoji: &str,
    ) {
        if !REACTIONS.contains(&emoji) {
            let message = format!("reactions are one of {}", REACTIONS.join(" "));
            return self.reject(conn, ErrorCode::InvalidReaction, message);
        }
        let now = self.now;
        let Some(participant) = self
            .meetings
            .get_mut(&meeting)
            .and_then(|m| m.get_mut(from))
        else {
            return;
        };
        let interval = Duration::from_millis(REACTION_INTERVAL_MS);
        let too_soon = participant
            .last_reaction
            .is_some_and(|last| now.saturating_duration_since(last) < interval);
        if too_soon {
            let message = format!("at most one reaction every {REACTION_INTERVAL_MS} ms");
            return self.reject(conn, ErrorCode::RateLimited, message);
        }
        participant.last_reaction = Some(now);
        self.stats.reactions += 1;
        let message = ServerMessage::Reaction {
            from,
            emoji: emoji.to_owned(),
        };
        self.broadcast(meeting, &message);
    }
}
