//! A screen share through the real router: one CLI shares the X screen
//! (`--screen-in`), another saves what arrives (`--save-received`); the
//! saved screen video shows the colour the root window was painted.
//!
//! Needs an X display (CI runs the suite under `xvfb-run`); without one the
//! test says so and passes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::{STEP_TIMEOUT, Server, terminate, wait_with_timeout};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery staple";
/// The root window's colour, `#3366cc`.
const COLOUR: (f64, f64, f64) = (51.0, 102.0, 204.0);
/// How far a plane's mean may be from the colour's (codec loss, and
/// full- versus limited-range conversion differ by up to ~8 levels).
const TOLERANCE: f64 = 14.0;

/// The colour in Y'CbCr (BT.601, limited range), as the screen capture
/// converts it.
fn expected_yuv() -> [f64; 3] {
    let (r, g, b) = COLOUR;
    [
        16.0 + (65.738 * r + 129.057 * g + 25.064 * b) / 256.0,
        128.0 + (-37.945 * r - 74.494 * g + 112.439 * b) / 256.0,
        128.0 + (112.439 * r - 94.154 * g - 18.285 * b) / 256.0,
    ]
}

/// The mean of each plane of the last picture in a 4:2:0 Y4M file.
fn last_picture_means(path: &Path) -> [f64; 3] {
    let bytes = std::fs::read(path).unwrap();
    let header_end = bytes.iter().position(|b| *b == b'\n').unwrap();
    let header = std::str::from_utf8(&bytes[..header_end]).unwrap();
    let field = |tag: char| -> usize {
        header
            .split(' ')
            .find_map(|f| f.strip_prefix(tag))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {tag} in {header}"))
    };
    let (w, h) = (field('W'), field('H'));
    let luma = w * h;
    let chroma = w.div_ceil(2) * h.div_ceil(2);
    let frame_len = b"FRAME\n".len() + luma + 2 * chroma;
    let body = &bytes[header_end + 1..];
    let frames = body.len() / frame_len;
    assert!(frames >= 1, "no picture in {}", path.display());
    let last = &body[(frames - 1) * frame_len + 6..frames * frame_len];
    let mean = |p: &[u8]| p.iter().map(|v| f64::from(*v)).sum::<f64>() / p.len() as f64;
    [
        mean(&last[..luma]),
        mean(&last[luma..luma + chroma]),
        mean(&last[luma + chroma..]),
    ]
}

/// An X client kept connected for the test: Xvfb resets the display (and
/// the root window's colour with it) whenever its last client disconnects.
struct HoldDisplay(std::process::Child);

impl Drop for HoldDisplay {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find_screen(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with("-screen.y4m"))
        })
        .unwrap_or_else(|| panic!("no *-screen.y4m saved in {}", dir.display()))
}

#[test]
fn a_shared_screen_arrives_in_its_colour() {
    if std::env::var_os("DISPLAY").is_none() {
        eprintln!("skipped: no X display (run under xvfb-run)");
        return;
    }
    let Ok(holder) = std::process::Command::new("xprop")
        .args(["-root", "-spy"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        eprintln!("skipped: xprop (to hold the display open) is missing");
        return;
    };
    let _holder = HoldDisplay(holder);
    // Give xprop time to connect before the painting client leaves.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let painted = std::process::Command::new("xsetroot")
        .args(["-solid", "#3366cc"])
        .status();
    if !painted.is_ok_and(|s| s.success()) {
        eprintln!("skipped: xsetroot could not paint the root window");
        return;
    }
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    let homes = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let rx_cli = server.cli(homes[0].path());
    let tx_cli = server.cli(homes[1].path());
    rx_cli.sign_up("rx@example.com", "Rx", PASSWORD);
    tx_cli.sign_up("tx@example.com", "Tx", PASSWORD);
    let meeting = rx_cli.create_meeting(&["--topic", "Share"]).to_string();

    // The screen's id, as `confer devices` names it.
    let devices: Value = serde_json::from_str(&tx_cli.ok(&["devices", "--json"], "")).unwrap();
    let screen = devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "screen")
        .and_then(|d| d["id"].as_str())
        .unwrap_or_else(|| panic!("no screen in {devices}"))
        .to_owned();

    let saved = work.path().join("received");
    let rx_stats = work.path().join("rx.json");
    let tx_stats = work.path().join("tx.json");
    let s = |p: &Path| p.to_str().expect("temporary paths are UTF-8").to_owned();
    let (mut rx, rx_out) = rx_cli.spawn_receiver(&meeting, &saved, &rx_stats);

    tx_cli.run_to_end(
        "sharer",
        &[
            "join",
            &meeting,
            "--screen-in",
            &screen,
            "--for",
            "4s",
            "--stats",
            &s(&tx_stats),
        ],
    );
    rx_out.wait_for("the sharer left", STEP_TIMEOUT, |l| l.contains(" left ("));
    terminate(&rx);
    let status = wait_with_timeout(&mut rx, STEP_TIMEOUT);
    assert!(status.success(), "receiver: {status}\n{}", rx_out.text());

    let tx_report: Value = serde_json::from_slice(&std::fs::read(&tx_stats).unwrap()).unwrap();
    let rx_report: Value = serde_json::from_slice(&std::fs::read(&rx_stats).unwrap()).unwrap();
    let sent = &tx_report["media"]["sent_tracks"]["screen"];
    eprintln!("sent: {sent}");
    assert!(sent["frames"].as_u64().unwrap_or(0) >= 1, "{tx_report}");
    let tx_id = tx_report["participant_id"].to_string();
    let got = &rx_report["media"]["received"][&tx_id];
    eprintln!("received: {got}");
    assert!(
        got["screen_frames_decoded"].as_u64().unwrap_or(0) >= 1,
        "{got}"
    );

    let means = last_picture_means(&find_screen(&saved));
    let want = expected_yuv();
    eprintln!("screen picture Y'CbCr means {means:?}, painted {want:?}");
    for (plane, (m, w)) in ["Y", "Cb", "Cr"].iter().zip(means.iter().zip(want)) {
        assert!((m - w).abs() <= TOLERANCE, "{plane}: {m:.1} against {w:.1}");
    }
}
