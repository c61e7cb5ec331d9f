//! Video end to end: Y4M clip → H.264 (openh264) → RFC 6184 packets →
//! seeded lossy link (with NACK and keyframe-request feedback on a lossy
//! return path) → jitter buffer → depacketiser → decoder → Y4M, with PSNR
//! measured against the input and recovery after loss measured in frames.

// Test helpers outside #[test] fns: failing loudly is what a test wants.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::LossyLink;
use confer_media::feedback::Feedback;
use confer_media::frame::VideoFrame;
use confer_media::simulcast::LayerId;
use confer_media::source::{Frame, MediaSource, PatternSource, Y4mSource};
use confer_media::video_track::{VideoReceiver, VideoSender};
use confer_media::y4m::{Y4mWriter, read_y4m};
use confer_wire::ids::ParticipantId;

/// What one run produced.
struct Run {
    /// Source frames by RTP timestamp.
    sent: Vec<VideoFrame>,
    /// Decoded frames by RTP timestamp.
    received: HashMap<u32, VideoFrame>,
    dropped: u64,
    keyframe_requests: u64,
    nacked: u64,
}

fn dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("confer-media-video-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `frames` pattern pictures of `layer`'s size as a Y4M file.
fn write_clip(layer: LayerId, frames: u64) -> std::path::PathBuf {
    let (w, h) = layer.dimensions();
    let path = dir().join(format!("clip-{w}x{h}-{frames}.y4m"));
    let mut out = Y4mWriter::new(Vec::new(), 30);
    for n in 0..frames {
        out.write_frame(&PatternSource::picture(w, h, n)).unwrap();
    }
    std::fs::write(&path, out.finish().unwrap()).unwrap();
    path
}

fn run(layer: LayerId, frames: u64, loss: f64, seed: u64, feedback: bool) -> Run {
    let clip = write_clip(layer, frames);
    let t0 = Instant::now();
    let mut source = Y4mSource::open(&clip, t0).unwrap();
    let mut sender = VideoSender::new(ParticipantId(1), 4, &[layer]).unwrap();
    let mut receiver = VideoReceiver::new(0x0200).unwrap();
    let mut forward = LossyLink::new(
        seed,
        loss,
        Duration::from_millis(30),
        Duration::from_millis(10),
    );
    let mut back = LossyLink::new(
        seed ^ 0xffff,
        loss,
        Duration::from_millis(30),
        Duration::from_millis(10),
    );
    let mut sent = Vec::new();
    let mut received = HashMap::new();
    let end = t0 + Duration::from_millis(frames * 1000 / 30 + 1500);
    let mut now = t0;
    while now < end {
        while let Some(Frame::Video(f)) = source.poll_frame(now).unwrap() {
            for p in sender.send_frame(&f).unwrap() {
                forward.send(now, &p);
            }
            sent.push(f);
        }
        for p in forward.deliver(now) {
            receiver.handle_packet(now, p);
        }
        while let Some(f) = receiver.poll_frame(now) {
            received.insert(f.timestamp, f);
        }
        while let Some(fb) = receiver.poll_feedback(now) {
            if feedback {
                // Feedback travels as RTCP bytes over the lossy return path;
                // a carrier packet stands in for the datagram.
                let bytes = fb.to_bytes();
                let carrier = confer_media::packet::MediaPacket {
                    header: confer_wire::rtp::RtpHeader {
                        marker: false,
                        payload_type: 0,
                        sequence: 0,
                        timestamp: 0,
                        ssrc: 0,
                    },
                    layer: None,
                    payload: bytes,
                };
                back.send(now, &carrier);
            }
        }
        for carrier in back.deliver(now) {
            let fb = Feedback::parse(&carrier.payload).unwrap();
            for p in sender.handle_feedback(&fb) {
                forward.send(now, &p);
            }
        }
        now += Duration::from_millis(1);
    }
    let out = dir().join(format!("received-{seed}-{loss}.y4m"));
    let mut w = Y4mWriter::new(std::fs::File::create(&out).unwrap(), 30);
    let mut ts: Vec<&u32> = received.keys().collect();
    ts.sort();
    for t in ts {
        w.write_frame(&received[t]).unwrap();
    }
    w.finish().unwrap();
    assert_eq!(read_y4m(&out).unwrap().frames.len(), received.len());
    let stats = receiver.stats();
    eprintln!("receiver stats: {stats:?}, rtt {:?}", receiver.rtt());
    Run {
        sent,
        received,
        dropped: forward.dropped,
        keyframe_requests: stats.keyframe_requests,
        nacked: stats.nacked,
    }
}

/// Mean luma PSNR of received frames against the frames sent.
fn mean_psnr(r: &Run) -> f64 {
    let v: Vec<f64> = r
        .sent
        .iter()
        .filter_map(|s| r.received.get(&s.timestamp).map(|d| d.psnr_y(s).min(99.0)))
        .collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Longest run of consecutive sent frames that were not shown.
fn longest_outage(r: &Run) -> usize {
    let mut longest = 0;
    let mut current = 0;
    for s in &r.sent {
        if r.received.contains_key(&s.timestamp) {
            current = 0;
        } else {
            current += 1;
            longest = longest.max(current);
        }
    }
    longest
}

/// 640×360 at 500 kbit/s, 30 fps, no loss: every frame decodes. The test
/// pattern (flat bars, a gradient, a moving square) is easy content:
/// measured mean luma PSNR 59.2 dB; asserted ≥ 45 dB.
#[test]
fn h264_round_trip_of_a_y4m_clip() {
    let r = run(LayerId::Medium, 60, 0.0, 1, true);
    let psnr = mean_psnr(&r);
    eprintln!(
        "lossless 360p: {} of {} frames, mean PSNR {psnr:.2} dB",
        r.received.len(),
        r.sent.len()
    );
    assert_eq!(r.received.len(), r.sent.len());
    assert!(psnr >= 45.0, "PSNR {psnr}");
}

/// 10 % seeded loss on both directions, 320×180, 10 s (300 frames),
/// keyframe interval 90 frames. Measured (seed 7):
/// - with NACK + keyframe requests: 276 of 300 frames shown, longest
///   outage 8 frames (267 ms), 6 keyframe requests, RTT estimate 72 ms;
/// - without feedback: 73 of 300 shown, longest outage 89 frames — the
///   picture returns only at the next periodic keyframe.
///
/// Asserted: outage ≤ 15 frames with feedback, ≤ 90 (one keyframe
/// interval) without, ≥ 90 % of frames shown with feedback.
#[test]
fn video_recovers_after_loss_within_one_keyframe_interval() {
    let with = run(LayerId::Low, 300, 0.10, 7, true);
    let without = run(LayerId::Low, 300, 0.10, 7, false);
    for (name, r) in [("with feedback", &with), ("without feedback", &without)] {
        eprintln!(
            "{name}: dropped {} packets, shown {} of {} frames, longest outage {} frames, {} keyframe requests, {} NACKed, PSNR {:.2} dB",
            r.dropped,
            r.received.len(),
            r.sent.len(),
            longest_outage(r),
            r.keyframe_requests,
            r.nacked,
            mean_psnr(r)
        );
    }
    assert!(with.dropped > 15, "the seed drops packets");
    assert!(longest_outage(&with) <= 15);
    assert!(
        longest_outage(&without) <= 90,
        "recovered by the periodic keyframe"
    );
    assert!(
        with.received.len() > without.received.len(),
        "feedback helps"
    );
    assert!(
        with.received.len() * 10 >= with.sent.len() * 9,
        "≥ 90 % shown with NACK + PLI"
    );
}
