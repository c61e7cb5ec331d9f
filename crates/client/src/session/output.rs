//! What a [`super::Session`] asks its driver to do and tells its user.

use bytes::Bytes;
use confer_wire::control::{ClientMessage, ErrorCode, LeaveReason, RosterEntry};
use confer_wire::ids::{MeetingId, ParticipantId, Role};

use super::stats::EndReason;

/// One instruction from [`super::Session::poll_output`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// Send this control message to the router (on the control stream, or as
    /// a control frame).
    Control(ClientMessage),
    /// Send this RTP packet to the router (a datagram on QUIC, a media frame
    /// otherwise). It may be dropped under congestion: media is not retried.
    Media(Bytes),
    /// Tell the user something happened.
    Event(Event),
    /// Close the connection: the session is over (after flushing any
    /// [`Output::Control`] that came before this).
    Close,
}

/// Something the user of a session may want to show or act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The router admitted us.
    Joined {
        /// Our id in the meeting.
        participant_id: ParticipantId,
        /// The meeting.
        meeting_id: MeetingId,
        /// Our role.
        role: Role,
        /// Everyone present, us included.
        roster: Vec<RosterEntry>,
    },
    /// Someone entered the meeting.
    ParticipantJoined(RosterEntry),
    /// Someone left the meeting.
    ParticipantLeft {
        /// Who.
        participant_id: ParticipantId,
        /// Their display name, if they were on the roster.
        name: Option<String>,
        /// Why.
        reason: LeaveReason,
    },
    /// A chat message arrived.
    Chat {
        /// The router's per-meeting message number.
        id: u64,
        /// The sender.
        from: ParticipantId,
        /// The sender's display name, if on the roster.
        from_name: Option<String>,
        /// Set when the message was private.
        to: Option<ParticipantId>,
        /// The message.
        text: String,
        /// True when this is the router's confirmation of our own message.
        own: bool,
        /// True when it came sealed end to end (E2E meetings): the router
        /// relayed only ciphertext.
        e2e: bool,
    },
    /// Someone reacted (we included: the router echoes ours).
    Reaction {
        /// Who.
        from: ParticipantId,
        /// Their display name, if on the roster.
        from_name: Option<String>,
        /// One of `confer_wire::control::REACTIONS`.
        emoji: String,
    },
    /// The router holds us before entering (waiting room, or no host yet).
    Waiting(confer_wire::host::WaitReason),
    /// Someone's roster entry changed (muted, video, hand, share, role, ...).
    ParticipantUpdated(RosterEntry),
    /// Something happened in the meeting (a host action, a host change, ...).
    Meeting {
        /// Who caused it, if someone did.
        by: Option<ParticipantId>,
        /// What.
        event: confer_wire::host::MeetingEvent,
    },
    /// Who waits to enter (sent to hosts and co-hosts).
    WaitingRoom(Vec<confer_wire::host::WaitingEntry>),
    /// The router refused something we sent but kept the session open.
    RouterError {
        /// The router's reason.
        code: ErrorCode,
        /// The router's explanation.
        message: String,
    },
    /// The router sent something this client could not use; it was dropped.
    ProtocolViolation(String),
    /// The session is over.
    Ended(EndReason),
}
