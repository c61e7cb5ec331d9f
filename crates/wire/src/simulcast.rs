//! Simulcast layers: the descriptor a sender puts on every video packet and
//! the selector a router uses to forward one layer per receiver.
//!
//! It lives in the wire crate because both ends use it: the media engine
//! (`confer-media`, which re-exports it as `confer_media::simulcast`) writes
//! the descriptor, and the router reads it and runs one [`LayerSelector`] per
//! (receiver, sender). It depends on nothing but `std`. The router cannot
//! read the payload (it is SFrame-sealed), so everything it needs sits in
//! the clear RTP header as an RFC 8285 one-byte header extension.
//!
//! # The layer descriptor on the wire
//!
//! Every video RTP packet carries the extension block (8 bytes, after the
//! 12-byte fixed header, X bit set):
//!
//! ```text
//!  0xBE 0xDE 0x00 0x01   one-byte-form profile, length = 1 word
//!  0x10                 element id 1 (LAYER_EXTENSION_ID), length field 0 = 1 byte of data
//!  K S E T 0 0 L L      the descriptor byte
//!  0x00 0x00            padding to the word boundary
//! ```
//!
//! - `K` (0x80): the packet belongs to a keyframe (an IDR access unit, with
//!   SPS and PPS); a receiver can start decoding this layer here.
//! - `S` (0x40): the first packet of a frame.
//! - `E` (0x20): the last packet of a frame (same as the RTP marker bit).
//! - `T` (0x10): this layer is the largest the sender sends now. When a
//!   sender drops its larger layers (a lower quality, a smaller camera),
//!   its next packets say so at once, and receivers of a dropped layer are
//!   moved down without waiting [`LAYER_GONE_AFTER`]. Senders that leave it
//!   0 are judged by time alone.
//! - `LL` (0x03): the layer id: 0 = 320×180, 1 = 640×360, 2 = 1280×720.
//!
//! Each layer is its own RTP stream: its own SSRC
//! (`ssrc_for(participant, track::VIDEO_BASE + layer)`, see [`crate::ids`]), sequence numbers and
//! timestamps, so a receiver sees a normal stream whichever layer it gets.
//!
//! # The selector
//!
//! [`LayerSelector`] is the per-(receiver, sender) state machine: told which
//! layer the receiver wants, it forwards packets of the current layer only
//! and switches to the requested one only at a keyframe's first packet, so a
//! receiver never gets a frame it cannot decode. While a switch waits it asks
//! (once per [`KEYFRAME_REQUEST_INTERVAL`]) for a keyframe of the wanted layer.

use std::time::{Duration, Instant};

/// The RFC 8285 element id of the layer descriptor.
pub const LAYER_EXTENSION_ID: u8 = 1;

/// The RFC 8285 one-byte-form profile marker.
pub const ONE_BYTE_PROFILE: u16 = 0xBEDE;

/// Bytes the extension block adds after the fixed RTP header.
pub const LAYER_EXTENSION_LEN: usize = 8;

/// How often a waiting selector asks again for a keyframe.
pub const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);

/// How long after its last packet a layer still counts as sent. Senders
/// send every layer they have at least a few times a second, so a layer
/// silent this long has stopped (a smaller camera, less bandwidth).
pub const LAYER_GONE_AFTER: Duration = Duration::from_secs(2);

/// How long a selector watches a sender before serving another layer than
/// the one asked for: a frame's layers arrive one after another, and the
/// first packets alone do not say which layers the sender has.
pub const LAYER_DISCOVERY: Duration = Duration::from_millis(500);

/// A simulcast layer, lowest resolution first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LayerId {
    /// 320×180.
    Low = 0,
    /// 640×360.
    Medium = 1,
    /// 1280×720.
    High = 2,
}

impl LayerId {
    /// All layers, lowest first.
    pub const ALL: [LayerId; 3] = [LayerId::Low, LayerId::Medium, LayerId::High];

    /// The layer with wire value `v` (0..=2).
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(LayerId::Low),
            1 => Some(LayerId::Medium),
            2 => Some(LayerId::High),
            _ => None,
        }
    }

    /// The wire value of this layer.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// The picture size of this layer for a 16:9 1280×720 source.
    pub fn dimensions(self) -> (u32, u32) {
        match self {
            LayerId::Low => (320, 180),
            LayerId::Medium => (640, 360),
            LayerId::High => (1280, 720),
        }
    }
}

