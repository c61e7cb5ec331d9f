//! RTP for opaque frames: cuts one sealed (SFrame) frame into packets and
//! puts frames back together on the receive side.
//!
//! Every frame is end-to-end sealed before it is packetised (RFC 9605 in the
//! per-frame mode of draft-ietf-avtcore-rtp-sframe), so neither the router
//! nor this code can see codec structure such as H.264 NAL units. A frame is
//! therefore carried as plain chunks of at most [`DEFAULT_MAX_PAYLOAD`]
//! bytes: all chunks share the frame's RTP timestamp, take consecutive
//! sequence numbers, and the last one has the marker bit. Video packets also
//! carry the [`simulcast`](crate::simulcast) layer descriptor in the clear:
//! K (keyframe, from the encoder), S on the first chunk, E on the last, so
//! the router can switch layers at keyframes without opening anything.
//!
//! [`FrameReassembler`] is sans-IO: feed it what the jitter buffer releases
//! (packets in sequence order and declared losses); it hands out complete
//! frames and, after a loss, nothing but a keyframe, raising a keyframe
//! request on the way (the receiver rate-limits what it sends). Sizes are
//! bounded by [`MAX_FRAME_BYTES`] and malformed input is counted, never a
//! panic.

use std::collections::VecDeque;

use confer_wire::rtp::RtpHeader;

use crate::packet::MediaPacket;
use crate::simulcast::{LayerDescriptor, LayerId};

pub use crate::h264_rtp::{DEFAULT_MAX_PAYLOAD, MAX_FRAME_BYTES};

/// Cuts the frames of one RTP stream into packets.
#[derive(Debug, Clone)]
pub struct FramePacketizer {
    /// SSRC of the stream.
    ssrc: u32,
    /// Payload type written on every packet.
    payload_type: u8,
    /// The simulcast layer for the descriptor; `None` sends no descriptor.
    layer: Option<LayerId>,
    /// Next sequence number.
    sequence: u16,
    /// Largest payload per packet.
    max_payload: usize,
    /// Whether the layer is the largest its sender sends now (the
    /// descriptor's `T` bit).
    top_layer: bool,
}

impl FramePacketizer {
    /// A packetiser for stream `ssrc`; video streams name their `layer` so
    /// every packet carries the descriptor.
    pub fn new(ssrc: u32, payload_type: u8, layer: Option<LayerId>) -> Self {
        FramePacketizer {
            ssrc,
            payload_type,
            layer,
            sequence: 0,
            max_payload: DEFAULT_MAX_PAYLOAD,
            top_layer: true,
        }
    }

    /// Marks (or no longer marks) this stream's layer as the largest its
    /// sender sends; a new packetiser is the largest, being alone.
    pub fn set_top_layer(&mut self, top: bool) {
        self.top_layer = top;
    }

    /// Changes the largest payload (at least 1 byte).
    pub fn set_max_payload(&mut self, max_payload: usize) {
        self.max_payload = max_payload.max(1);
    }

    /// The sequence number the next packet will take.
    pub fn next_sequence(&self) -> u16 {
        self.sequence
    }

    /// Cuts `frame` (already sealed) into packets with RTP timestamp
    /// `timestamp`. An empty frame gives no packets.
    pub fn packetize(&mut self, frame: &[u8], timestamp: u32, keyframe: bool) -> Vec<MediaPacket> {
        let count = frame.len().div_ceil(self.max_payload);
        frame
            .chunks(self.max_payload)
            .enumerate()
            .map(|(i, chunk)| {
                let last = i + 1 == count;
                let header = RtpHeader {
                    marker: last,
                    payload_type: self.payload_type,
                    sequence: self.sequence,
                    timestamp,
                    ssrc: self.ssrc,
                };
                self.sequence = self.sequence.wrapping_add(1);
                MediaPacket {
                    header,
                    layer: self.layer.map(|layer| LayerDescriptor {
                        layer,
                        keyframe,
                        start_of_frame: i == 0,
                        end_of_frame: last,
                        top_layer: self.top_layer,
                    }),
                    payload: chunk.to_vec(),
                }
            })
            .collect()
    }
}

