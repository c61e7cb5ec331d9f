//! A video track end to end: [`VideoSender`] (simulcast encode, then — once
//! the caller has sealed each frame — packets of the opaque frame with the
//! layer descriptor, kept in a retransmission history) and [`VideoReceiver`]
//! (jitter buffer → frame reassembler → the caller opens the frame →
//! decoder, with NACK and keyframe requests).
//!
//! # Sender driving contract
//!
//! [`VideoSender::encode`] per captured picture returns one encoded frame
//! per layer; the caller seals each and hands the sealed bytes to
//! [`VideoSender::packetize`], which returns the packets to send.
//! [`VideoSender::send_frame`] does both without sealing (tests).
//! [`VideoSender::handle_feedback`] per RTCP feedback message returns
//! retransmissions (NACK) or makes the next frame a keyframe (PLI).
//! [`VideoSender::set_layers`] when the source changes size (another
//! camera, another quality) mid-stream.
//!
//! # Receiver driving contract
//!
//! - [`VideoReceiver::handle_packet`] per packet, with `now`. A new SSRC (the
//!   router switched simulcast layers, always at a keyframe) restarts the
//!   buffer on that stream.
//! - [`VideoReceiver::poll_sealed`] with `now` until `None`: complete
//!   (sealed) frames; the caller opens each and passes the plaintext to
//!   [`VideoReceiver::decode`] (or reports [`VideoReceiver::handle_unusable_frame`]).
//!   [`VideoReceiver::poll_frame`] does both for unsealed streams (tests).
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
use crate::frame_rtp::{FramePacketizer, FrameReassembler, ReassembledFrame, ReassemblerStats};
use crate::h264_codec::{VideoDecoder, VideoEncoder, VideoEncoderConfig};
use crate::jitter::{JitterBuffer, JitterConfig, JitterOutput, JitterStats};
use crate::nack::{DEFAULT_HISTORY_LEN, SendHistory};
use crate::packet::{MediaPacket, PT_H264};
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

/// One layer's encoder, packetiser and history.
#[derive(Debug)]
struct LayerStream {
    layer: LayerId,
    ssrc: u32,
    /// Size the picture is scaled to, or `None` to keep the source's (screen).
    size: Option<(u32, u32)>,
    encoder: VideoEncoder,
    packetizer: FramePacketizer,
    history: SendHistory,
}

/// One layer's encoded picture, before sealing and packetisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedVideo {
    /// The simulcast layer.
    pub layer: LayerId,
    /// SSRC of the layer's stream (its big-endian bytes are the SFrame metadata).
    pub ssrc: u32,
    /// RTP timestamp (90 kHz).
    pub timestamp: u32,
    /// Whether it is a keyframe (IDR).
    pub keyframe: bool,
    /// The access unit in Annex B form.
    pub annex_b: Vec<u8>,
}

/// The step given to the first picture of a new source when the wall time
/// since the last picture is not known (one frame at 30 fps).
const RESTART_STEP: u32 = 3_000;

/// The RTP video clock rate.
const VIDEO_CLOCK_HZ: u128 = 90_000;

/// Keeps a stream's RTP timestamps moving forward when its source changes:
/// a new camera or share restarts its clock at 0, and a receiver must not
/// see its stream jump back in time (its jitter buffer would take every
/// later picture for a late one). A source's clock never runs backwards, so
/// a step back is a new source; its first picture is placed after the last
/// one by the wall time between them. Forward steps, however long (a
/// stalled camera), pass unchanged.
#[derive(Debug, Clone, Copy, Default)]
struct TimestampRebase {
    /// The last source timestamp, the stream timestamp it became, and when
    /// it was encoded (if known).
    last: Option<(u32, u32, Option<Instant>)>,
    /// Added (wrapping) to source timestamps.
    offset: u32,
}

impl TimestampRebase {
    fn map(&mut self, source: u32, now: Option<Instant>) -> u32 {
        if let Some((last_source, last_out, last_wall)) = self.last {
            // Backwards is a step past half the u32 range.
            if source.wrapping_sub(last_source) > u32::MAX / 2 {
                let step = match (now, last_wall) {
                    (Some(now), Some(then)) => {
                        let ticks = now.saturating_duration_since(then).as_micros()
                            * VIDEO_CLOCK_HZ
                            / 1_000_000;
                        u32::try_from(ticks)
                            .unwrap_or(u32::MAX / 4)
                            .clamp(1, u32::MAX / 4)
                    }
                    _ => RESTART_STEP,
                };
                self.offset = last_out.wrapping_add(step).wrapping_sub(source);
            }
        }
        let out = source.wrapping_add(self.offset);
        self.last = Some((source, out, now));
        out
    }
}

