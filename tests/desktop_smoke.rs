//! Smoke test of the real desktop app: the built `confer-desktop` binary runs
//! in a WebKitGTK window on a virtual X display and is driven over WebDriver.
//!
//! The chain is: this test → `tauri-driver` (WebDriver intermediary) →
//! Debian's `WebKitWebDriver` → the app. The test checks that the start screen
//! shows the "Sign in" form and the version the shell reports over IPC, types
//! a meeting id to prove the UI's script runs, and saves a screenshot in
//! `target/screenshots/desktop_start.png` for people to look at.
//!
//! It needs `tauri-driver` (`cargo install tauri-driver --locked`),
//! `WebKitWebDriver` (Debian: `webkit2gtk-driver`) and `Xvfb` (Debian:
//! `xvfb`; without it an existing `DISPLAY` is used), and a built UI
//! (`npm --prefix ui ci && npm --prefix ui run build`) so the binary embeds
//! it. When a tool is missing the test prints why and passes; set
//! `CONFER_REQUIRE_DESKTOP_SMOKE=1` (CI) to make that a failure instead.
//!
//! Nothing here can hang: every wait has a deadline, the whole scenario runs
//! under one timeout, and every process started is stopped when its guard
//! drops, on success, failure or panic.
#![cfg(target_os = "linux")]

mod desktop_support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use desktop_support::{
    AFTER_NEXT_PAINT, Tools, WebDriver, run_scenario, start_tauri_driver, target_dir,
    two_free_ports, with_log,
};
use serde_json::json;

/// Upper bound on the whole scenario, from starting Xvfb to closing the app.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(120);
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_screen_shows_sign_in_and_version() -> Result<()> {
    run_scenario("desktop_smoke", SCENARIO_TIMEOUT, scenario).await
}
async fn scenario(tools: Tools) -> Result<()> {
    let app = PathBuf::from(env!("CARGO_BIN_EXE_confer-desktop"));
    let target_dir = target_dir()?;
    let log_path = target_dir
        .join("tmp")
        .join("desktop_smoke-tauri-driver.log");

    // A display of our own keeps the test headless and its screenshots the
    // same size everywhere; an existing DISPLAY is the fallback.
    let (display, _xvfb) = tools.app_display()?;

    let (port, native_port) = two_free_ports()?;
    let mut driver = start_tauri_driver(&tools, &display, port, native_port, &log_path, &[])?;
    let wd = WebDriver::connect(port, &mut driver, &log_path).await?;

    let session = wd
        .new_session(&app)
        .await
        .map_err(|e| with_log(e, &log_path))?;
    let checks = match check_start_screen(&wd, &session, &target_dir).await {
        Ok(()) => check_script_collector(&display),
        Err(e) => Err(e),
    };
    // Closing the session closes the app, whatever the checks found.
    let closed = wd.delete_session(&session).await;
    driver.stop();
    checks.map_err(|e| with_log(e, &log_path))?;
    closed
}

/// The assertions on the running app.
async fn check_start_screen(wd: &WebDriver, session: &str, target_dir: &Path) -> Result<()> {
    let expected_version = format!("Confer {}", env!("CARGO_PKG_VERSION"));
    let shown = wd
        .wait_for_text(session, "#app-version", &expected_version)
        .await
        .context("the start screen never showed the version from `app_info` (is ui/dist built?)")?;
    ensure!(shown == expected_version, "version line is {shown:?}");

    let title = wd.get(session, "title").await?;
    ensure!(title == json!("Confer"), "window title is {title}");

    let heading = wd.text(session, "#sign-in-title").await?;
    ensure!(heading == "Sign in", "sign-in heading is {heading:?}");
    for field in [
        "#sign-in-email",
        "#sign-in-password",
        "#sign-in button[type=submit]",
    ] {
        wd.find(session, field)
            .await
            .with_context(|| format!("no {field} on the start screen"))?;
    }
    let join = wd.text(session, "#join-title").await?;
    ensure!(join == "Join a meeting", "join heading is {join:?}");

    // Typing exercises the UI's script: the id is grouped as it is typed.
    let meeting_id = wd.find(session, "#join-meeting-id").await?;
    wd.post(
        session,
        &format!("element/{meeting_id}/value"),
        json!({ "text": "4821937650" }),
    )
    .await?;
    let value = wd
        .get(session, &format!("element/{meeting_id}/property/value"))
        .await?;
    ensure!(
        value == json!("482 193 7650"),
        "meeting id field shows {value}"
    );

    // WebKit's screenshot is the last painted frame: let it paint first.
    wd.post(
        session,
        "execute/async",
        json!({ "script": AFTER_NEXT_PAINT, "args": [] }),
    )
    .await?;
    let png = wd.screenshot(session).await?;
    let dir = target_dir.join("screenshots");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join("desktop_start.png");
    std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
    let _ = writeln!(
        std::io::stderr(),
        "desktop_smoke: screenshot in {}",
        path.display()
    );
    Ok(())
}

/// The app sets JavaScriptCore's collector for its web process (see
/// `src-tauri/src/script_memory.rs`): the web process on our display must
/// have inherited the option, with the value the app chose unless this
/// test's own environment chose one.
fn check_script_collector(display: &str) -> Result<()> {
    const VAR: &str = "JSC_useGenerationalGC";
    let expected = format!(
        "{VAR}={}",
        std::env::var(VAR).unwrap_or_else(|_| "0".into())
    );
    let display_entry = format!("DISPLAY={display}");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc")?.flatten() {
        let path = entry.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if comm.trim_end() != "WebKitWebProces" {
            continue;
        }
        let Ok(environ) = std::fs::read(path.join("environ")) else {
            continue;
        };
        let vars: Vec<String> = environ
            .split(|b| *b == 0)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect();
        if vars.contains(&display_entry) {
            found.push(vars.into_iter().find(|v| v.starts_with(&format!("{VAR}="))));
        }
    }
    ensure!(
        !found.is_empty(),
        "no WebKitWebProcess on display {display}"
    );
    for value in found {
        ensure!(
            value.as_deref() == Some(expected.as_str()),
            "the web process has {value:?}, expected {expected:?}"
        );
    }
    Ok(())
}
