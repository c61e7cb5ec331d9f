//! Tauri build script: generates the app context from `tauri.conf.json` at the
//! repository root and picks up the capabilities kept under `src-tauri/`.
fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new().capabilities_path_pattern("./src-tauri/capabilities/**/*"),
    )
    .unwrap_or_else(|e| panic!("tauri build step failed: {e}"));
}
