//! What the media engine counts: per track sent, per remote participant
//! received, for the stats file and the desktop app's diagnostics.

use std::collections::BTreeMap;

use confer_wire::ids::ParticipantId;

/// Counters of one of our outgoing tracks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SentTrackStats {
    /// Frames encoded, sealed and sent.
    pub frames: u64,
    /// Keyframes among them (video).
    pub keyframes: u64,
    /// RTP packets sent (retransmissions included).
    pub packets: u64,
    /// Packets sent again for a NACK.
    pub retransmitted: u64,
    /// Keyframe requests (PLIs) received for this track, from the router
    /// on behalf of a receiver that joined, switched layer or lost one.
    pub keyframe_requests: u64,
    /// Frames not sent because sealing failed.
    pub seal_failures: u64,
}

/// Counters of the media received from one participant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RemoteMediaStats {
    /// Audio packets received.
    pub audio_packets: u64,
    /// Audio frames decoded from their own packet.
    pub audio_frames_decoded: u64,
    /// Audio frames rebuilt from the next packet's FEC data.
    pub audio_frames_fec: u64,
    /// Audio frames concealed (lost, late, or silence between talk spurts).
    pub audio_frames_concealed: u64,
    /// Video packets received (camera and screen).
    pub video_packets: u64,
    /// The camera simulcast layer of the latest camera packet (0 lowest).
    pub video_layer: Option<u8>,
    /// Camera pictures decoded.
    pub video_frames_decoded: u64,
    /// Camera keyframes received whole.
    pub video_keyframes: u64,
    /// Times the camera picture froze (a loss broke it after it had played).
    pub video_freezes: u64,
    /// Times it recovered from a freeze (a keyframe decoded).
    pub video_recoveries: u64,
    /// Camera frames dropped broken or while waiting for a keyframe.
    pub video_frames_dropped: u64,
    /// Screen pictures decoded.
    pub screen_frames_decoded: u64,
    /// Camera frames opened and handed on undecoded, for a front end that
    /// decodes itself ([`super::MediaConfig::decode_video`] off).
    pub video_frames_passed: u64,
    /// Screen frames opened and handed on undecoded.
    pub screen_frames_passed: u64,
    /// Frames (any track) that did not open (wrong key, tampered) and were dropped.
    pub unopened_frames: u64,
    /// Keyframe requests and NACKs produced for this sender.
    pub feedback_messages: u64,
}

/// The name of our track `number` in the stats file: `audio`, `video_0`
/// (lowest simulcast layer) .. `video_2`, `screen`.
pub fn track_name(number: u8) -> String {
    use confer_wire::ids::{TrackKind, track_kind};
    match track_kind(number) {
        TrackKind::Audio => "audio".into(),
        TrackKind::Video { layer } => format!("video_{layer}"),
        TrackKind::Screen => "screen".into(),
        TrackKind::Unknown => format!("track_{number}"),
    }
}

/// Everything the engine counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaEngineStats {
    /// Our tracks by track number (see `confer_wire::ids::track`).
    pub sent: BTreeMap<u8, SentTrackStats>,
    /// Received media by sender.
    pub received: BTreeMap<ParticipantId, RemoteMediaStats>,
    /// Packets that were not usable media (bad RTP, unknown track, not for us).
    pub dropped_packets: u64,
    /// 20 ms frames of the others' audio, mixed, given to the echo
    /// canceller as its reference (one per period however many talk).
    pub echo_reference_frames: u64,
    /// Capture sources that failed, with why.
    pub source_errors: Vec<String>,
}
