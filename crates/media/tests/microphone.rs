//! Microphone capture through cpal's PulseAudio host: a private PulseAudio
//! server with a null sink, a tone played into it, and the sink's monitor
//! captured as the default microphone. Skipped, with a message, when
//! PulseAudio is not installed.

// Test helpers outside #[test] fns: failing loudly is what a test wants.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "mic")]

use std::process::Command;
use std::time::{Duration, Instant};

use confer_media::level::audio_level_dbov;
use confer_media::playout::Speaker;
use confer_media::source::{
    DeviceKind, Frame, MediaSource, MicrophoneSource, ToneSource, list_devices,
};
use confer_media::wav::wav_bytes;

#[path = "common/pulse.rs"]
mod pulse;
use pulse::{Killed, have, pactl, start_pulseaudio};

/// Plays a 440 Hz tone at -15 dBov into a null sink and captures the sink's
/// monitor through [`MicrophoneSource`] in a child process (which gets
/// `PULSE_SERVER` in its environment).
#[test]
fn microphone_captures_a_tone_played_into_pulseaudio() {
    if !have("pulseaudio") || !have("pactl") || !have("paplay") {
        eprintln!("SKIPPED: needs pulseaudio and pulseaudio-utils");
        return;
    }
    let dir = std::env::temp_dir().join(format!("confer-media-pulse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let Some((_server_guard, server)) = start_pulseaudio(&dir, &["sink_name=vsink rate=48000"])
    else {
        eprintln!("SKIPPED: pulseaudio did not start");
        return;
    };
    assert!(pactl(&server, &["set-default-source", "vsink.monitor"]));
    let tone: Vec<i16> = (0..500)
        .flat_map(|n| ToneSource::samples(440.0, n))
        .collect();
    let wav = dir.join("tone.wav");
    std::fs::write(&wav, wav_bytes(&tone, 48_000)).unwrap();
    let _player = Killed(
        Command::new("paplay")
            .env("PULSE_SERVER", &server)
            .args(["--device=vsink"])
            .arg(&wav)
            .spawn()
            .unwrap(),
    );
    for inner in ["capture_tone_inner", "speaker_loopback_inner"] {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", inner, "--ignored", "--nocapture"])
            .env("PULSE_SERVER", &server)
            .output()
            .unwrap();
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{inner} failed:\n{log}");
        assert!(log.contains("1 passed"), "{inner} did not run:\n{log}");
        eprintln!("{log}");
    }
}

/// The capture check proper; run by the test above.
#[test]
#[ignore = "run by microphone_captures_a_tone_played_into_pulseaudio with PULSE_SERVER set"]
fn capture_tone_inner() {
    let (devices, errors) = list_devices();
    eprintln!("devices: {devices:?}\nerrors: {errors:?}");
    assert!(devices.iter().any(|d| d.kind == DeviceKind::Microphone));
    let mut mic = MicrophoneSource::open("mic:default").unwrap();
    let start = Instant::now();
    let mut levels = Vec::new();
    while start.elapsed() < Duration::from_secs(10) && levels.len() < 100 {
        match mic.poll_frame(Instant::now()).unwrap() {
            Some(Frame::Audio(f)) => levels.push(audio_level_dbov(&f.samples)),
            Some(Frame::Video(_)) => panic!("a microphone gave video"),
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    eprintln!(
        "captured {} frames, levels {:?}",
        levels.len(),
        &levels[levels.len().saturating_sub(5)..]
    );
    assert!(
        levels.len() >= 25,
        "real-time capture delivers ~50 frames/s"
    );
    // The tone is -15 dBov (amplitude 8192, RMS 5793); allow for the
    // monitor's volume and resampling.
    let loudest = levels.iter().min().copied().unwrap_or(127);
    assert!(loudest <= 25, "loudest frame -{loudest} dBov");
}

/// Speaker → null sink → monitor → microphone: a full-scale square wave
/// played through [`Speaker`] comes back at about 0 dBov, far above the
/// -15 dBov tone the other player is still playing into the same sink.
#[test]
#[ignore = "run by microphone_captures_a_tone_played_into_pulseaudio with PULSE_SERVER set"]
fn speaker_loopback_inner() {
    let speaker = Speaker::open_default().unwrap();
    let mut mic = MicrophoneSource::open("mic:default").unwrap();
    // Full-scale square wave: 0 dBov, well above the background tone.
    let loud: Vec<i16> = (0..960)
        .map(|i| if (i / 24) % 2 == 0 { 30_000 } else { -30_000 })
        .collect();
    let start = Instant::now();
    let mut loudest = 127u8;
    let mut frames = 0;
    // Stops as soon as the wave is heard; the generous bound only matters
    // on a loaded machine, where the first second can be all underruns.
    while start.elapsed() < Duration::from_secs(15) && loudest > 5 {
        if speaker.queued() < 4800 {
            speaker.play(&loud);
        }
        match mic.poll_frame(Instant::now()).unwrap() {
            Some(Frame::Audio(f)) => {
                frames += 1;
                loudest = loudest.min(audio_level_dbov(&f.samples));
            }
            Some(Frame::Video(_)) => panic!("a microphone gave video"),
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    eprintln!(
        "speaker {:?}: {frames} frames captured, loudest -{loudest} dBov, {} underruns",
        speaker.name(),
        speaker.underruns()
    );
    assert!(loudest <= 5, "the square wave came back at -{loudest} dBov");
}
