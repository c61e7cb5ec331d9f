//! A video track end to end: [`VideoSender`] (simulcast encode → RFC 6184
//! packets with the layer descriptor → retransmission history) and
//! [`VideoReceiver`] (jitter buffer → depacketiser → decoder, with NACK and
//! keyframe requests).
//!
//! # Sender driving contract
//!
//! [`VideoSender::send_frame`] per captured picture returns the packets to
//! send; [`VideoSender::handle_feedback`] per RTCP feedback message returns
//! retransmissions (NACK) or makes the next frame a keyframe (PLI).
//!
//! # Receiver driving contract
//!
//! - [`VideoReceiver::handle_packet`] per packet, with `now`. A new SSRC (the
//!   router switched simulcast layers, always at a keyframe) restarts the
//!   buffer on that stream.
//! - [`VideoReceiver::poll_frame`] with `now` until `None`: decoded pictures.
//! - [`VideoReceiver::poll_feedback`] with `now` until `None`: NACKs for
//!   missing packets and, at most every [`KEYFRAME_REQUEST_INTERVAL`],
//!   a keyframe request while the picture is broken.
//! - [`VideoReceiver::poll_timeout`]: when to poll again.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use confer_wire::ids::{ParticipantId, ssrc_for};

use crate::error::MediaError;
use crate::feedback::Feedback;
use crate::frame::VideoFrame;
use crate::h264_codec::{SimulcastEncoder, VideoDecoder};
use crate::h264_rtp::{DepacketizerStats, H264Depacketizer, H264Packetizer};
use crate::jitter::{JitterBuffer, JitterConfig, JitterOutput, JitterStats};
use crate::nack::{DEFAULT_HISTORY_LEN, SendHistory};
use crate::packet::MediaPacket;
use crate::simulcast::LayerId;

/// Round-trip time assumed until the driver or a retransmission tells us
/// better.
pub const INITIAL_RTT: Duration = Duration::from_millis(100);

/// Added to the round-trip time to get the video buffer's smallest delay:
/// a loss is noticed only when the next packet arrives (up to a frame
/// interval later, plus jitter).
const NACK_DETECTION_MARGIN: Duration = Duration::from_millis(60);

/// Least time between two keyframe requests from one receiver.
pub const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(300);

/// One simulcast layer's packetiser and history.
#[derive(Debug)]
struct LayerStream {
    layer: LayerId,
    ssrc: u32,
    packetizer: H264Packetizer,
    history: SendHistory,
}

/// Encodes and packetises one video track in up to three layers.
#[derive(Debug)]
pub struct VideoSender {
    encoder: SimulcastEncoder,
    streams: Vec<LayerStream>,
}

impl VideoSender {
    /// A sender for `participant`'s video track whose layers use tracks
    /// `base_track + layer` (so each layer has its own SSRC).
    pub fn new(
        participant: ParticipantId,
        base_track: u8,
        layers: &[LayerId],
    ) -> Result<Self, MediaError> {
        let encoder = SimulcastEncoder::new(layers)?;
        let streams = encoder
            .layers()
            .into_iter()
            .map(|layer| {
                let ssrc = ssrc_for(participant, base_track.wrapping_add(layer.as_u8()));
                LayerStream {
                    layer,
                    ssrc,
                    packetizer: H264Packetizer::new(ssrc, layer),
                    history: SendHistory::new(DEFAULT_HISTORY_LEN),
                }
            })
            .collect();
        Ok(VideoSender { encoder, streams })
    }

    /// The SSRC of `layer`, if it is being sent.
    pub fn ssrc(&self, layer: LayerId) -> Option<u32> {
        self.streams
            .iter()
            .find(|s| s.layer == layer)
            .map(|s| s.ssrc)
    }

    /// Encodes one picture (RTP timestamp at 90 kHz in `frame.timestamp`)
    /// into every layer and returns all packets to send.
    pub fn send_frame(&mut self, frame: &VideoFrame) -> Result<Vec<MediaPacket>, MediaError> {
        let encoded = self.encoder.encode(frame)?;
        let mut out = Vec::new();
        for (layer, e) in encoded {
            if let Some(s) = self.streams.iter_mut().find(|s| s.layer == layer) {
                for p in s.packetizer.packetize(&e.nals, frame.timestamp) {
                    s.history.handle_sent(p.clone());
                    out.push(p);
                }
            }
        }
        Ok(out)
    }

    /// Acts on a receiver's feedback: returns the packets to retransmit for
    /// a NACK; a keyframe request makes that layer's next frame a keyframe.
    pub fn handle_feedback(&mut self, feedback: &Feedback) -> Vec<MediaPacket> {
        match feedback {
            Feedback::KeyframeRequest { media_ssrc, .. } => {
                if let Some(s) = self.streams.iter().find(|s| s.ssrc == *media_ssrc) {
                    self.encoder.request_keyframe(s.layer);
                }
                Vec::new()
            }
            Feedback::Nack {
                media_ssrc,
                sequences,
                ..
            } => self
                .streams
                .iter()
                .find(|s| s.ssrc == *media_ssrc)
                .map(|s| s.history.handle_nack(sequences).cloned().collect())
                .unwrap_or_default(),
        }
    }
}

/// Counters of the receive side of one video track.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct VideoReceiverStats {
    /// Pictures decoded.
    pub decoded: u64,
    /// Access units the decoder rejected.
    pub decode_errors: u64,
    /// Keyframe requests sent.
    pub keyframe_requests: u64,
    /// Sequence numbers NACKed.
    pub nacked: u64,
    /// The depacketiser's counters.
    pub depacketizer: DepacketizerStats,
    /// The jitter buffer's counters (current stream).
    pub jitter: JitterStats,
}

