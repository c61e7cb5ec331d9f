//! Our encoders' output decodes with ffmpeg without errors: an Annex B
//! `.h264` file from openh264 and an Ogg Opus file from our Ogg writer.
//! Skipped, with a message, when ffmpeg is not installed.

// Test helpers outside #[test] fns: failing loudly is what a test wants.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use common::{have_ffmpeg, speech_like};
use confer_media::frame::FRAME_SAMPLES;
use confer_media::h264_codec::{VideoEncoder, VideoEncoderConfig};
use confer_media::ogg::OggOpusWriter;
use confer_media::opus_codec::{AudioEncoder, DEFAULT_AUDIO_BITRATE};
use confer_media::simulcast::LayerId;
use confer_media::source::PatternSource;

fn dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("confer-media-ffmpeg-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `ffmpeg -v error -i FILE -f null -` and returns (success, stderr, frames decoded).
fn ffmpeg_decode(path: &std::path::Path, count_what: &str) -> (bool, String, usize) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-v", "error", "-i"])
        .arg(path)
        .args(["-f", "framemd5", "-"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let frames = stdout
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(count_what))
        .count();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        frames,
    )
}

#[test]
fn annex_b_h264_decodes_with_ffmpeg() {
    if !have_ffmpeg() {
        eprintln!("SKIPPED: ffmpeg not installed (apt-get install ffmpeg)");
        return;
    }
    let mut enc = VideoEncoder::new(VideoEncoderConfig::camera(LayerId::Medium)).unwrap();
    let mut bytes = Vec::new();
    let mut frames = 0;
    for n in 0..45 {
        let mut f = PatternSource::picture(640, 360, n);
        f.timestamp = (n * 3000) as u32;
        if let Some(e) = enc.encode(&f).unwrap() {
            bytes.extend(e.to_annex_b());
            frames += 1;
        }
    }
    let path = dir().join("clip.h264");
    std::fs::write(&path, bytes).unwrap();
    let (ok, stderr, decoded) = ffmpeg_decode(&path, "0,");
    assert!(ok, "ffmpeg failed: {stderr}");
    assert!(stderr.trim().is_empty(), "ffmpeg reported errors: {stderr}");
    assert_eq!(decoded, frames, "ffmpeg decoded every frame");
}

#[test]
fn ogg_opus_decodes_with_ffmpeg() {
    if !have_ffmpeg() {
        eprintln!("SKIPPED: ffmpeg not installed (apt-get install ffmpeg)");
        return;
    }
    let mut enc = AudioEncoder::new(DEFAULT_AUDIO_BITRATE).unwrap();
    let path = dir().join("speech.opus");
    let mut w = OggOpusWriter::new(std::fs::File::create(&path).unwrap(), 0x0c0f_fee0).unwrap();
    let signal = speech_like(2.0);
    for chunk in signal.chunks_exact(FRAME_SAMPLES) {
        // DTX frames too: an Ogg stream needs every frame for its timing.
        w.write_packet(&enc.encode(chunk).unwrap()).unwrap();
    }
    w.finish().unwrap();
    let (ok, stderr, decoded) = ffmpeg_decode(&path, "0,");
    assert!(ok, "ffmpeg failed: {stderr}");
    assert!(stderr.trim().is_empty(), "ffmpeg reported errors: {stderr}");
    assert!(decoded >= 100, "ffmpeg decoded {decoded} audio frames");
}
