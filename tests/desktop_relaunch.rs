//! The real desktop app started while the previous one is still quitting.
//!
//! Users met this: quitting Confer and clicking a meeting link (or the
//! launcher) a moment later. The closing app still owned its
//! single-instance D-Bus name, the new one handed its arguments to it, the
//! closing one left without answering, and the new app failed to start.
//! Now the new app waits for the name to be let go of and starts
//! (`src-tauri/src/running_app.rs`).
//!
//! Here a stand-in plays the quitting app on the real session bus: it owns
//! the name a Confer for this server owns, takes the hand-over call and
//! never answers, then disconnects (as a process that exits does). The
//! built `confer-desktop` is started under Xvfb; it must keep running
//! through that and end up owning the name itself.
//!
//! A stand-in that holds the name and never answers at all makes the
//! launch give up (after 20 s); started from a launcher, with nobody
//! reading its stderr, it must say why in a dialog. Needs what
//! `desktop_smoke.rs` needs (and skips the same way) and a D-Bus session
//! bus (`dbus-run-session`, as `scripts/test.sh` runs the tests).
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod desktop_support;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use desktop_support::{SessionBus, Tools, run_scenario, skip};

/// Upper bound on the whole scenario.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(120);
/// How long each thing the scenario waits for may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// The server the app is pointed at: nothing answers there, and nothing
/// needs to (the app only has to start); it names the bus name.
const SERVER_URL: &str = "https://127.0.0.1:9";

