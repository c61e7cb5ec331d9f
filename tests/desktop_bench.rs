//! Measures the real desktop app in a 10-person meeting: the app (driven
//! over WebDriver under Xvfb, as in `desktop_meeting.rs`) and nine `confer`
//! CLI participants sending the moving 640x360 test pattern.
//!
//! Prints, and asserts nothing about, the numbers: frames painted per
//! remote tile per second (from the UI's `window.__conferStats`), the CPU
//! the app and its WebKit processes used over 10 s (from
//! `/proc/<pid>/stat`), and their resident memory (`VmRSS`). Ignored by
//! default; run it with
//! `cargo test -p confer-desktop --test desktop_bench -- --ignored --nocapture`
//! (or `scripts/bench-desktop.sh`).
//!
//! The app signs in through the one-shot hand-off file
//! (`CONFER_SIGN_IN_FILE`, see `src-tauri/src/sign_in_handoff.rs`), the
//! way `scripts/run.sh` opens it.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;
mod desktop_support;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use common::Server;
use desktop_support::{
    Tools, UI_TIMEOUT, WebDriver, skip, start_tauri_driver, start_xvfb, target_dir, two_free_ports,
    with_log,
};
use serde_json::json;

const HOST_EMAIL: &str = "bench@example.com";
const HOST_PASSWORD: &str = "correct horse battery staple";
/// Remote participants: with the app, a 10-person meeting.
const REMOTES: usize = 9;
/// The measured interval.
const WINDOW: Duration = Duration::from_secs(10);

/// Kills the CLI participants when the benchmark ends, however it ends.
struct Participants(Vec<Child>);

impl Drop for Participants {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn app_in_a_ten_person_meeting() -> Result<()> {
    let tools = match Tools::find() {
        Ok(tools) => tools,
        Err(missing) => return skip("desktop_bench", &missing),
    };
    let app = PathBuf::from(env!("CARGO_BIN_EXE_confer-desktop"));
    let log_path = target_dir()?
        .join("tmp")
        .join("desktop_bench-tauri-driver.log");
    let scratch = tempfile::tempdir()?;
    let server = tokio::task::spawn_blocking(Server::start).await?;

    // The host's account; signing up leaves the CLI's session file, which
    // the app takes as its one-shot sign-in.
    let handoff_dir = scratch.path().join("handoff");
    let host = server.cli(&handoff_dir);
    host.sign_up(HOST_EMAIL, "Bench Host", HOST_PASSWORD);
    let meeting = host.create_meeting(&[]);