/// What the descriptor byte says about one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerDescriptor {
    /// Which layer the packet belongs to.
    pub layer: LayerId,
    /// The packet belongs to a keyframe.
    pub keyframe: bool,
    /// The packet is the first of its frame.
    pub start_of_frame: bool,
    /// The packet is the last of its frame.
    pub end_of_frame: bool,
    /// The packet's layer is the largest its sender sends now.
    pub top_layer: bool,
}

impl LayerDescriptor {
    /// The descriptor byte.
    pub fn to_byte(self) -> u8 {
        (u8::from(self.keyframe) << 7)
            | (u8::from(self.start_of_frame) << 6)
            | (u8::from(self.end_of_frame) << 5)
            | (u8::from(self.top_layer) << 4)
            | self.layer.as_u8()
    }

    /// Parses the descriptor byte; `None` if the layer bits are 3.
    pub fn from_byte(b: u8) -> Option<Self> {
        Some(LayerDescriptor {
            layer: LayerId::from_u8(b & 0x03)?,
            keyframe: b & 0x80 != 0,
            start_of_frame: b & 0x40 != 0,
            end_of_frame: b & 0x20 != 0,
            top_layer: b & 0x10 != 0,
        })
    }

    /// The 8-byte header extension block carrying this descriptor.
    pub fn extension_block(self) -> [u8; LAYER_EXTENSION_LEN] {
        [
            0xBE,
            0xDE,
            0x00,
            0x01,
            LAYER_EXTENSION_ID << 4,
            self.to_byte(),
            0,
            0,
        ]
    }

    /// Finds the descriptor in a whole RTP packet's header extension.
    ///
    /// Returns `None` for anything that is not an RTP packet with a
    /// well-formed one-byte-form extension holding element
    /// [`LAYER_EXTENSION_ID`]; it never panics on malformed bytes.
    pub fn find_in_rtp(packet: &[u8]) -> Option<Self> {
        let first = *packet.first()?;
        if first >> 6 != 2 || first & 0x10 == 0 {
            return None;
        }
        let ext_start = 12 + 4 * usize::from(first & 0x0f);
        let head = packet.get(ext_start..ext_start + 4)?;
        if u16::from_be_bytes([head[0], head[1]]) != ONE_BYTE_PROFILE {
            return None;
        }
        let words = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let body = packet.get(ext_start + 4..ext_start + 4 + 4 * words)?;
        let mut i = 0;
        while i < body.len() {
            let b = body[i];
            if b == 0 {
                // Padding between elements.
                i += 1;
                continue;
            }
            let id = b >> 4;
            let len = usize::from(b & 0x0f) + 1;
            if id == 15 {
                // Reserved: stop parsing (RFC 8285 §4.2).
                return None;
            }
            let data = body.get(i + 1..i + 1 + len)?;
            if id == LAYER_EXTENSION_ID && len == 1 {
                return Self::from_byte(data[0]);
            }
            i += 1 + len;
        }
        None
    }
}

/// What the selector decided for one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forwarding {
    /// Send the packet to this receiver.
    Forward,
    /// Do not send it.
    Drop,
}

/// Per-receiver, per-sender simulcast layer selection (sans-IO).
///
/// Driving contract: call [`Self::request_layer`] when the receiver (or
/// bandwidth estimate) changes its wish, [`Self::handle_packet`] for every
/// video packet of the sender, and after either, [`Self::poll_keyframe_request`]
/// to learn whether to send the sender a keyframe request (PLI) for a layer.
///
/// A receiver cannot know which layers a sender has (a sender with a small
/// camera, or a low quality setting, sends fewer). So the selector serves
/// the layer asked for when the sender sends it, and otherwise the nearest
/// one it does send, smaller first ([`Self::serving`]); it moves to the
/// asked-for layer once that layer appears.
#[derive(Debug, Clone)]
pub struct LayerSelector {
    /// The layer being forwarded now, if any.
    current: Option<LayerId>,
    /// The layer the receiver asked for.
    target: LayerId,
    /// When the last keyframe request was issued, to rate-limit them.
    last_request: Option<Instant>,
    /// When a packet of each layer (by wire value) was last seen.
    last_seen: [Option<Instant>; 3],
    /// When the first packet of any layer was seen.
    first_seen: Option<Instant>,
    /// The last layer marked as the sender's largest, and when.
    top: Option<(LayerId, Instant)>,
}

