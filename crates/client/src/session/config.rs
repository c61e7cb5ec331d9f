//! How a session is set up, where it is in its life, and why it refuses a
//! request.

use std::time::Duration;

use confer_wire::control::MAX_CHAT_LEN;
use confer_wire::ids::MeetingId;

/// How long to wait for `joined` after sending `join` (the router itself
/// gives up on a silent client after 5 s; this is the mirror image).
pub const DEFAULT_JOIN_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to wait, after sending `leave`, for the router to close the
/// connection before closing it ourselves.
pub const DEFAULT_LEAVE_LINGER: Duration = Duration::from_secs(2);

/// How a session is set up.
#[derive(Clone)]
pub struct SessionConfig {
    /// The meeting to join; the router refuses a token issued for another.
    pub meeting_id: MeetingId,
    /// The join token from the web service.
    pub token: String,
    /// How long to wait for the router to admit us.
    pub join_timeout: Duration,
    /// How long to wait for the router to close after we said `leave`.
    pub leave_linger: Duration,
    /// Stream the synthetic test source (`confer_media::synthetic`) once joined.
    pub synthetic_media: bool,
}

impl std::fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token admits its holder to the meeting: never in logs.
        f.debug_struct("SessionConfig")
            .field("meeting_id", &self.meeting_id)
            .field("join_timeout", &self.join_timeout)
            .field("leave_linger", &self.leave_linger)
            .field("synthetic_media", &self.synthetic_media)
            .finish_non_exhaustive()
    }
}

impl SessionConfig {
    /// Defaults for joining `meeting_id` with `token`: no media, standard
    /// timeouts.
    pub fn new(meeting_id: MeetingId, token: impl Into<String>) -> Self {
        SessionConfig {
            meeting_id,
            token: token.into(),
            join_timeout: DEFAULT_JOIN_TIMEOUT,
            leave_linger: DEFAULT_LEAVE_LINGER,
            synthetic_media: false,
        }
    }
}

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// `join` sent, waiting for `joined`.
    Joining,
    /// In the meeting.
    Joined,
    /// `leave` sent, waiting for the router to close.
    Leaving,
    /// Over; see [`super::Session::end_reason`].
    Ended,
}

/// Why a request to the session was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The session is not (or no longer) in the meeting.
    #[error("not in the meeting (session is {0:?})")]
    NotJoined(SessionState),
    /// A chat message must be 1 to 4096 bytes.
    #[error("chat message of {0} bytes; it must be 1 to {MAX_CHAT_LEN} bytes")]
    InvalidChat(usize),
    /// A media packet is not RTP, or carries an SSRC that is not ours (the
    /// router would drop it).
    #[error("media packet refused: {0}")]
    InvalidMedia(String),
    /// [`super::Session::request`] was given a message it does not carry
    /// (`join`, `leave`, `ping` and `chat` have their own calls).
    #[error("not a request message: {0}")]
    NotARequest(&'static str),
    /// A media frame could not be sealed or opened (no key yet, tampered,
    /// unknown key id, replayed, ...); drop the frame.
    #[error("media frame refused: {0}")]
    FrameCrypto(#[from] super::keys::FrameCryptoError),
    /// E2E meetings: chat waits for the meeting's group, and this many
    /// messages already wait.
    #[error("{0} chat messages already wait for the end-to-end group; try again once it is set up")]
    ChatQueueFull(usize),
    /// E2E meetings: the chat message could not be sealed (for example
    /// this session was removed from the group); it was not sent.
    #[error("chat message not sealed, not sent: {0}")]
    ChatNotSealed(String),
    /// A reaction that is not one of `confer_wire::control::REACTIONS`.
    #[error("not a reaction the router relays: {0:?}")]
    InvalidReaction(String),
}
