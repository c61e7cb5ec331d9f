//! Measures the real desktop app showing video: the app (driven over
//! WebDriver under Xvfb, as in `desktop_meeting.rs`) either in a 10-person
//! meeting with nine `confer` CLI participants sending the moving 640x360
//! test pattern, or (`CONFER_BENCH_MODE=synthetic`, app built with the
//! `bench-frames` feature) with synthetic 640x360 tiles pushed by the app
//! itself, which isolates the UI from network and decoders.
//!
//! Prints, and asserts nothing about, the numbers: frames painted and
//! dropped per tile per second, messages and pictures the page received
//! and the milliseconds it spent unpacking and drawing (from the UI's
//! `window.__conferStats`), the CPU the app and each WebKit process used
//! over 10 s (from `/proc/<pid>/stat`), their resident memory (`VmRSS`),
//! and their PSS summed, sampled every second of those 10 s (it rises
//! and falls with the page's garbage collection). Ignored by default; run
//! it with
//! `cargo test -p confer-desktop --test desktop_bench -- --ignored --nocapture`
//! or `scripts/bench-desktop.sh` (which also runs release builds).
//!
//! Settings (environment):
//! - `CONFER_BENCH_APP`: the app binary (default: this build's).
//! - `CONFER_BENCH_BIN_DIR`: where the senders' `confer` is (default:
//!   beside this test binary).
//! - `CONFER_BENCH_MODE`: `meeting` (default), `synthetic`, or
//!   `baseline`: no video; the app's memory at rest on the home screen,
//!   then that of WebKitGTK's own `MiniBrowser` showing `about:blank` on
//!   the same display, composited in software (as the app is without a
//!   GPU) and with OpenGL: the floor any WebKitGTK app starts from.
//! - `CONFER_BENCH_TILES`: synthetic remote tiles (default 9), plus a
//!   small self view.
//! - `CONFER_BENCH_DECODE`: `page` (default: H.264 to the page, decoded
//!   with WebCodecs) or `shell` (decoded in the app, raw I420 to the page).
//! - `CONFER_BENCH_DRAW`: `auto` (WebGL if available), `2d`, or `none`
//!   (receive and count only).
//! - `CONFER_BENCH_BATCH`: `0` sends each synthetic picture as its own
//!   message instead of batching per display tick.
//! - `CONFER_BENCH_CSS`: a style sheet added to the page before measuring,
//!   to try what a style costs without rebuilding the app.
//! - `CONFER_BENCH_VIDEO_OFF`: in the meeting, the app joins with its own
//!   camera off (what the camera costs the app).
//! - `CONFER_BENCH_SELF_VIEW`: `0` leaves the synthetic self view out
//!   (what the self view costs the page).
//! - `CONFER_BENCH_SECONDS`: the measured interval (default 10, at most
//!   240), e.g. to see whether memory grows in a longer meeting.
//!
//! The app signs in through the one-shot hand-off file
//! (`CONFER_SIGN_IN_FILE`, see `src-tauri/src/sign_in_handoff.rs`), the
//! way `scripts/run.sh` opens it.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;
mod desktop_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use common::{Cli, Server};
use desktop_support::{AppDriver, Tools, UI_TIMEOUT, WebDriver, skip, target_dir, with_log};
use serde_json::json;

const HOST_EMAIL: &str = "bench@example.com";
const HOST_PASSWORD: &str = "correct horse battery staple";
/// Remote participants: with the app, a 10-person meeting.
const REMOTES: usize = 9;
/// The measured interval unless `CONFER_BENCH_SECONDS` says otherwise.
const WINDOW: Duration = Duration::from_secs(10);
/// The longest measured interval: the senders and the synthetic tiles stop
/// after 5 minutes.
const MAX_WINDOW: Duration = Duration::from_secs(240);

/// The measured interval: `CONFER_BENCH_SECONDS` (at most [`MAX_WINDOW`]),
/// else [`WINDOW`].
fn window() -> Result<Duration> {
    let secs: u64 = setting("CONFER_BENCH_SECONDS", &WINDOW.as_secs().to_string())
        .parse()
        .context("CONFER_BENCH_SECONDS is not a whole number of seconds")?;
    Ok(Duration::from_secs(secs.clamp(1, MAX_WINDOW.as_secs())))
}