    let (display, _xvfb) = match &tools.xvfb {
        Some(xvfb) => {
            let (display, guard) = start_xvfb(xvfb)?;
            (display, Some(guard))
        }
        None => (tools.display.clone().context("no display")?, None),
    };
    let (port, native_port) = two_free_ports()?;
    let app_env = [
        ("CONFER_SERVER_URL", OsString::from(&server.api)),
        ("CONFER_CA_FILE", server.ca.clone().into_os_string()),
        (
            "CONFER_SIGN_IN_FILE",
            handoff_dir.join("session.json").into_os_string(),
        ),
    ];
    let mut driver = start_tauri_driver(&tools, &display, port, native_port, &log_path, &app_env)?;
    let wd = WebDriver::connect(port, &mut driver, &log_path).await?;
    let s = wd
        .new_session(&app)
        .await
        .map_err(|e| with_log(e, &log_path))?;
    let result = measure(&wd, &s, &server, scratch.path(), meeting, &app, &display).await;
    let _ = wd.delete_session(&s).await;
    driver.stop();
    result.map_err(|e| with_log(e, &log_path))
}

async fn measure(
    wd: &WebDriver,
    s: &str,
    server: &Server,
    dir: &Path,
    meeting: u64,
    app: &Path,
    display: &str,
) -> Result<()> {
    wd.wait_until(
        s,
        "the home screen, signed in by the hand-off",
        "return document.querySelector('#account-email') !== null;",
        json!([]),
        UI_TIMEOUT,
    )
    .await?;
    wd.wait_until(
        s,
        "the meeting in the list",
        "return document.querySelector(`[data-meeting-id=\"${arguments[0]}\"] .join-meeting`) !== null;",
        json!([meeting.to_string()]),
        UI_TIMEOUT,
    )
    .await?;
    wd.click(s, &format!("[data-meeting-id=\"{meeting}\"] .join-meeting"))
        .await?;
    wd.wait_until(
        s,
        "our own tile",
        "return document.querySelectorAll('#gallery .tile.self').length;",
        json!([]),
        Duration::from_secs(45),
    )
    .await?;

    let mut remotes = Participants(Vec::new());
    for i in 0..REMOTES {
        let name = format!("Remote {i}");
        let cli = server.cli(&dir.join(format!("remote-{i}")));
        let child = cli
            .command(&[
                "join",
                &meeting.to_string(),
                "--name",
                &name,
                "--video-in",
                "pattern",
                "--for",
                "5m",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("spawn confer join")?;
        remotes.0.push(child);
    }
    wd.wait_until(
        s,
        "ten tiles",
        "return document.querySelectorAll('#gallery .tile').length >= 10;",
        json!([]),
        Duration::from_secs(90),
    )
    .await?;
    // Let video start and settle before measuring.
    tokio::time::sleep(Duration::from_secs(15)).await;

    let pids = app_pids(app, display);
    println!("bench: app processes {pids:?}");
    let stats = "return window.__conferStats ? window.__conferStats.stats() : null;";
    let before = wd.execute(s, stats, json!([])).await?;
    let cpu_before: u64 = pids.iter().map(|(p, _)| cpu_ticks(*p)).sum();
    tokio::time::sleep(WINDOW).await;
    let after = wd.execute(s, stats, json!([])).await?;
    let cpu_after: u64 = pids.iter().map(|(p, _)| cpu_ticks(*p)).sum();

    let secs = WINDOW.as_secs_f64();
    let mut rates = Vec::new();
    if let Some(drawn) = after["drawn"].as_object() {
        for (id, n) in drawn {
            let then = before["drawn"][id].as_u64().unwrap_or(0);
            rates.push((n.as_u64().unwrap_or(0) - then.min(n.as_u64().unwrap_or(0))) as f64 / secs);
        }
    }
    let tiles = rates.len();
    let mean = if tiles == 0 {
        0.0
    } else {
        rates.iter().sum::<f64>() / tiles as f64
    };
    // Clock ticks are 100 per second on Linux (USER_HZ).
    let cpu = (cpu_after - cpu_before.min(cpu_after)) as f64 / 100.0 / secs * 100.0;
    println!(
        "bench: {tiles} remote tiles painting, mean {mean:.1} fps per tile (each: {rates:.1?})"
    );
    println!("bench: app + WebKit CPU over {secs} s: {cpu:.0}% of one core");
    let mut total_kb = 0;
    for (pid, name) in &pids {
        let kb = rss_kb(*pid);
        total_kb += kb;
        println!("bench: RSS {name} ({pid}): {} MB", kb / 1024);
    }
    println!("bench: RSS total: {} MB", total_kb / 1024);
    if pids.is_empty() {
        return Err(anyhow!("no app process found on display {display}"));
    }
    Ok(())
}

/// The app's process on `display` and its WebKit children: `(pid, name)`.
fn app_pids(app: &Path, display: &str) -> Vec<(u32, String)> {
    let all: Vec<u32> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    let on_display = |pid: u32| {
        std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
            env.split(|b| *b == 0)
                .any(|v| v == format!("DISPLAY={display}").as_bytes())
        })
    };
    let Some(app_pid) = all.iter().copied().find(|p| {
        std::fs::read_link(format!("/proc/{p}/exe")).is_ok_and(|exe| exe == app) && on_display(*p)
    }) else {
        return Vec::new();
    };
    let mut pids = vec![(app_pid, "confer-desktop".to_owned())];
    for pid in all {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let comm = stat.split(['(', ')']).nth(1).unwrap_or_default().to_owned();
        let ppid: u32 = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        if ppid == app_pid && comm.starts_with("WebKit") {
            pids.push((pid, comm));
        }
    }
    pids
}

/// User plus system CPU time of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    // After "(comm)": state is field 0, utime field 11, stime field 12.
    let at = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    at(11) + at(12)
}

/// Resident memory of `pid` in kB.
fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