/// Another server for the second test, so its stand-in owns another name.
const STUCK_SERVER_URL: &str = "https://127.0.0.1:10";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launch_while_the_app_is_quitting_waits_and_starts() -> Result<()> {
    run_scenario("desktop_relaunch", SCENARIO_TIMEOUT, scenario).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launch_that_cannot_start_says_why_in_a_dialog() -> Result<()> {
    run_scenario("desktop_relaunch_stuck", SCENARIO_TIMEOUT, stuck).await
}

async fn stuck(tools: Tools) -> Result<()> {
    let Some(bus_name) = SessionBus::find(STUCK_SERVER_URL) else {
        return skip(
            "desktop_relaunch_stuck",
            "no D-Bus session bus (run under dbus-run-session)",
        );
    };
    let (display, _xvfb) = tools.app_display()?;
    // A Confer that hangs: owns the name and never answers, for good.
    let calls = Arc::new(AtomicUsize::new(0));
    let _hung = stand_in(&bus_name, &calls).await?;
    let log = tempfile::NamedTempFile::new()?;
    // Started as a launcher starts it: stderr goes to no terminal.
    let mut app = start_app(&display, STUCK_SERVER_URL, &[], &log)?;
    let app_log = || std::fs::read_to_string(log.path()).unwrap_or_default();
    // It gives up after 20 s (plus a call's 5 s); then the dialog stays
    // until the user closes it.
    let started = Instant::now();
    let windows = loop {
        if let Some(status) = app.0.try_wait()? {
            bail!("the app exited ({status}) without a dialog:\n{}", app_log());
        }
        let tree = Command::new("xwininfo")
            .args(["-display", &display, "-root", "-tree"])
            .output()
            .context("xwininfo (x11-utils)")?;
        let tree = String::from_utf8_lossy(&tree.stdout).into_owned();
        if tree.contains("\"Confer\"") {
            break tree;
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("no dialog after 60 s; the app said:\n{}", app_log());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let said = app_log();
    ensure!(
        said.contains("has not answered for 20 s"),
        "the app's stderr: {said}"
    );
    ensure!(
        calls.load(Ordering::SeqCst) > 0,
        "it never tried to hand over"
    );
    let _ = writeln!(
        std::io::stderr(),
        "desktop_relaunch: a stuck launch showed its dialog after {:.1} s ({} windows listed)",
        started.elapsed().as_secs_f64(),
        windows.lines().count()
    );
    Ok(())
}

async fn scenario(tools: Tools) -> Result<()> {
    let Some(bus_name) = SessionBus::find(SERVER_URL) else {
        return skip(
            "desktop_relaunch",
            "no D-Bus session bus (run under dbus-run-session)",
        );
    };
    let bus = zbus::Connection::session()
        .await
        .context("the session bus")?;
    let (display, _xvfb) = tools.app_display()?;

    // The quitting app: owns the name, takes the call, never answers.
    let calls = Arc::new(AtomicUsize::new(0));
    let quitting = stand_in(&bus_name, &calls).await?;

    let log = tempfile::NamedTempFile::new()?;
    let mut app = start_app(&display, SERVER_URL, &["confer://join/4821937650"], &log)?;
    let app_log = || std::fs::read_to_string(log.path()).unwrap_or_default();

    wait_for("the app to try handing over", || {
        app.check_running(&app_log)?;
        Ok(calls.load(Ordering::SeqCst) > 0)
    })
    .await?;
    // The quitting app's process ends: the bus answers the pending call
    // with NoReply and frees the name.
    quitting.close().await?;

    let proxy = zbus::fdo::DBusProxy::new(&bus).await?;
    let name = zbus::names::BusName::try_from(bus_name.name.as_str())?;
    let started = Instant::now();
    let owner_pid = loop {
        app.check_running(&app_log)?;
        if proxy.name_has_owner(name.clone()).await? {
            let owner = proxy.get_name_owner(name.clone()).await?;
            break proxy.get_connection_unix_process_id(owner.into()).await?;
        }
        if started.elapsed() > STEP_TIMEOUT {
            bail!("nobody took the name {STEP_TIMEOUT:?} after the quitting app left");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    ensure!(
        owner_pid == app.0.id(),
        "the name went to process {owner_pid}, not the new app ({})",
        app.0.id()
    );
    // Still running a moment later: it started, it did not just pass by.
    tokio::time::sleep(Duration::from_secs(2)).await;
    app.check_running(&app_log)?;
    let _ = writeln!(
        std::io::stderr(),
        "desktop_relaunch: the app waited for the quitting one and started"
    );
    Ok(())
}

/// Takes the app's name on the session bus with a [`Quitting`] stand-in
/// that counts the hand-over calls in `calls`.
async fn stand_in(bus_name: &SessionBus, calls: &Arc<AtomicUsize>) -> Result<zbus::Connection> {
    zbus::connection::Builder::session()?
        .name(bus_name.name.as_str())?
        .serve_at(
            bus_name.object_path().as_str(),
            Quitting {
                calls: calls.clone(),
            },
        )?
        .build()
        .await
        .context("the stand-in taking the app's name")
}

/// Starts the built app on `display` for `server_url` with `args`, its
/// stderr into `log` (no terminal, as from a launcher).
fn start_app(
    display: &str,
    server_url: &str,
    args: &[&str],
    log: &tempfile::NamedTempFile,
) -> Result<App> {
    let child = Command::new(PathBuf::from(env!("CARGO_BIN_EXE_confer-desktop")))
        .args(args)
        .env("DISPLAY", display)
        .env("GDK_BACKEND", "x11")
        .env_remove("WAYLAND_DISPLAY")
        .env("CONFER_SERVER_URL", server_url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log.reopen()?)
        .spawn()
        .context("starting confer-desktop")?;
    Ok(App(child))
}

/// The stand-in for an app that is quitting: what the single-instance
/// plugin serves, except that it never answers.
struct Quitting {
    calls: Arc<AtomicUsize>,
}

#[zbus::interface(name = "org.SingleInstance.DBus")]
impl Quitting {
    async fn execute_callback(&self, _argv: Vec<String>, _cwd: String) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<()>().await;
    }
}

/// The app under test, killed when the test ends.
struct App(Child);

impl App {
    /// Fails, with the app's output, when the app has exited.
    fn check_running(&mut self, log: &dyn Fn() -> String) -> Result<()> {
        if let Some(status) = self.0.try_wait()? {
            bail!("the app exited ({status}) instead of starting:\n{}", log());
        }
        Ok(())
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `check` until it is true, for at most [`STEP_TIMEOUT`].
async fn wait_for(what: &str, mut check: impl FnMut() -> Result<bool>) -> Result<()> {
    let started = Instant::now();
    while !check()? {
        if started.elapsed() > STEP_TIMEOUT {
            bail!("timed out after {STEP_TIMEOUT:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}
