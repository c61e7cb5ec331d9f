//! Codec costs on one core: Opus encode per 20 ms frame, H.264 encode and
//! decode frames per second at 720p and 360p.
//!
//! The inputs are written to `target/confer-media-bench/` (`speech.wav`,
//! `clip-1280x720.y4m`, `clip-640x360.y4m`) so `opusenc` and `x264` can be
//! run on exactly the same media for comparison:
//!
//! ```text
//! opusenc --bitrate 32 --framesize 20 --comp 10 speech.wav out.opus
//! x264 --preset ultrafast --tune zerolatency --threads 1 -o out.h264 clip-1280x720.y4m
//! ```

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;

use confer_media::frame::{FRAME_SAMPLES, VideoFrame};
use confer_media::h264_codec::{EncodedFrame, VideoDecoder, VideoEncoder, VideoEncoderConfig};
use confer_media::opus_codec::{AudioEncoder, DEFAULT_AUDIO_BITRATE};
use confer_media::simulcast::LayerId;
use confer_media::source::{PatternSource, ToneSource};
use confer_media::wav::wav_bytes;
use confer_media::y4m::Y4mWriter;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Frames in the video clip (2 s at 30 fps).
const CLIP_FRAMES: u64 = 60;

fn out_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/confer-media-bench");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Ten seconds of a speech-like signal (voice harmonics, syllable envelope)
/// plus a quiet tone so DTX does not make encoding free.
fn speech(seconds: usize) -> Vec<i16> {
    let n = seconds * 48_000;
    (0..n)
        .map(|i| {
            let t = i as f64 / 48_000.0;
            let f0 = 150.0 + 20.0 * (t * 2.0 * std::f64::consts::TAU).sin();
            let mut v = 0.0;
            for h in 1..=6 {
                v += (t * f0 * h as f64 * std::f64::consts::TAU).sin() / h as f64;
            }
            let env = (0.5 + 0.5 * (t * 4.0 * std::f64::consts::TAU).sin()).powi(2);
            (v * env * 6000.0) as i16
        })
        .zip(ToneSource::samples(1000.0, 0).into_iter().cycle())
        .map(|(a, b)| a.saturating_add(b / 16))
        .collect()
}

/// The test pattern with moving sensor-like noise, so the encoder has real
/// work (a flat synthetic pattern would flatter every encoder).
fn clip(width: u32, height: u32) -> Vec<VideoFrame> {
    let mut state = 0x1234_5678_9abc_def0u64;
    (0..CLIP_FRAMES)
        .map(|n| {
            let mut f = PatternSource::picture(width, height, n);
            let luma = (width * height) as usize;
            for px in &mut f.data[..luma] {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *px = px.saturating_add((state % 9) as u8).saturating_sub(4);
            }
            f.timestamp = (n * 3000) as u32;
            f
        })
        .collect()
}

fn write_inputs() -> (Vec<i16>, Vec<VideoFrame>, Vec<VideoFrame>) {
    let audio = speech(10);
    std::fs::write(out_dir().join("speech.wav"), wav_bytes(&audio, 48_000)).unwrap();
    let hd = clip(1280, 720);
    let sd = clip(640, 360);
    for frames in [&hd, &sd] {
        let path = out_dir().join(format!("clip-{}x{}.y4m", frames[0].width, frames[0].height));
        let mut w = Y4mWriter::new(std::fs::File::create(path).unwrap(), 30);
        for f in frames.iter() {
            w.write_frame(f).unwrap();
        }
        w.finish().unwrap();
    }
    (audio, hd, sd)
}

fn encode_all(config: VideoEncoderConfig, frames: &[VideoFrame]) -> Vec<EncodedFrame> {
    let mut enc = VideoEncoder::new(config).unwrap();
    frames
        .iter()
        .filter_map(|f| enc.encode(f).unwrap())
        .collect()
}

fn benches(c: &mut Criterion) {
    let (audio, hd, sd) = write_inputs();

    let mut g = c.benchmark_group("opus");
    g.throughput(Throughput::Elements(1));
    g.bench_function("encode_20ms_frame_32kbps", |b| {
        let mut enc = AudioEncoder::new(DEFAULT_AUDIO_BITRATE).unwrap();
        let mut frames = audio.chunks_exact(FRAME_SAMPLES).cycle();
        b.iter(|| black_box(enc.encode(frames.next().unwrap()).unwrap()));
    });
    g.finish();

    for (name, frames, layer) in [("720p", &hd, LayerId::High), ("360p", &sd, LayerId::Medium)] {
        let mut g = c.benchmark_group(format!("h264_{name}"));
        g.sample_size(10);
        g.throughput(Throughput::Elements(frames.len() as u64));
        let config = VideoEncoderConfig::camera(layer);
        g.bench_function("encode_clip_1_thread", |b| {
            b.iter(|| black_box(encode_all(config, frames)));
        });
        let encoded = encode_all(config, frames);
        let bytes: usize = encoded.iter().map(|e| e.to_annex_b().len()).sum();
        eprintln!(
            "{name}: {} frames, {} bytes ({:.0} kbit/s at 30 fps)",
            encoded.len(),
            bytes,
            bytes as f64 * 8.0 * 30.0 / encoded.len() as f64 / 1000.0
        );
        let annex_b: Vec<Vec<u8>> = encoded.iter().map(EncodedFrame::to_annex_b).collect();
        std::fs::write(
            out_dir().join(format!("confer-{name}.h264")),
            annex_b.concat(),
        )
        .unwrap();
        g.bench_function("decode_clip", |b| {
            b.iter(|| {
                let mut dec = VideoDecoder::new().unwrap();
                for (i, au) in annex_b.iter().enumerate() {
                    black_box(dec.decode_annex_b(au, i as u32).unwrap());
                }
            });
        });
        g.finish();
    }
}

criterion_group!(codecs, benches);
criterion_main!(codecs);
