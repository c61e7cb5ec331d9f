//! Commands about the app itself rather than a meeting.

use serde::Serialize;
use tauri::{AppHandle, PackageInfo, Runtime, State};

use crate::error::Error;
use crate::rendering::Compositing;

/// What the UI shows about the running app (TypeScript: `AppInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub(crate) struct AppInfo {
    /// Product name from `tauri.conf.json`.
    pub(crate) name: String,
    /// The app's version (the package version in `Cargo.toml`).
    pub(crate) version: String,
    /// The Tauri runtime version, for bug reports.
    pub(crate) tauri_version: &'static str,
    /// The operating system family (`linux`, `macos`, `windows`).
    pub(crate) os: &'static str,
    /// Where the page is composited (`src-tauri/src/rendering.rs`), for
    /// bug reports about drawing.
    pub(crate) compositing: Compositing,
}

impl AppInfo {
    /// Collects the app's identity from Tauri's package info.
    pub(crate) fn from_package(package: &PackageInfo, compositing: Compositing) -> Self {
        Self {
            name: package.name.clone(),
            version: package.version.to_string(),
            tauri_version: tauri::VERSION,
            os: std::env::consts::OS,
            compositing,
        }
    }
}

/// Returns the app's name and version for the start screen and bug reports.
///
/// It cannot fail today, but returns `Result` like every command so the UI
/// handles a single rejection shape.
#[tauri::command]
pub(crate) fn app_info<R: Runtime>(
    app: AppHandle<R>,
    compositing: State<'_, Compositing>,
) -> Result<AppInfo, Error> {
    Ok(AppInfo::from_package(app.package_info(), *compositing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_with_the_field_names_the_ui_expects() {
        let info = AppInfo {
            name: "Confer".into(),
            version: "0.1.0".into(),
            tauri_version: "2.0.0",
            os: "linux",
            compositing: Compositing::Software,
        };
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "name": "Confer",
                "version": "0.1.0",
                "tauriVersion": "2.0.0",
                "os": "linux",
                "compositing": "software",
            })
        );
    }
}
