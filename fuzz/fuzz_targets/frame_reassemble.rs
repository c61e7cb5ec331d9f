//! The sealed-frame RTP path (`frame_rtp`), which every received video
//! frame goes through: arbitrary RTP packets (parsed from bytes, so the
//! layer descriptor extension is fuzzed too) and losses into the
//! `FrameReassembler` never panic and never yield a frame over the size
//! cap; a frame cut by `FramePacketizer` at any MTU comes back unchanged.
#![no_main]

use confer_media::frame_rtp::{FramePacketizer, FrameReassembler, MAX_FRAME_BYTES};
use confer_media::packet::{MediaPacket, PT_H264};
use confer_media::simulcast::LayerId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        hostile_packets(rest, mode & 2 != 0);
    } else {
        round_trip(rest, usize::from(mode >> 1) + 1);
    }
});

/// `[len][packet bytes: len]...`; a zero length declares a loss.
fn hostile_packets(mut data: &[u8], small_cap: bool) {
    let mut r = FrameReassembler::new();
    let cap = if small_cap { 300 } else { MAX_FRAME_BYTES };
    r.set_max_frame_bytes(cap);
    while let [len, rest @ ..] = data {
        let len = usize::from(*len).min(rest.len());
        let (bytes, tail) = rest.split_at(len);
        data = tail;
        if len == 0 {
            r.handle_loss();
        } else if let Ok(packet) = MediaPacket::parse(bytes) {
            r.handle_packet(&packet);
        }
        while let Some(f) = r.poll_frame() {
            assert!(f.data.len() <= cap, "frame over the cap");
        }
        let _ = r.poll_keyframe_request();
    }
}

/// A keyframe of fuzzer bytes survives packetise → wire → reassemble.
fn round_trip(frame: &[u8], max_payload: usize) {
    let mut p = FramePacketizer::new(5, PT_H264, Some(LayerId::Medium));
    p.set_max_payload(max_payload);
    let packets = p.packetize(frame, 1234, true);
    assert_eq!(packets.len(), frame.len().div_ceil(max_payload));
    let mut r = FrameReassembler::new();
    for packet in &packets {
        assert!(packet.payload.len() <= max_payload);
        r.handle_packet(&MediaPacket::parse(&packet.to_bytes()).expect("our packets parse"));
    }
    if frame.is_empty() {
        assert!(r.poll_frame().is_none());
        return;
    }
    let f = r.poll_frame().expect("the whole keyframe comes out");
    assert_eq!(f.data, frame);
    assert!(f.keyframe);
    assert_eq!((f.timestamp, f.ssrc), (1234, 5));
    assert!(r.poll_frame().is_none());
}
