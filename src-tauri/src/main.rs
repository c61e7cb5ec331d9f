//! The Confer desktop app: a Tauri shell that shows the UI built from `ui/`
//! and maps its calls onto `confer-client`.
//!
//! The shell holds no business logic. Meeting, media and encryption work
//! belongs in `confer-client` and the crates beneath it; this crate only
//! exposes them to the UI as commands and events.
//!
//! - [`commands`]: the IPC commands the UI may invoke, one module per area.
//! - [`error`]: the one error type every command returns, serialised for the UI.
//! - [`models`]: the shapes commands take and return and the `meeting`
//!   events; [`bindings`] generates their TypeScript (tests only).
//! - [`meeting_events`]: session events into UI updates, in plain words.
//! - [`state`], [`settings`], [`credentials`] (the OS keyring),
//!   [`web_meetings`] (scheduling calls), [`meeting_link`] (join box input).
//! - [`sign_in_handoff`]: a one-shot sign-in file from a launcher.
//! - `running_app` (Linux): hands a launch's link to a Confer already
//!   running, or waits for one that is quitting, before Tauri starts.
//! - [`video`]: decoded pictures to the UI as raw bytes on an IPC channel.
//!
//! The window, its content security policy and the bundle live in
//! `tauri.conf.json` at the repository root; what the window may call lives
//! in `src-tauri/capabilities/`.

// Release builds on Windows must not open a console window beside the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod app_settings;
#[cfg(feature = "bench-frames")]
mod bench_frames;
#[cfg(test)]
mod bindings;
mod commands;
mod credentials;
mod error;
mod launch_link;
mod meeting_events;
mod meeting_link;
mod models;
mod reconnect;
mod rendering;
#[cfg(target_os = "linux")]
mod running_app;
mod script_memory;
mod settings;
mod sign_in_handoff;
mod state;
mod status;
mod video;
mod web_meetings;

use std::process::ExitCode;

use tauri::Manager;

