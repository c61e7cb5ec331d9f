//! The engine on a virtual clock: two engines joined back to back, no router.

use std::time::{Duration, Instant};

use confer_media::frame::{AudioFrame, AudioOrigin, FRAME_SAMPLES};
use confer_media::packet::MediaPacket;
use confer_media::processing::ProcessingConfig;
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
    run_with(MediaConfig::default(), None, seconds, open)
}

/// [`run`] with B's configuration, and B's front end asking for a keyframe
/// of A's camera `request_keyframe_at` into the run.
fn run_with(
    b_config: MediaConfig,
    request_keyframe_at: Option<Duration>,
    seconds: u64,
    open: &mut dyn FrameCrypto,
) -> (Vec<MediaOutput>, MediaEngineStats, MediaEngineStats) {
    let t0 = Instant::now();
    let mut a = MediaEngine::new(MediaConfig::default());
    let mut b = MediaEngine::new(b_config);
    let mut request_keyframe_at = request_keyframe_at.map(|d| t0 + d);
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
        if request_keyframe_at.is_some_and(|t| t <= now) {
            request_keyframe_at = None;
            b.request_keyframe(ParticipantId(1), VideoKind::Camera);
        }
        while let Some(p) = a.poll_transmit() {
            b.handle_packet(now, &p, open);
        }
        while let Some(fb) = b.poll_feedback() {
            a.handle_packet(now, &fb, &mut PassThrough);
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

/// The access units B's front end receives, with their keyframe flags.
fn encoded_camera(outputs: &[MediaOutput]) -> Vec<(bool, &[u8])> {
    outputs
        .iter()
        .filter_map(|o| match o {
            MediaOutput::EncodedVideo {
                kind: VideoKind::Camera,
                keyframe,
                annex_b,
                ..
            } => Some((*keyframe, annex_b.as_slice())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_front_end_that_decodes_itself_gets_access_units_and_no_pictures() {
    let config = MediaConfig {
        decode_video: false,
        ..MediaConfig::default()
    };
    let (outputs, _, received) = run_with(config, None, 2, &mut PassThrough);
    assert!(
        !outputs.iter().any(|o| matches!(o, MediaOutput::Video(_))),
        "nothing is decoded"
    );
    let units = encoded_camera(&outputs);
    assert!(units.len() >= 55, "{} access units", units.len());
    // The stream starts at a keyframe, and each unit is Annex B that our
    // own decoder accepts: what the page's decoder will be given.
    assert!(units[0].0, "first unit is a keyframe");
    let mut decoder = confer_media::h264_codec::VideoDecoder::new().unwrap();
    let decoded = units
        .iter()
        .filter(|(_, au)| matches!(decoder.decode_annex_b(au, 0), Ok(Some(_))))
        .count();
    assert_eq!(decoded, units.len());
    let r = received.received[&ParticipantId(1)];
    assert_eq!(r.video_frames_decoded, 0);
    assert_eq!(r.video_frames_passed, units.len() as u64);
    assert_eq!(r.video_freezes, 0);
}

#[test]
fn a_front_end_decoder_failure_asks_the_sender_for_a_keyframe() {
    let config = MediaConfig {
        decode_video: false,
        ..MediaConfig::default()
    };
    let (plain, ..) = run_with(config, None, 2, &mut PassThrough);
    let at = Duration::from_millis(1000);
    let (outputs, _, received) = run_with(config, Some(at), 2, &mut PassThrough);
    let keyframes = |o: &[MediaOutput]| encoded_camera(o).iter().filter(|(k, _)| *k).count();
    // More keyframes than the encoder's own schedule gives: asked for.
    assert!(keyframes(&outputs) > keyframes(&plain));
    let r = received.received[&ParticipantId(1)];
    assert!(r.feedback_messages >= 1, "{r:?}");
    // Frames between the failure and the keyframe are dropped, not passed on.
    assert!(r.video_frames_dropped >= 1, "{r:?}");
}

#[test]
fn the_front_end_chooses_each_camera_layer() {
    let now = Instant::now();
    let mut a = MediaEngine::new(MediaConfig::default());
    let mut b = MediaEngine::new(MediaConfig::default());
    a.handle_joined(ParticipantId(1));
    b.handle_joined(ParticipantId(2));
    // Chosen before any video arrives: the first request asks for it.
    b.set_video_layer(ParticipantId(1), LayerId::Low);
    assert_eq!(b.poll_subscription(), None, "nobody heard yet");
    let f = Frame::Video(PatternSource::picture(640, 360, 0));
    a.handle_captured(now, CaptureTrack::Camera, &f, &mut PassThrough)
        .unwrap();
    while let Some(p) = a.poll_transmit() {
        b.handle_packet(now, &p, &mut PassThrough);
    }
    let first = b.poll_subscription();
    assert_eq!(
        first,
        Some(Subscription::layer(ParticipantId(1), LayerId::Low))
    );
    assert_eq!(b.poll_subscription(), None);
    // Shown large: one request; the same choice again: none.
    b.set_video_layer(ParticipantId(1), LayerId::High);
    b.set_video_layer(ParticipantId(1), LayerId::High);
    let subs: Vec<_> = std::iter::from_fn(|| b.poll_subscription()).collect();
    assert_eq!(
        subs,
        vec![Subscription::layer(ParticipantId(1), LayerId::High)]
    );
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

/// A sends 320x180 camera pictures to B for `frames` frames; the camera
/// packet numbered `drop_nth` is lost on the way. Feedback from B goes back
/// to A. Returns the feedback B sent and both engines' stats.
fn run_with_loss(drop_nth: usize) -> (Vec<Bytes>, MediaEngineStats, MediaEngineStats) {
    let t0 = Instant::now();
    let mut a = MediaEngine::new(MediaConfig::default());
    let mut b = MediaEngine::new(MediaConfig::default());
    a.handle_joined(ParticipantId(1));
    b.handle_joined(ParticipantId(2));
    let mut feedback = Vec::new();
    let mut camera_packets = 0usize;
    let mut now = t0;
    for n in 0..60u64 {
        let mut f = PatternSource::picture(320, 180, n);
        f.timestamp = (n * 3000) as u32;
        a.handle_captured(
            now,
            CaptureTrack::Camera,
            &Frame::Video(f),
            &mut PassThrough,
        )
        .unwrap();
        for _ in 0..7 {
            while let Some(p) = a.poll_transmit() {
                if confer_wire::ids::track_of_ssrc(confer_wire::rtp::ssrc(&p).unwrap()) != 0 {
                    camera_packets += 1;
                    if camera_packets == drop_nth {
                        continue;
                    }
                }
                b.handle_packet(now, &p, &mut PassThrough);
            }
            if b.poll_timeout().is_some_and(|t| t <= now) {
                b.handle_timeout(now, &mut PassThrough);
            }
            while b.poll_output().is_some() {}
            while let Some(fb) = b.poll_feedback() {
                a.handle_packet(now, &fb, &mut PassThrough);
                feedback.push(fb);
            }
            now += Duration::from_millis(5);
        }
    }
    (feedback, a.stats(), b.stats())
}

#[test]
fn a_lost_camera_packet_is_nacked_by_us_and_retransmitted() {
    let (feedback, sent, received) = run_with_loss(40);
    let nacks: Vec<_> = feedback
        .iter()
        .filter_map(|p| confer_wire::rtcp::FeedbackPacket::parse(p).ok())
        .filter(|f| f.kind == confer_wire::rtcp::FeedbackKind::Nack)
        .collect();
    assert!(!nacks.is_empty(), "no NACK in {feedback:?}");
    for f in &nacks {
        // Sent in our own name (the session and router require it), about
        // A's stream.
        assert_eq!(participant_of_ssrc(f.sender_ssrc), ParticipantId(2));
        assert_eq!(participant_of_ssrc(f.media_ssrc), ParticipantId(1));
    }
    let retransmitted: u64 = sent.sent.values().map(|t| t.retransmitted).sum();
    assert!(retransmitted >= 1, "{sent:?}");
    let r = received.received[&ParticipantId(1)];
    assert_eq!(r.video_freezes, 0, "the repair arrived in time: {r:?}");
}

#[test]
fn a_keyframe_request_makes_the_next_camera_frame_a_keyframe() {
    let t0 = Instant::now();
    let mut a = MediaEngine::new(MediaConfig::default());
    a.handle_joined(ParticipantId(1));
    let send = |a: &mut MediaEngine, n: u64| {
        let mut f = PatternSource::picture(320, 180, n);
        f.timestamp = (n * 3000) as u32;
        a.handle_captured(t0, CaptureTrack::Camera, &Frame::Video(f), &mut PassThrough)
            .unwrap();
        while a.poll_transmit().is_some() {}
        a.stats().sent[&1].keyframes
    };
    for n in 0..5 {
        send(&mut a, n);
    }
    let before = send(&mut a, 5);
    assert_eq!(send(&mut a, 6), before, "no keyframe unasked");
    let pli = confer_wire::rtcp::pli(
        confer_wire::ids::ssrc_for(ParticipantId(2), 0),
        confer_wire::ids::ssrc_for(ParticipantId(1), 1),
    );
    a.handle_packet(t0, &pli, &mut PassThrough);
    assert_eq!(send(&mut a, 7), before + 1, "the requested keyframe");
    assert_eq!(a.stats().sent[&1].keyframe_requests, 1);
    // A request for a track we do not send, or for someone else's, is not
    // counted as ours.
    for media_ssrc in [
        confer_wire::ids::ssrc_for(ParticipantId(1), confer_wire::ids::track::SCREEN),
        // A 320x180 camera sends no 640x360 layer.
        confer_wire::ids::ssrc_for(ParticipantId(1), 2),
        confer_wire::ids::ssrc_for(ParticipantId(3), 1),
    ] {
        let pli = confer_wire::rtcp::pli(1, media_ssrc);
        a.handle_packet(t0, &pli, &mut PassThrough);
    }
    let sent = &a.stats().sent;
    assert_eq!(sent[&1].keyframe_requests, 1);
    assert!(!sent.contains_key(&confer_wire::ids::track::SCREEN) && !sent.contains_key(&2));
    assert_eq!(send(&mut a, 8), before + 1, "no keyframe for those");
}

#[test]
fn a_camera_that_changes_size_changes_its_layers() {
    let t0 = Instant::now();
    let mut a = MediaEngine::new(MediaConfig::default());
    a.handle_joined(ParticipantId(1));
    // Frames per track number sent by one picture of `w`×`h`.
    let send = |a: &mut MediaEngine, w: u32, h: u32, n: u64| {
        let before = a.stats().sent;
        let mut f = PatternSource::picture(w, h, n);
        f.timestamp = (n * 3000) as u32;
        a.handle_captured(t0, CaptureTrack::Camera, &Frame::Video(f), &mut PassThrough)
            .unwrap();
        while a.poll_transmit().is_some() {}
        let after = a.stats().sent;
        let grew =
            |t: u8| after.get(&t).map_or(0, |s| s.frames) - before.get(&t).map_or(0, |s| s.frames);
        (grew(1), grew(2))
    };
    assert_eq!(send(&mut a, 640, 360, 0), (1, 1), "two layers");
    // The quality setting drops to 320x180: no 640x360 layer upscaled
    // from it.
    assert_eq!(send(&mut a, 320, 180, 1), (1, 0));
    assert_eq!(send(&mut a, 320, 180, 2), (1, 0));
    // Back up: the larger layer returns, from a keyframe.
    let keyframes = a.stats().sent[&2].keyframes;
    assert_eq!(send(&mut a, 640, 360, 3), (1, 1));
    assert_eq!(a.stats().sent[&2].keyframes, keyframes + 1);
}

#[test]
fn a_new_camera_gets_one_subscription_for_the_preferred_layer() {
    let t0 = Instant::now();
    let mut a = MediaEngine::new(MediaConfig::default());
    let mut b = MediaEngine::new(MediaConfig {
        video_layer: LayerId::Medium,
        ..MediaConfig::default()
    });
    a.handle_joined(ParticipantId(1));
    b.handle_joined(ParticipantId(2));
    assert_eq!(b.poll_subscription(), None, "nobody heard yet");
    // Audio alone asks nothing: the router has no camera layer to keep.
    let tone = Frame::Audio(AudioFrame {
        samples: ToneSource::samples(440.0, 0),
        timestamp: 0,
        origin: AudioOrigin::Captured,
    });
    a.handle_captured(t0, CaptureTrack::Audio, &tone, &mut PassThrough)
        .unwrap();
    while let Some(p) = a.poll_transmit() {
        b.handle_packet(t0, &p, &mut PassThrough);
    }
    assert_eq!(b.poll_subscription(), None, "no camera heard yet");
    for n in 0..3 {
        let mut f = PatternSource::picture(320, 180, n);
        f.timestamp = (n * 3000) as u32;
        a.handle_captured(t0, CaptureTrack::Camera, &Frame::Video(f), &mut PassThrough)
            .unwrap();
        while let Some(p) = a.poll_transmit() {
            b.handle_packet(t0, &p, &mut PassThrough);
        }
    }
    assert_eq!(
        b.poll_subscription(),
        Some(Subscription::layer(ParticipantId(1), LayerId::Medium))
    );
    assert_eq!(b.poll_subscription(), None, "asked once, not per packet");
    // Until the router honours it, the lowest layer is what arrives.
    assert_eq!(b.stats().received[&ParticipantId(1)].video_layer, Some(0));
    // The CLI's default asks for the best layer the sender has.
    assert_eq!(MediaConfig::default().video_layer, LayerId::High);
}

/// 2 s of a tone with some hiss, in 20 ms frames.
fn noisy_tone_frames() -> Vec<Vec<i16>> {
    let mut seed = 0x2545_f491_u32;
    (0..100u64)
        .map(|n| {
            ToneSource::samples(440.0, n * FRAME_SAMPLES as u64)
                .into_iter()
                .map(|s| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    s.saturating_add((seed % 2001) as i16 - 1000)
                })
                .collect()
        })
        .collect()
}

/// The Opus payloads an engine with `processing` sends for `frames`.
fn opus_sent(processing: ProcessingConfig, frames: &[Vec<i16>]) -> (Vec<Vec<u8>>, MediaEngine) {
    let t0 = Instant::now();
    let mut e = MediaEngine::new(MediaConfig {
        processing,
        ..MediaConfig::default()
    });
    e.handle_joined(ParticipantId(1));
    let mut sent = Vec::new();
    for samples in frames {
        let frame = Frame::Audio(AudioFrame {
            samples: samples.clone(),
            timestamp: 0,
            origin: AudioOrigin::Captured,
        });
        e.handle_captured(t0, CaptureTrack::Audio, &frame, &mut PassThrough)
            .unwrap();
        while let Some(p) = e.poll_transmit() {
            sent.push(MediaPacket::parse(&p).unwrap().payload.to_vec());
        }
    }
    (sent, e)
}

#[test]
fn the_echo_reference_is_one_mixed_frame_per_period_however_many_talk() {
    let t0 = Instant::now();
    let mut b = MediaEngine::new(MediaConfig {
        processing: ProcessingConfig {
            echo_cancellation: true,
            ..ProcessingConfig::off()
        },
        ..MediaConfig::default()
    });
    b.handle_joined(ParticipantId(2));
    let tone = |n: u64| {
        Frame::Audio(AudioFrame {
            samples: ToneSource::samples(440.0, n * FRAME_SAMPLES as u64),
            timestamp: 0,
            origin: AudioOrigin::Captured,
        })
    };
    // B's microphone starts the canceller.
    b.handle_captured(t0, CaptureTrack::Audio, &tone(0), &mut PassThrough)
        .unwrap();
    let mut talkers: Vec<MediaEngine> = [1, 3]
        .into_iter()
        .map(|id| {
            let mut e = MediaEngine::new(MediaConfig::default());
            e.handle_joined(ParticipantId(id));
            e
        })
        .collect();
    let mut played = 0u64;
    let mut n = 0u64;
    let mut now = t0;
    while now < t0 + Duration::from_secs(2) {
        if now.duration_since(t0).as_millis() as u64 >= n * 20 {
            for talker in &mut talkers {
                talker
                    .handle_captured(now, CaptureTrack::Audio, &tone(n), &mut PassThrough)
                    .unwrap();
                while let Some(p) = talker.poll_transmit() {
                    b.handle_packet(now, &p, &mut PassThrough);
                }
            }
            n += 1;
        }
        if b.poll_timeout().is_some_and(|t| t <= now) {
            b.handle_timeout(now, &mut PassThrough);
        }
        while let Some(o) = b.poll_output() {
            played += u64::from(matches!(o, MediaOutput::Audio { .. }));
        }
        while b.poll_transmit().is_some() {}
        now += Duration::from_millis(5);
    }
    let reference = b.stats().echo_reference_frames;
    // Two talkers: about 2 x 100 frames played, about 100 periods.
    assert!(played >= 180, "{played} frames played");
    assert!(
        (90..=101).contains(&reference),
        "{reference} reference frames for {played} played"
    );
}

#[test]
fn processing_switched_on_mid_stream_applies_from_the_next_frame() {
    let frames = noisy_tone_frames();
    let (plain, _) = opus_sent(ProcessingConfig::off(), &frames);
    let half = frames.len() / 2;
    let (first, mut e) = opus_sent(ProcessingConfig::off(), &frames[..half]);
    assert_eq!(first, plain[..first.len()], "nothing runs while off");
    assert_eq!(e.processing(), None, "no processor made while all is off");
    let on = ProcessingConfig {
        noise_suppression: true,
        ..ProcessingConfig::off()
    };
    e.set_processing(on);
    let mut second = Vec::new();
    for samples in &frames[half..] {
        let frame = Frame::Audio(AudioFrame {
            samples: samples.clone(),
            timestamp: 0,
            origin: AudioOrigin::Captured,
        });
        e.handle_captured(
            Instant::now(),
            CaptureTrack::Audio,
            &frame,
            &mut PassThrough,
        )
        .unwrap();
        while let Some(p) = e.poll_transmit() {
            second.push(MediaPacket::parse(&p).unwrap().payload.to_vec());
        }
    }
    assert_eq!(e.processing(), Some(on));
    assert!(
        second != plain[first.len()..],
        "noise suppression did not run"
    );
    // And off again, for a microphone swapped for a tone.
    e.set_processing(ProcessingConfig::off());
    assert_eq!(e.processing(), Some(ProcessingConfig::off()));
}

#[test]
fn with_processing_off_captured_audio_reaches_opus_bit_exact() {
    let frames = noisy_tone_frames();
    let (sent, engine) = opus_sent(ProcessingConfig::off(), &frames);
    assert_eq!(engine.processing(), None, "no processor runs");
    // The same samples straight into an encoder give the same packets.
    let mut reference = confer_media::audio_track::AudioSender::new(
        ssrc_for(ParticipantId(1), track::AUDIO),
        MediaConfig::default().audio_bitrate,
    )
    .unwrap();
    let expected: Vec<Vec<u8>> = frames
        .iter()
        .filter_map(|f| reference.encode(f).unwrap())
        .map(|e| e.opus.to_vec())
        .collect();
    assert_eq!(sent.len(), expected.len());
    assert!(sent == expected, "the engine changed the captured audio");
}

#[test]
fn processing_switches_reach_the_processor() {
    let frames = noisy_tone_frames();
    let (plain, _) = opus_sent(ProcessingConfig::off(), &frames);
    for config in [
        ProcessingConfig {
            noise_suppression: true,
            ..ProcessingConfig::off()
        },
        ProcessingConfig {
            gain_control: true,
            ..ProcessingConfig::off()
        },
        ProcessingConfig {
            echo_cancellation: true,
            ..ProcessingConfig::off()
        },
        ProcessingConfig::default(),
    ] {
        let (processed, engine) = opus_sent(config, &frames);
        assert_eq!(engine.processing(), Some(config));
        if config.noise_suppression || config.gain_control {
            assert!(processed != plain, "{config:?} left the audio as it was");
        }
    }
}

#[test]
fn camera_packets_carry_the_layer_descriptor_the_router_reads() {
    let t0 = Instant::now();
    let mut a = MediaEngine::new(MediaConfig::default());
    a.handle_joined(ParticipantId(1));
    for n in 0..3u64 {
        let mut f = PatternSource::picture(320, 180, n);
        f.timestamp = (n * 3000) as u32;
        a.handle_captured(t0, CaptureTrack::Camera, &Frame::Video(f), &mut PassThrough)
            .unwrap();
        while let Some(p) = a.poll_transmit() {
            let d = confer_wire::simulcast::LayerDescriptor::find_in_rtp(&p);
            assert!(d.is_some(), "packet {n} {:02x?}", &p[..24]);
            let d = d.unwrap();
            assert_eq!(d.layer, LayerId::Low);
            assert_eq!(d.keyframe, n == 0);
        }
    }
}