/// Encodes and packetises one video track in up to three layers.
#[derive(Debug)]
pub struct VideoSender {
    streams: Vec<LayerStream>,
    /// Camera senders: whose, and the track of the lowest layer (each
    /// layer's SSRC derives from them). `None` for a screen share.
    camera: Option<(ParticipantId, u8)>,
    /// Packetisers of layers no longer sent, so a layer that comes back
    /// continues its sequence numbers instead of restarting them.
    parked: Vec<(LayerId, FramePacketizer)>,
    rebase: TimestampRebase,
}

impl VideoSender {
    /// A camera sender for `participant` whose layers use tracks
    /// `base_track + layer` (so each layer has its own SSRC).
    pub fn new(
        participant: ParticipantId,
        base_track: u8,
        layers: &[LayerId],
    ) -> Result<Self, MediaError> {
        let mut sender = VideoSender {
            streams: Vec::new(),
            camera: Some((participant, base_track)),
            parked: Vec::new(),
            rebase: TimestampRebase::default(),
        };
        sender.set_layers(layers)?;
        Ok(sender)
    }

    /// Sends `layers` from now on (a camera sender; a screen share has one
    /// stream at the source's size and ignores this). Layers kept go on
    /// untouched; a new layer starts with a keyframe; a dropped layer stops,
    /// and if it comes back its stream continues its sequence numbers.
    /// Returns whether anything changed.
    pub fn set_layers(&mut self, layers: &[LayerId]) -> Result<bool, MediaError> {
        let Some((participant, base_track)) = self.camera else {
            return Ok(false);
        };
        let mut layers = layers.to_vec();
        layers.sort();
        layers.dedup();
        if layers == self.layers() {
            return Ok(false);
        }
        // Encoders first: if one cannot be made, nothing changes.
        let mut added = Vec::new();
        for &layer in layers.iter().filter(|l| self.ssrc(**l).is_none()) {
            added.push((layer, VideoEncoder::new(VideoEncoderConfig::camera(layer))?));
        }
        let (kept, dropped): (Vec<_>, Vec<_>) = std::mem::take(&mut self.streams)
            .into_iter()
            .partition(|s| layers.contains(&s.layer));
        self.parked
            .extend(dropped.into_iter().map(|s| (s.layer, s.packetizer)));
        self.streams = kept;
        for (layer, encoder) in added {
            let ssrc = ssrc_for(participant, base_track.wrapping_add(layer.as_u8()));
            let packetizer = match self.parked.iter().position(|(l, _)| *l == layer) {
                Some(i) => self.parked.swap_remove(i).1,
                None => FramePacketizer::new(ssrc, PT_H264, Some(layer)),
            };
            self.streams.push(LayerStream {
                layer,
                ssrc,
                size: Some(layer.dimensions()),
                encoder,
                packetizer,
                history: SendHistory::new(DEFAULT_HISTORY_LEN),
            });
        }
        self.streams.sort_by_key(|s| s.layer);
        // The largest layer's packets say so: a router moves receivers of
        // a dropped layer down at once.
        let largest = self.streams.len().saturating_sub(1);
        for (i, s) in self.streams.iter_mut().enumerate() {
            s.packetizer.set_top_layer(i == largest);
        }
        Ok(true)
    }

    /// A screen-share sender on `track`: one stream at the screen's native
    /// resolution in screen-content mode (its descriptor names the lowest layer).
    pub fn screen(participant: ParticipantId, track: u8) -> Result<Self, MediaError> {
        let ssrc = ssrc_for(participant, track);
        Ok(VideoSender {
            streams: vec![LayerStream {
                layer: LayerId::Low,
                ssrc,
                size: None,
                encoder: VideoEncoder::new(VideoEncoderConfig::screen())?,
                packetizer: FramePacketizer::new(ssrc, PT_H264, Some(LayerId::Low)),
                history: SendHistory::new(DEFAULT_HISTORY_LEN),
            }],
            camera: None,
            parked: Vec::new(),
            rebase: TimestampRebase::default(),
        })
    }

    /// The SSRC of `layer`, if it is being sent.
    pub fn ssrc(&self, layer: LayerId) -> Option<u32> {
        self.streams
            .iter()
            .find(|s| s.layer == layer)
            .map(|s| s.ssrc)
    }

    /// Whether one of the streams being sent has `ssrc`.
    pub fn sends(&self, ssrc: u32) -> bool {
        self.streams.iter().any(|s| s.ssrc == ssrc)
    }