/// Kills child processes (the CLI participants, MiniBrowser) when the
/// benchmark is done with them, however it ends.
struct Children(Vec<Child>);

impl Drop for Children {
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
    let app = std::env::var_os("CONFER_BENCH_APP").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_confer-desktop")),
        PathBuf::from,
    );
    let app = app.canonicalize().context("the app binary")?;
    println!("bench: app {}", app.display());
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

    let AppDriver {
        xvfb: _xvfb,
        wd,
        mut driver,
        display,
    } = AppDriver::start(
        &tools,
        &log_path,
        &server.api,
        &server.ca,
        &[(
            "CONFER_SIGN_IN_FILE",
            handoff_dir.join("session.json").into_os_string(),
        )],
    )
    .await?;
    let s = wd
        .new_session(&app)
        .await
        .map_err(|e| with_log(e, &log_path))?;
    let result = measure(&wd, &s, &server, scratch.path(), meeting, &app, &display).await;
    let _ = wd.delete_session(&s).await;
    driver.stop();
    result.map_err(|e| with_log(e, &log_path))?;
    if setting("CONFER_BENCH_MODE", "meeting") == "baseline" {
        // PSS shares a library among the processes that map it, so the
        // app must be gone before MiniBrowser is measured.
        wait_gone(&app, &display).await?;
        minibrowser_floor(&display).await?;
    }
    Ok(())
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
    // Extra CSS for trying a style's cost (e.g. tiles without rounded
    // corners) without rebuilding the app.
    if let Ok(css) = std::env::var("CONFER_BENCH_CSS") {
        wd.execute(
            s,
            "const style = document.createElement('style');
             style.textContent = arguments[0];
             document.head.append(style);
             return true;",
            json!([css]),
        )
        .await?;
        println!("bench: extra CSS {css:?}");
    }
    let draw = setting("CONFER_BENCH_DRAW", "auto");
    let in_page = setting("CONFER_BENCH_DECODE", "page") == "page";
    wd.execute(
        s,
        "window.__conferStats.decodeInPage = arguments[0]; return true;",
        json!([in_page]),
    )
    .await?;
    let mode = setting("CONFER_BENCH_MODE", "meeting");
    if mode == "baseline" {
        let pids = app_pids(app, display);
        if pids.is_empty() {
            return Err(anyhow!("no app process found on display {display}"));
        }
        print_floor("Confer at rest on the home screen", &pids, window()?).await;
        return Ok(());
    }
    if mode == "synthetic" {
        let options = json!({
            "tiles": setting("CONFER_BENCH_TILES", "9").parse::<u32>()?,
            "fps": 30,
            "seconds": 300,
            "batch": setting("CONFER_BENCH_BATCH", "1") != "0",
            "mode": draw,
            "encoded": in_page,
            "selfView": setting("CONFER_BENCH_SELF_VIEW", "1") != "0",
        });
        println!("bench: synthetic {options}");
        wd.execute(
            s,
            "window.__benchStart = 'waiting';
             window.__conferStats.startSynthetic(arguments[0]).then(
               () => { window.__benchStart = 'ok'; },
               (e) => { window.__benchStart = 'failed: ' + e; });
             return true;",
            json!([options]),
        )
        .await?;
        let started = wd
            .wait_until(
                s,
                "the synthetic tiles to start",
                "return window.__benchStart === 'waiting' ? null : window.__benchStart;",
                json!([]),
                UI_TIMEOUT,
            )
            .await?;
        if started != json!("ok") {
            return Err(anyhow!(
                "bench_frames did not start ({started}); was the app built with --features bench-frames?"
            ));
        }
        // Let the pictures flow before measuring.
        tokio::time::sleep(Duration::from_secs(5)).await;
        return report(wd, s, app, display).await;
    }
    wd.execute(
        s,
        "window.__conferStats.mode = arguments[0]; return true;",
        json!([draw]),
    )
    .await?;
    wd.click(s, &format!("[data-meeting-id=\"{meeting}\"] .join-meeting"))
        .await?;
    // Builds with the pre-join screen (device choice) ask once more.
    let next = wd
        .wait_until(
            s,
            "the pre-join screen or our own tile",
            "return document.querySelector('#prejoin-join') !== null ? 'prejoin'
                 : document.querySelectorAll('#gallery .tile.self').length > 0 ? 'joined' : null;",
            json!([]),
            Duration::from_secs(45),
        )
        .await?;
    if next == json!("prejoin") {
        if std::env::var_os("CONFER_BENCH_VIDEO_OFF").is_some() {
            wd.click(s, "#prejoin-video-off").await?;
            println!("bench: the app joins with its camera off");
        }
        wd.click(s, "#prejoin-join").await?;
    }
    wd.wait_until(
        s,
        "our own tile",
        "return document.querySelectorAll('#gallery .tile.self').length;",
        json!([]),
        Duration::from_secs(45),
    )
    .await?;

    let confer = match std::env::var_os("CONFER_BENCH_BIN_DIR") {
        Some(dir) => PathBuf::from(dir).join("confer"),
        None => common::bin("confer"),
    };
    println!("bench: senders {}", confer.display());
    let mut remotes = Children(Vec::new());
    for i in 0..REMOTES {
        let name = format!("Remote {i}");
        let cli = server.cli(&dir.join(format!("remote-{i}")));
        let child = sender(
            &cli,
            &confer,
            &[
                "join",
                &meeting.to_string(),
                "--name",
                &name,
                "--video-in",
                "pattern",
                "--for",
                "5m",
            ],
        )
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
    report(wd, s, app, display).await
}

