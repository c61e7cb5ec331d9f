//! Jitter-buffer cost per packet: one `handle_packet` plus the
//! `poll_output` that releases it, on a stream with jitter and reordering.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use confer_media::jitter::{JitterBuffer, JitterConfig};
use confer_media::packet::MediaPacket;
use confer_wire::rtp::RtpHeader;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const PACKETS: u16 = 1000;

fn benches(c: &mut Criterion) {
    // Audio-like stream: 20 ms apart, every 10th packet swapped with its neighbour.
    let mut order: Vec<u16> = (0..PACKETS).collect();
    for i in (0..PACKETS as usize - 1).step_by(10) {
        order.swap(i, i + 1);
    }
    let packets: Vec<MediaPacket> = order
        .iter()
        .map(|&s| MediaPacket {
            header: RtpHeader {
                marker: false,
                payload_type: 111,
                sequence: s,
                timestamp: u32::from(s) * 960,
                ssrc: 1,
            },
            layer: None,
            payload: vec![0u8; 80],
        })
        .collect();
    let mut g = c.benchmark_group("jitter");
    g.throughput(Throughput::Elements(u64::from(PACKETS)));
    g.bench_function("handle_and_release_per_packet", |b| {
        b.iter(|| {
            let t0 = Instant::now();
            let mut jb = JitterBuffer::new(JitterConfig::audio());
            let mut released = 0;
            for (i, p) in packets.iter().enumerate() {
                let now = t0 + Duration::from_millis(20 * i as u64 + (i as u64 * 7) % 13);
                jb.handle_packet(now, p.clone());
                while let Some(o) = jb.poll_output(now) {
                    black_box(o);
                    released += 1;
                }
            }
            black_box(released)
        });
    });
    g.finish();
}

criterion_group!(jitter, benches);
criterion_main!(jitter);
