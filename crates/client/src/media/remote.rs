//! One remote participant's incoming media: an audio receiver (jitter
//! buffer, FEC, concealment), one camera receiver following the best
//! simulcast layer that arrives, and a screen receiver. Frames are opened
//! (SFrame) between reassembly and decoding.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use confer_media::audio_track::AudioReceiver;
use confer_media::packet::MediaPacket;
use confer_media::video_track::VideoReceiver;
use confer_wire::ids::{ParticipantId, TrackKind, track_of_ssrc};

use super::MediaEngineError;
use super::crypto::FrameCrypto;
use super::sink::{DecodedVideo, MediaOutput, VideoKind};
use super::stats::RemoteMediaStats;

/// How long an audio stream may bring no packet before we stop playing it
/// out (concealment past this is just noise; DTX keeps a talking stream
/// sending at least every 400 ms).
const AUDIO_IDLE: Duration = Duration::from_secs(1);

/// Most audio frames played out in one poll (1 s): more means the stream's
/// timeline jumped.
const MAX_AUDIO_CATCH_UP: usize = 50;

/// How long the camera layer being followed may stay silent before a
/// keyframe of another layer may replace it.
const LAYER_STALE: Duration = Duration::from_secs(1);

/// One video track's receiver and what we track about its picture.
#[derive(Debug)]
struct VideoIn {
    receiver: VideoReceiver,
    /// Track number being followed (camera: the simulcast layer's).
    track: u8,
    last_packet: Instant,
    /// A picture has been shown since the stream started.
    played: bool,
    /// The picture is frozen: a loss broke it and no keyframe came yet.
    frozen: bool,
}

/// Media from one participant.
#[derive(Debug)]
pub(super) struct RemoteMedia {
    participant: ParticipantId,
    /// Our SSRC, named as the sender of our feedback.
    own_ssrc: u32,
    audio: Option<AudioReceiver>,
    audio_last_packet: Option<Instant>,
    camera: Option<VideoIn>,
    screen: Option<VideoIn>,
    stats: RemoteMediaStats,
}

impl RemoteMedia {
    pub(super) fn new(participant: ParticipantId, own_ssrc: u32) -> Self {
        RemoteMedia {
            participant,
            own_ssrc,
            audio: None,
            audio_last_packet: None,
            camera: None,
            screen: None,
            stats: RemoteMediaStats::default(),
        }
    }

    /// Counters, with the receivers' own.
    pub(super) fn stats(&self) -> RemoteMediaStats {
        let mut s = self.stats;
        if let Some(a) = &self.audio {
            let a = a.stats();
            s.audio_frames_decoded = a.decoded;
            s.audio_frames_fec = a.fec;
            s.audio_frames_concealed = a.concealed;
        }
        if let Some(v) = &self.camera {
            let r = v.receiver.stats().reassembler;
            s.video_keyframes += r.keyframes;
            s.video_frames_dropped += r.broken_frames + r.skipped_frames;
        }
        s
    }

    /// Takes in one packet of this participant's track `kind`.
    pub(super) fn handle_packet(
        &mut self,
        now: Instant,
        mut packet: MediaPacket,
        kind: TrackKind,
        crypto: &mut dyn FrameCrypto,
        outputs: &mut VecDeque<MediaOutput>,
    ) -> Result<(), MediaEngineError> {
        match kind {
            TrackKind::Audio => {
                self.stats.audio_packets += 1;
                // One sealed Opus frame per packet: open on arrival, so the
                // jitter buffer and FEC work on plain Opus.
                let metadata = packet.header.ssrc.to_be_bytes();
                let opened = match crypto.open(self.participant, &metadata, &packet.payload) {
                    Ok(o) => o,
                    Err(e) => {
                        self.stats.unopened_frames += 1;
                        return Err(MediaEngineError::Open(e.to_string()));
                    }
                };
                outputs.push_back(MediaOutput::EncodedAudio {
                    participant: self.participant,
                    timestamp: packet.header.timestamp,
                    opus: opened.clone(),
                });
                packet.payload = opened;
                let receiver = match &mut self.audio {
                    Some(r) => r,
                    None => self.audio.insert(AudioReceiver::new()?),
                };
                receiver.handle_packet(now, packet);
                self.audio_last_packet = Some(now);
            }
            TrackKind::Video { layer } => {
                self.stats.video_packets += 1;
                // What the router forwards us now (our subscription, or
                // the nearest the sender has).
                self.stats.video_layer = Some(layer);
                let track = track_of_ssrc(packet.header.ssrc);
                if self.follow_camera_layer(now, &packet, track)?
                    && let Some(v) = &mut self.camera
                {
                    v.last_packet = now;
                    v.receiver.handle_packet(now, packet);
                }
            }
            TrackKind::Screen => {
                self.stats.video_packets += 1;
                let v = match &mut self.screen {
                    Some(v) => v,
                    None => self.screen.insert(VideoIn {
                        receiver: VideoReceiver::new(self.own_ssrc)?,
                        track: track_of_ssrc(packet.header.ssrc),
                        last_packet: now,
                        played: false,
                        frozen: false,
                    }),
                };
                v.last_packet = now;
                v.receiver.handle_packet(now, packet);
            }
            TrackKind::Unknown => {}
        }
        Ok(())
    }

