//! The engine on a virtual clock: two engines joined back to back, no router.

use std::time::{Duration, Instant};

use confer_media::frame::{AudioFrame, AudioOrigin, FRAME_SAMPLES};
use confer_media::source::{Frame, PatternSource, ToneSource};
use confer_wire::ids::ParticipantId;

use super::*;
use crate::session::SessionError;

/// Opens nothing: every frame fails authentication.
struct RefuseOpen;

impl FrameCrypto for RefuseOpen {
    fn seal(&mut self, _: u8, _: &[u8], frame: &[u8]) -> Result<Vec<u8>, SessionError> {
        Ok(frame.to_vec())
    }
    fn open(&mut self, _: ParticipantId, _: &[u8], _: &[u8]) -> Result<Vec<u8>, SessionError> {
        Err(SessionError::InvalidMedia("tag mismatch".into()))
    }
}

/// Runs `seconds` of tone and 320x180 pattern from A (participant 1) to B
/// (participant 2) over an instant link; returns B's outputs and stats.
fn run(
    seconds: u64,
    open: &mut dyn FrameCrypto,
) -> (Vec<MediaOutput>, MediaEngineStats, MediaEngineStats) {
    let t0 = Instant::now();
    let mut a = MediaEngine::new(MediaConfig::default());
    let mut b = MediaEngine::new(MediaConfig::default());
    a.handle_joined(ParticipantId(1));
    b.handle_joined(ParticipantId(2));
    let mut outputs = Vec::new();
    let mut now = t0;
    let end = t0 + Duration::from_secs(seconds);
    let mut audio_n = 0u64;
    let mut video_n = 0u64;
    while now < end + Duration::from_millis(500) {
        let ms = now.duration_since(t0).as_millis() as u64;
        if now < end && ms >= audio_n * 20 {
            let frame = Frame::Audio(AudioFrame {
                samples: ToneSource::samples(440.0, audio_n * FRAME_SAMPLES as u64),
                timestamp: 0,
                origin: AudioOrigin::Captured,
            });
            a.handle_captured(now, CaptureTrack::Audio, &frame, &mut PassThrough)
                .unwrap();
            audio_n += 1;
        }
        if now < end && ms * 30 >= video_n * 1000 {
            let mut f = PatternSource::picture(320, 180, video_n);
            f.timestamp = (video_n * 3000) as u32;
            a.handle_captured(
                now,
                CaptureTrack::Camera,
                &Frame::Video(f),
                &mut PassThrough,
            )
            .unwrap();
            video_n += 1;
        }
        while let Some(p) = a.poll_transmit() {
            b.handle_packet(now, &p, open);
        }
        if b.poll_timeout().is_some_and(|t| t <= now) {
            b.handle_timeout(now, open);
        }
        while let Some(o) = b.poll_output() {
            outputs.push(o);
        }
        now += Duration::from_millis(5);
    }
    (outputs, a.stats(), b.stats())
}

#[test]
fn audio_and_video_flow_between_two_engines() {
    let (outputs, sent, received) = run(2, &mut PassThrough);
    let from = ParticipantId(1);
    let audio = outputs
        .iter()
        .filter(|o| matches!(o, MediaOutput::Audio { participant, .. } if *participant == from))
        .count();
    let pictures: Vec<&DecodedVideo> = outputs
        .iter()
        .filter_map(|o| match o {
            MediaOutput::Video(v) => Some(v),
            _ => None,
        })
        .collect();
    let r = received.received[&from];
    let s = sent.sent[&track::AUDIO];
    assert_eq!(s.frames, 100, "{sent:?}");
    // Everything sent arrived and played; only the first frame's wait is lost.
    assert!(r.audio_frames_decoded >= 95, "{r:?}");
    assert!(audio >= 95);
    assert!(pictures.len() >= 55, "{} pictures", pictures.len());
    assert!(
        pictures
            .iter()
            .all(|p| (p.frame.width, p.frame.height) == (320, 180))
    );
    assert_eq!(r.video_frames_decoded, pictures.len() as u64);
    assert!(r.video_keyframes >= 1);
    assert_eq!(r.video_freezes, 0);
    // Only the layer that fits a 320x180 source is sent.
    assert_eq!(sent.sent.keys().copied().collect::<Vec<_>>(), vec![0, 1]);
}

#[test]
fn frames_that_do_not_open_are_dropped_not_played() {
    let (outputs, _, received) = run(1, &mut RefuseOpen);
    assert!(
        !outputs.iter().any(|o| matches!(
            o,
            MediaOutput::Video(_)
                | MediaOutput::EncodedVideo { .. }
                | MediaOutput::EncodedAudio { .. }
        )),
        "nothing unopened reaches the front end"
    );
    let r = received.received[&ParticipantId(1)];
    assert_eq!(r.video_frames_decoded, 0);
    assert!(r.unopened_frames > 40, "{r:?}");
}

#[test]
fn hostile_packets_are_counted_never_a_panic() {
    let mut b = MediaEngine::new(MediaConfig::default());
    let now = Instant::now();
    // Before joining, nothing is accepted.
    b.handle_packet(
        now,
        &[0x80, 111, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0],
        &mut PassThrough,
    );
    b.handle_joined(ParticipantId(2));
    let cases: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x80],
        vec![0x80, 206, 0, 2, 0, 0, 1, 0],
        // Our own SSRC.
        vec![0x80, 111, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0],
        // Unknown track 9.
        vec![0x80, 111, 0, 0, 0, 0, 0, 0, 0, 0, 1, 9],
        // Wrong payload type for audio.
        vec![0x80, 102, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 2, 3],
    ];
    for c in &cases {
        b.handle_packet(now, c, &mut PassThrough);
    }
    assert_eq!(b.stats().dropped_packets, cases.len() as u64 + 1);
    let mut state = 0x9e37_79b9u32;
    for i in 0..400u32 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let len = (state % 64) as usize;
        let mut p: Vec<u8> = (0..len)
            .map(|k| (state >> (k % 24)) as u8 ^ k as u8)
            .collect();
        if p.len() >= 12 {
            p[0] = 0x80 | (p[0] & 0x1f);
            p[1] = if i % 2 == 0 { 111 } else { 102 | 0x80 };
            p[8..12].copy_from_slice(&[0, 0, 1, (i % 5) as u8]);
        }
        b.handle_packet(
            now + Duration::from_millis(u64::from(i)),
            &p,
            &mut PassThrough,
        );
        b.handle_timeout(now + Duration::from_millis(u64::from(i)), &mut PassThrough);
        while b.poll_output().is_some() {}
        while b.poll_feedback().is_some() {}
    }
}
