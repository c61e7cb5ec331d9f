//! A private PulseAudio server with named null sinks, for the tests that
//! play or capture real audio (`speaker.rs`, `microphone.rs`, and the
//! client's `speaker_choice.rs`, which includes this file by path). No
//! sound card here: the null sinks and their monitors stand in for a
//! speaker and a microphone.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed on drop.
pub(crate) struct Killed(pub(crate) Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether `cmd` is on the `PATH`.
pub(crate) fn have(cmd: &str) -> bool {
    Command::new("which")
        .arg(cmd)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `pactl` against `server`; whether it succeeded.
pub(crate) fn pactl(server: &str, args: &[&str]) -> bool {
    Command::new("pactl")
        .env("PULSE_SERVER", server)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts PulseAudio in `dir` with one 48 kHz null sink per entry of
/// `sinks` (module arguments after `module-null-sink`, e.g.
/// `sink_name=vsink rate=48000`; the first is the default). Returns the
/// server guard and its `PULSE_SERVER` address, or `None` if it did not
/// come up within 10 s.
pub(crate) fn start_pulseaudio(dir: &Path, sinks: &[&str]) -> Option<(Killed, String)> {
    let socket = dir.join("native");
    let server = format!("unix:{}", socket.display());
    let mut command = Command::new("pulseaudio");
    command
        .args([
            "-n",
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--use-pid-file=no",
        ])
        .arg("-L")
        .arg(format!(
            "module-native-protocol-unix auth-anonymous=1 socket={}",
            socket.display()
        ));
    for sink in sinks {
        command.arg("-L").arg(format!("module-null-sink {sink}"));
    }
    let child = command
        .env("HOME", dir)
        .env("XDG_RUNTIME_DIR", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let guard = Killed(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if pactl(&server, &["info"]) {
            return Some((guard, server));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// Runs the ignored test `inner` of this test binary in a child process
/// with `PULSE_SERVER` set to `server` (a test cannot safely set its own
/// environment while others run), and fails unless it ran and passed.
pub(crate) fn run_inner(inner: &str, server: &str) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = Command::new(exe)
        .args(["--exact", inner, "--ignored", "--nocapture"])
        .env("PULSE_SERVER", server)
        .output()
        .expect("run the inner test");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{inner} failed:\n{log}");
    assert!(
        log.contains("1 passed"),
        "the inner test did not run:\n{log}"
    );
    eprintln!("{log}");
}

/// The loudest level (dBov, lower is louder) among the frames `mic` has
/// ready, or `so_far` when none is louder.
pub(crate) fn loudest(mic: &mut confer_media::source::MicrophoneSource, so_far: u8) -> u8 {
    use confer_media::source::{Frame, MediaSource};
    let mut loudest = so_far;
    while let Some(frame) = mic.poll_frame(Instant::now()).expect("the monitor reads") {
        match frame {
            Frame::Audio(f) => {
                loudest = loudest.min(confer_media::level::audio_level_dbov(&f.samples));
            }
            Frame::Video(_) => panic!("a microphone gave video"),
        }
    }
    loudest
}