/// A frame put back together, still sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReassembledFrame {
    /// RTP timestamp of the frame.
    pub timestamp: u32,
    /// SSRC of the stream it came on.
    pub ssrc: u32,
    /// Whether the sender marked it a keyframe.
    pub keyframe: bool,
    /// The frame's bytes (sealed).
    pub data: Vec<u8>,
}

/// Counters kept by the reassembler.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReassemblerStats {
    /// Frames handed out.
    pub frames: u64,
    /// Keyframes among them.
    pub keyframes: u64,
    /// Frames dropped because a packet of theirs was lost, missing or too big.
    pub broken_frames: u64,
    /// Whole frames dropped while waiting for a keyframe.
    pub skipped_frames: u64,
}

/// A frame being assembled.
#[derive(Debug, Clone)]
struct Assembly {
    timestamp: u32,
    ssrc: u32,
    keyframe: bool,
    data: Vec<u8>,
    /// Every packet so far arrived, in order.
    clean: bool,
}

/// Puts sealed frames back together from in-order packets and losses
/// (sans-IO; see the module docs).
#[derive(Debug, Clone)]
pub struct FrameReassembler {
    current: Option<Assembly>,
    /// Set after a loss until a keyframe is handed out: every frame is a
    /// reference for the next, so the chain is broken.
    need_keyframe: bool,
    /// Set when a keyframe should be requested from the sender.
    request_keyframe: bool,
    /// Completed frames not yet taken.
    ready: VecDeque<ReassembledFrame>,
    /// Largest frame held.
    max_frame_bytes: usize,
    stats: ReassemblerStats,
}

impl Default for FrameReassembler {
    fn default() -> Self {
        Self::new()
    }
}

/// Most completed frames kept untaken; a caller that never polls cannot make
/// the queue grow without bound.
const MAX_READY: usize = 64;

impl FrameReassembler {
    /// A reassembler that waits for a keyframe first.
    pub fn new() -> Self {
        FrameReassembler {
            current: None,
            need_keyframe: true,
            request_keyframe: false,
            ready: VecDeque::new(),
            max_frame_bytes: MAX_FRAME_BYTES,
            stats: ReassemblerStats::default(),
        }
    }

    /// Changes the largest frame held (a frame growing past it is dropped).
    pub fn set_max_frame_bytes(&mut self, max: usize) {
        self.max_frame_bytes = max;
    }

    /// Counters so far.
    pub fn stats(&self) -> ReassemblerStats {
        self.stats
    }

    /// A packet of this stream, in sequence order.
    pub fn handle_packet(&mut self, packet: &MediaPacket) {
        let ts = packet.header.timestamp;
        // Without a descriptor (audio-like streams) a frame starts after the
        // previous marker.
        let (start, end, keyframe) = match packet.layer {
            Some(d) => (
                d.start_of_frame,
                d.end_of_frame || packet.header.marker,
                d.keyframe,
            ),
            None => (self.current.is_none(), packet.header.marker, false),
        };
        if start {
            if self.current.is_some() {
                // The previous frame never saw its end: it lost its tail.
                self.discard_current();
            }
            self.current = Some(Assembly {
                timestamp: ts,
                ssrc: packet.header.ssrc,
                keyframe,
                data: Vec::new(),
                clean: true,
            });
        }
        let Some(current) = self.current.as_mut() else {
            // A middle or end without its start: the start was lost (or the
            // frame was already dropped, and counted, as too big).
            self.mark_broken();
            return;
        };
        if current.timestamp != ts || current.ssrc != packet.header.ssrc {
            self.discard_current();
            self.mark_broken();
            return;
        }
        if current.data.len() + packet.payload.len() > self.max_frame_bytes {
            self.discard_current();
            return;
        }
        current.data.extend_from_slice(&packet.payload);
        if end {
            self.finish_current();
        }
    }