    /// The layers being sent, lowest first.
    pub fn layers(&self) -> Vec<LayerId> {
        self.streams.iter().map(|s| s.layer).collect()
    }

    /// Encodes one picture (RTP timestamp at 90 kHz in `frame.timestamp`)
    /// into every layer. The stream's timestamps keep moving forward when
    /// the source's clock restarts (a new source), by an assumed frame
    /// interval; [`Self::encode_at`] uses the real time between pictures.
    pub fn encode(&mut self, frame: &VideoFrame) -> Result<Vec<EncodedVideo>, MediaError> {
        self.encode_with(frame, None)
    }

    /// [`Self::encode`] for a picture captured at `now`: a new source's
    /// first picture follows the last one by the time between them.
    pub fn encode_at(
        &mut self,
        frame: &VideoFrame,
        now: Instant,
    ) -> Result<Vec<EncodedVideo>, MediaError> {
        self.encode_with(frame, Some(now))
    }

    fn encode_with(
        &mut self,
        frame: &VideoFrame,
        now: Option<Instant>,
    ) -> Result<Vec<EncodedVideo>, MediaError> {
        let timestamp = self.rebase.map(frame.timestamp, now);
        let mut out = Vec::with_capacity(self.streams.len());
        for s in &mut self.streams {
            let scaled;
            let input = match s.size {
                Some((w, h)) if (frame.width, frame.height) != (w, h) => {
                    scaled = frame.scaled(w, h);
                    &scaled
                }
                _ => frame,
            };
            if let Some(e) = s.encoder.encode(input)? {
                out.push(EncodedVideo {
                    layer: s.layer,
                    ssrc: s.ssrc,
                    timestamp,
                    keyframe: e.keyframe,
                    annex_b: e.to_annex_b(),
                });
            }
        }
        Ok(out)
    }

    /// Cuts one encoded frame's sealed bytes into packets on its layer's
    /// stream and keeps them for retransmission.
    pub fn packetize(&mut self, encoded: &EncodedVideo, sealed: &[u8]) -> Vec<MediaPacket> {
        let Some(s) = self.streams.iter_mut().find(|s| s.layer == encoded.layer) else {
            return Vec::new();
        };
        let packets = s
            .packetizer
            .packetize(sealed, encoded.timestamp, encoded.keyframe);
        for p in &packets {
            s.history.handle_sent(p.clone());
        }
        packets
    }

    /// Encodes one picture into every layer and packetises it unsealed
    /// (tests and benchmarks).
    pub fn send_frame(&mut self, frame: &VideoFrame) -> Result<Vec<MediaPacket>, MediaError> {
        let mut out = Vec::new();
        for e in self.encode(frame)? {
            out.extend(self.packetize(&e, &e.annex_b));
        }
        Ok(out)
    }

