//! H.264 over RTP (RFC 6184, packetization-mode 1): the packetiser that cuts
//! an encoded frame into packets and the depacketiser that puts frames back
//! together and notices loss.
//!
//! Packets are single NAL units when a NAL fits, STAP-A aggregates of
//! consecutive small NALs (SPS and PPS before an IDR slice), and FU-A
//! fragments of larger ones. Payloads stay under [`DEFAULT_MAX_PAYLOAD`]
//! bytes, leaving room in a 1,500-byte datagram for IP/UDP/QUIC, the RTP
//! header with its layer extension, and SFrame's header and tag.

use confer_wire::rtp::RtpHeader;

use crate::packet::{MediaPacket, PT_H264};
use crate::simulcast::{LayerDescriptor, LayerId};

/// Default largest RTP payload.
pub const DEFAULT_MAX_PAYLOAD: usize = 1100;

/// NAL unit type of an IDR slice.
pub const NAL_IDR: u8 = 5;
/// NAL unit type of a sequence parameter set.
pub const NAL_SPS: u8 = 7;
/// Largest access unit assembled; a stream that never ends its frame (or a
/// hostile one) cannot make the depacketiser hold more than this.
pub const MAX_FRAME_BYTES: usize = 4 << 20;

/// RFC 6184 aggregation packet type.
const STAP_A: u8 = 24;
/// RFC 6184 fragmentation unit type.
const FU_A: u8 = 28;

/// Whether an access unit (NALs without start codes) holds an IDR slice.
pub fn is_keyframe(nals: &[Vec<u8>]) -> bool {
    nals.iter()
        .any(|n| n.first().is_some_and(|b| b & 0x1f == NAL_IDR))
}

/// Splits an Annex B byte stream into NAL units without start codes.
pub fn split_annex_b(stream: &[u8]) -> Vec<Vec<u8>> {
    openh264::nal_units(stream)
        .map(|n| {
            let skip = n.iter().position(|b| *b == 1).map_or(0, |i| i + 1);
            n[skip..].to_vec()
        })
        .filter(|n| !n.is_empty())
        .collect()
}

/// Joins NAL units into an Annex B byte stream (4-byte start codes).
pub fn join_annex_b(nals: &[Vec<u8>], out: &mut Vec<u8>) {
    for n in nals {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(n);
    }
}

/// Cuts encoded frames of one RTP stream into packets.
#[derive(Debug, Clone)]
pub struct H264Packetizer {
    /// SSRC of the stream.
    ssrc: u32,
    /// Next sequence number.
    sequence: u16,
    /// Layer stamped on each packet's descriptor.
    layer: LayerId,
    /// Largest payload.
    max_payload: usize,
}

impl H264Packetizer {
    /// A packetiser for stream `ssrc` carrying simulcast layer `layer`.
    pub fn new(ssrc: u32, layer: LayerId) -> Self {
        H264Packetizer {
            ssrc,
            sequence: 0,
            layer,
            max_payload: DEFAULT_MAX_PAYLOAD,
        }
    }

    /// Sets the largest payload (at least 64 bytes).
    pub fn set_max_payload(&mut self, max_payload: usize) {
        self.max_payload = max_payload.max(64);
    }

