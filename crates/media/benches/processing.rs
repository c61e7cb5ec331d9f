//! Capture-path audio processing cost on one core: AEC + NS + AGC on one
//! 20 ms frame (two 10 ms library calls each for the far end and the
//! microphone), and NS alone. It runs on every microphone frame, so it sits
//! beside the Opus encode in the per-frame budget.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use confer_media::frame::FRAME_SAMPLES;
use confer_media::processing::{CaptureProcessor, ProcessingConfig};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// A voice with an echo of the far end and some noise, 10 s, and the far end.
fn signals() -> (Vec<i16>, Vec<i16>) {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let n = 48_000 * 10;
    let far: Vec<i16> = (0..n)
        .map(|i| ((i as f64 * 220.0 * std::f64::consts::TAU / 48_000.0).sin() * 6000.0) as i16)
        .collect();
    let near = (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let voice = (i as f64 * 150.0 * std::f64::consts::TAU / 48_000.0).sin() * 4000.0;
            let echo = if i >= 1920 {
                f64::from(far[i - 1920]) * 0.4
            } else {
                0.0
            };
            (voice + echo + (state % 400) as f64 - 200.0) as i16
        })
        .collect();
    (near, far)
}

fn benches(c: &mut Criterion) {
    let (near, far) = signals();
    let mut g = c.benchmark_group("processing");
    g.throughput(Throughput::Elements(1));
    let configs = [
        ("aec_ns_agc_per_20ms_frame", ProcessingConfig::default()),
        (
            "ns_only_per_20ms_frame",
            ProcessingConfig {
                noise_suppression: true,
                ..ProcessingConfig::off()
            },
        ),
    ];
    for (name, config) in configs {
        g.bench_function(name, |b| {
            let mut p = CaptureProcessor::new(config).unwrap();
            let mut frames = near
                .chunks_exact(FRAME_SAMPLES)
                .zip(far.chunks_exact(FRAME_SAMPLES))
                .cycle();
            let mut buf = vec![0i16; FRAME_SAMPLES];
            b.iter(|| {
                let (n, f) = frames.next().unwrap();
                p.handle_far_end(f).unwrap();
                buf.copy_from_slice(n);
                p.process_capture(&mut buf).unwrap();
                black_box(&buf);
            });
        });
    }
    g.finish();
}

criterion_group!(processing, benches);
criterion_main!(processing);
