//! The client's media engine: our outgoing tracks and every remote
//! participant's incoming ones, as a sans-IO state machine.
//!
//! The engine decides everything about media that does not need a device or
//! a socket: which simulcast layers to encode, how frames are sealed and cut
//! into packets (see `confer_media::frame_rtp`), which incoming camera layer
//! to follow, when audio plays out (jitter buffer, FEC, concealment), when a
//! picture is decodable, and what feedback (NACK, keyframe request) goes
//! back. Sealing and opening go through [`FrameCrypto`], which the meeting
//! [`Session`](crate::session::Session) implements.
//!
//! # Driving contract
//!
//! 1. Create it with [`MediaEngine::new`]; once the session is admitted,
//!    call [`MediaEngine::handle_joined`] with our participant id.
//! 2. Captured frames: [`MediaEngine::handle_captured`] (20 ms audio frames,
//!    camera or screen pictures), paced in real time by the caller.
//! 3. Received packets the session passed on (see
//!    [`Session::handle_media`](crate::session::Session::handle_media)):
//!    [`MediaEngine::handle_packet`].
//! 4. Time: call [`MediaEngine::handle_timeout`] at
//!    [`MediaEngine::poll_timeout`].
//! 5. After every call drain [`MediaEngine::poll_transmit`] (RTP packets for
//!    `Session::send_media`), [`MediaEngine::poll_feedback`] (RTCP feedback
//!    for the senders, once the path relays it) and
//!    [`MediaEngine::poll_output`] (decoded media for a [`MediaSink`]).
//!
//! Every `now` must not go backwards. Nothing from the network can make it
//! panic: bad packets are counted and dropped.

mod crypto;
mod echo_reference;
pub mod playout;
mod remote;
pub mod save;
mod send;
mod sink;
mod stats;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Instant;

use bytes::Bytes;
use confer_media::MediaError;
use confer_media::feedback::Feedback;
use confer_media::opus_codec::DEFAULT_AUDIO_BITRATE;
use confer_media::packet::{MediaPacket, PT_H264, PT_OPUS};
use confer_media::processing::{CaptureProcessor, ProcessingConfig, ProcessingError};
use confer_media::source::Frame;
use confer_wire::ids::{
    ParticipantId, TrackKind, participant_of_ssrc, ssrc_for, track, track_kind, track_of_ssrc,
};
use confer_wire::media_control::Subscription;
use confer_wire::simulcast::LayerId;

/// How a capture source is named (re-exported so front ends need not
/// depend on `confer-media` to choose one).
pub use confer_media::source::SourceSpec;
pub use crypto::{FrameCrypto, PassThrough};
pub use sink::{ChannelSink, DecodedVideo, MediaOutput, MediaSink, VideoKind};
pub use stats::{MediaEngineStats, RemoteMediaStats, SentTrackStats, track_name};

use remote::RemoteMedia;
use send::Outgoing;

/// Most remote participants the engine keeps receivers for; the router
/// forwards only meeting members, this bounds memory if that ever fails.
const MAX_REMOTES: usize = 1024;

/// Why the engine could not use a frame or packet. None of these end the
/// session: the frame is dropped and counted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaEngineError {
    /// A codec could not be created or failed.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// A captured frame was not usable (wrong size).
    #[error("unusable captured frame: {0}")]
    BadFrame(String),
    /// Sealing a frame failed, so it was not sent.
    #[error("cannot seal a frame: {0}")]
    Seal(String),
    /// A received frame did not open, so it was dropped.
    #[error("cannot open a frame: {0}")]
    Open(String),
    /// Media was captured before we joined.
    #[error("not in the meeting yet")]
    NotJoined,
    /// Echo cancellation, noise suppression or gain control failed.
    #[error(transparent)]
    Processing(#[from] ProcessingError),
}

