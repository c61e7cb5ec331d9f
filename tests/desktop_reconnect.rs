//! End-to-end test of the real desktop app losing its server mid-meeting and
//! rejoining once it is back (issue #7): a `confer-server` on fixed loopback
//! ports and a fixed data directory, the built `confer-desktop` driven over
//! WebDriver under Xvfb (see `desktop_smoke.rs` for the chain), and `confer`
//! CLI participants.
//!
//! The app signs in, schedules a meeting and hosts it; a CLI guest joins
//! sending the moving test pattern and its tile shows moving video, on the
//! 640×360 layer the page asked for.
//!
//! First drop, the router staying up: the app is frozen (SIGSTOP) past the
//! router's idle timeout, so the router drops it while the guest stays. On
//! resuming the app rejoins ("Reconnected to the meeting."), and the
//! guest's pictures arrive at 640×360 again: the page never asks twice, so
//! this is the app replaying the layer to its new media engine
//! (`reconnect::LayerMemory`; without it they stay at 320×180).
//!
//! Second drop: the server is killed (SIGKILL: a crash, or the network gone, with nothing
//! said to anyone): the app must show the reconnecting banner (screenshot
//! `target/screenshots/desktop_reconnecting.png`), and the old CLI guest
//! must give up rather than hang. The server starts again on the same ports
//! and data directory (same CA, same accounts and meetings, but a router
//! that knows no meeting): the app must say "Reconnected to the meeting."
//! and drop the banner; a new CLI guest joins and its tile shows moving
//! video, and chat from the app reaches it, so media and control both work
//! on the new connection.
//!
//! Needs what `desktop_smoke.rs` needs; skips with a message when a tool is
//! missing unless `CONFER_REQUIRE_DESKTOP_SMOKE=1`. Moving video is required
//! only with `CONFER_REQUIRE_DESKTOP_VIDEO=1` (as in `desktop_meeting.rs`);
//! the banner, the rejoin and the chat are always required.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;
mod desktop_support;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail, ensure};
use common::{Cli, bin, parse_ready_line};
use desktop_support::{
    AppDriver, Participant, STARTUP_TIMEOUT, Tools, UI_TIMEOUT, WebDriver, check_moving_video,
    run_scenario, schedule_from_home, signal, tail, target_dir, with_log,
};
use serde_json::{Value, json};

/// Upper bound on the whole scenario.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(300);
/// How long joining and seeing others may take (router, QUIC, roster).
const MEETING_TIMEOUT: Duration = Duration::from_secs(45);
/// How long the app may take to notice the server is gone: the QUIC idle
/// timeout (6 s) and some margin.
const DROP_NOTICED_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the app may take to rejoin once the server is back: the
/// backoff's waits (1, 2, 4, 8, 8… s) put an attempt at most 8 s after the
/// server is up; the rest is margin for a loaded machine.
const REJOIN_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the CLI guest of the killed server may take to give up.
const OLD_GUEST_EXIT_TIMEOUT: Duration = Duration::from_secs(45);

const HOST_EMAIL: &str = "rena@example.com";
const HOST_PASSWORD: &str = "correct horse battery staple";
const TOPIC: &str = "Desktop reconnect";
const APP_CHAT: &str = "still here after the reconnect";
const RECONNECTING: &str = "Connection lost. Reconnecting…";
const RECONNECTED: &str = "Reconnected to the meeting.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_rejoins_after_the_server_restarts_and_media_and_chat_work_again() -> Result<()> {
    run_scenario("desktop_reconnect", SCENARIO_TIMEOUT, scenario).await
}

/// The ports the server listens on, chosen once so that a restarted server
/// is where the app and its tokens expect it.
#[derive(Clone, Copy)]
struct Ports {
    http: u16,
    quic: u16,
    tls: u16,
}

impl Ports {
    /// Free ports now (a port could be taken before the server binds it,
    /// which fails the start loudly rather than hanging).
    fn pick() -> Result<Self> {
        let http = TcpListener::bind("127.0.0.1:0")?;
        let tls = TcpListener::bind("127.0.0.1:0")?;
        let quic = UdpSocket::bind("127.0.0.1:0")?;
        Ok(Ports {
            http: http.local_addr()?.port(),
            quic: quic.local_addr()?.port(),
            tls: tls.local_addr()?.port(),
        })
    }
}

/// How long the app is frozen: past the router's QUIC idle timeout (6 s),
/// so the router drops it.
const FROZEN_FOR: Duration = Duration::from_secs(9);

