//! The meeting's speaker, chosen: a private PulseAudio server with two null
//! sinks, `vsink` ("Main", the default) and `vsink2` ("Second"). A
//! [`SpeakerSink`] opened on `vsink2` plays the meeting's mix there (its
//! monitor hears it, the default's does not); one opened on a speaker that
//! is gone plays on the default and says why. Skipped, with a message, when
//! PulseAudio is not installed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use confer_client::media::playout::SpeakerSink;
use confer_client::media::{MediaOutput, MediaSink};
use confer_media::MediaError;
use confer_media::frame::{AudioFrame, AudioOrigin, FRAME_SAMPLES};
use confer_media::source::MicrophoneSource;
use confer_wire::ids::ParticipantId;

#[path = "../../media/tests/common/pulse.rs"]
mod pulse;
use pulse::{have, loudest, pactl, run_inner, start_pulseaudio};

/// Runs [`speaker_choice_inner`] in a child process with `PULSE_SERVER`
/// set (a test cannot safely set its own environment while others run).
#[test]
fn the_meeting_plays_on_the_chosen_speaker_or_says_why_not() {
    if !have("pulseaudio") || !have("pactl") {
        eprintln!("SKIPPED: needs pulseaudio and pulseaudio-utils");
        return;
    }
    let dir = std::env::temp_dir().join(format!("confer-client-speaker-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let Some((_server_guard, server)) = start_pulseaudio(
        &dir,
        &[
            "sink_name=vsink rate=48000 sink_properties=device.description=Main",
            "sink_name=vsink2 rate=48000 sink_properties=device.description=Second",
        ],
    ) else {
        eprintln!("SKIPPED: pulseaudio did not start");
        return;
    };
    assert!(pactl(&server, &["set-default-sink", "vsink"]));
    run_inner("speaker_choice_inner", &server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The check proper; run by the test above.
#[test]
#[ignore = "run by the_meeting_plays_on_the_chosen_speaker_or_says_why_not with PULSE_SERVER set"]
fn speaker_choice_inner() {
    // A speaker that is gone: the default plays, with the reason.
    let gone = "speaker:pulseaudio:unplugged";
    let (fallback, why) = SpeakerSink::open_or_default(Some(gone)).unwrap();
    assert_eq!(fallback.name(), "Main");
    match why {
        Some(MediaError::DeviceNotFound { id, .. }) => assert_eq!(id, gone),
        other => panic!("fell back without saying why: {other:?}"),
    }
    drop(fallback);
    let (default, why) = SpeakerSink::open_or_default(None).unwrap();
    assert_eq!((default.name(), why.is_none()), ("Main", true));
    drop(default);

    // The chosen speaker plays the meeting's mix, and only it does.
    let (mut sink, why) = SpeakerSink::open_or_default(Some("speaker:pulseaudio:vsink2")).unwrap();
    assert!(why.is_none(), "{why:?}");
    assert_eq!(sink.name(), "Second");
    let mut chosen = MicrophoneSource::open("mic:pulseaudio:vsink2.monitor").unwrap();
    let mut main = MicrophoneSource::open("mic:pulseaudio:vsink.monitor").unwrap();
    // A loud square wave from each of two participants: their mix clips
    // to full scale, about 0 dBov where it is heard.
    let loud: Vec<i16> = (0..FRAME_SAMPLES)
        .map(|i| if (i / 24) % 2 == 0 { 20_000 } else { -20_000 })
        .collect();
    let (mut on_chosen, mut on_main) = (127u8, 127u8);
    let start = Instant::now();
    let mut timestamp = 0u32;
    // One mixed frame per round (a participant heard again closes the
    // last interval, as in a meeting); 20 ms rounds keep it fed
    // in real time. Stops as soon as the wave is heard.
    while start.elapsed() < Duration::from_secs(15) && on_chosen > 5 {
        for p in [1, 2] {
            sink.handle(MediaOutput::Audio {
                participant: ParticipantId(p),
                frame: AudioFrame {
                    samples: loud.clone(),
                    timestamp,
                    origin: AudioOrigin::Decoded,
                },
            });
        }
        timestamp = timestamp.wrapping_add(FRAME_SAMPLES as u32);
        on_chosen = loudest(&mut chosen, on_chosen);
        on_main = loudest(&mut main, on_main);
        std::thread::sleep(Duration::from_millis(20));
    }
    sink.finish();
    on_main = loudest(&mut main, on_main);
    eprintln!("chosen sink -{on_chosen} dBov, default sink -{on_main} dBov");
    assert!(on_chosen <= 5, "the chosen speaker heard -{on_chosen} dBov");
    assert!(on_main >= 60, "the default heard -{on_main} dBov");
}