    /// A sequence number the jitter buffer declared lost.
    pub fn handle_loss(&mut self) {
        if let Some(current) = self.current.as_mut() {
            current.clean = false;
        }
        // The lost packet belonged to some frame, and every frame is a
        // reference: nothing decodes cleanly until the next keyframe.
        self.mark_broken();
    }

    /// The next complete frame.
    pub fn poll_frame(&mut self) -> Option<ReassembledFrame> {
        self.ready.pop_front()
    }

    /// Whether a frame broke since the last call, so the sender should send
    /// a keyframe.
    pub fn poll_keyframe_request(&mut self) -> bool {
        std::mem::take(&mut self.request_keyframe)
    }

    /// Whether frames are being dropped until a keyframe.
    pub fn waiting_for_keyframe(&self) -> bool {
        self.need_keyframe
    }

    /// The stream restarted (a new SSRC): forget the frame in progress and
    /// wait for a keyframe.
    pub fn reset(&mut self) {
        self.current = None;
        self.need_keyframe = true;
    }

    /// The caller could not use the last frame (it did not open or decode):
    /// wait for a keyframe and ask for one.
    pub fn handle_unusable_frame(&mut self) {
        self.mark_broken();
    }

    fn finish_current(&mut self) {
        let Some(a) = self.current.take() else {
            return;
        };
        if !a.clean {
            self.stats.broken_frames += 1;
            self.mark_broken();
            return;
        }
        if self.need_keyframe && !a.keyframe {
            self.stats.skipped_frames += 1;
            self.request_keyframe = true;
            return;
        }
        self.need_keyframe = false;
        self.stats.frames += 1;
        self.stats.keyframes += u64::from(a.keyframe);
        if self.ready.len() == MAX_READY {
            self.ready.pop_front();
        }
        self.ready.push_back(ReassembledFrame {
            timestamp: a.timestamp,
            ssrc: a.ssrc,
            keyframe: a.keyframe,
            data: a.data,
        });
    }

    fn discard_current(&mut self) {
        if self.current.take().is_some() {
            self.stats.broken_frames += 1;
            self.mark_broken();
        }
    }

