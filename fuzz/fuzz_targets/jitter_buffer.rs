//! The jitter buffer driven by arbitrary packet sequences (duplicates,
//! reordering, wrap-around, huge jumps, stale packets) and clock steps: it
//! never panics, releases packets in sequence order without duplicates,
//! never holds more than its cap, and its NACK lists stay bounded.
#![no_main]

use std::time::{Duration, Instant};

use confer_media::jitter::{JitterBuffer, JitterConfig, JitterOutput};
use confer_media::packet::{MediaPacket, PT_H264};
use confer_wire::rtp::RtpHeader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut data)) = data.split_first() else {
        return;
    };
    let config = if mode & 1 == 0 {
        JitterConfig::audio()
    } else {
        JitterConfig::video()
    };
    let mut jb = JitterBuffer::new(config);
    let start = Instant::now();
    let mut now = start;
    // The last sequence released, to check order (distance in u16 space).
    let mut last: Option<u16> = None;
    // Ops of 6 bytes: [op][seq hi][seq lo][ts step][time step hi][time step lo].
    while let [op, s0, s1, ts, t0, t1, rest @ ..] = data {
        data = rest;
        let sequence = u16::from_be_bytes([*s0, *s1]);
        let step = Duration::from_micros(u64::from(u16::from_be_bytes([*t0, *t1])) * 10);
        now += step;
        match op % 4 {
            0 | 1 => {
                let packet = MediaPacket {
                    header: RtpHeader {
                        marker: op & 0x10 != 0,
                        payload_type: PT_H264,
                        sequence,
                        // Timestamps roughly follow sequence numbers, with
                        // fuzzer-chosen deviations.
                        timestamp: u32::from(sequence)
                            .wrapping_mul(960)
                            .wrapping_add(u32::from(*ts) << 8),
                        ssrc: 9,
                    },
                    layer: None,
                    payload: vec![*ts],
                };
                jb.handle_packet(now, packet);
                assert!(jb.len() <= config.max_packets, "holds at most its cap");
            }
            2 => {
                let nack = jb.poll_nack();
                assert!(nack.len() <= 1000, "NACK list bounded: {}", nack.len());
            }
            _ => {
                if let Some(t) = jb.poll_timeout() {
                    assert!(t >= start);
                }
                let _ = jb.deadline_for_timestamp(u32::from(sequence));
            }
        }
        while let Some(out) = jb.poll_output(now) {
            let s = match out {
                JitterOutput::Packet(p) => p.header.sequence,
                JitterOutput::Lost { sequence } => sequence,
            };
            if let Some(prev) = last {
                let ahead = s.wrapping_sub(prev);
                assert!(
                    ahead != 0 && ahead < 0x8000,
                    "released {s} after {prev}: not in order"
                );
            }
            last = Some(s);
        }
    }
    let stats = jb.stats();
    assert!(stats.received >= stats.duplicates.min(stats.received));
});
