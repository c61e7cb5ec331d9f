//! End-to-end test of `confer://join/...` links in the real desktop app:
//! a `confer-server` on loopback and the built `confer-desktop` driven over
//! WebDriver under Xvfb (see `desktop_smoke.rs` for the chain), started
//! with a link as its argument the way a desktop's scheme handler starts it
//! (`Exec=confer-desktop %u`), and then handed links by second launches.
//!
//! The app starts signed in through the one-shot sign-in hand-off
//! (`CONFER_SIGN_IN_FILE`, `src-tauri/src/sign_in_handoff.rs`), for an
//! account with a scheduled meeting made here with the `confer` CLI.
//!
//! 1. Started with `confer://join/not-a-meeting`: the home screen shows,
//!    with a notice that the link names no meeting, and no pre-join screen.
//! 2. Started with `confer://join/ID`: the pre-join screen for meeting ID.
//!    Cancelled, back home; then the binary is started again with the same
//!    link, as a click on a link does while the app runs: that second
//!    process hands the link to the running app over D-Bus and exits, and
//!    the running app shows the pre-join screen again. Only one app runs.
//! 3. Signed out (the test signs out of the session the keyring kept),
//!    started with `confer://join/ID`: the start screen says the link waits
//!    for sign-in and fills in the join box; signing in with the form opens
//!    the pre-join screen for meeting ID.
//!
//! Screenshots go to `target/screenshots/desktop_deep_link_*.png`. Needs
//! what `desktop_smoke.rs` needs (and skips the same way); the second
//! launch needs a D-Bus session bus (`dbus-run-session`, as
//! `scripts/test.sh` runs the tests), without which that step is skipped
//! with a message.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;
mod desktop_support;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use common::Server;
use desktop_support::{
    AppDriver, SessionBus, Tools, UI_TIMEOUT, WebDriver, run_scenario, target_dir, with_log,
};
use serde_json::{Value, json};

/// Upper bound on the whole scenario.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(180);
/// How long a second launch may take to hand its link over and exit.
const HANDOVER_TIMEOUT: Duration = Duration::from_secs(30);

const EMAIL: &str = "lin@example.com";
const PASSWORD: &str = "correct horse battery staple";
const TOPIC: &str = "Deep link check";
/// The start of what the home screen says about a link naming no meeting.
const NOT_A_MEETING: &str = "That link does not open a Confer meeting";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_links_open_the_prejoin_screen_or_say_what_is_wrong() -> Result<()> {
    run_scenario("desktop_deep_link", SCENARIO_TIMEOUT, scenario).await
}

async fn scenario(tools: Tools) -> Result<()> {
    let app = PathBuf::from(env!("CARGO_BIN_EXE_confer-desktop"));
    let target = target_dir()?;
    let log_path = target
        .join("tmp")
        .join("desktop_deep_link-tauri-driver.log");
    let scratch = tempfile::tempdir()?;

    // The server, an account signed in with the CLI, and a meeting of its.
    let server = tokio::task::spawn_blocking(Server::start).await?;
    let cli = server.cli(&scratch.path().join("cli"));
    let meeting = {
        let cli = cli.clone();
        tokio::task::spawn_blocking(move || {
            cli.sign_up(EMAIL, "Lin Link", PASSWORD);
            cli.create_meeting(&["--topic", TOPIC])
        })
        .await?
    };
    let session_json = cli.config_dir.join("session.json");
    let handoff = scratch.path().join("handoff").join("session.json");

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
        &[("CONFER_SIGN_IN_FILE", handoff.clone().into_os_string())],
    )
    .await?;
    let bus = SessionBus::find(&server.api);

    let result = async {
        // 1. A link that names no meeting.
        hand_off_sign_in(&session_json, &handoff)?;
        let s = wd
            .new_session_with_args(&app, &["confer://join/not-a-meeting"])
            .await?;
        let checked = check_not_a_meeting(&wd, &s).await;
        let closed = wd.delete_session(&s).await;
        checked?;
        closed?;
        // The closed app lets go of its D-Bus name; the next one must not
        // take the closing one for a running app and hand its link to it.
        if let Some(bus) = &bus {
            bus.wait_released().await?;
        }

        // 2. A meeting link, at start and then handed to the running app.
        hand_off_sign_in(&session_json, &handoff)?;
        let link = format!("confer://join/{meeting}");
        let s = wd.new_session_with_args(&app, &[&link]).await?;
        let checked = check_meeting_link(
            &wd,
            &s,
            meeting,
            &app,
            &link,
            &display,
            &server,
            bus.as_ref(),
        )
        .await;
        let closed = wd.delete_session(&s).await;
        checked?;
        closed?;

        // 3. Signed out: the link waits on the start screen until the user
        //    signs in with the form. First sign out of the session the
        //    keyring kept from the hand-offs.
        if let Some(bus) = &bus {
            bus.wait_released().await?;
        }
        let s = wd.new_session(&app).await?;
        let signed_out = sign_out(&wd, &s).await;
        let closed = wd.delete_session(&s).await;
        signed_out?;
        closed?;
        if let Some(bus) = &bus {
            bus.wait_released().await?;
        }
        let s = wd.new_session_with_args(&app, &[&link]).await?;
        let checked = check_link_before_sign_in(&wd, &s, meeting).await;
        let closed = wd.delete_session(&s).await;
        checked?;
        closed
    }
    .await;
    driver.stop();
    result.map_err(|e| {
        anyhow!(
            "{}\nserver log (tail):\n{}",
            with_log(e, &log_path),
            tail(&server.log(), 20)
        )
    })
}