    /// Acts on a receiver's feedback: returns the packets to retransmit for
    /// a NACK; a keyframe request makes that layer's next frame a keyframe.
    pub fn handle_feedback(&mut self, feedback: &Feedback) -> Vec<MediaPacket> {
        match feedback {
            Feedback::KeyframeRequest { media_ssrc, .. } => {
                if let Some(s) = self.streams.iter_mut().find(|s| s.ssrc == *media_ssrc) {
                    s.encoder.request_keyframe();
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
    /// The reassembler's counters (frames, keyframes, broken, skipped).
    pub reassembler: ReassemblerStats,
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
    reassembler: FrameReassembler,
    /// Made at the first [`Self::decode`]: a receiver whose frames are
    /// decoded elsewhere (the desktop app's page decodes with WebCodecs)
    /// never holds one. An OpenH264 decoder takes about 4 MB at once, so a
    /// 10-person meeting spent 30-40 MB on nine unused decoders.
    decoder: Option<VideoDecoder>,
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
            reassembler: FrameReassembler::new(),
            decoder: None,
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
            reassembler: self.reassembler.stats(),
            jitter: self.jitter.stats(),
            ..self.stats
        }
    }

    /// Takes in one received packet.
    pub fn handle_packet(&mut self, now: Instant, packet: MediaPacket) {
        if self.media_ssrc != Some(packet.header.ssrc) {
            self.media_ssrc = Some(packet.header.ssrc);
            self.jitter.reset();
            self.reassembler.reset();
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

    /// The next complete (still sealed) frame, if one is ready at `now`.
    pub fn poll_sealed(&mut self, now: Instant) -> Option<ReassembledFrame> {
        loop {
            if let Some(f) = self.reassembler.poll_frame() {
                return Some(f);
            }
            if self.reassembler.poll_keyframe_request() {
                self.want_keyframe = true;
            }
            match self.jitter.poll_output(now)? {
                JitterOutput::Packet(p) => self.reassembler.handle_packet(&p),
                JitterOutput::Lost { .. } => self.reassembler.handle_loss(),
            }
        }
    }

    /// Decodes one opened frame (Annex B); `None` when the decoder has no
    /// picture for it, or rejected it (then a keyframe is requested).
    pub fn decode(&mut self, timestamp: u32, annex_b: &[u8]) -> Option<VideoFrame> {
        let decoder = match &mut self.decoder {
            Some(decoder) => decoder,
            None => match VideoDecoder::new() {
                Ok(made) => self.decoder.insert(made),
                Err(_) => {
                    // Tried again at the next frame; nothing can be shown.
                    self.stats.decode_errors += 1;
                    return None;
                }
            },
        };
        match decoder.decode_annex_b(annex_b, timestamp) {
            Ok(Some(pic)) => {
                self.stats.decoded += 1;
                Some(pic)
            }
            Ok(None) => None,
            Err(_) => {
                self.stats.decode_errors += 1;
                self.handle_unusable_frame();
                None
            }
        }
    }

    /// The caller could not open a frame: the picture is broken until the
    /// next keyframe.
    pub fn handle_unusable_frame(&mut self) {
        self.reassembler.handle_unusable_frame();
        self.want_keyframe = true;
    }

    /// Whether this receiver has made its decoder (it does at the first
    /// [`Self::decode`]; one that only hands frames on never does).
    pub fn holds_decoder(&self) -> bool {
        self.decoder.is_some()
    }

    /// Whether pictures are being dropped until a keyframe arrives.
    pub fn waiting_for_keyframe(&self) -> bool {
        self.reassembler.waiting_for_keyframe()
    }

    /// The next decoded picture of an unsealed stream, if one is ready at
    /// `now` (tests; a meeting client opens frames between
    /// [`Self::poll_sealed`] and [`Self::decode`]).
    pub fn poll_frame(&mut self, now: Instant) -> Option<VideoFrame> {
        while let Some(f) = self.poll_sealed(now) {
            if let Some(pic) = self.decode(f.timestamp, &f.data) {
                self.frames.push_back(pic);
            }
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
            self.want_keyframe = self.reassembler.waiting_for_keyframe();
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

#[cfg(test)]
mod decoder_tests {
    use super::*;
    use crate::source::PatternSource;

    #[test]
    fn the_decoder_is_made_at_the_first_decode_only() {
        let mut encoder = VideoEncoder::new(VideoEncoderConfig::camera(LayerId::Low)).unwrap();
        let picture = PatternSource::picture(320, 180, 0);
        let unit = encoder.encode(&picture).unwrap().unwrap().to_annex_b();
        let mut receiver = VideoReceiver::new(7).unwrap();
        assert!(!receiver.holds_decoder(), "made before anything to decode");
        let decoded = receiver.decode(0, &unit);
        assert!(receiver.holds_decoder());
        assert_eq!(decoded.map(|p| (p.width, p.height)), Some((320, 180)));
    }
}

#[cfg(test)]
mod sender_tests {
    use super::*;
    use crate::source::PatternSource;

    /// Sends picture `n` and returns (layer, keyframe, first sequence,
    /// timestamp) of each layer's packets.
    fn send(s: &mut VideoSender, n: u64, timestamp: u32) -> Vec<(LayerId, bool, u16, u32)> {
        let mut picture = PatternSource::picture(640, 360, n);
        picture.timestamp = timestamp;
        s.encode(&picture)
            .unwrap()
            .into_iter()
            .map(|e| {
                let packets = s.packetize(&e, &e.annex_b);
                let first = packets.first().unwrap().header.sequence;
                (e.layer, e.keyframe, first, e.timestamp)
            })
            .collect()
    }

    #[test]
    fn layers_change_mid_stream_without_breaking_the_ones_kept() {
        let mut s = VideoSender::new(ParticipantId(1), 1, &[LayerId::Low]).unwrap();
        let low_before: Vec<_> = (0..3).map(|n| send(&mut s, n, n as u32 * 3000)).collect();
        assert!(low_before[0][0].1, "starts with a keyframe");
        // Medium added: Low goes on (no keyframe, next sequence), Medium
        // starts with a keyframe on its own SSRC.
        assert!(s.set_layers(&[LayerId::Medium, LayerId::Low]).unwrap());
        assert!(
            !s.set_layers(&[LayerId::Low, LayerId::Medium]).unwrap(),
            "same set"
        );
        assert_eq!(s.layers(), vec![LayerId::Low, LayerId::Medium]);
        let both = send(&mut s, 3, 9000);
        let next_low = low_before[2][0].2.wrapping_add(1);
        assert_eq!(both[0], (LayerId::Low, false, next_low, 9000));
        assert_eq!((both[1].0, both[1].1), (LayerId::Medium, true));
        assert_eq!(s.ssrc(LayerId::Medium), Some(ssrc_for(ParticipantId(1), 2)));
        let medium_next = both[1].2.wrapping_add(1);
        // Medium dropped, then back: its sequence numbers go on where they
        // stopped, and it restarts at a keyframe.
        assert!(s.set_layers(&[LayerId::Low]).unwrap());
        assert_eq!(send(&mut s, 4, 12000).len(), 1);
        assert_eq!(s.ssrc(LayerId::Medium), None);
        assert!(s.set_layers(&[LayerId::Low, LayerId::Medium]).unwrap());
        let back = send(&mut s, 5, 15000);
        assert_eq!(back[1], (LayerId::Medium, true, medium_next, 15000));
    }

    #[test]
    fn the_largest_layer_sent_is_marked_on_its_packets() {
        let mut s =
            VideoSender::new(ParticipantId(1), 1, &[LayerId::Low, LayerId::Medium]).unwrap();
        let marks = |s: &mut VideoSender, n: u64| -> Vec<(LayerId, bool)> {
            let mut picture = PatternSource::picture(640, 360, n);
            picture.timestamp = n as u32 * 3000;
            let mut out = Vec::new();
            for e in s.encode(&picture).unwrap() {
                for p in s.packetize(&e, &e.annex_b) {
                    let d = p.layer.unwrap();
                    out.push((d.layer, d.top_layer));
                }
            }
            out.dedup();
            out
        };
        assert_eq!(
            marks(&mut s, 0),
            [(LayerId::Low, false), (LayerId::Medium, true)]
        );
        s.set_layers(&[LayerId::Low]).unwrap();
        assert_eq!(marks(&mut s, 1), [(LayerId::Low, true)]);
    }

    #[test]
    fn a_screen_share_keeps_its_one_stream() {
        let mut s = VideoSender::screen(ParticipantId(1), 4).unwrap();
        assert!(!s.set_layers(&LayerId::ALL).unwrap());
        assert_eq!(s.layers(), vec![LayerId::Low]);
    }

    #[test]
    fn a_restarted_source_clock_does_not_take_the_stream_back_in_time() {
        let mut s = VideoSender::new(ParticipantId(1), 1, &[LayerId::Low]).unwrap();
        assert_eq!(send(&mut s, 0, 90_000)[0].3, 90_000);
        assert_eq!(send(&mut s, 1, 93_000)[0].3, 93_000);
        // A new camera: its clock starts at 0 again.
        assert_eq!(send(&mut s, 2, 0)[0].3, 96_000);
        assert_eq!(send(&mut s, 3, 3_000)[0].3, 99_000);
        // A stalled source's long step forward is real time: kept.
        assert_eq!(send(&mut s, 4, 3_000_000)[0].3, 3_096_000);
        // Ordinary steps, and the u32 wrap, pass through unchanged.
        let mut w = VideoSender::new(ParticipantId(1), 1, &[LayerId::Low]).unwrap();
        assert_eq!(send(&mut w, 0, u32::MAX - 999)[0].3, u32::MAX - 999);
        assert_eq!(send(&mut w, 1, 2_000)[0].3, 2_000);
    }

    #[test]
    fn a_new_source_follows_the_last_picture_by_the_time_between_them() {
        let t0 = Instant::now();
        let mut s = VideoSender::new(ParticipantId(1), 1, &[LayerId::Low]).unwrap();
        let at = |s: &mut VideoSender, ts: u32, ms: u64| {
            let mut picture = PatternSource::picture(320, 180, 0);
            picture.timestamp = ts;
            s.encode_at(&picture, t0 + Duration::from_millis(ms))
                .unwrap()[0]
                .timestamp
        };
        assert_eq!(at(&mut s, 450_000, 0), 450_000);
        // The camera was swapped; the new one's first picture came 400 ms
        // (36,000 ticks) later.
        assert_eq!(at(&mut s, 0, 400), 486_000);
        assert_eq!(at(&mut s, 3_000, 433), 489_000);
    }
}
