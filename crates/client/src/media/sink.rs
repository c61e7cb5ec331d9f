//! Where decoded media goes: what the engine hands its front end.
//!
//! [`MediaOutput`] is what [`super::MediaEngine::poll_output`] yields; a
//! [`MediaSink`] is the simple receiving end the driver feeds it to (the
//! desktop app renders [`DecodedVideo`]; the command line saves files with
//! [`super::save::SaveReceived`]).

use confer_media::frame::{AudioFrame, VideoFrame};
use confer_wire::ids::ParticipantId;

/// Which video track a picture belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoKind {
    /// The participant's camera (whichever simulcast layer is received).
    Camera,
    /// The participant's screen share.
    Screen,
}

/// One decoded picture from a remote participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedVideo {
    /// Who sent it.
    pub participant: ParticipantId,
    /// Camera or screen.
    pub kind: VideoKind,
    /// The picture: `width`, `height`, I420 planes (`y()`, `u()`, `v()`) and
    /// the RTP timestamp (90 kHz).
    pub frame: VideoFrame,
}

/// Something the media engine produced for its front end.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaOutput {
    /// 20 ms of a participant's audio, at its playout time (decoded, rebuilt
    /// from FEC, or concealed: see `frame.origin`).
    Audio {
        /// Who.
        participant: ParticipantId,
        /// The samples (48 kHz mono).
        frame: AudioFrame,
    },
    /// A decoded picture.
    Video(DecodedVideo),
    /// One opened Opus packet as received (to save the encoded stream).
    EncodedAudio {
        /// Who sent it.
        participant: ParticipantId,
        /// RTP timestamp (48 kHz).
        timestamp: u32,
        /// The Opus packet.
        opus: Vec<u8>,
    },
    /// One opened H.264 access unit as received (Annex B).
    EncodedVideo {
        /// Who sent it.
        participant: ParticipantId,
        /// Camera or screen.
        kind: VideoKind,
        /// Whether it is a keyframe.
        keyframe: bool,
        /// RTP timestamp (90 kHz).
        timestamp: u32,
        /// The access unit.
        annex_b: Vec<u8>,
    },
}

/// A consumer of decoded media. Calls come from the driver's task, in order;
/// keep them quick (hand heavy work to another thread).
pub trait MediaSink: Send {
    /// Takes one output of the engine.
    fn handle(&mut self, output: MediaOutput);

    /// Tells the sink a participant's display name (from the roster), before
    /// their media arrives when it is known by then.
    fn participant_named(&mut self, participant: ParticipantId, name: &str) {
        let _ = (participant, name);
    }

    /// One of our own captured frames, before it is encoded: for a self
    /// view or our own microphone level. `own` is our participant id.
    fn captured(
        &mut self,
        own: ParticipantId,
        track: super::CaptureTrack,
        frame: &confer_media::source::Frame,
    ) {
        let _ = (own, track, frame);
    }

    /// The session's counters, about once a second while admitted (see
    /// [`crate::driver::REPORT_INTERVAL`]).
    fn live_report(&mut self, report: &crate::driver::LiveReport) {
        let _ = report;
    }

    /// The session is over: flush and close whatever is open.
    fn finish(&mut self) {}
}

/// Sends every output down a channel, for a front end that renders on its
/// own task (the desktop app). Outputs are dropped when the channel is full
/// or closed, so a slow renderer never stalls the connection.
#[derive(Debug)]
pub struct ChannelSink(pub tokio::sync::mpsc::Sender<MediaOutput>);

impl MediaSink for ChannelSink {
    fn handle(&mut self, output: MediaOutput) {
        let _ = self.0.try_send(output);
    }
}