impl LayerSelector {
    /// A selector that wants `target` and forwards nothing until that layer's
    /// first keyframe.
    pub fn new(target: LayerId) -> Self {
        LayerSelector {
            current: None,
            target,
            last_request: None,
            last_seen: [None; 3],
            first_seen: None,
            top: None,
        }
    }

    /// The layer this receiver should get at `now`: the one it asked for if
    /// the sender sends it (or the sender has not been watched for
    /// [`LAYER_DISCOVERY`] yet), else the largest smaller layer the sender
    /// sends, else the smallest larger one.
    pub fn serving(&self, now: Instant) -> LayerId {
        let sent = |layer: LayerId| {
            let last = self.last_seen[usize::from(layer.as_u8())];
            // A smaller layer marked the largest since this one's last
            // packet: the sender dropped it.
            let dropped = self
                .top
                .is_some_and(|(top, at)| top < layer && last.is_some_and(|t| t <= at));
            !dropped && last.is_some_and(|t| now.saturating_duration_since(t) < LAYER_GONE_AFTER)
        };
        let discovering = self
            .first_seen
            .is_none_or(|t| now.saturating_duration_since(t) < LAYER_DISCOVERY);
        if discovering || sent(self.target) {
            return self.target;
        }
        let smaller = LayerId::ALL
            .iter()
            .rev()
            .find(|l| **l < self.target && sent(**l));
        let larger = LayerId::ALL.iter().find(|l| **l > self.target && sent(**l));
        smaller.or(larger).copied().unwrap_or(self.target)
    }

    /// The layer being forwarded, if any.
    pub fn current(&self) -> Option<LayerId> {
        self.current
    }

    /// The layer the receiver asked for.
    pub fn target(&self) -> LayerId {
        self.target
    }

    /// The receiver wants `layer` from now on; the switch happens at that
    /// layer's next keyframe.
    pub fn request_layer(&mut self, layer: LayerId) {
        if self.target != layer {
            self.target = layer;
            self.last_request = None;
        }
    }

    /// Decides whether to forward a packet with descriptor `d`, which
    /// arrived at `now`.
    pub fn handle_packet(&mut self, d: LayerDescriptor, now: Instant) -> Forwarding {
        self.last_seen[usize::from(d.layer.as_u8())] = Some(now);
        self.first_seen.get_or_insert(now);
        if d.top_layer {
            self.top = Some((d.layer, now));
        }
        let serving = self.serving(now);
        if d.layer == serving && self.current != Some(serving) && d.keyframe && d.start_of_frame {
            self.current = Some(serving);
            self.last_request = None;
            return Forwarding::Forward;
        }
        if Some(d.layer) == self.current {
            Forwarding::Forward
        } else {
            Forwarding::Drop
        }
    }

