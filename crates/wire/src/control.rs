//! Control messages and their codec.
//!
//! Each message is one JSON object with a `type` field, carried in one
//! [`crate::frame::FrameKind::Control`] frame. Clients send
//! [`ClientMessage`]s, the router sends [`ServerMessage`]s. Unknown fields are
//! ignored (so later versions may add some); an unknown `type` is an error.
//! JSON because control traffic is small and rare next to media, and a
//! format people can read in a packet capture is worth more here than bytes.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::host::{
    HostAction, MeetingEvent, MeetingSettings, ShareState, WaitReason, WaitingEntry,
};
use crate::ids::{MeetingId, ParticipantId, Role};
pub use crate::media_control::Subscription;

/// Longest chat message accepted, in bytes of UTF-8.
pub const MAX_CHAT_LEN: usize = 4096;

/// Longest sealed chat ciphertext accepted, in bytes after base64url
/// decoding: an MLS application message holding a [`MAX_CHAT_LEN`] message
/// is far smaller; the cap only bounds what the router relays.
pub const MAX_SEALED_CHAT_LEN: usize = 96 * 1024;

/// The reactions the router relays; anything else is refused
/// ([`ErrorCode::InvalidReaction`]). A fixed set keeps a reaction a
/// gesture, not a second chat channel.
pub const REACTIONS: [&str; 7] = ["👍", "👏", "😂", "😮", "❤️", "🎉", "✋"];

/// Shortest time between two reactions of one participant, in
/// milliseconds; faster ones are refused ([`ErrorCode::RateLimited`]).
pub const REACTION_INTERVAL_MS: u64 = 500;

/// What a client may say to the router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClientMessage {
    /// First message on a connection: asks to enter the meeting the token names.
    Join {
        /// The protocol version the client speaks ([`crate::PROTOCOL_VERSION`]).
        version: u16,
        /// The meeting the client means to join. The router refuses the join
        /// ([`ErrorCode::WrongMeeting`]) unless the token was issued for it,
        /// so a token for one meeting never lets anyone into another.
        meeting_id: MeetingId,
        /// The join token (a compact JWS) from the web service.
        token: String,
    },
    /// A chat message to everyone, or to one participant.
    Chat {
        /// The one recipient, or `None` for everyone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<ParticipantId>,
        /// The message, at most [`MAX_CHAT_LEN`] bytes.
        text: String,
    },
    /// E2E meetings: a chat message sealed by the sender as an MLS
    /// application message, to everyone or to one participant. The router
    /// applies the same rules as to `chat` but never reads the ciphertext.
    SealedChat {
        /// The one recipient, or `None` for everyone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<ParticipantId>,
        /// The MLS message, at most [`MAX_SEALED_CHAT_LEN`] bytes.
        ciphertext: crate::keys::KeyBytes,
    },
    /// A reaction (one of [`REACTIONS`]) for everyone to see.
    React {
        /// The emoji.
        emoji: String,
    },
    /// Keep-alive; the router answers with [`ServerMessage::Pong`].
    Ping {
        /// Echoed back in the pong, so the client can measure round-trip time.
        nonce: u64,
    },
    /// Leaves the meeting; the router closes the connection after it.
    Leave,
    /// Mutes or unmutes your own microphone. Unmuting is refused
    /// ([`ErrorCode::NotAllowed`]) when a host forbade it.
    SetAudio {
        /// Muted when true.
        muted: bool,
    },
    /// Starts or stops your own video. Starting is refused when a host forbade it.
    SetVideo {
        /// Video on when true.
        on: bool,
    },
    /// Raises or lowers your hand.
    SetHand {
        /// Raised when true.
        raised: bool,
    },
    /// Starts, stops, pauses or resumes your screen share. Starting is
    /// refused when only hosts may share.
    SetShare {
        /// The new state.
        state: ShareState,
    },
    /// Starts or stops your local recording; starting needs a host's permission
    /// (hosts and co-hosts always have it).
    SetRecording {
        /// Recording when true.
        on: bool,
    },
    /// Renames yourself, if the host allows it.
    Rename {
        /// The new display name, 1 to [`crate::host::MAX_NAME_LEN`] bytes.
        name: String,
    },
    /// A host control; refused with [`ErrorCode::NotAllowed`] unless your role allows it.
    Host(HostAction),
    /// Chooses which simulcast layer of one sender's camera the router
    /// forwards you, or none (see [`crate::media_control`]).
    Subscribe(Subscription),
    /// E2E meetings: an MLS handshake message for the router to deliver
    /// (see [`crate::keys`]).
    Mls(crate::keys::MlsClientMessage),
}

