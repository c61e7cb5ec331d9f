//! Tauri build script: generates the app context from `tauri.conf.json` at the
//! repository root and picks up the capabilities kept under `src-tauri/`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let attributes =
        tauri_build::Attributes::new().capabilities_path_pattern("./src-tauri/capabilities/**/*");
    match tauri_build::try_build(attributes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints anyhow's whole context chain, which names the bad file.
            eprintln!("tauri build step failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}