    /// Whether a camera packet on `track` is on the layer we follow. We
    /// follow the first layer that arrives and move to another at one of its
    /// keyframes when it is higher or ours went silent, so the picture never
    /// breaks at a switch. (The router will forward only the subscribed
    /// layer once it selects them; this then follows whatever comes.)
    fn follow_camera_layer(
        &mut self,
        now: Instant,
        packet: &MediaPacket,
        track: u8,
    ) -> Result<bool, MediaEngineError> {
        let at_keyframe = packet.layer.is_some_and(|d| d.keyframe && d.start_of_frame);
        match &mut self.camera {
            Some(v) if v.track == track => Ok(true),
            Some(v) => {
                let stale = now.saturating_duration_since(v.last_packet) >= LAYER_STALE;
                if at_keyframe && (track > v.track || stale) {
                    v.track = track;
                    // A fresh stream: its start is not a freeze.
                    v.played = false;
                    v.frozen = false;
                    Ok(true)
                } else {
                    Ok(false)
                }
            }
            None => {
                self.camera = Some(VideoIn {
                    receiver: VideoReceiver::new(self.own_ssrc)?,
                    track,
                    last_packet: now,
                    played: false,
                    frozen: false,
                });
                Ok(true)
            }
        }
    }

    /// When [`Self::poll`] should next run.
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        let audio = self
            .audio
            .as_ref()
            .filter(|_| self.audio_active_until().is_some())
            .and_then(AudioReceiver::poll_timeout);
        [
            audio,
            self.camera.as_ref().and_then(|v| v.receiver.poll_timeout()),
            self.screen.as_ref().and_then(|v| v.receiver.poll_timeout()),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn audio_active_until(&self) -> Option<Instant> {
        self.audio_last_packet.map(|t| t + AUDIO_IDLE)
    }

    /// The front end's decoder failed on `kind`: broken until a keyframe.
    pub(super) fn handle_unusable_video(&mut self, kind: VideoKind) {
        let slot = match kind {
            VideoKind::Camera => &mut self.camera,
            VideoKind::Screen => &mut self.screen,
        };
        if let Some(v) = slot {
            v.receiver.handle_unusable_frame();
        }
    }

    /// Plays out what is due at `now`: audio frames, pictures (decoded
    /// when `decode`, else only opened), and feedback for the sender.
    pub(super) fn poll(
        &mut self,
        now: Instant,
        crypto: &mut dyn FrameCrypto,
        decode: bool,
        outputs: &mut VecDeque<MediaOutput>,
        feedback: &mut VecDeque<Bytes>,
    ) {
        if let Some(audio) = &mut self.audio
            && self.audio_last_packet.is_some_and(|t| now < t + AUDIO_IDLE)
        {
            let mut played = 0;
            while let Some(frame) = audio.poll_frame(now) {
                outputs.push_back(MediaOutput::Audio {
                    participant: self.participant,
                    frame,
                });
                played += 1;
                if played == MAX_AUDIO_CATCH_UP {
                    // A timestamp jump (hostile or a restarted sender) would
                    // otherwise conceal an unbounded gap: start the stream
                    // over at its next packet instead.
                    self.audio = None;
                    break;
                }
            }
        }
        for (slot, kind) in [
            (&mut self.camera, VideoKind::Camera),
            (&mut self.screen, VideoKind::Screen),
        ] {
            let Some(v) = slot else { continue };
            poll_video(
                self.participant,
                kind,
                v,
                now,
                crypto,
                decode,
                outputs,
                &mut self.stats,
            );
            while let Some(fb) = v.receiver.poll_feedback(now) {
                self.stats.feedback_messages += 1;
                feedback.push_back(Bytes::from(fb.to_bytes()));
            }
        }
    }
}

/// Opens every frame of one video track that is due and, when `decode`,
/// decodes it.
#[allow(clippy::too_many_arguments)]
fn poll_video(
    participant: ParticipantId,
    kind: VideoKind,
    v: &mut VideoIn,
    now: Instant,
    crypto: &mut dyn FrameCrypto,
    decode: bool,
    outputs: &mut VecDeque<MediaOutput>,
    stats: &mut RemoteMediaStats,
) {
    while let Some(sealed) = v.receiver.poll_sealed(now) {
        let metadata = sealed.ssrc.to_be_bytes();
        let annex_b = match crypto.open(participant, &metadata, &sealed.data) {
            Ok(a) => a,
            Err(_) => {
                stats.unopened_frames += 1;
                v.receiver.handle_unusable_frame();
                continue;
            }
        };
        let picture = if decode {
            v.receiver.decode(sealed.timestamp, &annex_b)
        } else {
            None
        };
        let shown = picture.is_some() || !decode;
        outputs.push_back(MediaOutput::EncodedVideo {
            participant,
            kind,
            keyframe: sealed.keyframe,
            timestamp: sealed.timestamp,
            annex_b,
        });
        if shown {
            match (kind, decode) {
                (VideoKind::Camera, true) => stats.video_frames_decoded += 1,
                (VideoKind::Screen, true) => stats.screen_frames_decoded += 1,
                (VideoKind::Camera, false) => stats.video_frames_passed += 1,
                (VideoKind::Screen, false) => stats.screen_frames_passed += 1,
            }
            if v.frozen && kind == VideoKind::Camera {
                stats.video_recoveries += 1;
            }
            v.frozen = false;
            v.played = true;
        }
        if let Some(frame) = picture {
            outputs.push_back(MediaOutput::Video(DecodedVideo {
                participant,
                kind,
                frame,
            }));
        }
    }
    if v.played && !v.frozen && v.receiver.waiting_for_keyframe() {
        v.frozen = true;
        if kind == VideoKind::Camera {
            stats.video_freezes += 1;
        }
    }
}