/// What the router may say to a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ServerMessage {
    /// The join succeeded: who you are and who is already here.
    Joined {
        /// The protocol version the router speaks.
        version: u16,
        /// Your id in this meeting; your SSRCs are `participant_id << 8 | track`.
        participant_id: ParticipantId,
        /// The meeting you joined.
        meeting_id: MeetingId,
        /// Your role, from your join token.
        role: Role,
        /// Everyone in the meeting, you included.
        roster: Vec<RosterEntry>,
        /// How often to send something (a ping will do) when idle.
        keepalive_interval_ms: u32,
        /// Silence after which the router drops you.
        silence_timeout_ms: u32,
        /// The meeting's rules as they are now (lock, chat, screen share,
        /// self-unmute, recording, waiting room, …), so a late joiner shows
        /// the truth; absent from older routers (then the defaults).
        #[serde(default)]
        settings: MeetingSettings,
    },
    /// Someone entered the meeting.
    ParticipantJoined {
        /// Who.
        participant: RosterEntry,
    },
    /// Someone is no longer in the meeting.
    ParticipantLeft {
        /// Who.
        participant_id: ParticipantId,
        /// Why.
        reason: LeaveReason,
    },
    /// A chat message relayed by the router.
    Chat {
        /// Per-meeting message number, increasing.
        id: u64,
        /// Sender.
        from: ParticipantId,
        /// The one recipient, or `None` when sent to everyone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<ParticipantId>,
        /// The message.
        text: String,
    },
    /// A sealed chat message relayed by the router (E2E meetings).
    SealedChat {
        /// Per-meeting message number, shared with `chat`, increasing.
        id: u64,
        /// Sender.
        from: ParticipantId,
        /// The one recipient, or `None` when sent to everyone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<ParticipantId>,
        /// The MLS message, as the sender sent it.
        ciphertext: crate::keys::KeyBytes,
    },
    /// Someone reacted; sent to everyone, the sender included.
    Reaction {
        /// Who reacted.
        from: ParticipantId,
        /// One of [`REACTIONS`].
        emoji: String,
    },
    /// Answer to [`ClientMessage::Ping`].
    Pong {
        /// The ping's nonce.
        nonce: u64,
    },
    /// Something the client sent was refused. If `fatal`, the router closes
    /// the connection after this message.
    Error {
        /// Machine-readable reason.
        code: ErrorCode,
        /// Human-readable explanation.
        message: String,
        /// Whether the connection is being closed.
        fatal: bool,
    },
    /// The router is removing you from the meeting (after this it closes).
    Removed {
        /// Why.
        reason: LeaveReason,
    },
    /// Your join is held: you are not in the meeting yet. `joined` follows
    /// when a host admits you (or a host arrives), `removed` with `denied`
    /// when a host turns you away. Keep sending pings while you wait.
    Waiting {
        /// The meeting you are waiting to enter.
        meeting_id: MeetingId,
        /// The id you will have once admitted.
        participant_id: ParticipantId,
        /// Why you wait.
        reason: WaitReason,
    },
    /// Who is waiting to enter; sent to hosts and co-hosts whenever it changes.
    WaitingRoom {
        /// Everyone waiting, longest-waiting first.
        waiting: Vec<WaitingEntry>,
    },
    /// A roster entry changed (muted, video, hand, share, recording, name, role).
    ParticipantUpdated {
        /// The whole new entry.
        participant: RosterEntry,
    },
    /// Something happened in the meeting; sent to everyone in it.
    Event {
        /// Who caused it, when someone did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<ParticipantId>,
        /// What happened.
        event: MeetingEvent,
    },
    /// A standard meeting's media key for one epoch (see [`crate::keys`]).
    MediaKey(crate::keys::MediaKey),
    /// E2E meetings: an MLS request or relayed handshake message (see [`crate::keys`]).
    Mls(crate::keys::MlsServerMessage),
}

