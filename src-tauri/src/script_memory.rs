//! How the webview's JavaScript engine collects the garbage a meeting
//! makes.
//!
//! In a meeting the page receives every picture and H.264 unit as an
//! `ArrayBuffer` from the app's channel: megabytes a second that are dead
//! within one frame. JavaScriptCore's generational collector does not free
//! them in its young-generation collections; they wait for the next full
//! collection, which it runs only when the heap has grown to several times
//! its size after the last one. In a 10-person meeting on WebKitGTK that
//! saw went from 15 to 70 MB of script heap (`JSC_logGC=1` shows it), and
//! the web process's memory rose and fell with it. Collecting the whole
//! heap every time keeps it at 13–18 MB for no measurable CPU: the page's
//! live heap is small (docs/desktop-bench.md). WebKitGTK reads
//! JavaScriptCore's options from `JSC_*` environment variables, which its
//! web process inherits from the app, so the app sets the option in its
//! own environment before WebKit starts. A value already in the
//! environment is left as it is, so the option can still be tried both
//! ways.

use std::ffi::OsStr;

/// The JavaScriptCore option, as WebKitGTK reads it from the environment.
pub(crate) const GENERATIONAL_GC_VAR: &str = "JSC_useGenerationalGC";

/// The value to set, or `None` when the environment already chose one.
pub(crate) fn generational_gc_value(existing: Option<&OsStr>) -> Option<&'static str> {
    match existing {
        Some(_) => None,
        None => Some("0"),
    }
}

/// Sets the option for the web process to inherit. Only WebKitGTK (Linux)
/// runs JavaScriptCore with these options; elsewhere this does nothing.
/// Must run first in `main`, before any thread is started.
pub(crate) fn configure_before_threads() {
    #[cfg(target_os = "linux")]
    if let Some(value) = generational_gc_value(std::env::var_os(GENERATIONAL_GC_VAR).as_deref()) {
        // SAFETY: called first in `main`, while the process has one
        // thread, so nothing can read the environment concurrently.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var(GENERATIONAL_GC_VAR, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_full_collections_unless_the_environment_chose() {
        assert_eq!(generational_gc_value(None), Some("0"));
        assert_eq!(generational_gc_value(Some(OsStr::new("1"))), None);
        assert_eq!(generational_gc_value(Some(OsStr::new("0"))), None);
    }
}