/// What the engine sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaConfig {
    /// Opus bitrate (bits per second).
    pub audio_bitrate: i32,
    /// Most camera simulcast layers to send (1..=3; fewer if the camera is
    /// smaller than a layer).
    pub max_camera_layers: u8,
    /// The camera layer we ask the router for, for every other participant
    /// (it forwards the lowest until asked; see `docs/cli-media.md`).
    pub video_layer: LayerId,
    /// What runs on captured audio before Opus (AEC, NS, AGC). Off by
    /// default: front ends switch it on for microphones, not for files.
    pub processing: ProcessingConfig,
    /// Decode remote pictures here (`true`, the default), or only hand the
    /// front end each opened access unit ([`MediaOutput::EncodedVideo`])
    /// for a front end that decodes itself: the desktop app's page decodes
    /// with WebCodecs, which moves ~1 MB/s of H.264 to it instead of
    /// ~100 MB/s of raw pictures for nine participants.
    pub decode_video: bool,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            audio_bitrate: DEFAULT_AUDIO_BITRATE,
            max_camera_layers: track::VIDEO_LAYERS,
            video_layer: LayerId::High,
            processing: ProcessingConfig::off(),
            decode_video: true,
        }
    }
}

/// Which of our tracks a captured frame is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaptureTrack {
    /// Microphone (or a WAV file or tone).
    Audio,
    /// Camera (or a Y4M file or pattern): sent in simulcast layers.
    Camera,
    /// Screen or window share.
    Screen,
}

/// The media engine (see the module docs for the driving contract).
#[derive(Debug)]
pub struct MediaEngine {
    config: MediaConfig,
    own: Option<ParticipantId>,
    outgoing: Option<Outgoing>,
    remotes: BTreeMap<ParticipantId, RemoteMedia>,
    transmit: VecDeque<Bytes>,
    feedback: VecDeque<Bytes>,
    subscriptions: VecDeque<Subscription>,
    /// Senders whose camera we asked for a layer (at most the remotes').
    subscribed: BTreeSet<ParticipantId>,
    /// Camera layers the front end asked for, per sender (else
    /// [`MediaConfig::video_layer`]).
    layers: BTreeMap<ParticipantId, LayerId>,
    /// Created on the first captured audio frame when any stage is on.
    processor: Option<CaptureProcessor>,
    /// The others' audio mixed per 20 ms, for the echo canceller.
    echo_reference: echo_reference::EchoReference,
    outputs: VecDeque<MediaOutput>,
    stats: MediaEngineStats,
}

impl MediaEngine {
    /// An engine that sends with `config`.
    pub fn new(config: MediaConfig) -> Self {
        MediaEngine {
            config,
            own: None,
            outgoing: None,
            remotes: BTreeMap::new(),
            transmit: VecDeque::new(),
            feedback: VecDeque::new(),
            subscriptions: VecDeque::new(),
            subscribed: BTreeSet::new(),
            layers: BTreeMap::new(),
            processor: None,
            echo_reference: echo_reference::EchoReference::default(),
            outputs: VecDeque::new(),
            stats: MediaEngineStats::default(),
        }
    }

    /// The router admitted us as `participant`: our SSRCs derive from it.
    pub fn handle_joined(&mut self, participant: ParticipantId) {
        if self.own != Some(participant) {
            self.own = Some(participant);
            self.outgoing = Some(Outgoing::new(participant, self.config));
        }
    }

    /// A capture source failed; recorded for the stats.
    pub fn handle_source_error(&mut self, error: String) {
        self.stats.source_errors.push(error);
    }

    /// Encodes, seals and packetises one captured frame of `track`.
    pub fn handle_captured(
        &mut self,
        now: Instant,
        track: CaptureTrack,
        frame: &Frame,
        crypto: &mut dyn FrameCrypto,
    ) -> Result<(), MediaEngineError> {
        let out = self.outgoing.as_mut().ok_or(MediaEngineError::NotJoined)?;
        match (track, frame) {
            (CaptureTrack::Audio, Frame::Audio(a)) if self.config.processing.any() => {
                let processor = match &mut self.processor {
                    Some(p) => p,
                    None => self
                        .processor
                        .insert(CaptureProcessor::new(self.config.processing)?),
                };
                let mut a = a.clone();
                processor.process_capture(&mut a.samples)?;
                out.send_audio(&a, crypto, &mut self.transmit, &mut self.stats)
            }
            // Processing off: the captured samples go to Opus untouched.
            (CaptureTrack::Audio, Frame::Audio(a)) => {
                out.send_audio(a, crypto, &mut self.transmit, &mut self.stats)
            }
            (CaptureTrack::Camera, Frame::Video(v)) => {
                out.send_video(now, false, v, crypto, &mut self.transmit, &mut self.stats)
            }
            (CaptureTrack::Screen, Frame::Video(v)) => {
                out.send_video(now, true, v, crypto, &mut self.transmit, &mut self.stats)
            }
            _ => Err(MediaEngineError::BadFrame(format!(
                "a {} frame for the {track:?} track",
                match frame {
                    Frame::Audio(_) => "audio",
                    Frame::Video(_) => "video",
                }
            ))),
        }
    }