/// An environment setting, or its default.
fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// `confer` from `bin`, bound to the server like [`Cli::command`] (which
/// always runs the binary beside the test; the release bench needs the
/// release one).
fn sender(cli: &Cli, bin: &Path, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(bin);
    cmd.args(args)
        .arg("--server")
        .arg(&cli.api)
        .arg("--ca")
        .arg(&cli.ca)
        .arg("--config-dir")
        .arg(&cli.config_dir)
        .env("RUST_LOG", "warn");
    cmd
}

/// Measures over [`window`] and prints the `bench:` lines.
async fn report(wd: &WebDriver, s: &str, app: &Path, display: &str) -> Result<()> {
    let pids = app_pids(app, display);
    if pids.is_empty() {
        return Err(anyhow!("no app process found on display {display}"));
    }
    let stats = "return window.__conferStats ? window.__conferStats.stats() : null;";
    let window = window()?;
    let started = tokio::time::Instant::now();
    let before = wd.execute(s, stats, json!([])).await?;
    let ticks_before: Vec<u64> = pids.iter().map(|(p, _)| cpu_ticks(*p)).collect();
    let pss_samples_kb = sample_pss_kb(&pids, started, window).await;
    let after = wd.execute(s, stats, json!([])).await?;
    let ticks_after: Vec<u64> = pids.iter().map(|(p, _)| cpu_ticks(*p)).collect();

    // The sampling may run the window a little over; rates use the time
    // that really passed.
    let secs = started.elapsed().as_secs_f64();
    // Per-second increase of a counter between the two snapshots.
    let rate = |key: &[&str]| {
        let at = |v: &serde_json::Value| key.iter().fold(v, |v, k| &v[*k]).as_f64().unwrap_or(0.0);
        (at(&after) - at(&before)).max(0.0) / secs
    };
    let per_tile = |counter: &str| -> Vec<f64> {
        after[counter]
            .as_object()
            .map(|tiles| tiles.keys().map(|id| rate(&[counter, id])).collect())
            .unwrap_or_default()
    };
    let painted = per_tile("drawn");
    let dropped = per_tile("dropped");
    let mean = |v: &[f64]| {
        if v.is_empty() {
            0.0
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    println!(
        "bench: {} tiles painting, mean {:.1} fps per tile (each: {painted:.1?})",
        painted.len(),
        mean(&painted)
    );
    println!(
        "bench: dropped before paint: mean {:.1} per tile per s (each: {dropped:.1?})",
        mean(&dropped)
    );
    println!(
        "bench: page received {:.0} messages/s holding {:.0} pictures/s and {:.0} H.264 units/s; {:.0} paints/s; renderers {}",
        rate(&["received"]),
        rate(&["pictures"]),
        rate(&["units"]),
        rate(&["timing", "paints"]),
        after["renderers"]
    );
    let decoders: Vec<String> = after["decoders"]
        .as_object()
        .map(|d| {
            d.keys()
                .map(|id| {
                    let r = |k: &str| rate(&["decoders", id, k]);
                    format!("{:.1}/{:.1}/{:.1}", r("decoded"), r("skipped"), r("errors"))
                })
                .collect()
        })
        .unwrap_or_default();
    if !decoders.is_empty() {
        println!(
            "bench: page decoders decoded/skipped/errors per s: {}",
            decoders.join(" ")
        );
    }
    println!("bench: picture size per tile: {}", after["sizes"]);
    println!(
        "bench: page main thread per s: unpack {:.0} ms, upload+draw {:.0} ms",
        rate(&["timing", "unpackMs"]),
        rate(&["timing", "drawMs"])
    );
    // Clock ticks are 100 per second on Linux (USER_HZ).
    let mut total_cpu = 0.0;
    for (i, (pid, name)) in pids.iter().enumerate() {
        let used = ticks_after[i].saturating_sub(ticks_before[i]) as f64 / 100.0 / secs * 100.0;
        total_cpu += used;
        println!("bench: CPU {name} ({pid}): {used:.0}% of one core");
    }
    println!("bench: app + WebKit CPU over {secs:.0} s: {total_cpu:.0}% of one core");
    let mut total_kb = 0;
    for (pid, name) in &pids {
        let kb = rss_kb(*pid);
        total_kb += kb;
        println!("bench: RSS {name} ({pid}): {} MB", kb / 1024);
    }
    println!("bench: RSS total: {} MB", total_kb / 1024);
    // RSS counts shared libraries (WebKit, GStreamer, Mesa) in full in
    // every process; PSS shares them out, and private memory is what the
    // processes alone hold.
    let (mut pss_kb, mut private_kb) = (0, 0);
    for (pid, _) in &pids {
        let rollup = smaps_rollup_kb(*pid);
        pss_kb += rollup.0;
        private_kb += rollup.1;
    }
    println!(
        "bench: memory total: PSS {} MB, private {} MB",
        pss_kb / 1024,
        private_kb / 1024
    );
    if let (Some(low), Some(high)) = (pss_samples_kb.iter().min(), pss_samples_kb.iter().max()) {
        let mean = pss_samples_kb.iter().sum::<u64>() / pss_samples_kb.len() as u64;
        println!(
            "bench: PSS over {secs:.0} s ({} samples): min {} MB, mean {} MB, max {} MB",
            pss_samples_kb.len(),
            low / 1024,
            mean / 1024,
            high / 1024
        );
        // A leak shows as a later part of the window above an earlier one.
        let third = pss_samples_kb.len() / 3;
        if third > 0 {
            let mean_of = |part: &[u64]| part.iter().sum::<u64>() / part.len() as u64 / 1024;
            println!(
                "bench: PSS mean, first third {} MB, last third {} MB",
                mean_of(&pss_samples_kb[..third]),
                mean_of(&pss_samples_kb[pss_samples_kb.len() - third..])
            );
        }
    }
    for (pid, name) in &pids {
        let top: Vec<String> = pss_by_mapping(*pid)
            .into_iter()
            .take(MAPPINGS_SHOWN)
            .map(|(mapping, kb)| format!("{mapping} {:.1}", kb as f64 / 1024.0))
            .collect();
        println!("bench: PSS MB by mapping, {name}: {}", top.join(", "));
    }
    Ok(())
}

/// The summed PSS of `pids`, in KiB, once a second from `started` until
/// `window` has passed. Memory rises and falls as the page's garbage is
/// collected, so one reading can land anywhere on that saw.
async fn sample_pss_kb(
    pids: &[(u32, String)],
    started: tokio::time::Instant,
    window: Duration,
) -> Vec<u64> {
    let mut samples = Vec::new();
    while started.elapsed() < window {
        tokio::time::sleep(Duration::from_secs(1).min(window)).await;
        samples.push(pids.iter().map(|(p, _)| smaps_rollup_kb(*p).0).sum::<u64>());
    }
    samples
}

/// WebKitGTK's own minimal browser, shipped with the library on Debian
/// (`libwebkit2gtk-4.1-0`).
const MINIBROWSER: &str = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

/// How long MiniBrowser is left to start and settle before measuring.
const MINIBROWSER_SETTLE: Duration = Duration::from_secs(10);

/// How long the closed app's processes may take to exit.
const EXIT_TIMEOUT: Duration = Duration::from_secs(20);

/// Waits until no process runs `app` on `display`.
async fn wait_gone(app: &Path, display: &str) -> Result<()> {
    let started = tokio::time::Instant::now();
    while !app_pids(app, display).is_empty() {
        if started.elapsed() > EXIT_TIMEOUT {
            return Err(anyhow!(
                "the app was still running {EXIT_TIMEOUT:?} after its session ended"
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// Prints the floor any app on WebKitGTK starts from: WebKitGTK's
/// MiniBrowser on a blank page, composited in software (the app's choice
/// without a GPU) and with OpenGL (WebKit's default), alone on `display`.
async fn minibrowser_floor(display: &str) -> Result<()> {
    let window = window()?;
    let minibrowser = Path::new(MINIBROWSER);
    if !minibrowser.exists() {
        println!("bench: baseline: no WebKitGTK MiniBrowser at {MINIBROWSER}; not measured");
        return Ok(());
    }
    let exe = minibrowser.canonicalize()?;
    for (label, software) in [
        ("software compositing", true),
        ("OpenGL compositing", false),
    ] {
        let mut cmd = std::process::Command::new(minibrowser);
        cmd.arg("about:blank")
            .env("DISPLAY", display)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if software {
            cmd.env("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
        } else {
            cmd.env_remove("WEBKIT_DISABLE_COMPOSITING_MODE");
        }
        let browser = Children(vec![cmd.spawn().context("start MiniBrowser")?]);
        tokio::time::sleep(MINIBROWSER_SETTLE).await;
        let pids = app_pids(&exe, display);
        if pids.len() < 2 {
            return Err(anyhow!(
                "MiniBrowser did not start its WebKit processes on display {display}"
            ));
        }
        print_floor(
            &format!("WebKitGTK MiniBrowser, about:blank, {label}"),
            &pids,
            window,
        )
        .await;
        drop(browser);
        wait_gone(&exe, display).await?;
    }
    Ok(())
}

/// Prints one `bench: baseline` line: RSS and sampled PSS of `pids`.
async fn print_floor(label: &str, pids: &[(u32, String)], window: Duration) {
    let samples = sample_pss_kb(pids, tokio::time::Instant::now(), window).await;
    let rss_kb: u64 = pids.iter().map(|(p, _)| rss_kb(*p)).sum();
    let mean_kb = samples.iter().sum::<u64>() / samples.len().max(1) as u64;
    let names: Vec<&str> = pids.iter().map(|(_, name)| name.as_str()).collect();
    println!(
        "bench: baseline {label}: RSS {} MB, PSS mean {} MB over {} s ({})",
        rss_kb / 1024,
        mean_kb / 1024,
        window.as_secs(),
        names.join(" + ")
    );
}

/// How many of each process's largest mappings the report names.
const MAPPINGS_SHOWN: usize = 12;

/// A process's proportional set size per mapping, largest first, in KiB:
/// files by their name, anonymous memory as `[anon]`, plus `[heap]` and
/// the like as the kernel names them.
fn pss_by_mapping(pid: u32) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut sums: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let mut current = String::from("[anon]");
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else { continue };
        if first.contains('-') && !first.ends_with(':') {
            // A mapping header: range perms offset dev inode [path].
            let path = words.nth(4).unwrap_or("[anon]");
            current = path.rsplit('/').next().unwrap_or(path).to_owned();
        } else if first == "Pss:" {
            let kb: u64 = words.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            *sums.entry(current.clone()).or_default() += kb;
        }
    }
    let mut sorted: Vec<(String, u64)> = sums.into_iter().collect();
    sorted.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    sorted
}

/// The process running `app` on `display` and its WebKit children:
/// `(pid, name)`.
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
    let name = app
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut pids = vec![(app_pid, name)];
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

/// `Pss` and `Private_Clean + Private_Dirty` of a process, in KiB.
fn smaps_rollup_kb(pid: u32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let field = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (
        field("Pss:"),
        field("Private_Clean:") + field("Private_Dirty:"),
    )
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