/// The app's process, to freeze it: the one running `binary` in the
/// process group tauri-driver leads (`group`), which this test started.
struct AppProcess {
    group: u32,
    binary: PathBuf,
}

impl AppProcess {
    fn pid(&self) -> Result<u32> {
        let binary = self.binary.canonicalize()?;
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc")? {
            let entry = entry?;
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let exe = std::fs::read_link(entry.path().join("exe")).ok();
            if exe.as_deref() != Some(binary.as_path()) {
                continue;
            }
            // The fields after the command's closing parenthesis: state,
            // parent, process group.
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let group = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(2))
                .and_then(|g| g.parse::<u32>().ok());
            if group == Some(self.group) {
                found.push(pid);
            }
        }
        match found.as_slice() {
            [pid] => Ok(*pid),
            other => bail!(
                "expected one app process in group {}, found {other:?}",
                self.group
            ),
        }
    }
}

/// A `confer-server` that can be killed and started again on the same
/// ports and data directory (`tests/common`'s `Server` picks new ports).
struct RestartableServer {
    child: Option<Child>,
    data_dir: PathBuf,
    log: PathBuf,
    ports: Ports,
    /// From the ready line of the latest start.
    api: String,
    ca: PathBuf,
}

impl RestartableServer {
    fn start(dir: &Path) -> Result<Self> {
        let mut server = RestartableServer {
            child: None,
            data_dir: dir.join("data"),
            log: dir.join("server.log"),
            ports: Ports::pick()?,
            api: String::new(),
            ca: PathBuf::new(),
        };
        server.restart()?;
        Ok(server)
    }