    /// The layer to ask the sender for a keyframe of, if a switch is waiting
    /// and no request went out in the last [`KEYFRAME_REQUEST_INTERVAL`].
    pub fn poll_keyframe_request(&mut self, now: Instant) -> Option<LayerId> {
        let serving = self.serving(now);
        if self.current == Some(serving) {
            return None;
        }
        match self.last_request {
            Some(t) if now.saturating_duration_since(t) < KEYFRAME_REQUEST_INTERVAL => None,
            _ => {
                self.last_request = Some(now);
                Some(serving)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(layer: LayerId, keyframe: bool, start: bool) -> LayerDescriptor {
        LayerDescriptor {
            layer,
            keyframe,
            start_of_frame: start,
            end_of_frame: false,
            top_layer: false,
        }
    }

    #[test]
    fn descriptor_bytes_are_as_documented() {
        let desc = LayerDescriptor {
            layer: LayerId::High,
            keyframe: true,
            start_of_frame: true,
            end_of_frame: false,
            top_layer: false,
        };
        assert_eq!(desc.to_byte(), 0xC2);
        let top = LayerDescriptor {
            layer: LayerId::Medium,
            keyframe: false,
            start_of_frame: false,
            end_of_frame: true,
            top_layer: true,
        };
        assert_eq!(top.to_byte(), 0x31);
        assert_eq!(LayerDescriptor::from_byte(0x31), Some(top));
        assert_eq!(
            desc.extension_block(),
            [0xBE, 0xDE, 0x00, 0x01, 0x10, 0xC2, 0x00, 0x00]
        );
        assert_eq!(LayerDescriptor::from_byte(0xC2), Some(desc));
        assert_eq!(LayerDescriptor::from_byte(0x03), None);
    }

    #[test]
    fn finds_the_descriptor_in_a_packet_and_rejects_junk() {
        let desc = d(LayerId::Medium, false, true);
        let mut p = vec![0x90, 102, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0];
        p.extend_from_slice(&desc.extension_block());
        p.extend_from_slice(b"payload");
        assert_eq!(LayerDescriptor::find_in_rtp(&p), Some(desc));
        // Truncated extension, no X bit, wrong profile, empty input.
        assert_eq!(LayerDescriptor::find_in_rtp(&p[..17]), None);
        let mut no_x = p.clone();
        no_x[0] = 0x80;
        assert_eq!(LayerDescriptor::find_in_rtp(&no_x), None);
        let mut two_byte = p.clone();
        two_byte[12] = 0x10;
        assert_eq!(LayerDescriptor::find_in_rtp(&two_byte), None);
        assert_eq!(LayerDescriptor::find_in_rtp(&[]), None);
        // An element length running past the block.
        let mut long = p.clone();
        long[16] = 0x1f;
        assert_eq!(LayerDescriptor::find_in_rtp(&long), None);
    }

    /// The forwarder as a table of cases: (packet, expected decision, current layer after).
    #[test]
    fn switches_only_on_a_keyframe_start() {
        use Forwarding::*;
        use LayerId::*;
        let now = Instant::now();
        let mut s = LayerSelector::new(Medium);
        let cases = [
            (d(Medium, false, true), Drop, None),
            (d(Low, true, true), Drop, None),
            (d(Medium, true, false), Drop, None),
            (d(Medium, true, true), Forward, Some(Medium)),
            (d(Medium, true, false), Forward, Some(Medium)),
            (d(Medium, false, true), Forward, Some(Medium)),
            (d(High, true, true), Drop, Some(Medium)),
        ];
        for (i, (pkt, want, cur)) in cases.into_iter().enumerate() {
            assert_eq!(s.handle_packet(pkt, now), want, "case {i}");
            assert_eq!(s.current(), cur, "case {i}");
        }
        s.request_layer(High);
        let cases = [
            (d(Medium, false, true), Forward, Some(Medium)),
            (d(High, false, true), Drop, Some(Medium)),
            (d(High, true, true), Forward, Some(High)),
            (d(Medium, false, true), Drop, Some(High)),
            (d(High, false, true), Forward, Some(High)),
        ];
        for (i, (pkt, want, cur)) in cases.into_iter().enumerate() {
            assert_eq!(s.handle_packet(pkt, now), want, "switch case {i}");
            assert_eq!(s.current(), cur, "switch case {i}");
        }
    }

    #[test]
    fn keyframe_requests_are_rate_limited_and_stop_after_the_switch() {
        let t0 = Instant::now();
        let mut s = LayerSelector::new(LayerId::Low);
        assert_eq!(s.poll_keyframe_request(t0), Some(LayerId::Low));
        assert_eq!(
            s.poll_keyframe_request(t0 + Duration::from_millis(100)),
            None
        );
        assert_eq!(
            s.poll_keyframe_request(t0 + KEYFRAME_REQUEST_INTERVAL),
            Some(LayerId::Low)
        );
        s.handle_packet(d(LayerId::Low, true, true), t0 + Duration::from_secs(1));
        assert_eq!(s.poll_keyframe_request(t0 + Duration::from_secs(1)), None);
    }

    #[test]
    fn serves_the_nearest_layer_the_sender_sends_until_the_wanted_one_appears() {
        use Forwarding::*;
        use LayerId::*;
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut s = LayerSelector::new(High);
        // Nothing seen yet: ask for what the receiver wants.
        assert_eq!(s.poll_keyframe_request(t0), Some(High));
        // The sender sends only Low and Medium. While the selector is still
        // discovering the layers (a Low keyframe arrives first) it waits
        // for High; then Medium is served, and the keyframe asked for is
        // Medium's, not High's.
        assert_eq!(s.handle_packet(d(Low, true, true), at(10)), Drop);
        assert_eq!(s.handle_packet(d(Medium, false, true), at(20)), Drop);
        assert_eq!(s.serving(at(20)), High);
        assert_eq!(s.handle_packet(d(Low, false, true), at(590)), Drop);
        assert_eq!(s.handle_packet(d(Medium, false, true), at(590)), Drop);
        assert_eq!(s.serving(at(590)), Medium);
        assert_eq!(s.poll_keyframe_request(at(600)), Some(Medium));
        assert_eq!(s.handle_packet(d(Medium, true, true), at(700)), Forward);
        assert_eq!(s.current(), Some(Medium));
        assert_eq!(s.poll_keyframe_request(at(1300)), None);
        // High appears: switch at its keyframe.
        assert_eq!(s.handle_packet(d(High, false, true), at(1400)), Drop);
        assert_eq!(s.handle_packet(d(Medium, false, true), at(1410)), Forward);
        assert_eq!(s.poll_keyframe_request(at(1420)), Some(High));
        assert_eq!(s.handle_packet(d(High, true, true), at(1500)), Forward);
        assert_eq!(s.handle_packet(d(Medium, false, true), at(1510)), Drop);
        // High stops: after LAYER_GONE_AFTER, back to Medium at its keyframe.
        let later = at(1500) + LAYER_GONE_AFTER;
        assert_eq!(s.serving(later), Medium);
        assert_eq!(s.handle_packet(d(Medium, false, true), later), Drop);
        assert_eq!(s.poll_keyframe_request(later), Some(Medium));
        assert_eq!(s.handle_packet(d(Medium, true, true), later), Forward);
    }

    #[test]
    fn a_layer_the_sender_marks_as_dropped_is_left_at_once() {
        use Forwarding::*;
        use LayerId::*;
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let top = |layer, keyframe| LayerDescriptor {
            top_layer: true,
            ..d(layer, keyframe, true)
        };
        let mut s = LayerSelector::new(Medium);
        assert_eq!(s.handle_packet(d(Low, false, true), at(0)), Drop);
        assert_eq!(s.handle_packet(top(Medium, true), at(1)), Forward);
        assert_eq!(s.current(), Some(Medium));
        // Past discovery, the sender drops Medium (its quality went down):
        // its Low packets now say Low is the largest. No 2 s wait: Low is served, a Low
        // keyframe is asked for and switched to.
        assert_eq!(s.handle_packet(top(Low, false), at(640)), Drop);
        assert_eq!(s.serving(at(640)), Low);
        assert_eq!(s.poll_keyframe_request(at(640)), Some(Low));
        assert_eq!(s.handle_packet(top(Low, true), at(680)), Forward);
        assert_eq!(s.current(), Some(Low));
        // Medium comes back (its packets now carry the mark): the receiver
        // moves up at its keyframe.
        assert_eq!(s.handle_packet(d(Low, false, true), at(800)), Forward);
        assert_eq!(s.handle_packet(top(Medium, false), at(801)), Drop);
        assert_eq!(s.serving(at(801)), Medium);
        assert_eq!(s.poll_keyframe_request(at(801)), Some(Medium));
        assert_eq!(s.handle_packet(top(Medium, true), at(840)), Forward);
        assert_eq!(s.current(), Some(Medium));
    }

    #[test]
    fn a_smaller_wish_than_any_layer_sent_gets_the_smallest_sent() {
        let t0 = Instant::now();
        let mut s = LayerSelector::new(LayerId::Low);
        s.handle_packet(d(LayerId::High, false, true), t0);
        s.handle_packet(d(LayerId::Medium, false, true), t0);
        let later = t0 + LAYER_DISCOVERY;
        s.handle_packet(d(LayerId::High, false, true), later);
        s.handle_packet(d(LayerId::Medium, false, true), later);
        assert_eq!(s.serving(later), LayerId::Medium);
    }
}
