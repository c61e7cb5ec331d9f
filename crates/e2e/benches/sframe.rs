//! Sealing and opening throughput for typical Confer frame sizes: a 20 ms
//! Opus frame (160 B), a video slice the size of one packet (1200 B) and a
//! larger video frame (6250 B). Compare with `openssl speed -evp aes-256-gcm`.

// A benchmark whose setup is broken should stop loudly, not measure nothing.
#![allow(clippy::expect_used)]

use std::hint::black_box;

use confer_e2e::sframe::{SframeReceiver, SframeSender};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};

const SIZES: [usize; 3] = [160, 1200, 6250];
const KEY_ID: u64 = 7;
const BASE_KEY: [u8; 32] = [0x42; 32];
/// An RTP header's worth of metadata, authenticated with every frame.
const METADATA: [u8; 12] = [0x80, 0x60, 0, 1, 0, 0, 0, 160, 0xde, 0xad, 0xbe, 0xef];

fn seal(c: &mut Criterion) {
    let mut group = c.benchmark_group("sframe_seal");
    for size in SIZES {
        let frame = vec![0x5a; size];
        let mut sender = SframeSender::new(KEY_ID, &BASE_KEY).expect("key derivation");
        let mut out = Vec::with_capacity(size + 64);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &frame, |b, frame| {
            b.iter(|| {
                sender
                    .seal_into(black_box(&METADATA), black_box(frame), &mut out)
                    .expect("counters left");
                black_box(&out);
            });
        });
    }
    group.finish();
}

fn open(c: &mut Criterion) {
    let mut group = c.benchmark_group("sframe_open");
    for size in SIZES {
        let frame = vec![0x5a; size];
        let mut sender = SframeSender::new(KEY_ID, &BASE_KEY).expect("key derivation");
        // A full window's worth of distinct frames, re-opened round-robin by
        // fresh receivers so replay protection stays in the measured path
        // without rejecting anything.
        let sealed: Vec<Vec<u8>> = (0..SframeReceiver::DEFAULT_REPLAY_WINDOW)
            .map(|_| sender.seal(&METADATA, &frame).expect("counters left"))
            .collect();
        let fresh = || {
            let mut receiver = SframeReceiver::new();
            receiver.add_key(KEY_ID, &BASE_KEY).expect("new key id");
            receiver
        };
        let mut receiver = fresh();
        let mut next = 0;
        let mut out = Vec::with_capacity(size);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::from_parameter(size), |b| {
            b.iter(|| {
                if next == sealed.len() {
                    next = 0;
                    receiver = fresh();
                }
                receiver
                    .open_into(black_box(&METADATA), black_box(&sealed[next]), &mut out)
                    .expect("genuine frame");
                next += 1;
                black_box(&out);
            });
        });
    }
    group.finish();
}

/// The benchmark group; `criterion_group!` generates an undocumented
/// `pub fn`, which the workspace's `missing_docs` lint would flag.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::seal, super::open);
}

criterion_main!(group::benches);