/// Puts the CLI's session where the app takes it from (it deletes the file
/// when it starts, so each start needs a fresh copy), readable by us only.
fn hand_off_sign_in(session_json: &Path, handoff: &Path) -> Result<()> {
    if let Some(dir) = handoff.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::copy(session_json, handoff).context("copying the CLI's session.json")?;
    std::fs::set_permissions(handoff, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

/// A script returning the signed-in account's email once the home screen shows.
const HOME_EMAIL: &str =
    "const e = document.querySelector('#account-email'); return e && e.textContent;";
/// A script returning the pre-join screen's words about the meeting, once it shows.
const PREJOIN_MEETING: &str =
    "const e = document.querySelector('#prejoin .tagline'); return e && e.textContent;";

async fn wait_home(wd: &WebDriver, s: &str) -> Result<()> {
    let email = wd
        .wait_until(
            s,
            "the home screen, signed in",
            HOME_EMAIL,
            json!([]),
            UI_TIMEOUT,
        )
        .await?;
    ensure!(
        email.as_str().is_some_and(|e| e.starts_with(EMAIL)),
        "home shows {email}"
    );
    Ok(())
}

async fn check_not_a_meeting(wd: &WebDriver, s: &str) -> Result<()> {
    wait_home(wd, s).await?;
    let notice = shown_notice(wd, s, "#home-notice", "the notice about the link").await?;
    ensure!(
        notice
            .as_str()
            .is_some_and(|n| n.starts_with(NOT_A_MEETING)),
        "the notice says {notice}"
    );
    wd.save_screenshot(s, "desktop_deep_link_not_a_meeting")
        .await?;
    let prejoin = wd
        .execute(
            s,
            "return document.querySelector('#prejoin') !== null;",
            json!([]),
        )
        .await?;
    ensure!(
        prejoin == json!(false),
        "a pre-join screen opened for a bad link"
    );
    Ok(())
}

/// Waits until the notice `css` shows, and returns its words.
async fn shown_notice(wd: &WebDriver, s: &str, css: &str, what: &str) -> Result<Value> {
    wd.wait_until(
        s,
        what,
        "const e = document.querySelector(arguments[0]); \
         return e && !e.hidden && e.textContent;",
        json!([css]),
        UI_TIMEOUT,
    )
    .await
}

/// Signs out from the home screen and waits for the start screen.
async fn sign_out(wd: &WebDriver, s: &str) -> Result<()> {
    wait_home(wd, s).await?;
    wd.click(s, "#sign-out").await?;
    wd.wait_until(
        s,
        "the start screen after signing out",
        "return document.querySelector('#sign-in-email') !== null;",
        json!([]),
        UI_TIMEOUT,
    )
    .await?;
    Ok(())
}

/// Started signed out with a meeting link: the start screen says the link
/// waits and fills in the join box; signing in opens its pre-join screen.
async fn check_link_before_sign_in(wd: &WebDriver, s: &str, meeting: u64) -> Result<()> {
    let notice = shown_notice(
        wd,
        s,
        "#start-notice",
        "the start screen's notice about the link",
    )
    .await?;
    let grouped_id = grouped(meeting);
    ensure!(
        notice.as_str().is_some_and(|n| n.contains(&format!(
            "meeting {grouped_id} is ready: sign in to open it"
        ))),
        "the start screen says {notice}"
    );
    let filled = wd
        .execute(
            s,
            "return document.querySelector('#join-meeting-id').value;",
            json!([]),
        )
        .await?;
    ensure!(filled == json!(grouped_id), "the join box holds {filled}");
    wd.save_screenshot(s, "desktop_deep_link_signed_out")
        .await?;
    wd.type_into(s, "#sign-in-email", EMAIL).await?;
    wd.type_into(s, "#sign-in-password", PASSWORD).await?;
    wd.click(s, "#sign-in button[type=submit]").await?;
    expect_prejoin(
        wd,
        s,
        "the pre-join screen after signing in",
        &format!("Meeting {grouped_id}"),
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn check_meeting_link(
    wd: &WebDriver,
    s: &str,
    meeting: u64,
    app: &Path,
    link: &str,
    display: &str,
    server: &Server,
    bus: Option<&SessionBus>,
) -> Result<()> {
    let want = format!("Meeting {}", grouped(meeting));
    expect_prejoin(wd, s, "the pre-join screen", &want).await?;
    wd.save_screenshot(s, "desktop_deep_link_prejoin").await?;
    // Behind it, the signed-in home screen: the link waited for the sign-in.
    wait_home(wd, s).await?;
    wd.click(s, "#prejoin-cancel").await?;
    wd.wait_until(
        s,
        "the pre-join screen to close",
        "return document.querySelector('#prejoin') === null;",
        json!([]),
        UI_TIMEOUT,
    )
    .await?;

    let Some(bus) = bus else {
        let _ = writeln!(
            std::io::stderr(),
            "\nSKIPPED desktop_deep_link second launch: no D-Bus session bus (run under dbus-run-session)\n"
        );
        return Ok(());
    };
    ensure!(
        bus.owned()?,
        "the running app does not own {} on the session bus",
        bus.name
    );
    // A click on a link while the app runs: the binary starts again with
    // the link, hands it over and exits, without opening a window.
    second_launch(app, link, display, server).await?;
    expect_prejoin(
        wd,
        s,
        "the pre-join screen from the handed-over link",
        &want,
    )
    .await?;
    let handles = wd.get(s, "window/handles").await?;
    ensure!(
        handles.as_array().is_some_and(|h| h.len() == 1),
        "windows: {handles}"
    );
    wd.save_screenshot(s, "desktop_deep_link_handed_over")
        .await?;
    Ok(())
}

/// Runs the app binary again with `link`, as the desktop does for a
/// clicked link, and waits for it to exit successfully.
async fn second_launch(app: &Path, link: &str, display: &str, server: &Server) -> Result<()> {
    // A launcher's sign-in file given to the second launch: it must be left
    // alone (the running app signed in long ago), not used up.
    let scratch = tempfile::tempdir()?;
    let unused_handoff = scratch.path().join("session.json");
    std::fs::write(&unused_handoff, b"{}")?;
    std::fs::set_permissions(&unused_handoff, std::fs::Permissions::from_mode(0o600))?;
    let mut child = Command::new(app)
        .arg(link)
        .env("DISPLAY", display)
        .env("GDK_BACKEND", "x11")
        .env_remove("WAYLAND_DISPLAY")
        .env("CONFER_SERVER_URL", &server.api)
        .env("CONFER_CA_FILE", &server.ca)
        .env("CONFER_SIGN_IN_FILE", &unused_handoff)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting a second confer-desktop")?;
    let deadline = Instant::now() + HANDOVER_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            // It opened an app of its own instead of handing over.
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "a second launch still runs after {HANDOVER_TIMEOUT:?}: it did not hand its link over"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut err, &mut stderr);
    }
    ensure!(
        status.success(),
        "a second launch exited with {status}: {stderr}"
    );
    ensure!(
        unused_handoff.exists(),
        "a second launch used up the sign-in file before handing its link over"
    );
    Ok(())
}

/// A meeting id grouped as the UI shows it (`482 193 765`, `482 1937 6501`).
fn grouped(id: u64) -> String {
    let digits = id.to_string();
    let sizes: &[usize] = if digits.len() == 11 {
        &[3, 4, 4]
    } else {
        &[3, 3, 4]
    };
    let mut groups = Vec::new();
    let mut at = 0;
    for size in sizes {
        if at >= digits.len() {
            break;
        }
        let end = (at + size).min(digits.len());
        groups.push(&digits[at..end]);
        at = end;
    }
    groups.join(" ")
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Waits for the pre-join screen (`what` says why it should show) and
/// checks it names the meeting as `want`.
async fn expect_prejoin(wd: &WebDriver, s: &str, what: &str, want: &str) -> Result<()> {
    let shown = wd
        .wait_until(s, what, PREJOIN_MEETING, json!([]), UI_TIMEOUT)
        .await?;
    ensure!(
        shown == json!(want),
        "the pre-join screen says {shown}, want {want:?}"
    );
    Ok(())
}
