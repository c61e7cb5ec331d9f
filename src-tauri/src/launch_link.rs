//! `confer://join/ID` links that open the app: the installers register the
//! `confer` scheme (`plugins.deep-link` in `tauri.conf.json`), so a click
//! on such a link starts Confer with the link as its argument (Linux,
//! Windows) or hands it to the running app (macOS). A second launch while
//! the app runs hands its link to the first one and exits
//! (`tauri-plugin-single-instance`; on Linux `running_app` does the
//! hand-over first, and waits out an app that is quitting), so one window
//! serves every link.
//!
//! What the link says is decided here, without Tauri: [`read_link`] turns
//! the text into a meeting to open the pre-join screen for, a notice that
//! the link names no meeting, or nothing (not our scheme). [`PendingLinks`]
//! keeps the latest one until the UI takes it with the `take_launch_link`
//! command, which it calls whenever the signed-in home screen shows, and
//! on the start screen once it knows no one is signed in (it then says the
//! link waits for sign-in and opens it after). A link arriving later is
//! announced with the [`LAUNCH_LINK_EVENT`] event; the UI then takes it
//! the same way.

use std::sync::{Mutex, PoisonError};

use serde::Serialize;
use tauri::plugin::TauriPlugin;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};
use tauri_plugin_deep_link::DeepLink;

use crate::error::Error;
use crate::meeting_link::{MeetingRef, parse_meeting_ref};

/// The Tauri event that says a link is waiting in `take_launch_link`.
pub(crate) const LAUNCH_LINK_EVENT: &str = "launch-link";

/// The start of every meeting link (scheme and host, as the `url` crate
/// normalises them: lower case).
const JOIN_PREFIX: &str = "confer://join/";

/// Longest link looked at, in bytes. A meeting link is about 25; anything
/// far longer is not one, and is refused before it is parsed or kept.
pub(crate) const MAX_LINK_BYTES: usize = 256;

/// The app's identifier in `tauri.conf.json` (a test checks they agree):
/// the base of the name a running app is found by.
const APP_IDENTIFIER: &str = "dev.confer.desktop";

/// What a link asks the UI to do (TypeScript: `LaunchLink`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub(crate) enum LaunchLink {
    /// Open the pre-join screen for this meeting, as the join box would.
    Meeting {
        /// The meeting id's digits, as the join box takes them.
        meeting: String,
    },
    /// A `confer://` link that names no meeting: say so, stay where we are.
    Invalid {
        /// Plain words for the user.
        message: String,
    },
}

/// What the user is told about a `confer://` link that names no meeting
/// (the link itself is not repeated: it came from outside).
const NOT_A_MEETING: &str =
    "that link does not open a Confer meeting: a meeting link is confer://join/ and the meeting ID";

/// Reads one link; `None` when it is not a `confer:` link at all (another
/// program's argument, which is none of our business).
pub(crate) fn read_link(text: &str) -> Option<LaunchLink> {
    let text = text.trim();
    let (scheme, _) = text.split_once(':')?;
    if !scheme.eq_ignore_ascii_case("confer") {
        return None;
    }
    let invalid = || {
        Some(LaunchLink::Invalid {
            message: NOT_A_MEETING.into(),
        })
    };
    if text.len() > MAX_LINK_BYTES {
        return invalid();
    }
    // Only the join form: `meeting_link` also reads invitation pages, which
    // a `confer:` link has no business naming.
    let Some(rest) = text
        .get(..JOIN_PREFIX.len())
        .filter(|p| p.eq_ignore_ascii_case(JOIN_PREFIX))
        .and_then(|_| text.get(JOIN_PREFIX.len()..))
    else {
        return invalid();
    };
    match parse_meeting_ref(&format!("{JOIN_PREFIX}{rest}")) {
        Ok(MeetingRef::Id(id)) => Some(LaunchLink::Meeting {
            meeting: id.to_string(),
        }),
        Ok(MeetingRef::Invitation(_)) | Err(_) => invalid(),
    }
}

/// The link waiting for the UI. Only the latest is kept: it is the one the
/// user clicked last, and opening several pre-join screens in turn would
/// help no one.
///
/// Driving contract: feed every link the app is given to
/// [`handle_url`](Self::handle_url); when it returns `true`, tell the UI;
/// the UI calls [`poll_link`](Self::poll_link) (through `take_launch_link`)
/// when it can act on one.
#[derive(Debug, Default)]
pub(crate) struct PendingLinks {
    /// The link not yet taken by the UI.
    pending: Option<LaunchLink>,
}