/// One line of the roster. Fields after `guest` came with host controls and
/// default when absent, so older peers still decode.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterEntry {
    /// The participant's id in this meeting.
    pub participant_id: ParticipantId,
    /// Display name from the join token.
    pub name: String,
    /// Role from the join token.
    pub role: Role,
    /// True when the participant is not signed in.
    #[serde(default)]
    pub guest: bool,
    /// Their organisation, from the join token, when the web service set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// True when they are from outside the host's organisation (or the host
    /// has one and they have none).
    #[serde(default)]
    pub external: bool,
    /// Microphone muted.
    #[serde(default)]
    pub muted: bool,
    /// Video on.
    #[serde(default)]
    pub video: bool,
    /// Hand raised.
    #[serde(default)]
    pub hand_raised: bool,
    /// Screen share state.
    #[serde(default)]
    pub sharing: ShareState,
    /// Recording the meeting locally.
    #[serde(default)]
    pub recording: bool,
}

/// Why a participant left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LeaveReason {
    /// They left on purpose.
    Left,
    /// Their connection closed without a goodbye.
    Disconnected,
    /// Nothing was heard from them for longer than the silence timeout.
    TimedOut,
    /// A host removed them.
    Expelled,
    /// The meeting ended.
    Ended,
    /// A host turned them away from the waiting room.
    Denied,
}

/// Machine-readable reasons for [`ServerMessage::Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The `join` named a protocol version the router does not speak.
    UnsupportedVersion,
    /// The join token is malformed, forged, or for another audience or issuer.
    InvalidToken,
    /// The join token has expired.
    TokenExpired,
    /// The join token's session id was already used.
    SessionReused,
    /// The join token was issued for a different meeting than the one named in `join`.
    WrongMeeting,
    /// A message could not be decoded.
    MalformedMessage,
    /// A frame exceeded the size limit.
    FrameTooLarge,
    /// No `join` arrived in time.
    JoinTimeout,
    /// A message other than `join` arrived before joining.
    NotJoined,
    /// A second `join` on a joined connection.
    AlreadyJoined,
    /// A chat message longer than [`MAX_CHAT_LEN`] or empty.
    InvalidChat,
    /// The named participant is not in the meeting.
    UnknownParticipant,
    /// The meeting cannot take more participants.
    MeetingFull,
    /// The role does not allow the action.
    NotAllowed,
    /// The meeting is locked: nobody new may join.
    MeetingLocked,
    /// This user was expelled from the meeting and may not rejoin.
    Expelled,
    /// A display name that is empty or longer than [`crate::host::MAX_NAME_LEN`].
    InvalidName,
    /// A reaction that is not one of [`REACTIONS`].
    InvalidReaction,
    /// Too many requests of this kind too quickly (reactions: one per
    /// [`REACTION_INTERVAL_MS`]); the message was dropped.
    RateLimited,
    /// The router failed; not the client's fault.
    Internal,
}

/// Why bytes are not a control message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not JSON, not an object, an unknown `type`, or a field of the wrong shape.
    #[error("malformed control message: {0}")]
    Malformed(String),
}

/// Encodes a control message as the payload of a control frame.
pub fn encode<T: Serialize>(msg: &T) -> Vec<u8> {
    // Serialising these types cannot fail: every map key is a string and no
    // Serialize impl of ours returns an error.
    #[allow(clippy::expect_used)]
    serde_json::to_vec(msg).expect("control messages always serialise")
}

/// Decodes a control frame's payload.
pub fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, DecodeError> {
    serde_json::from_slice(payload).map_err(|e| DecodeError::Malformed(e.to_string()))
}

impl ClientMessage {
    /// Encodes this message (see [`encode`]).
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes a client message (see [`decode`]).
    pub fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        decode(payload)
    }
}

