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

/// The fixed track numbers of a participant's media (the low byte of its
/// SSRCs). The router reads them to enforce host controls (a muted
/// participant's audio track is not forwarded; a stopped video or share is
/// not either) and to forward one simulcast layer per receiver, so every
/// client must use this layout.
pub mod track {
    /// Microphone audio (Opus). The codec-less synthetic test stream uses it too.
    pub const AUDIO: u8 = 0;
    /// The first camera video track: simulcast layer `n` (0 = lowest) is
    /// track `VIDEO_BASE + n`.
    pub const VIDEO_BASE: u8 = 1;
    /// How many simulcast layers a camera may send.
    pub const VIDEO_LAYERS: u8 = 3;
    /// Screen share video (one layer, screen-content mode).
    pub const SCREEN: u8 = 4;
}

/// What a track number carries (see [`track`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackKind {
    /// Microphone audio.
    Audio,
    /// Camera video, simulcast layer `layer` (0 = lowest resolution).
    Video {
        /// The simulcast layer.
        layer: u8,
    },
    /// Screen share.
    Screen,
    /// A track number outside the layout; the router drops its packets.
    Unknown,
}

/// The kind of media a track number carries.
pub fn track_kind(track_number: u8) -> TrackKind {
    match track_number {
        track::AUDIO => TrackKind::Audio,
        t if (track::VIDEO_BASE..track::VIDEO_BASE + track::VIDEO_LAYERS).contains(&t) => {
            TrackKind::Video {
                layer: t - track::VIDEO_BASE,
            }
        }
        track::SCREEN => TrackKind::Screen,
        _ => TrackKind::Unknown,
    }
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

    #[test]
    fn track_layout_names_every_kind() {
        assert_eq!(track_kind(track::AUDIO), TrackKind::Audio);
        assert_eq!(track_kind(1), TrackKind::Video { layer: 0 });
        assert_eq!(track_kind(3), TrackKind::Video { layer: 2 });
        assert_eq!(track_kind(track::SCREEN), TrackKind::Screen);
        assert_eq!(track_kind(5), TrackKind::Unknown);
        assert_eq!(track_kind(255), TrackKind::Unknown);
    }
}