impl PendingLinks {
    /// Takes in a link the app was opened with; says whether one is now
    /// waiting for the UI (`false`: not a `confer:` link, ignored).
    pub(crate) fn handle_url(&mut self, url: &str) -> bool {
        match read_link(url) {
            Some(link) => {
                self.pending = Some(link);
                true
            }
            None => false,
        }
    }

    /// The waiting link, once.
    pub(crate) fn poll_link(&mut self) -> Option<LaunchLink> {
        self.pending.take()
    }
}

/// [`PendingLinks`] as Tauri manages it.
#[derive(Default)]
pub(crate) struct LaunchLinks(Mutex<PendingLinks>);

impl LaunchLinks {
    /// Takes in links; says whether one is now waiting.
    fn handle_urls<'a>(&self, urls: impl IntoIterator<Item = &'a str>) -> bool {
        // A poisoned lock only means a panic elsewhere; the slot is still sound.
        let mut pending = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        // Every link is read (no short-circuit): the last one wins.
        let mut queued = false;
        for url in urls {
            queued |= pending.handle_url(url);
        }
        queued
    }

    fn take(&self) -> Option<LaunchLink> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .poll_link()
    }
}

/// The link the app was opened with, if one is waiting; each link is
/// returned once. The UI calls it when the signed-in home screen shows, on
/// the signed-out start screen, and after a [`LAUNCH_LINK_EVENT`].
#[tauri::command]
pub(crate) fn take_launch_link(links: State<'_, LaunchLinks>) -> Result<Option<LaunchLink>, Error> {
    Ok(links.take())
}

/// Reads the links given to the app into [`LaunchLinks`]: the one it
/// started with and every later one. Register it after
/// `tauri_plugin_deep_link::init()`, whose state it reads.
pub(crate) fn plugin<R: Runtime>() -> TauriPlugin<R> {
    tauri::plugin::Builder::new("launch-link")
        .setup(|app, _api| {
            let links = LaunchLinks::default();
            let Some(deep_link) = app.try_state::<DeepLink<R>>() else {
                // Without the deep-link plugin no link ever arrives; the
                // command still answers (with nothing).
                app.manage(links);
                return Ok(());
            };
            if let Ok(Some(urls)) = deep_link.get_current() {
                links.handle_urls(urls.iter().map(|u| u.as_str()));
            }
            app.manage(links);
            let handle = app.clone();
            deep_link.on_open_url(move |event| {
                let urls = event.urls();
                let queued = handle
                    .try_state::<LaunchLinks>()
                    .is_some_and(|links| links.handle_urls(urls.iter().map(|u| u.as_str())));
                if queued {
                    let _ = handle.emit(LAUNCH_LINK_EVENT, ());
                }
            });
            Ok(())
        })
        .build()
}

/// One running app: a second launch hands its arguments (a link) to the
/// running app, which comes to the front, and exits. Register it first.
///
/// On Linux the running app is found by a D-Bus name. It carries a digest
/// of the server URL the app was started for (`CONFER_SERVER_URL`), so
/// apps a launcher or a test points at different servers run side by side
/// while every launch with the usual settings, a clicked link included,
/// finds the one running app.
pub(crate) fn single_instance<R: Runtime>() -> TauriPlugin<R> {
    let server_url = crate::settings::Settings::from_env().server_url;
    tauri_plugin_single_instance::Builder::new()
        .dbus_id(instance_id(&server_url))
        .callback(|app, _args, _cwd| bring_to_front(app))
        .build()
}

/// The D-Bus name the running app for `server_url` owns: the plugin
/// appends `.SingleInstance` to [`instance_id`]. `running_app` looks for
/// it before the app starts.
pub(crate) fn instance_name(server_url: &str) -> String {
    format!("{}.SingleInstance", instance_id(server_url))
}

/// The D-Bus name base for an app using `server_url`.
fn instance_id(server_url: &str) -> String {
    format!("{APP_IDENTIFIER}.s{:016x}", fnv1a(server_url.as_bytes()))
}

