//! Choosing the speaker: a private PulseAudio server with two null sinks,
//! `vsink` (the default) and `vsink2`. The speakers are listed with the
//! default marked; a speaker opened by id plays into that sink and not the
//! default (each sink's monitor is captured to tell); ids of sources and
//! of sinks that do not exist fail as "not found". Skipped, with a
//! message, when PulseAudio is not installed.

// Test helpers outside #[test] fns: failing loudly is what a test wants.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "mic")]

use std::time::{Duration, Instant};

use confer_media::MediaError;
use confer_media::playout::{SPEAKER_PREFIX, Speaker, list_speakers};
use confer_media::source::MicrophoneSource;

#[path = "common/pulse.rs"]
mod pulse;
use pulse::{have, loudest, pactl, run_inner, start_pulseaudio};

/// Runs [`chosen_speaker_inner`] in a child process with `PULSE_SERVER`
/// pointing at the private server (a test cannot safely set its own
/// environment while other tests run).
#[test]
fn a_chosen_speaker_plays_on_that_device() {
    if !have("pulseaudio") || !have("pactl") {
        eprintln!("SKIPPED: needs pulseaudio and pulseaudio-utils");
        return;
    }
    let dir = std::env::temp_dir().join(format!("confer-media-speaker-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let Some((_server_guard, server)) = start_pulseaudio(
        &dir,
        &["sink_name=vsink rate=48000", "sink_name=vsink2 rate=48000"],
    ) else {
        eprintln!("SKIPPED: pulseaudio did not start");
        return;
    };
    assert!(pactl(&server, &["set-default-sink", "vsink"]));
    run_inner("chosen_speaker_inner", &server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The check proper; run by the test above.
#[test]
#[ignore = "run by a_chosen_speaker_plays_on_that_device with PULSE_SERVER set"]
fn chosen_speaker_inner() {
    let speakers = list_speakers().unwrap();
    eprintln!("speakers: {speakers:?}");
    let id = |sink: &str| format!("{SPEAKER_PREFIX}pulseaudio:{sink}");
    let first = speakers.iter().find(|s| s.id == id("vsink")).unwrap();
    let second = speakers.iter().find(|s| s.id == id("vsink2")).unwrap();
    assert!(first.is_default && !second.is_default);
    assert!(!second.name.is_empty());
    assert!(
        speakers.iter().all(|s| !s.id.ends_with(".monitor")),
        "sources are microphones, not speakers"
    );

    // A microphone's id, and a sink that is not there, are not speakers.
    for wrong in [id("vsink2.monitor"), id("unplugged")] {
        match Speaker::open(&wrong) {
            Err(MediaError::DeviceNotFound {
                kind: "speaker", ..
            }) => {}
            other => panic!("{wrong:?} gave {other:?}"),
        }
    }

    let speaker = Speaker::open(&second.id).unwrap();
    let mut chosen = MicrophoneSource::open("mic:pulseaudio:vsink2.monitor").unwrap();
    let mut default = MicrophoneSource::open("mic:pulseaudio:vsink.monitor").unwrap();
    // Full-scale square wave: about 0 dBov where it is heard.
    let loud: Vec<i16> = (0..960)
        .map(|i| if (i / 24) % 2 == 0 { 30_000 } else { -30_000 })
        .collect();
    let start = Instant::now();
    let (mut on_chosen, mut on_default) = (127u8, 127u8);
    // Stops as soon as the wave is heard; the generous bound only matters
    // on a loaded machine, where the first second can be all underruns.
    while start.elapsed() < Duration::from_secs(15) && on_chosen > 5 {
        if speaker.queued() < 4800 {
            speaker.play(&loud);
        }
        on_chosen = loudest(&mut chosen, on_chosen);
        on_default = loudest(&mut default, on_default);
        std::thread::sleep(Duration::from_millis(5));
    }
    // Whatever the default's monitor captured meanwhile, drained once more.
    on_default = loudest(&mut default, on_default);
    eprintln!(
        "speaker {:?}: chosen sink -{on_chosen} dBov, default sink -{on_default} dBov",
        speaker.name()
    );
    assert!(on_chosen <= 5, "the chosen sink heard -{on_chosen} dBov");
    assert!(
        on_default >= 60,
        "the default sink heard -{on_default} dBov: the wave went to the wrong device"
    );
}