    /// Starts the server (again) and waits for its ready line. A start
    /// that exits at once is tried a few more times: right after a kill a
    /// port can take a moment to be free again.
    fn restart(&mut self) -> Result<()> {
        let mut last = String::new();
        for _ in 0..5 {
            match self.spawn_once() {
                Ok(()) => return Ok(()),
                Err(e) => last = format!("{e:#}"),
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        bail!(
            "confer-server did not start: {last}\nlog:\n{}",
            tail(&self.log_text(), 20)
        )
    }

    fn spawn_once(&mut self) -> Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let mut child = Command::new(bin("confer-server"))
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["--listen-host", "127.0.0.1"])
            .args(["--http-port", &self.ports.http.to_string()])
            .args(["--quic-port", &self.ports.quic.to_string()])
            .args(["--tls-port", &self.ports.tls.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .context("spawning confer-server")?;
        let stdout = child.stdout.take().context("confer-server stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        // Opening the store and loading the keys takes seconds; three
        // times the tools' startup bound leaves room for a loaded machine.
        let line = rx.recv_timeout(STARTUP_TIMEOUT * 3).unwrap_or_default();
        let Some((api, _, _, ca)) = parse_ready_line(&line) else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("no ready line (got {line:?})");
        };
        self.api = api;
        self.ca = ca;
        self.child = Some(child);
        Ok(())
    }

    /// SIGKILL: no goodbye to anyone, as in a crash or a lost network.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn cli(&self, config_dir: &Path) -> Cli {
        Cli {
            api: self.api.clone(),
            ca: self.ca.clone(),
            config_dir: config_dir.to_path_buf(),
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for RestartableServer {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn scenario(tools: Tools) -> Result<()> {
    let app = PathBuf::from(env!("CARGO_BIN_EXE_confer-desktop"));
    let target = target_dir()?;
    let log_path = target
        .join("tmp")
        .join("desktop_reconnect-tauri-driver.log");
    let scratch = tempfile::tempdir()?;

    let mut server = tokio::task::block_in_place(|| RestartableServer::start(scratch.path()))?;
    let host_cli = server.cli(&scratch.path().join("host-cli"));
    tokio::task::spawn_blocking(move || {
        host_cli.create_account(HOST_EMAIL, "Rena Host", HOST_PASSWORD)
    })
    .await?;

    let AppDriver {
        xvfb: _xvfb,
        wd,
        mut driver,
        ..
    } = AppDriver::start(&tools, &log_path, &server.api, &server.ca, &[]).await?;
    let session = wd
        .new_session(&app)
        .await
        .map_err(|e| with_log(e, &log_path))?;

    let mut participants = Vec::new();
    let app_process = AppProcess {
        group: driver.child.id(),
        binary: app.clone(),
    };
    let result = drive(
        &wd,
        &session,
        &app_process,
        &mut server,
        scratch.path(),
        &mut participants,
    )
    .await;
    if result.is_err() {
        let _ = wd
            .save_screenshot(&session, "desktop_reconnect_failed")
            .await;
    }
    let closed = wd.delete_session(&session).await;
    driver.stop();
    let guests: Vec<String> = participants
        .iter()
        .map(|p| format!("{}'s log:\n{}", p.name, p.log_tail(scratch.path(), 10)))
        .collect();
    drop(participants);
    result.map_err(|e| {
        anyhow!(
            "{}\nserver log (tail):\n{}\n{}",
            with_log(e, &log_path),
            tail(&server.log_text(), 25),
            guests.join("\n")
        )
    })?;
    closed
}

/// Whether moving video must be seen (see the module doc).
fn video_required() -> bool {
    std::env::var_os("CONFER_REQUIRE_DESKTOP_VIDEO").is_some_and(|v| v == "1")
}

/// Checks `name`'s tile shows moving video: required with
/// `CONFER_REQUIRE_DESKTOP_VIDEO=1`, else reported when not seen.
async fn expect_moving_video(wd: &WebDriver, s: &str, name: &str) -> Result<()> {
    let required = video_required();
    let limit = if required {
        MEETING_TIMEOUT
    } else {
        Duration::from_secs(8)
    };
    match check_moving_video(wd, s, name, limit).await {
        Ok(()) => Ok(()),
        Err(e) if !required => {
            let _ = writeln!(
                std::io::stderr(),
                "desktop_reconnect: video NOT verified for {name}: {e:#}"
            );
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// A script returning the names on the gallery's tiles.
const TILE_NAMES: &str =
    "return [...document.querySelectorAll('#gallery .tile .tile-name')].map(e => e.textContent);";

/// Waits until the gallery shows exactly `want` (in any order).
async fn wait_for_tiles(wd: &WebDriver, s: &str, want: &[&str]) -> Result<()> {
    wd.wait_until(
        s,
        &format!("the tiles {want:?}"),
        "const names = [...document.querySelectorAll('#gallery .tile .tile-name')] \
           .map(e => e.textContent).sort(); \
         const want = [...arguments[0]].sort(); \
         return names.length === want.length && names.every((n, i) => n === want[i]);",
        json!([want]),
        MEETING_TIMEOUT,
    )
    .await
    .map(drop)
}

/// The participant id on the tile named `name`.
async fn tile_id(wd: &WebDriver, s: &str, name: &str) -> Result<u64> {
    wd.execute(
        s,
        "const t = [...document.querySelectorAll('#gallery .tile')] \
           .find(t => t.querySelector('.tile-name').textContent === arguments[0]); \
         return t ? Number(t.dataset.participantId) : null;",
        json!([name]),
    )
    .await?
    .as_u64()
    .with_context(|| format!("no tile for {name}"))
}

/// Signs in, schedules a meeting, joins it as host; returns its id.
async fn host_a_meeting(wd: &WebDriver, s: &str) -> Result<u64> {
    wd.wait_until(
        s,
        "the start screen",
        "return document.querySelector('#sign-in-email') !== null;",
        json!([]),
        UI_TIMEOUT,
    )
    .await?;
    wd.type_into(s, "#sign-in-email", HOST_EMAIL).await?;
    wd.type_into(s, "#sign-in-password", HOST_PASSWORD).await?;
    wd.click(s, "#sign-in button[type=submit]").await?;
    wd.wait_until(
        s,
        "the home screen after signing in",
        "const e = document.querySelector('#account-email'); return e && e.textContent;",
        json!([]),
        UI_TIMEOUT,
    )
    .await?;
    let meeting = schedule_from_home(wd, s, TOPIC).await?;
    wd.click(s, &format!("[data-meeting-id=\"{meeting}\"] .join-meeting"))
        .await?;
    wd.click(s, "#prejoin-join").await?;
    wd.wait_until(
        s,
        "our own tile",
        "return document.querySelectorAll('#gallery .tile.self').length;",
        json!([]),
        MEETING_TIMEOUT,
    )
    .await?;
    Ok(meeting)
}

async fn drive(
    wd: &WebDriver,
    s: &str,
    app: &AppProcess,
    server: &mut RestartableServer,
    dir: &Path,
    participants: &mut Vec<Participant>,
) -> Result<()> {
    let meeting = host_a_meeting(wd, s).await?;

    // A guest sending video, seen moving.
    let cli = server.cli(&dir.join("cli-one"));
    participants.push(Participant::join(
        |args| cli.command(args),
        meeting,
        "Cli One",
        dir,
        None,
        None,
    )?);
    wait_for_tiles(wd, s, &["Rena Host (you)", "Cli One"]).await?;
    expect_moving_video(wd, s, "Cli One").await?;
    // Two tiles side by side: the page asks for Cli One's 640×360 layer,
    // once (the router starts everyone on 320×180), and never again while
    // the tile keeps its size; the app must keep that choice across a
    // reconnect itself.
    let one = tile_id(wd, s, "Cli One").await?;
    if video_required() {
        wd.wait_until(
            s,
            "Cli One's video on the 640×360 layer",
            "return (window.__conferStats.stats().sizes[arguments[0]] || [])[0] === 640;",
            json!([one]),
            MEETING_TIMEOUT,
        )
        .await?;
    }

    // First drop: only the app's connection, the router stays up. The app
    // is frozen (SIGSTOP) past the router's idle timeout, so the router
    // drops it while Cli One stays, with the same id and the same tile:
    // the page has no reason to ask for its layer again.
    let pid = app.pid()?;
    signal("-STOP", &pid.to_string());
    tokio::time::sleep(FROZEN_FOR).await;
    signal("-CONT", &pid.to_string());
    wait_reconnected(wd, s, "after the freeze").await?;
    wait_for_tiles(wd, s, &["Rena Host (you)", "Cli One"]).await?;
    ensure!(
        tile_id(wd, s, "Cli One").await? == one,
        "Cli One's id changed"
    );
    if video_required() {
        // The new engine starts at its default layer (the largest, which
        // from a sender of 640×360 at most leaves the router forwarding its
        // 320×180): the app must ask it again for the 640×360 the page
        // chose. Pictures drawn since the rejoin show which it got.
        let drawn_before = wd
            .execute(
                s,
                "return window.__conferStats.stats().drawn[arguments[0]] || 0;",
                json!([one]),
            )
            .await?;
        wait_pictures_at_640(
            wd,
            s,
            "Cli One's pictures since the rejoin on the 640×360 layer",
            one,
            &drawn_before,
            10,
        )
        .await?;
    }

    // The server dies without a word to anyone.
    server.kill();
    let banner = wd
        .wait_until(
            s,
            "the reconnecting banner",
            "const b = document.querySelector('#banner'); \
             const t = document.querySelector('#banner-text'); \
             if (!b || b.hidden || b.dataset.kind !== 'reconnecting') return null; \
             const r = b.getBoundingClientRect(); \
             return r.width > 0 && r.height > 0 ? t.textContent : null;",
            json!([]),
            DROP_NOTICED_TIMEOUT,
        )
        .await?;
    ensure!(banner == json!(RECONNECTING), "the banner says {banner}");
    wd.save_screenshot(s, "desktop_reconnecting").await?;
    // Still reconnecting, not ended, while the server stays down.
    let phase = wd
        .execute(
            s,
            "return { back: !document.querySelector('#back-home').hidden, \
                quality: document.querySelector('#connection').dataset.quality };",
            json!([]),
        )
        .await?;
    ensure!(
        phase["back"] == json!(false),
        "the meeting was reported over instead of reconnecting: {phase}"
    );
    // The connection indicator does not claim a good connection meanwhile.
    ensure!(
        phase["quality"] == json!("poor"),
        "the indicator while reconnecting: {phase}"
    );

    // The old guest's connection is gone too: it must give up, not hang.
    let old = &mut participants[0];
    let deadline = tokio::time::Instant::now() + OLD_GUEST_EXIT_TIMEOUT;
    let status = loop {
        if let Some(status) = old.child.try_wait()? {
            break status;
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "Cli One still runs {OLD_GUEST_EXIT_TIMEOUT:?} after its server died"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let _ = writeln!(
        std::io::stderr(),
        "desktop_reconnect: Cli One ended with {status} once the server was gone"
    );

    // The server comes back where it was: same ports, same data directory.
    // Blocking (it waits for the ready line) on this multi-threaded runtime.
    tokio::task::block_in_place(|| server.restart())?;
    wait_reconnected(wd, s, "after the restart").await?;
    wait_for_tiles(wd, s, &["Rena Host (you)"]).await?;
    wd.save_screenshot(s, "desktop_reconnected").await?;

    // Media and control on the new connection: a new guest's video plays
    // and our chat reaches it.
    let cli = server.cli(&dir.join("cli-three"));
    participants.push(Participant::join(
        |args| cli.command(args),
        meeting,
        "Cli Three",
        dir,
        None,
        None,
    )?);
    wait_for_tiles(wd, s, &["Rena Host (you)", "Cli Three"]).await?;
    let three = tile_id(wd, s, "Cli Three").await?;
    let drawn_before = wd
        .execute(
            s,
            "return window.__conferStats.stats().drawn[arguments[0]] || 0;",
            json!([three]),
        )
        .await?;
    expect_moving_video(wd, s, "Cli Three").await?;
    // The restarted router numbers from 1 again, so Cli Three may have Cli
    // One's id, for which the page already chose a layer; either way its
    // new pictures arrive at the layer its tile needs (640×360).
    if video_required() {
        wait_pictures_at_640(
            wd,
            s,
            "Cli Three's new pictures on the 640×360 layer",
            three,
            &drawn_before,
            5,
        )
        .await?;
    }
    let _ = writeln!(
        std::io::stderr(),
        "desktop_reconnect: Cli One was {one}, Cli Three is {three}"
    );
    wd.click(s, "#ctl-chat").await?;
    wd.type_into(s, "#chat-input", APP_CHAT).await?;
    wd.click(s, "#chat-send").await?;
    wd.wait_until(
        s,
        "our message in the chat",
        "return [...document.querySelectorAll('#chat-log .chat-text')] \
           .some(e => e.textContent === arguments[0]);",
        json!([APP_CHAT]),
        MEETING_TIMEOUT,
    )
    .await?;
    let names = wd.execute(s, TILE_NAMES, json!([])).await?;
    let _ = writeln!(std::io::stderr(), "desktop_reconnect: tiles {names}");

    // The guest leaves and reports what it got: our chat, and our media.
    let three = participants
        .last_mut()
        .context("Cli Three is a participant")?;
    // The chat may still be on its way: ask the guest to leave only once
    // it had a moment; its stats say whether the message arrived.
    let report = {
        let deadline = tokio::time::Instant::now() + MEETING_TIMEOUT;
        loop {
            // Stats are written when it leaves; until then look at its log.
            let log = three.log_tail(dir, 200);
            if log.contains(APP_CHAT) || tokio::time::Instant::now() > deadline {
                break three.leave().await?;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    };
    let got_chat = report["chat_received"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["text"] == json!(APP_CHAT));
    ensure!(got_chat, "Cli Three never got the app's chat: {report}");

    // Leave.
    wd.click(s, "#ctl-leave").await?;
    let left = wd
        .wait_until(
            s,
            "the meeting to end",
            "const b = document.querySelector('#banner-text'); return b && b.textContent;",
            json!([]),
            MEETING_TIMEOUT,
        )
        .await?;
    ensure!(left == json!("You left the meeting."), "banner says {left}");
    let _ = writeln!(
        std::io::stderr(),
        "desktop_reconnect: meeting {meeting} survived a server restart"
    );
    Ok(())
}

/// Waits until the last notice says we reconnected and the reconnecting
/// banner is gone; `after` names the drop, for the error message.
async fn wait_reconnected(wd: &WebDriver, s: &str, after: &str) -> Result<()> {
    wd.wait_until(
        s,
        &format!("the notice that we reconnected ({after}), and no banner"),
        "const said = [...document.querySelectorAll('#notices .notice')] \
           .at(-1)?.textContent === arguments[0]; \
         return said && document.querySelector('#banner').hidden;",
        json!([RECONNECTED]),
        REJOIN_TIMEOUT,
    )
    .await?;
    Ok(())
}

/// Waits until the page has drawn more than `more` pictures of
/// `participant` since it had drawn `drawn_before`, the latest at the
/// 640×360 layer its tile asked for.
async fn wait_pictures_at_640(
    wd: &WebDriver,
    s: &str,
    what: &str,
    participant: u64,
    drawn_before: &Value,
    more: u64,
) -> Result<()> {
    wd.wait_until(
        s,
        what,
        "const st = window.__conferStats.stats(); \
         return (st.drawn[arguments[0]] || 0) > arguments[1] + arguments[2] \
           && (st.sizes[arguments[0]] || [])[0] === 640;",
        json!([participant, drawn_before, more]),
        MEETING_TIMEOUT,
    )
    .await
    .map(drop)
}