    /// Takes in one packet from the router: another participant's media, or
    /// RTCP feedback about ours.
    pub fn handle_packet(&mut self, now: Instant, packet: &[u8], crypto: &mut dyn FrameCrypto) {
        let Some(own) = self.own else {
            self.stats.dropped_packets += 1;
            return;
        };
        // RFC 5761: RTCP shares the media path.
        if confer_wire::rtcp::is_rtcp(packet) {
            match Feedback::parse(packet) {
                Ok(fb) if participant_of_ssrc(media_ssrc(&fb)) == own => {
                    if let Some(out) = self.outgoing.as_mut() {
                        out.handle_feedback(&fb, &mut self.transmit, &mut self.stats);
                    }
                }
                _ => self.stats.dropped_packets += 1,
            }
            return;
        }
        let Ok(parsed) = MediaPacket::parse(packet) else {
            self.stats.dropped_packets += 1;
            return;
        };
        let from = participant_of_ssrc(parsed.header.ssrc);
        let kind = track_kind(track_of_ssrc(parsed.header.ssrc));
        let payload_ok = match kind {
            TrackKind::Audio => parsed.header.payload_type == PT_OPUS,
            TrackKind::Video { .. } | TrackKind::Screen => parsed.header.payload_type == PT_H264,
            TrackKind::Unknown => false,
        };
        if from == own || !payload_ok {
            self.stats.dropped_packets += 1;
            return;
        }
        if !self.remotes.contains_key(&from) && self.remotes.len() >= MAX_REMOTES {
            self.stats.dropped_packets += 1;
            return;
        }
        let own_ssrc = ssrc_for(own, track::AUDIO);
        if matches!(kind, TrackKind::Video { .. }) && self.subscribed.insert(from) {
            // A new camera: the router forwards its lowest layer until we
            // ask for the one we prefer. Asked only now it forwards one, so
            // it keeps that layer while the wanted one does not come.
            let layer = self.layers.get(&from).copied();
            self.subscriptions.push_back(Subscription::layer(
                from,
                layer.unwrap_or(self.config.video_layer),
            ));
        }
        let remote = self
            .remotes
            .entry(from)
            .or_insert_with(|| RemoteMedia::new(from, own_ssrc));
        let before = self.outputs.len();
        if let Err(e) = remote.handle_packet(now, parsed, kind, crypto, &mut self.outputs) {
            tracing::debug!("media from {from} dropped: {e}");
        }
        let decode = self.config.decode_video;
        remote.poll(now, crypto, decode, &mut self.outputs, &mut self.feedback);
        self.take_echo_reference(before);
    }

    /// Feeds the audio among `outputs[from..]` to the echo canceller's
    /// reference, mixed per 20 ms.
    fn take_echo_reference(&mut self, from: usize) {
        let Some(processor) = self.processor.as_mut() else {
            return;
        };
        for output in self.outputs.range(from..) {
            if let MediaOutput::Audio { participant, frame } = output
                && let Some(mixed) = self.echo_reference.add(*participant, &frame.samples)
            {
                match processor.handle_far_end(&mixed) {
                    Ok(()) => self.stats.echo_reference_frames += 1,
                    Err(e) => tracing::debug!("echo reference not taken: {e}"),
                }
            }
        }
    }