    fn mark_broken(&mut self) {
        self.request_keyframe = true;
        self.need_keyframe = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::PT_H264;

    fn frame(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31) ^ seed)
            .collect()
    }

    #[test]
    fn splits_into_bounded_chunks_with_descriptor_and_marker() {
        let mut p = FramePacketizer::new(0x0101, PT_H264, Some(LayerId::Medium));
        let f = frame(2 * DEFAULT_MAX_PAYLOAD + 10, 1);
        let packets = p.packetize(&f, 9000, true);
        assert_eq!(packets.len(), 3);
        for (i, pk) in packets.iter().enumerate() {
            assert!(pk.payload.len() <= DEFAULT_MAX_PAYLOAD);
            assert_eq!(pk.header.sequence, i as u16);
            assert_eq!(pk.header.timestamp, 9000);
            assert_eq!(pk.header.marker, i == 2);
            let d = pk.layer.unwrap();
            assert_eq!(d.layer, LayerId::Medium);
            assert!(d.keyframe);
            assert_eq!((d.start_of_frame, d.end_of_frame), (i == 0, i == 2));
            // The descriptor survives the wire.
            let parsed = MediaPacket::parse(&pk.to_bytes()).unwrap();
            assert_eq!(&parsed, pk);
        }
        assert!(p.packetize(&[], 0, false).is_empty());
        assert_eq!(p.next_sequence(), 3);
    }

    #[test]
    fn reassembles_in_order_frames() {
        let mut p = FramePacketizer::new(7, PT_H264, Some(LayerId::Low));
        let mut r = FrameReassembler::new();
        let key = frame(3000, 2);
        let delta = frame(500, 3);
        for pk in p.packetize(&key, 0, true) {
            r.handle_packet(&pk);
        }
        for pk in p.packetize(&delta, 3000, false) {
            r.handle_packet(&pk);
        }
        let a = r.poll_frame().unwrap();
        assert_eq!((a.timestamp, a.keyframe, a.ssrc), (0, true, 7));
        assert_eq!(a.data, key);
        let b = r.poll_frame().unwrap();
        assert_eq!((b.timestamp, b.keyframe), (3000, false));
        assert_eq!(b.data, delta);
        assert_eq!(r.stats().keyframes, 1);
        assert!(!r.poll_keyframe_request());
    }

    #[test]
    fn waits_for_a_keyframe_first_and_after_a_loss() {
        let mut p = FramePacketizer::new(7, PT_H264, Some(LayerId::Low));
        let mut r = FrameReassembler::new();
        for pk in p.packetize(&frame(100, 1), 0, false) {
            r.handle_packet(&pk);
        }
        assert!(r.poll_frame().is_none());
        assert!(r.poll_keyframe_request());
        for pk in p.packetize(&frame(2500, 1), 3000, true) {
            r.handle_packet(&pk);
        }
        assert!(r.poll_frame().is_some());
        // Lose the middle chunk of the next frame.
        let packets = p.packetize(&frame(2500, 4), 6000, false);
        r.handle_packet(&packets[0]);
        r.handle_loss();
        r.handle_packet(&packets[2]);
        assert!(r.poll_frame().is_none());
        assert!(r.poll_keyframe_request());
        assert!(r.waiting_for_keyframe());
        // Deltas are skipped; the next keyframe recovers.
        for pk in p.packetize(&frame(300, 5), 9000, false) {
            r.handle_packet(&pk);
        }
        assert!(r.poll_frame().is_none());
        for pk in p.packetize(&frame(300, 6), 12000, true) {
            r.handle_packet(&pk);
        }
        assert_eq!(r.poll_frame().unwrap().timestamp, 12000);
        assert!(!r.waiting_for_keyframe());
        let s = r.stats();
        assert_eq!((s.broken_frames, s.skipped_frames), (1, 2));
    }

    #[test]
    fn a_lost_start_or_a_missing_end_breaks_the_frame() {
        let mut p = FramePacketizer::new(7, PT_H264, Some(LayerId::Low));
        let mut r = FrameReassembler::new();
        let a = p.packetize(&frame(2500, 1), 0, true);
        // Start missing: middle and end arrive alone.
        r.handle_packet(&a[1]);
        r.handle_packet(&a[2]);
        assert!(r.poll_frame().is_none());
        // End missing: the next frame's start discards it.
        let b = p.packetize(&frame(2500, 2), 3000, true);
        r.handle_packet(&b[0]);
        r.handle_packet(&b[1]);
        let c = p.packetize(&frame(10, 3), 6000, true);
        r.handle_packet(&c[0]);
        let got = r.poll_frame().unwrap();
        assert_eq!(got.timestamp, 6000);
        assert_eq!(r.stats().broken_frames, 1);
    }

    #[test]
    fn oversized_frames_are_dropped() {
        let mut p = FramePacketizer::new(7, PT_H264, Some(LayerId::Low));
        let mut r = FrameReassembler::new();
        r.set_max_frame_bytes(1000);
        for pk in p.packetize(&frame(5000, 1), 0, true) {
            r.handle_packet(&pk);
        }
        assert!(r.poll_frame().is_none());
        assert_eq!(r.stats().broken_frames, 1);
    }

    #[test]
    fn hostile_packets_never_panic() {
        let mut r = FrameReassembler::new();
        let mut state = 0x1234_5678u32;
        for i in 0..5000u32 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let bytes: Vec<u8> = (0..(state % 40))
                .map(|k| (state >> (k % 24)) as u8)
                .collect();
            let mut b = vec![
                0x90,
                102,
                (i >> 8) as u8,
                i as u8,
                0,
                0,
                0,
                (state & 3) as u8,
            ];
            b.extend_from_slice(&[0, 0, 1, 7, 0xBE, 0xDE, 0, 1, 0x10, (state >> 8) as u8, 0, 0]);
            b.extend_from_slice(&bytes);
            if let Ok(p) = MediaPacket::parse(&b) {
                r.handle_packet(&p);
            }
            if state.is_multiple_of(7) {
                r.handle_loss();
            }
            while r.poll_frame().is_some() {}
        }
    }
}
