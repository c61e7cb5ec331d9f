//! What a session counts and records while it runs: media per sender, chat
//! received, roster changes, round-trip time, and how it ended.

use std::collections::BTreeMap;
use std::fmt;

use confer_wire::control::{ErrorCode, LeaveReason};
use confer_wire::ids::ParticipantId;

/// Media counters of one session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaStats {
    /// RTP packets handed to the transport.
    pub sent_packets: u64,
    /// Bytes of those packets (RTP header included).
    pub sent_bytes: u64,
    /// Packets received, by the participant their SSRC names.
    pub received: BTreeMap<ParticipantId, ReceivedMedia>,
    /// Received packets that were not valid RTP and were dropped.
    pub malformed_packets: u64,
    /// RTCP feedback received about our own streams (keyframe requests,
    /// NACKs), passed on to the media engine.
    pub feedback_packets: u64,
}

/// Media received from one sender.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceivedMedia {
    /// RTP packets received.
    pub packets: u64,
    /// Bytes of those packets (RTP header included).
    pub bytes: u64,
    /// Packets of the synthetic test stream whose payload checked out.
    pub synthetic_intact: u64,
    /// Packets of the synthetic payload type whose payload did not.
    pub synthetic_corrupt: u64,
}

/// One chat message from someone else, as the router relayed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRecord {
    /// The router's per-meeting message number.
    pub id: u64,
    /// The sender.
    pub from: ParticipantId,
    /// Set when the message was private to us.
    pub to: Option<ParticipantId>,
    /// The message.
    pub text: String,
    /// True when it came sealed end to end (E2E meetings): the router
    /// relayed only ciphertext.
    pub e2e: bool,
}

/// One reaction, as the router relayed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionRecord {
    /// Milliseconds since the session was created.
    pub at_ms: u64,
    /// Who reacted (possibly us).
    pub from: ParticipantId,
    /// The emoji.
    pub emoji: String,
}

/// A change to the roster after joining, for the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterEvent {
    /// Milliseconds since the session was created.
    pub at_ms: u64,
    /// Who.
    pub participant_id: ParticipantId,
    /// Their display name, when known.
    pub name: Option<String>,
    /// What happened.
    pub change: RosterChange,
}

/// What happened to a participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RosterChange {
    /// They entered the meeting.
    Joined,
    /// They left it, for this reason.
    Left(LeaveReason),
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// We left on purpose.
    Left,
    /// A host removed us.
    Expelled,
    /// The meeting ended.
    Ended,
    /// The router refused to admit us.
    Refused {
        /// The router's reason.
        code: ErrorCode,
        /// The router's explanation.
        message: String,
    },
    /// Something failed: the connection, the router, or its messages.
    Error(String),
}

impl EndReason {
    /// The reason's name in the stats file: `left`, `expelled`, `ended`,
    /// `refused` or `error`.
    pub fn as_str(&self) -> &'static str {
        match self {
            EndReason::Left => "left",
            EndReason::Expelled => "expelled",
            EndReason::Ended => "ended",
            EndReason::Refused { .. } => "refused",
            EndReason::Error(_) => "error",
        }
    }

    /// The error text for `refused` and `error`, `None` otherwise.
    pub fn error_text(&self) -> Option<String> {
        match self {
            EndReason::Refused { code, message } => {
                Some(format!("{}: {message}", code_name(*code)))
            }
            EndReason::Error(text) => Some(text.clone()),
            _ => None,
        }
    }
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.error_text() {
            Some(text) => write!(f, "{}: {text}", self.as_str()),
            None => f.write_str(self.as_str()),
        }
    }
}

/// The wire name of an error code (`invalid_token`, ...).
pub fn code_name(code: ErrorCode) -> String {
    // The codes serialise to plain JSON strings; reuse that rather than keep a
    // second table that could drift from the wire.
    match serde_json::to_value(code) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{code:?}"),
    }
}

/// The wire name of a leave reason (`left`, `timed_out`, ...).
pub fn leave_reason_name(reason: LeaveReason) -> String {
    match serde_json::to_value(reason) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{reason:?}"),
    }
}