/// FNV-1a, 64 bits: a digest that stays the same across builds and Rust
/// versions (std's `DefaultHasher` promises neither), which two app
/// versions finding each other need. Not a security boundary.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Shows the main window and gives it focus.
fn bring_to_front<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meeting(id: &str) -> Option<LaunchLink> {
        Some(LaunchLink::Meeting { meeting: id.into() })
    }

    fn invalid() -> Option<LaunchLink> {
        Some(LaunchLink::Invalid {
            message: NOT_A_MEETING.into(),
        })
    }

    #[test]
    fn reads_a_meeting_link() {
        assert_eq!(read_link("confer://join/482193765"), meeting("482193765"));
        assert_eq!(
            read_link(" confer://join/4821937650/ "),
            meeting("4821937650")
        );
        // Schemes and hosts are case-insensitive.
        assert_eq!(read_link("CONFER://Join/482193765"), meeting("482193765"));
        assert_eq!(read_link("confer://join/482-193-765"), meeting("482193765"));
    }

    #[test]
    fn a_confer_link_naming_no_meeting_is_a_notice() {
        for bad in [
            "confer://join/",
            "confer://join/12345",
            "confer://join/not-a-meeting",
            "confer://join/482193765?passcode=1",
            "confer://join/48219376501234567",
            "confer://join/x/api/v1/invitations/abc",
            "confer://leave/482193765",
            "confer:",
            "confer://",
        ] {
            assert_eq!(read_link(bad), invalid(), "{bad:?}");
        }
    }

    #[test]
    fn other_schemes_and_plain_arguments_are_ignored() {
        for other in [
            "",
            "--help",
            "482193765",
            "https://h/api/v1/invitations/abc",
            "zoommtg://join/482193765",
            "file:///etc/passwd",
        ] {
            assert_eq!(read_link(other), None, "{other:?}");
        }
    }

    #[test]
    fn overlong_links_are_refused_unread() {
        let long = format!("confer://join/482193765?{}", "a".repeat(MAX_LINK_BYTES));
        assert_eq!(read_link(&long), invalid());
        // Not ours however long: still ignored.
        assert_eq!(read_link(&format!("https://{}", "a".repeat(10_000))), None);
    }

    #[test]
    fn the_latest_link_waits_until_taken_once() {
        let mut links = PendingLinks::default();
        assert_eq!(links.poll_link(), None);
        assert!(!links.handle_url("--flag"));
        assert_eq!(links.poll_link(), None);
        assert!(links.handle_url("confer://join/482193765"));
        assert!(links.handle_url("confer://join/999888777"));
        assert_eq!(links.poll_link(), meeting("999888777"));
        assert_eq!(links.poll_link(), None);
        // A notice replaces a meeting too: it is what the user did last.
        assert!(links.handle_url("confer://join/482193765"));
        assert!(links.handle_url("confer://nonsense"));
        assert_eq!(links.poll_link(), invalid());
        // Something not ours leaves a waiting link alone.
        assert!(links.handle_url("confer://join/482193765"));
        assert!(!links.handle_url("https://example.com"));
        assert_eq!(links.poll_link(), meeting("482193765"));
    }

    #[test]
    fn serialises_for_the_ui() {
        assert_eq!(
            serde_json::to_value(meeting("482193765")).unwrap(),
            serde_json::json!({ "kind": "meeting", "meeting": "482193765" })
        );
        assert_eq!(
            serde_json::to_value(invalid()).unwrap()["kind"],
            serde_json::json!("invalid")
        );
    }

    #[test]
    fn instance_names_are_stable_valid_dbus_names_per_server() {
        let a = instance_id("https://127.0.0.1:8443");
        assert_eq!(a, instance_id("https://127.0.0.1:8443"));
        assert_ne!(a, instance_id("https://127.0.0.1:9443"));
        // D-Bus name elements: [A-Za-z0-9_-], not starting with a digit.
        for element in a.split('.') {
            assert!(!element.is_empty() && !element.starts_with(|c: char| c.is_ascii_digit()));
            assert!(
                element
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            );
        }
        // FNV-1a's published test vector: the digest must not drift.
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn identifier_matches_tauri_conf() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tauri.conf.json");
        let conf: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(conf["identifier"], APP_IDENTIFIER);
        assert_eq!(
            conf["plugins"]["deep-link"]["desktop"]["schemes"],
            serde_json::json!(["confer"])
        );
    }
}
