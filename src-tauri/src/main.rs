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
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("confer-desktop: {err}");
            ExitCode::FAILURE
        }
    }
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
        .run(tauri::generate_context!())
}
