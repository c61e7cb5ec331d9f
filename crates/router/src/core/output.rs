//! What the meeting core asks its driver to do.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use confer_wire::control::{ErrorCode, ServerMessage};

/// A connection as the core knows it: a number it handed out in
/// [`crate::core::Router::handle_connect`], never reused by that router.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}

/// One instruction from [`crate::core::Router::poll_output`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send this control message on the connection's control channel,
    /// in order with the other control messages to it.
    Control {
        /// The connection to send to.
        to: ConnectionId,
        /// The message.
        message: ServerMessage,
    },
    /// Send this media packet, unchanged, to every listed connection.
    /// Unreliable: a driver may drop copies for a client that cannot keep up.
    Media {
        /// Who gets a copy (never the sender).
        to: Recipients,
        /// The RTP packet as the sender sent it.
        packet: Bytes,
    },
    /// Close the connection once the control messages already queued for it
    /// are sent. The core has forgotten the connection; anything more that
    /// arrives on it is ignored.
    Close {
        /// The connection to close.
        conn: ConnectionId,
        /// Why, for the transport's close reason and for logs.
        reason: CloseReason,
    },
}

/// Why the core closes a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The participant sent `leave`.
    Left,
    /// The participant was silent for longer than the silence timeout.
    TimedOut,
    /// A fatal error was sent; its code.
    Error(ErrorCode),
    /// A host expelled the participant.
    Expelled,
    /// The meeting ended (a host ended it, or it ran too long without a host).
    Ended,
    /// A host turned the participant away from the waiting room.
    Denied,
}

impl CloseReason {
    /// A short name for transport close frames and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Left => "left",
            CloseReason::TimedOut => "timed_out",
            CloseReason::Error(code) => error_code_name(code),
            CloseReason::Expelled => "expelled",
            CloseReason::Ended => "ended",
            CloseReason::Denied => "denied",
        }
    }
}

/// The wire name of an error code (as in `docs/protocol.md`).
fn error_code_name(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::UnsupportedVersion => "unsupported_version",
        ErrorCode::InvalidToken => "invalid_token",
        ErrorCode::TokenExpired => "token_expired",
        ErrorCode::SessionReused => "session_reused",
        ErrorCode::WrongMeeting => "wrong_meeting",
        ErrorCode::MalformedMessage => "malformed_message",
        ErrorCode::FrameTooLarge => "frame_too_large",
        ErrorCode::JoinTimeout => "join_timeout",
        ErrorCode::NotJoined => "not_joined",
        ErrorCode::AlreadyJoined => "already_joined",
        ErrorCode::InvalidChat => "invalid_chat",
        ErrorCode::UnknownParticipant => "unknown_participant",
        ErrorCode::MeetingFull => "meeting_full",
        ErrorCode::NotAllowed => "not_allowed",
        ErrorCode::MeetingLocked => "meeting_locked",
        ErrorCode::Expelled => "expelled",
        ErrorCode::InvalidName => "invalid_name",
        ErrorCode::InvalidReaction => "invalid_reaction",
        ErrorCode::RateLimited => "rate_limited",
        ErrorCode::Internal => "internal",
        _ => "error",
    }
}

/// The connections one media packet goes to: a meeting's member list,
/// shared by reference count and rebuilt only when membership changes, with
/// the sender skipped while iterating. Forwarding a packet therefore costs
/// one reference-count increment, however large the meeting.
#[derive(Clone, PartialEq, Eq)]
pub struct Recipients {
    /// Every connection in the meeting, the sender included (the core only
    /// forwards from members).
    members: Arc<[ConnectionId]>,
    /// The sender, left out by [`Recipients::iter`].
    sender: ConnectionId,
}

impl Recipients {
    pub(crate) fn new(members: Arc<[ConnectionId]>, sender: ConnectionId) -> Self {
        Self { members, sender }
    }

    /// The recipients, in no particular order, never the sender.
    pub fn iter(&self) -> impl Iterator<Item = ConnectionId> + '_ {
        let sender = self.sender;
        self.members.iter().copied().filter(move |c| *c != sender)
    }

    /// How many recipients there are.
    pub fn len(&self) -> usize {
        // The core only builds a `Recipients` from the sender's own meeting,
        // so the sender is always one of the members.
        self.members.len().saturating_sub(1)
    }

    /// Whether nobody gets a copy.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for Recipients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
