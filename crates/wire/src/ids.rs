//! Identifiers carried in control messages, tokens and RTP headers.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A meeting's public numeric id, the number people type to join.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MeetingId(pub u64);

impl fmt::Display for MeetingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A participant's id within one meeting, assigned by the router on join and
/// never reused in that meeting. It is below 2^24 so that it fits the top
/// 24 bits of an SSRC (see [`ssrc_for`]).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct ParticipantId(pub u32);

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The largest participant id the router hands out: ids live in the top
/// 24 bits of an SSRC.
pub const MAX_PARTICIPANT_ID: u32 = (1 << 24) - 1;

/// The SSRC a participant uses for its media track number `track`.
///
/// A participant's SSRCs are `participant_id << 8 | track`, so the router can
/// check that a packet's SSRC belongs to the connection that sent it (no
/// spoofing someone else's stream) and receivers can tell who sent a packet
/// without a lookup table.
pub fn ssrc_for(participant: ParticipantId, track: u8) -> u32 {
    (participant.0 << 8) | u32::from(track)
}

/// The participant an SSRC belongs to (the inverse of [`ssrc_for`]).
pub fn participant_of_ssrc(ssrc: u32) -> ParticipantId {
    ParticipantId(ssrc >> 8)
}

/// The track number within its participant that an SSRC names.
pub fn track_of_ssrc(ssrc: u32) -> u8 {
    (ssrc & 0xff) as u8
}

/// A participant's role in a meeting. It comes only from the verified join
/// token (and later from host actions the router has checked), never from a
/// client's say-so.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Owns the meeting: may use every host control.
    Host,
    /// Appointed by the host; may use most host controls.
    CoHost,
    /// Everyone else.
    #[default]
    Participant,
}

impl Role {
    /// The role's name as it appears on the wire and in the stats file.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Host => "host",
            Role::CoHost => "co_host",
            Role::Participant => "participant",
        }
    }
}

impl Role {
    /// Host or co-host: may use host controls.
    pub fn is_host_like(self) -> bool {
        matches!(self, Role::Host | Role::CoHost)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssrc_round_trips_participant_and_track() {
        let p = ParticipantId(MAX_PARTICIPANT_ID);
        let ssrc = ssrc_for(p, 7);
        assert_eq!(participant_of_ssrc(ssrc), p);
        assert_eq!(track_of_ssrc(ssrc), 7);
    }
}
