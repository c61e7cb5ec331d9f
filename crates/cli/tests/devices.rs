//! `confer devices`: run the real binary, inside a private Xvfb display so
//! there is a screen to find, and check the JSON and table output. Without
//! Xvfb it still checks the shape (and that a missing display is an error
//! line, not a crash).

// Test helpers outside #[test] functions may panic too: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn confer_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_confer"))
}

/// An Xvfb server on a display of its own, killed on drop.
struct Xvfb {
    child: Child,
    display: String,
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Xvfb, or says why not and returns `None`.
fn start_xvfb() -> Option<Xvfb> {
    // Distinct from the media crate's test displays (200..700).
    let display = format!(":{}", 700 + std::process::id() % 500);
    let Ok(child) = Command::new("Xvfb")
        .args([
            display.as_str(),
            "-screen",
            "0",
            "800x600x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        eprintln!("SKIPPED (screen part): Xvfb is not installed (apt-get install xvfb)");
        return None;
    };
    let xvfb = Xvfb { child, display };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        // The server's socket appears once it accepts clients.
        let socket = format!("/tmp/.X11-unix/X{}", &xvfb.display[1..]);
        if std::path::Path::new(&socket).exists() {
            return Some(xvfb);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("SKIPPED (screen part): Xvfb did not start");
    None
}

fn run(display: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(confer_bin());
    cmd.args(args)
        // No stored login is needed; keep the user's config out of it.
        .env(
            "CONFER_CONFIG_DIR",
            std::env::temp_dir().join("confer-devices-test"),
        );
    match display {
        Some(d) => cmd.env("DISPLAY", d),
        None => cmd.env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY"),
    };
    cmd.output().unwrap()
}

/// Checks the JSON contract and returns it.
fn devices_json(display: Option<&str>) -> Value {
    let out = run(display, &["devices", "--json"]);
    assert!(
        out.status.success(),
        "confer devices --json failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    let devices = v["devices"].as_array().expect("a devices array");
    let errors = v["errors"].as_array().expect("an errors array");
    for d in devices {
        let id = d["id"].as_str().expect("id is a string");
        let kind = d["kind"].as_str().expect("kind is a string");
        assert!(d["name"].as_str().is_some_and(|n| !n.is_empty()), "{d}");
        assert!(
            ["microphone", "camera", "screen", "window"].contains(&kind),
            "{d}"
        );
        let prefix = if kind == "microphone" { "mic" } else { kind };
        assert!(id.starts_with(&format!("{prefix}:")), "{d}");
    }
    for e in errors {
        assert!(e["backend"].as_str().is_some_and(|b| !b.is_empty()), "{e}");
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
    }
    v
}

#[test]
fn devices_lists_the_xvfb_screen_as_json_and_as_a_table() {
    let Some(xvfb) = start_xvfb() else {
        return;
    };
    let v = devices_json(Some(&xvfb.display));
    eprintln!("{v:#}");
    let screens: Vec<&Value> = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "screen")
        .collect();
    assert_eq!(screens.len(), 1, "Xvfb has one screen: {v}");
    let screen_id = screens[0]["id"].as_str().unwrap();
    // Ids are stable: a second listing names the same screen the same way.
    let again = devices_json(Some(&xvfb.display));
    assert!(
        again["devices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == screen_id)
    );
    let table = run(Some(&xvfb.display), &["devices"]);
    assert!(table.status.success());
    let text = String::from_utf8_lossy(&table.stdout);
    eprintln!("{text}");
    assert!(text.starts_with("KIND"), "a header line: {text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("screen") && l.contains(screen_id)),
        "{text}"
    );
}

#[test]
fn devices_without_a_display_names_the_screen_backend_as_an_error() {
    let v = devices_json(None);
    eprintln!("{v:#}");
    let screens = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "screen")
        .count();
    if screens > 0 {
        eprintln!("SKIPPED: screens are visible without DISPLAY (another backend found them)");
        return;
    }
    assert!(
        v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["backend"] == "screen"),
        "no display is an error line naming the screen backend: {v}"
    );
    let table = run(None, &["devices"]);
    assert!(
        table.status.success(),
        "an unavailable backend is not a failure"
    );
    assert!(
        String::from_utf8_lossy(&table.stdout)
            .lines()
            .any(|l| l.starts_with("error: screen:")),
    );
}
