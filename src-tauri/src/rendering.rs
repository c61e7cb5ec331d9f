//! How the webview composites the page: on the GPU (WebKit's accelerated
//! compositing) or in software.
//!
//! Without a GPU (no DRM render node: virtual machines, remote desktops,
//! Xvfb) Mesa emulates OpenGL on the CPU (llvmpipe). WebKitGTK's
//! accelerated compositing then runs through that emulation: on the 2-core
//! test machine it cost about 100 MB more memory (the web process's GL
//! buffers) and painted fewer video frames than WebKit's own software path
//! (docs/desktop-bench.md). So where there is no render node we composite
//! in software; where there is one we keep WebKit's default. The
//! environment variable [`OVERRIDE_VAR`] (`gpu` or `software`) overrides
//! the choice, for a GPU whose driver misbehaves or for measuring.

use serde::Serialize;

/// The environment variable that overrides the choice.
pub(crate) const OVERRIDE_VAR: &str = "CONFER_COMPOSITING";

/// Where the page is composited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub(crate) enum Compositing {
    /// WebKit's accelerated compositing through OpenGL.
    Gpu,
    /// WebKit composites on the CPU; no OpenGL compositing buffers.
    Software,
}

/// The choice and why it was made, for the log and the about box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Choice {
    /// Where the page is composited.
    pub(crate) compositing: Compositing,
    /// A warning to print when the override could not be read.
    pub(crate) warning: Option<String>,
}

/// Decides from the override's value (if set) and whether the machine
/// has a GPU render node.
pub(crate) fn choose(override_value: Option<&str>, has_render_node: bool) -> Choice {
    let automatic = if has_render_node {
        Compositing::Gpu
    } else {
        Compositing::Software
    };
    match override_value.map(str::trim) {
        None | Some("" | "auto") => Choice {
            compositing: automatic,
            warning: None,
        },
        Some("gpu") => Choice {
            compositing: Compositing::Gpu,
            warning: None,
        },
        Some("software") => Choice {
            compositing: Compositing::Software,
            warning: None,
        },
        Some(other) => Choice {
            compositing: automatic,
            warning: Some(format!(
                "{OVERRIDE_VAR}={other:?} is not one of auto, gpu, software; choosing automatically"
            )),
        },
    }
}

/// Whether this machine has a DRM render node (`/dev/dri/renderD*`), the
/// sign of a GPU that OpenGL can use.
pub(crate) fn has_render_node() -> bool {
    std::fs::read_dir("/dev/dri").is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    })
}

/// Decides for this machine and process environment.
pub(crate) fn choose_here() -> Choice {
    let value = std::env::var(OVERRIDE_VAR).ok();
    choose(value.as_deref(), has_render_node())
}

/// Applies `compositing` to the window's webview. Only WebKitGTK has the
/// choice; elsewhere the system webview decides.
pub(crate) fn apply<R: tauri::Runtime>(
    window: &tauri::WebviewWindow<R>,
    compositing: Compositing,
) -> tauri::Result<()> {
    #[cfg(target_os = "linux")]
    if compositing == Compositing::Software {
        window.with_webview(|webview| {
            use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
            if let Some(settings) = WebViewExt::settings(&webview.inner()) {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        })?;
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (window, compositing);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn software_without_a_render_node_and_gpu_with_one() {
        assert_eq!(choose(None, false).compositing, Compositing::Software);
        assert_eq!(choose(None, true).compositing, Compositing::Gpu);
        assert_eq!(
            choose(Some("auto"), false).compositing,
            Compositing::Software
        );
        assert_eq!(choose(Some(""), true).compositing, Compositing::Gpu);
    }

    #[test]
    fn the_override_wins() {
        let gpu = choose(Some("gpu"), false);
        assert_eq!(gpu.compositing, Compositing::Gpu);
        assert_eq!(gpu.warning, None);
        assert_eq!(
            choose(Some(" software "), true).compositing,
            Compositing::Software
        );
    }

    #[test]
    fn a_bad_override_warns_and_chooses_automatically() {
        let choice = choose(Some("fast"), false);
        assert_eq!(choice.compositing, Compositing::Software);
        let warning = choice.warning.unwrap();
        assert!(warning.contains("CONFER_COMPOSITING=\"fast\""), "{warning}");
    }

    #[test]
    fn serialises_as_the_ui_expects() {
        assert_eq!(
            serde_json::to_value(Compositing::Software).unwrap(),
            serde_json::json!("software")
        );
    }
}