fn main() -> ExitCode {
    script_memory::configure_before_threads();
    start_logging();
    #[cfg(target_os = "linux")]
    match hand_over_to_a_running_app() {
        running_app::Step::Exit => return ExitCode::SUCCESS,
        running_app::Step::Fail(message) => {
            eprintln!("confer-desktop: {message}");
            tell_the_user(&message);
            return ExitCode::FAILURE;
        }
        running_app::Step::Start | running_app::Step::Retry => {}
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("confer-desktop: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr what the crates beneath the app report: warnings by
/// default (a capture that failed, a chat not sent), more when `RUST_LOG`
/// asks (`target=level` lists, e.g. `confer_client=debug`). An unreadable
/// `RUST_LOG` is reported and the default kept. Nothing secret is logged at
/// any level: tokens and keys never reach a log line (DESIGN.md).
fn start_logging() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let warnings = || Targets::new().with_default(LevelFilter::WARN);
    let asked = std::env::var("RUST_LOG")
        .ok()
        .filter(|s| !s.trim().is_empty());
    let (filter, bad) = match asked.as_deref().map(str::parse::<Targets>) {
        None => (warnings(), None),
        Some(Ok(filter)) => (filter, None),
        Some(Err(e)) => (warnings(), Some(e)),
    };
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                // Colours for a terminal, plain text for a log file.
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_filter(filter),
        )
        .init();
    if let Some(e) = bad {
        tracing::warn!("RUST_LOG not understood ({e}); logging warnings only");
    }
}

/// Shows why this launch cannot start in a dialog, when nobody would read
/// stderr: Confer started from a launcher or a meeting link rather than a
/// terminal. Without a display it says nothing more.
#[cfg(target_os = "linux")]
fn tell_the_user(message: &str) {
    use gtk::prelude::{DialogExt as _, GtkWindowExt as _};
    use std::io::IsTerminal as _;
    if std::io::stderr().is_terminal() || gtk::init().is_err() {
        return;
    }
    let dialog = gtk::MessageDialog::new(
        None::<&gtk::Window>,
        gtk::DialogFlags::MODAL,
        gtk::MessageType::Error,
        gtk::ButtonsType::Close,
        message,
    );
    dialog.set_title("Confer");
    dialog.run();
    dialog.close();
}

/// Hands this launch's arguments (a `confer://join/...` link) to a Confer
/// already running for the same server, waiting out one that is quitting
/// (`running_app`). Linux only: that is where the hand-over goes over
/// D-Bus; the plugin uses other means on Windows and macOS.
#[cfg(target_os = "linux")]
fn hand_over_to_a_running_app() -> running_app::Step {
    let patience = running_app::Patience::APP;
    let Some(bus) = running_app::session_bus(patience) else {
        return running_app::Step::Start;
    };
    let server_url = settings::Settings::from_env().server_url;
    let argv: Vec<String> = std::env::args_os()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let cwd = std::env::current_dir().unwrap_or_default();
    running_app::look_for_running_app(
        &bus,
        &launch_link::instance_name(&server_url),
        &argv,
        &cwd.to_string_lossy(),
        patience,
    )
}

/// Builds the app with its commands and runs it until the last window closes.
fn run() -> Result<(), tauri::Error> {
    let settings = settings::Settings::from_env();
    let server_url = settings.server_url.clone();
    let state = state::AppState::new(settings);
    let rendering = rendering::choose_here();
    if let Some(warning) = &rendering.warning {
        eprintln!("confer-desktop: {warning}");
    }
    let compositing = rendering.compositing;
    tauri::Builder::default()
        .plugin(launch_link::single_instance())
        .plugin(tauri_plugin_deep_link::init())
        .plugin(launch_link::plugin())
        .manage(state)
        .manage(compositing)
        .setup(move |app| {
            // Taken here, after the single-instance plugin let this process
            // run: a second launch hands its link to the running app and
            // exits before setup, leaving a sign-in file it was given alone.
            let handoff = match sign_in_handoff::take_from_env(&server_url) {
                Ok(session) => session,
                Err(e) => {
                    // Not fatal: the app starts signed out and the user signs in.
                    eprintln!("confer-desktop: {e}");
                    None
                }
            };
            // Nothing else holds the slot before the page runs.
            match app.state::<state::AppState>().handoff.try_lock() {
                Ok(mut slot) => *slot = handoff,
                Err(_) => {
                    eprintln!("confer-desktop: the sign-in hand-off was busy; sign in by hand")
                }
            }
            if let Some(window) = app.get_webview_window("main") {
                rendering::apply(&window, compositing)?;
            }
            Ok(())
        })
        .manage(commands::account::PendingSso::default())
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            launch_link::take_launch_link,
            commands::account::auth_state,
            commands::account::sign_in,
            commands::account::start_sign_in_sso,
            commands::account::finish_sign_in_sso,
            commands::account::cancel_sign_in_sso,
            commands::account::sign_out,
            commands::meetings::list_meetings,
            commands::meetings::schedule_meeting,
            commands::meetings::edit_meeting,
            commands::meetings::delete_meeting,
            commands::meeting_session::join_meeting,
            commands::meeting_session::send_chat,
            commands::meeting_session::self_control,
            commands::meeting_session::host_control,
            commands::meeting_session::leave_meeting,
            commands::meeting_session::request_keyframe,
            commands::meeting_session::set_video_layer,
            commands::devices::media_devices,
            commands::devices::get_settings,
            commands::devices::save_settings,
            commands::devices::test_speaker,
            commands::preview::start_preview,
            commands::preview::stop_preview,
            commands::share::share_sources,
            commands::share::start_share,
            commands::share::stop_share,
            commands::share::react,
            #[cfg(feature = "bench-frames")]
            bench_frames::bench_frames,
        ])
        .build(tauri::generate_context!())?
        .run(|app, event| {
            // Let go of the single-instance name as soon as the app is on
            // its way out, not at the very end: a launch in the meantime
            // would otherwise hand its link to an app that is closing
            // (and `running_app` waits for the name only while its owner
            // does not answer).
            if let tauri::RunEvent::ExitRequested { .. } = event {
                tauri_plugin_single_instance::destroy(app);
            }
        });
    Ok(())
}
