//! The H.264 RTP depacketiser (RFC 6184: single NAL, STAP-A, FU-A) fed
//! arbitrary packets and losses: it never panics, never hands out an empty
//! NAL or a frame over its size cap, and frames the packetiser cut up
//! come back unchanged.
#![no_main]

use confer_media::h264_rtp::{H264Depacketizer, H264Packetizer};
use confer_media::packet::{MediaPacket, PT_H264};
use confer_media::simulcast::LayerId;
use confer_wire::rtp::RtpHeader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        hostile_packets(rest);
    } else {
        // MTUs from 60 to 187 bytes (the packetiser raises anything under 64).
        round_trip(rest, usize::from(mode >> 1) + 60);
    }
});

/// Packets with fuzzer-chosen payloads, markers, timestamps and losses:
/// `[len][flags][payload: len bytes]...`.
fn hostile_packets(mut data: &[u8]) {
    let mut d = H264Depacketizer::new();
    let (mut sequence, mut timestamp) = (0u16, 0u32);
    while let [len, flags, rest @ ..] = data {
        let len = usize::from(*len).min(rest.len());
        let (payload, tail) = rest.split_at(len);
        data = tail;
        if flags & 0x04 != 0 {
            d.handle_loss();
        }
        if flags & 0x08 != 0 {
            timestamp = timestamp.wrapping_add(3000);
        }
        let packet = MediaPacket {
            header: RtpHeader {
                marker: flags & 0x01 != 0,
                payload_type: PT_H264,
                sequence,
                timestamp,
                ssrc: 1,
            },
            layer: None,
            payload: payload.to_vec(),
        };
        sequence = sequence.wrapping_add(1);
        d.handle_packet(&packet);
        while let Some(f) = d.poll_frame() {
            assert!(!f.nals.is_empty(), "a frame has NAL units");
            assert!(f.nals.iter().all(|n| !n.is_empty()), "no empty NAL unit");
            assert_eq!(f.timestamp, timestamp);
        }
        let _ = d.poll_keyframe_request();
    }
}

/// An "IDR" frame made of fuzzer NAL units survives packetise → depacketise.
fn round_trip(data: &[u8], max_payload: usize) {
    // NAL units: the input split at 0xff bytes, empty ones skipped; the
    // first is forced to be an IDR slice (type 5) so the depacketiser,
    // which waits for a keyframe, hands the frame out.
    let mut nals: Vec<Vec<u8>> = data
        .split(|b| *b == 0xff)
        .filter(|n| !n.is_empty())
        .map(|n| n.to_vec())
        .collect();
    let Some(first) = nals.first_mut() else {
        return;
    };
    first[0] = (first[0] & 0x60) | 5;
    for n in &mut nals {
        // The forbidden-zero bit is never set in a valid NAL header.
        n[0] &= 0x7f;
        if n[0] & 0x1f == 0 || n[0] & 0x1f >= 24 {
            // Types 0 and 24–31 are RTP aggregation/fragment types or reserved.
            n[0] = (n[0] & 0x60) | 1;
        }
    }
    let mut p = H264Packetizer::new(7, LayerId::Low);
    p.set_max_payload(max_payload);
    let packets = p.packetize(&nals, 9000);
    let mut d = H264Depacketizer::new();
    for packet in &packets {
        assert!(
            packet.payload.len() <= max_payload.max(64),
            "payload over the limit"
        );
        // Through the wire format too.
        let parsed = MediaPacket::parse(&packet.to_bytes()).expect("our packets parse");
        d.handle_packet(&parsed);
    }
    let f = d.poll_frame().expect("a whole keyframe comes out");
    assert_eq!(f.nals, nals);
    assert!(f.keyframe);
    assert!(d.poll_frame().is_none());
}
