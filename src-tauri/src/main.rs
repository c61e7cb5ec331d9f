//! The Confer desktop app: a Tauri shell that shows the UI built from `ui/`
//! and maps its calls onto `confer-client`.
//!
//! The shell holds no business logic. Meeting, media and encryption work
//! belongs in `confer-client` and the crates beneath it; this crate only
//! exposes them to the UI as commands and events.
//!
//! - [`commands`]: the IPC commands the UI may invoke, one module per area.
//! - [`error`]: the one error type every command returns, serialised for the UI.
//!
//! The window, its content security policy and the bundle live in
//! `tauri.conf.json` at the repository root; what the window may call lives
//! in `src-tauri/capabilities/`.

// Release builds on Windows must not open a console window beside the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod error;

use std::process::ExitCode;

fn main() -> ExitCode {
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
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![commands::app::app_info])
        .run(tauri::generate_context!())
}