/// Receives one video track. See the module docs for the contract.
#[derive(Debug)]
pub struct VideoReceiver {
    /// Our own SSRC, named as the sender of feedback.
    own_ssrc: u32,
    /// SSRC of the stream being received.
    media_ssrc: Option<u32>,
    jitter: JitterBuffer,
    depacketizer: H264Depacketizer,
    decoder: VideoDecoder,
    /// Decoded pictures not yet taken.
    frames: VecDeque<VideoFrame>,
    /// Feedback waiting to be sent.
    feedback: VecDeque<Feedback>,
    /// When the last keyframe request went out.
    last_keyframe_request: Option<Instant>,
    /// A keyframe request is due (the picture is broken).
    want_keyframe: bool,
    /// When each outstanding NACKed sequence number was asked for, to
    /// measure the round trip when its retransmission arrives.
    nack_times: HashMap<u16, Instant>,
    /// Smoothed round-trip time.
    rtt: Duration,
    stats: VideoReceiverStats,
}

impl VideoReceiver {
    /// A receiver that names itself `own_ssrc` in its feedback.
    pub fn new(own_ssrc: u32) -> Result<Self, MediaError> {
        Ok(VideoReceiver {
            own_ssrc,
            media_ssrc: None,
            jitter: JitterBuffer::new(JitterConfig::video()),
            depacketizer: H264Depacketizer::new(),
            decoder: VideoDecoder::new()?,
            frames: VecDeque::new(),
            feedback: VecDeque::new(),
            last_keyframe_request: None,
            want_keyframe: false,
            nack_times: HashMap::new(),
            rtt: INITIAL_RTT,
            stats: VideoReceiverStats::default(),
        }
        .with_rtt_applied())
    }

    fn with_rtt_applied(mut self) -> Self {
        self.set_rtt(self.rtt);
        self
    }

    /// Tells the receiver the round-trip time to the sender (the transport
    /// knows it; QUIC measures it). The jitter buffer then holds video long
    /// enough for one retransmission.
    pub fn set_rtt(&mut self, rtt: Duration) {
        self.rtt = rtt;
        let floor = JitterConfig::video().min_delay;
        self.jitter
            .set_min_delay((rtt + NACK_DETECTION_MARGIN).max(floor));
    }

    /// The round-trip time in use.
    pub fn rtt(&self) -> Duration {
        self.rtt
    }

    /// Counters so far.
    pub fn stats(&self) -> VideoReceiverStats {
        VideoReceiverStats {
            depacketizer: self.depacketizer.stats(),
            jitter: self.jitter.stats(),
            ..self.stats
        }
    }

    /// Takes in one received packet.
    pub fn handle_packet(&mut self, now: Instant, packet: MediaPacket) {
        if self.media_ssrc != Some(packet.header.ssrc) {
            self.media_ssrc = Some(packet.header.ssrc);
            self.jitter.reset();
            self.depacketizer = H264Depacketizer::new();
            self.nack_times.clear();
        }
        if let Some(asked) = self.nack_times.remove(&packet.header.sequence) {
            // A retransmission: one round trip since we asked.
            let sample = now.saturating_duration_since(asked);
            self.set_rtt((self.rtt * 7 + sample) / 8);
        }
        self.jitter.handle_packet(now, packet);
        let missing = self.jitter.poll_nack();
        if !missing.is_empty()
            && let Some(media_ssrc) = self.media_ssrc
        {
            self.stats.nacked += missing.len() as u64;
            // Forget requests older than the buffer could still use.
            self.nack_times
                .retain(|_, t| now.saturating_duration_since(*t) < Duration::from_secs(1));
            for s in &missing {
                self.nack_times.insert(*s, now);
            }
            self.feedback.push_back(Feedback::Nack {
                sender_ssrc: self.own_ssrc,
                media_ssrc,
                sequences: missing,
            });
        }
    }

    /// When to call [`Self::poll_frame`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.jitter.poll_timeout()
    }

    /// The next decoded picture, if one is ready at `now`.
    pub fn poll_frame(&mut self, now: Instant) -> Option<VideoFrame> {
        while let Some(out) = self.jitter.poll_output(now) {
            match out {
                JitterOutput::Packet(p) => self.depacketizer.handle_packet(&p),
                JitterOutput::Lost { .. } => self.depacketizer.handle_loss(),
            }
            while let Some(f) = self.depacketizer.poll_frame() {
                match self.decoder.decode(&f.nals, f.timestamp) {
                    Ok(Some(pic)) => {
                        self.stats.decoded += 1;
                        self.frames.push_back(pic);
                    }
                    Ok(None) => {}
                    Err(_) => {
                        self.stats.decode_errors += 1;
                        self.want_keyframe = true;
                    }
                }
            }
        }
        if self.depacketizer.poll_keyframe_request() {
            self.want_keyframe = true;
        }
        self.frames.pop_front()
    }

    /// The next feedback message to send to the media sender.
    pub fn poll_feedback(&mut self, now: Instant) -> Option<Feedback> {
        if let Some(f) = self.feedback.pop_front() {
            return Some(f);
        }
        let media_ssrc = self.media_ssrc?;
        let due = self
            .last_keyframe_request
            .is_none_or(|t| now.saturating_duration_since(t) >= KEYFRAME_REQUEST_INTERVAL);
        if self.want_keyframe && due {
            self.want_keyframe = self.depacketizer.waiting_for_keyframe();
            self.last_keyframe_request = Some(now);
            self.stats.keyframe_requests += 1;
            return Some(Feedback::KeyframeRequest {
                sender_ssrc: self.own_ssrc,
                media_ssrc,
            });
        }
        None
    }
}
