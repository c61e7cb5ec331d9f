//! E2E meetings: chat sealed with the meeting's MLS group, so the router
//! relays only ciphertext (`docs/protocol.md`, "Sealed chat").
//!
//! [`Session::send_chat`](super::Session::send_chat) in an E2E meeting
//! seals the message as an MLS application message and sends
//! `sealed_chat`. Until this session is in the group (the welcome has not
//! come yet) up to [`MAX_QUEUED`] messages wait and go out, in order, once
//! it is; more are refused. Incoming `sealed_chat` is opened by the group
//! and surfaces as the same [`Event::Chat`] as plain chat, with `e2e` set.
//!
//! The sealed plaintext is a small JSON object naming the sender's
//! participant id and the recipient as well as the text: the receiver
//! checks both against what the router says, so the router cannot pass a
//! message off as another participant's, or a private message as one to
//! everyone. (A group member could still lie about its participant id
//! inside its own message; MLS authenticates the member, the router's
//! roster names the participant.) A private message is sealed for the
//! whole group like any other: the router sends it only to its recipient,
//! but another member who obtained the bytes could open it.
//!
//! MLS never opens one's own messages, so the sender keeps what it sealed
//! (at most [`MAX_AWAITING_ECHO`]) until the router relays it back, and
//! shows that as its own message. Anything that does not open counts in
//! [`EncryptionStats::decrypt_failures`](super::EncryptionStats) and is
//! dropped; nothing a peer or the router sends can panic here.

use std::collections::VecDeque;

use confer_e2e::mls::MeetingGroup;
use confer_wire::control::ClientMessage;
use confer_wire::ids::ParticipantId;
use confer_wire::keys::KeyBytes;
use serde::{Deserialize, Serialize};

use super::output::{Event, Output};
use super::stats::ChatRecord;
use super::{Session, SessionError};

/// Messages held while we wait to enter the group.
pub(crate) const MAX_QUEUED: usize = 32;

/// Our own sealed messages kept until the router relays them back; older
/// ones are forgotten (a router that never echoes cannot grow the list).
pub(crate) const MAX_AWAITING_ECHO: usize = 64;

/// What a sealed chat message holds.
#[derive(Debug, Serialize, Deserialize)]
struct SealedBody {
    /// The sender's participant id, as it believes it.
    from: ParticipantId,
    /// The one recipient, or `None` for everyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to: Option<ParticipantId>,
    /// The message.
    text: String,
}

/// One session's sealed chat state.
#[derive(Debug, Default)]
pub(crate) struct SealedChat {
    /// Messages waiting for the group, oldest first.
    queue: VecDeque<(Option<ParticipantId>, String)>,
    /// Our sealed messages awaiting the router's echo: ciphertext,
    /// recipient and text.
    awaiting_echo: VecDeque<(Vec<u8>, Option<ParticipantId>, String)>,
    /// Sealed messages that could not be opened or did not check out.
    pub(crate) failures: u64,
}

impl Session {
    /// `send_chat` in an E2E meeting: seal now, or queue until we are in
    /// the group.
    pub(super) fn send_sealed_chat(
        &mut self,
        to: Option<ParticipantId>,
        text: &str,
    ) -> Result<(), SessionError> {
        let in_group = self
            .frame_keys
            .mls
            .group()
            .is_some_and(MeetingGroup::is_active);
        if in_group && self.frame_keys.mls.chat.queue.is_empty() {
            return self.seal_and_send(to, text.to_owned());
        }
        if self.frame_keys.mls.group().is_some() && !in_group {
            return Err(SessionError::ChatNotSealed(
                "this session was removed from the meeting's group".into(),
            ));
        }
        let queue = &mut self.frame_keys.mls.chat.queue;
        if queue.len() >= MAX_QUEUED {
            return Err(SessionError::ChatQueueFull(MAX_QUEUED));
        }
        queue.push_back((to, text.to_owned()));
        Ok(())
    }

    /// Hook from entering a new epoch: sends what waited for the group.
    pub(super) fn flush_sealed_chat(&mut self) {
        while let Some((to, text)) = self.frame_keys.mls.chat.queue.pop_front() {
            if let Err(error) = self.seal_and_send(to, text) {
                // The user was told "sent"; say why it was not.
                self.outputs
                    .push_back(Output::Event(Event::ProtocolViolation(format!(
                        "a queued chat message could not be sealed: {error}"
                    ))));
            }
        }
    }

    fn seal_and_send(
        &mut self,
        to: Option<ParticipantId>,
        text: String,
    ) -> Result<(), SessionError> {
        let from = self
            .participant_id()
            .ok_or(SessionError::NotJoined(self.state()))?;
        let body = SealedBody { from, to, text };
        let plaintext =
            serde_json::to_vec(&body).map_err(|e| SessionError::ChatNotSealed(e.to_string()))?;
        let mls = &mut self.frame_keys.mls;
        let group = mls
            .group_mut()
            .ok_or_else(|| SessionError::ChatNotSealed("not in the group yet".into()))?;
        let ciphertext = group
            .seal_chat(&plaintext)
            .map_err(|e| SessionError::ChatNotSealed(e.to_string()))?;
        let echo = &mut mls.chat.awaiting_echo;
        if echo.len() >= MAX_AWAITING_ECHO {
            echo.pop_front();
        }
        echo.push_back((ciphertext.clone(), to, body.text));
        self.chat_sent += 1;
        self.outputs
            .push_back(Output::Control(ClientMessage::SealedChat {
                to,
                ciphertext: KeyBytes(ciphertext),
            }));
        Ok(())
    }

    /// A `sealed_chat` from the router.
    pub(super) fn on_sealed_chat(
        &mut self,
        id: u64,
        from: ParticipantId,
        to: Option<ParticipantId>,
        ciphertext: KeyBytes,
    ) {
        let own = Some(from) == self.participant_id();
        let text = if own {
            self.own_echo(to, ciphertext.as_bytes())
        } else {
            self.open_sealed(from, to, ciphertext.as_bytes())
        };
        let Some(text) = text else {
            self.frame_keys.mls.chat.failures += 1;
            return;
        };
        if !own {
            self.chat_received.push(ChatRecord {
                id,
                from,
                to,
                text: text.clone(),
                e2e: true,
            });
        }
        let from_name = self.roster.get(from).map(|e| e.name.clone());
        self.outputs.push_back(Output::Event(Event::Chat {
            id,
            from,
            from_name,
            to,
            text,
            own,
            e2e: true,
        }));
    }

    /// Our own message, relayed back: the text we kept for it.
    fn own_echo(&mut self, to: Option<ParticipantId>, ciphertext: &[u8]) -> Option<String> {
        let echo = &mut self.frame_keys.mls.chat.awaiting_echo;
        let at = echo
            .iter()
            .position(|(sent, sent_to, _)| sent == ciphertext && *sent_to == to)?;
        echo.remove(at).map(|(_, _, text)| text)
    }

    /// Opens another participant's message and checks it names the sender
    /// and recipient the router does.
    fn open_sealed(
        &mut self,
        from: ParticipantId,
        to: Option<ParticipantId>,
        ciphertext: &[u8],
    ) -> Option<String> {
        let group = self.frame_keys.mls.group_mut()?;
        // `open_chat`, not `process_message`: a commit passed off as chat
        // must never change the group outside the router's MLS order.
        let (_sender_index, plaintext) = group.open_chat(ciphertext).ok()?;
        let body: SealedBody = serde_json::from_slice(&plaintext).ok()?;
        (body.from == from && body.to == to).then_some(body.text)
    }
}