impl ServerMessage {
    /// Encodes this message (see [`encode`]).
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes a router message (see [`decode`]).
    pub fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        decode(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_have_stable_json() {
        let m = ClientMessage::Chat {
            to: None,
            text: "hi".into(),
        };
        assert_eq!(
            String::from_utf8(m.encode()).unwrap(),
            r#"{"type":"chat","text":"hi"}"#
        );
        let m = ClientMessage::Join {
            version: 1,
            meeting_id: MeetingId(42),
            token: "t".into(),
        };
        assert_eq!(ClientMessage::decode(&m.encode()).unwrap(), m);
        assert_eq!(
            ClientMessage::decode(br#"{"type":"leave","extra":1}"#).unwrap(),
            ClientMessage::Leave
        );
    }

    #[test]
    fn server_messages_round_trip() {
        let msgs = [
            ServerMessage::Joined {
                version: 1,
                participant_id: ParticipantId(1),
                meeting_id: MeetingId(123_456_789),
                role: Role::Host,
                roster: vec![RosterEntry {
                    participant_id: ParticipantId(1),
                    name: "Ada".into(),
                    role: Role::Host,
                    guest: false,
                    ..RosterEntry::default()
                }],
                keepalive_interval_ms: 2000,
                silence_timeout_ms: 6000,
                settings: MeetingSettings {
                    locked: true,
                    ..MeetingSettings::default()
                },
            },
            ServerMessage::ParticipantLeft {
                participant_id: ParticipantId(2),
                reason: LeaveReason::TimedOut,
            },
            ServerMessage::Error {
                code: ErrorCode::SessionReused,
                message: "x".into(),
                fatal: true,
            },
        ];
        for m in msgs {
            assert_eq!(ServerMessage::decode(&m.encode()).unwrap(), m);
        }
    }

    #[test]
    fn sealed_chat_and_reactions_have_the_documented_json() {
        let up = ClientMessage::SealedChat {
            to: Some(ParticipantId(3)),
            ciphertext: crate::keys::KeyBytes(vec![0xfb, 0xff, 0x01]),
        };
        let json = String::from_utf8(up.encode()).unwrap();
        assert_eq!(json, r#"{"type":"sealed_chat","to":3,"ciphertext":"-_8B"}"#);
        assert_eq!(ClientMessage::decode(json.as_bytes()).unwrap(), up);
        let down = ServerMessage::SealedChat {
            id: 7,
            from: ParticipantId(2),
            to: None,
            ciphertext: crate::keys::KeyBytes(vec![1]),
        };
        let json = String::from_utf8(down.encode()).unwrap();
        assert_eq!(
            json,
            r#"{"type":"sealed_chat","id":7,"from":2,"ciphertext":"AQ"}"#
        );
        assert_eq!(ServerMessage::decode(json.as_bytes()).unwrap(), down);

        let react = ClientMessage::React {
            emoji: "👍".into()
        };
        let json = String::from_utf8(react.encode()).unwrap();
        assert_eq!(json, r#"{"type":"react","emoji":"👍"}"#);
        assert_eq!(ClientMessage::decode(json.as_bytes()).unwrap(), react);
        let reaction = ServerMessage::Reaction {
            from: ParticipantId(4),
            emoji: "🎉".into(),
        };
        let json = String::from_utf8(reaction.encode()).unwrap();
        assert_eq!(json, r#"{"type":"reaction","from":4,"emoji":"🎉"}"#);
        assert_eq!(ServerMessage::decode(json.as_bytes()).unwrap(), reaction);
        let code = ServerMessage::Error {
            code: ErrorCode::RateLimited,
            message: "slow down".into(),
            fatal: false,
        };
        assert!(
            String::from_utf8(code.encode())
                .unwrap()
                .contains(r#""rate_limited""#)
        );
    }

    #[test]
    fn sealed_chat_needs_base64url_ciphertext() {
        for bad in [
            &br#"{"type":"sealed_chat"}"#[..],
            br#"{"type":"sealed_chat","ciphertext":"+/8B"}"#,
            br#"{"type":"sealed_chat","ciphertext":7}"#,
            br#"{"type":"sealed_chat","text":"hi"}"#,
            br#"{"type":"react"}"#,
        ] {
            assert!(ClientMessage::decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rejects_garbage_and_unknown_types() {
        for bad in [
            &b""[..],
            b"null",
            b"[]",
            br#"{"type":"fly"}"#,
            br#"{"type":"ping"}"#,
            b"\xff\xfe",
        ] {
            assert!(ClientMessage::decode(bad).is_err(), "{bad:?}");
        }
    }
}