    /// When [`Self::handle_timeout`] must next be called, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.remotes
            .values()
            .filter_map(RemoteMedia::poll_timeout)
            .min()
    }

    /// Lets time pass: plays out audio, decodes pictures that are due.
    pub fn handle_timeout(&mut self, now: Instant, crypto: &mut dyn FrameCrypto) {
        let decode = self.config.decode_video;
        let before = self.outputs.len();
        for remote in self.remotes.values_mut() {
            remote.poll(now, crypto, decode, &mut self.outputs, &mut self.feedback);
        }
        self.take_echo_reference(before);
    }

    /// Asks for `layer` of `participant`'s camera from now on, instead of
    /// [`MediaConfig::video_layer`]: the front end shows them small (a
    /// gallery tile) or large (the speaker). The router switches at the
    /// layer's next keyframe; repeating the current choice sends nothing.
    pub fn set_video_layer(&mut self, participant: ParticipantId, layer: LayerId) {
        if !self.layers.contains_key(&participant) && self.layers.len() >= MAX_REMOTES {
            return;
        }
        let before = self.layers.insert(participant, layer);
        let current = before.unwrap_or(self.config.video_layer);
        if current != layer && self.subscribed.contains(&participant) {
            self.subscriptions
                .push_back(Subscription::layer(participant, layer));
        }
    }

    /// The front end could not use `participant`'s `kind` pictures (its own
    /// decoder failed, with [`MediaConfig::decode_video`] off): drop frames
    /// until a keyframe and ask the sender for one. Unknown participants
    /// are ignored.
    pub fn request_keyframe(&mut self, participant: ParticipantId, kind: VideoKind) {
        if let Some(remote) = self.remotes.get_mut(&participant) {
            remote.handle_unusable_video(kind);
        }
    }

    /// The next RTP packet of ours to send.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmit.pop_front()
    }

    /// The next RTCP feedback packet (NACK, keyframe request) for a sender.
    pub fn poll_feedback(&mut self) -> Option<Bytes> {
        self.feedback.pop_front()
    }

    /// The next `subscribe` request for the router (send it as
    /// `ClientMessage::Subscribe`): one per camera, on its first packet.
    pub fn poll_subscription(&mut self) -> Option<Subscription> {
        self.subscriptions.pop_front()
    }

    /// The next decoded or received media for the front end.
    ///
    /// Audio handed out here is what plays, so it is also (mixed per 20 ms
    /// as the speaker mixes it) the echo canceller's far-end reference.
    pub fn poll_output(&mut self) -> Option<MediaOutput> {
        self.outputs.pop_front()
    }

    /// The audio processing stages running now, once audio was captured
    /// with any on.
    pub fn processing(&self) -> Option<ProcessingConfig> {
        self.processor.as_ref().map(CaptureProcessor::config)
    }

    /// Runs `config`'s stages on captured audio from the next frame on: a
    /// switch changed in the settings mid-meeting, or another microphone
    /// (a file or tone gets none). The processor keeps its state (the echo
    /// canceller's model of the room) across the change.
    pub fn set_processing(&mut self, config: ProcessingConfig) {
        self.config.processing = config;
        if let Some(p) = self.processor.as_mut() {
            p.set_config(config);
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> MediaEngineStats {
        let mut s = self.stats.clone();
        s.received = self.remotes.iter().map(|(p, r)| (*p, r.stats())).collect();
        s
    }
}

/// Checks that a file or synthetic source opens (a missing or malformed
/// file gives an error naming it) before a meeting is joined. Devices are
/// not opened here (that would grab them twice); their errors come from the
/// capture itself.
pub fn probe_source(spec: &SourceSpec) -> Result<(), MediaError> {
    match spec {
        SourceSpec::Device(_) => Ok(()),
        other => confer_media::source::open(other, Instant::now()).map(drop),
    }
}

fn media_ssrc(fb: &Feedback) -> u32 {
    match fb {
        Feedback::KeyframeRequest { media_ssrc, .. } | Feedback::Nack { media_ssrc, .. } => {
            *media_ssrc
        }
    }
}

#[cfg(test)]
mod tests;