    /// The packets of one access unit with RTP timestamp `timestamp`.
    pub fn packetize(&mut self, nals: &[Vec<u8>], timestamp: u32) -> Vec<MediaPacket> {
        let keyframe = is_keyframe(nals);
        let mut payloads: Vec<Vec<u8>> = Vec::new();
        let mut i = 0;
        while i < nals.len() {
            let nal = &nals[i];
            if nal.is_empty() {
                i += 1;
                continue;
            }
            // Aggregate this and following small NALs if more than one fits.
            let mut size = 1 + 2 + nal.len();
            let mut j = i + 1;
            while j < nals.len()
                && !nals[j].is_empty()
                && size + 2 + nals[j].len() <= self.max_payload
            {
                size += 2 + nals[j].len();
                j += 1;
            }
            if j > i + 1 {
                let nri = nals[i..j].iter().map(|n| n[0] & 0x60).max().unwrap_or(0);
                let mut p = Vec::with_capacity(size);
                p.push(nri | STAP_A);
                for n in &nals[i..j] {
                    p.extend_from_slice(&(n.len() as u16).to_be_bytes());
                    p.extend_from_slice(n);
                }
                payloads.push(p);
                i = j;
                continue;
            }
            if nal.len() <= self.max_payload {
                payloads.push(nal.clone());
            } else {
                let header = nal[0];
                let body = &nal[1..];
                let chunk = self.max_payload - 2;
                let count = body.len().div_ceil(chunk);
                for (k, part) in body.chunks(chunk).enumerate() {
                    let mut p = Vec::with_capacity(2 + part.len());
                    p.push((header & 0xe0) | FU_A);
                    let start = u8::from(k == 0) << 7;
                    let end = u8::from(k + 1 == count) << 6;
                    p.push(start | end | (header & 0x1f));
                    p.extend_from_slice(part);
                    payloads.push(p);
                }
            }
            i += 1;
        }
        let last = payloads.len().saturating_sub(1);
        payloads
            .into_iter()
            .enumerate()
            .map(|(k, payload)| {
                let header = RtpHeader {
                    marker: k == last,
                    payload_type: PT_H264,
                    sequence: self.sequence,
                    timestamp,
                    ssrc: self.ssrc,
                };
                self.sequence = self.sequence.wrapping_add(1);
                MediaPacket {
                    header,
                    layer: Some(LayerDescriptor {
                        layer: self.layer,
                        keyframe,
                        start_of_frame: k == 0,
                        end_of_frame: k == last,
                        // One stream on its own: unmarked, judged by time.
                        top_layer: false,
                    }),
                    payload,
                }
            })
            .collect()
    }
}

/// A frame put back together by the depacketiser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepacketizedFrame {
    /// RTP timestamp of the frame.
    pub timestamp: u32,
    /// Its NAL units, without start codes.
    pub nals: Vec<Vec<u8>>,
    /// Whether it holds an IDR slice.
    pub keyframe: bool,
}

/// Counters kept by the depacketiser.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DepacketizerStats {
    /// Frames handed out.
    pub frames: u64,
    /// Frames dropped because a packet of theirs was lost or malformed.
    pub broken_frames: u64,
    /// Whole frames dropped while waiting for a keyframe.
    pub skipped_frames: u64,
}

/// Puts frames back together from in-order packets and losses (sans-IO).
///
/// Feed it what the jitter buffer releases: [`Self::handle_packet`] and
/// [`Self::handle_loss`]; take frames with [`Self::poll_frame`]. After a loss
/// the reference chain is broken, so it hands out nothing until a complete
/// keyframe and raises [`Self::poll_keyframe_request`] (the caller rate-limits what it sends).
#[derive(Debug, Clone)]
pub struct H264Depacketizer {
    /// Timestamp of the frame being assembled.
    current_ts: Option<u32>,
    /// NALs of the frame being assembled.
    nals: Vec<Vec<u8>>,
    /// Whether every packet of the current frame so far arrived intact.
    clean: bool,
    /// A FU-A NAL in progress.
    fragment: Option<Vec<u8>>,
    /// Set after a loss until a keyframe is handed out.
    need_keyframe: bool,
    /// Set when a keyframe should be requested from the sender.
    request_keyframe: bool,
    /// Completed frames not yet taken.
    ready: Vec<DepacketizedFrame>,
    stats: DepacketizerStats,
}

impl Default for H264Depacketizer {
    fn default() -> Self {
        Self::new()
    }
}

impl H264Depacketizer {
    /// A depacketiser that waits for a keyframe first.
    pub fn new() -> Self {
        H264Depacketizer {
            current_ts: None,
            nals: Vec::new(),
            clean: true,
            fragment: None,
            need_keyframe: true,
            request_keyframe: false,
            ready: Vec::new(),
            stats: DepacketizerStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> DepacketizerStats {
        self.stats
    }

    /// A packet of this stream, in sequence order.
    pub fn handle_packet(&mut self, packet: &MediaPacket) {
        let ts = packet.header.timestamp;
        if self.current_ts.is_some_and(|c| c != ts) {
            // The previous frame never saw its marker: it lost its tail.
            self.discard_current();
        }
        self.current_ts = Some(ts);
        if !self.unpack(&packet.payload) {
            self.clean = false;
        }
        let held: usize = self.nals.iter().map(Vec::len).sum::<usize>()
            + self.fragment.as_ref().map_or(0, Vec::len);
        if held > MAX_FRAME_BYTES {
            self.discard_current();
            return;
        }
        if packet.header.marker {
            self.finish_frame(ts);
        }
    }

    /// A sequence number the jitter buffer declared lost.
    pub fn handle_loss(&mut self) {
        self.clean = false;
        self.fragment = None;
    }

    /// The next complete, decodable frame.
    pub fn poll_frame(&mut self) -> Option<DepacketizedFrame> {
        if self.ready.is_empty() {
            None
        } else {
            Some(self.ready.remove(0))
        }
    }

    /// Whether a frame broke since the last call, so the sender should send a keyframe.
    pub fn poll_keyframe_request(&mut self) -> bool {
        std::mem::take(&mut self.request_keyframe)
    }

    /// Whether frames are being dropped until a keyframe.
    pub fn waiting_for_keyframe(&self) -> bool {
        self.need_keyframe
    }

    fn discard_current(&mut self) {
        if !self.nals.is_empty() || self.fragment.is_some() {
            self.stats.broken_frames += 1;
            self.mark_broken();
        }
        self.nals.clear();
        self.fragment = None;
        self.current_ts = None;
        self.clean = true;
    }

    fn mark_broken(&mut self) {
        // The receiver rate-limits the requests it sends.
        self.request_keyframe = true;
        self.need_keyframe = true;
    }

    fn finish_frame(&mut self, ts: u32) {
        let nals = std::mem::take(&mut self.nals);
        let clean = self.clean && self.fragment.is_none();
        self.fragment = None;
        self.clean = true;
        self.current_ts = None;
        if !clean || nals.is_empty() {
            self.stats.broken_frames += 1;
            self.mark_broken();
            return;
        }
        let keyframe = is_keyframe(&nals);
        if self.need_keyframe && !keyframe {
            self.stats.skipped_frames += 1;
            return;
        }
        self.need_keyframe = false;
        self.stats.frames += 1;
        self.ready.push(DepacketizedFrame {
            timestamp: ts,
            nals,
            keyframe,
        });
    }

    /// Adds a payload's NALs to the current frame; false if malformed.
    fn unpack(&mut self, payload: &[u8]) -> bool {
        let Some(&first) = payload.first() else {
            return false;
        };
        match first & 0x1f {
            0 | 30 | 31 => false,
            STAP_A => {
                let mut rest = &payload[1..];
                while !rest.is_empty() {
                    let Some(len) = rest
                        .get(..2)
                        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
                    else {
                        return false;
                    };
                    let Some(nal) = rest.get(2..2 + len) else {
                        return false;
                    };
                    if nal.is_empty() {
                        return false;
                    }
                    self.nals.push(nal.to_vec());
                    rest = &rest[2 + len..];
                }
                true
            }
            FU_A => {
                let Some(&fu) = payload.get(1) else {
                    return false;
                };
                let start = fu & 0x80 != 0;
                let end = fu & 0x40 != 0;
                if start {
                    if self.fragment.is_some() {
                        return false;
                    }
                    self.fragment = Some(vec![(first & 0xe0) | (fu & 0x1f)]);
                }
                let Some(nal) = self.fragment.as_mut() else {
                    // A middle fragment whose start was lost.
                    return false;
                };
                nal.extend_from_slice(&payload[2..]);
                if end && let Some(nal) = self.fragment.take() {
                    self.nals.push(nal);
                }
                true
            }
            25..=29 => false, // STAP-B, MTAP, FU-B: not used in mode 1 by us
            _ => {
                self.nals.push(payload.to_vec());
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nal(kind: u8, len: usize) -> Vec<u8> {
        let mut n = vec![0x60 | kind];
        n.extend((0..len - 1).map(|i| i as u8));
        n
    }

    fn frame(ts_index: u32, key: bool) -> Vec<Vec<u8>> {
        if key {
            vec![nal(7, 12), nal(8, 4), nal(5, 5000)]
        } else {
            vec![nal(1, 300 + ts_index as usize)]
        }
    }

    #[test]
    fn round_trips_single_stap_a_and_fu_a() {
        let mut p = H264Packetizer::new(5, LayerId::High);
        let key = frame(0, true);
        let packets = p.packetize(&key, 0);
        // STAP-A (SPS+PPS) + 5 FU-A fragments of the 5000-byte IDR.
        assert_eq!(packets.len(), 1 + 5);
        assert_eq!(packets[0].payload[0] & 0x1f, STAP_A);
        assert!(
            packets
                .iter()
                .all(|q| q.payload.len() <= DEFAULT_MAX_PAYLOAD)
        );
        assert!(packets.iter().all(|q| q.layer.is_some_and(|d| d.keyframe)));
        assert!(packets.last().is_some_and(|q| q.header.marker));
        let small = p.packetize(&frame(1, false), 3000);
        assert_eq!(small.len(), 1);
        let mut d = H264Depacketizer::new();
        for q in packets.iter().chain(&small) {
            d.handle_packet(q);
        }
        let f0 = d.poll_frame().unwrap();
        assert!(f0.keyframe);
        assert_eq!(f0.nals, key);
        assert_eq!(d.poll_frame().unwrap().nals, frame(1, false));
        assert!(!d.poll_keyframe_request());
    }

    #[test]
    fn a_loss_drops_frames_until_the_next_keyframe_and_asks_for_one() {
        let mut p = H264Packetizer::new(5, LayerId::Low);
        let mut d = H264Depacketizer::new();
        let frames: Vec<Vec<MediaPacket>> = (0..6)
            .map(|i| p.packetize(&frame(i, i == 0 || i == 4), i * 3000))
            .collect();
        for (i, f) in frames.iter().enumerate() {
            for (k, q) in f.iter().enumerate() {
                if i == 1 && k == 0 {
                    d.handle_loss();
                } else {
                    d.handle_packet(q);
                }
            }
        }
        let got: Vec<u32> = std::iter::from_fn(|| d.poll_frame())
            .map(|f| f.timestamp / 3000)
            .collect();
        assert_eq!(got, vec![0, 4, 5]);
        assert!(d.poll_keyframe_request());
        assert!(!d.poll_keyframe_request());
        let s = d.stats();
        // Frame 1 vanished whole; frame 2 is counted broken (the loss might
        // have been its first packet), frame 3 skipped waiting for frame 4.
        assert_eq!((s.frames, s.broken_frames, s.skipped_frames), (3, 1, 1));
    }

    #[test]
    fn malformed_payloads_break_the_frame_without_panicking() {
        let junk: [&[u8]; 7] = [
            &[],
            &[0x00],
            &[0x78],
            &[0x78, 0x00, 0x09, 0x67],
            &[0x7c],
            &[0x7c, 0x05, 1, 2],
            &[0x7c, 0x45],
        ];
        for payload in junk {
            let mut d = H264Depacketizer::new();
            let q = MediaPacket {
                header: RtpHeader {
                    marker: true,
                    payload_type: PT_H264,
                    sequence: 0,
                    timestamp: 0,
                    ssrc: 1,
                },
                layer: None,
                payload: payload.to_vec(),
            };
            d.handle_packet(&q);
            // Either dropped as broken or (for a complete FU) a non-key frame skipped.
            assert!(d.poll_frame().is_none(), "{payload:?}");
        }
    }
}
