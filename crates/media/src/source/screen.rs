//! Screen and window capture through xcap (X11 here; Wayland and other
//! platforms through xcap's own backends). Captures are synchronous: each
//! [`ScreenSource::poll_frame`] that is due grabs one picture.

use std::time::{Duration, Instant};

use super::{DeviceInfo, DeviceKind, Frame, MediaKind, MediaSource, due};
use crate::error::MediaError;
use crate::frame::VideoFrame;

/// What is captured.
#[derive(Debug)]
enum Target {
    Monitor(xcap::Monitor),
    Window(xcap::Window),
}

/// Captures a monitor or a window at a fixed frame rate (screen share runs
/// at a low rate: content changes seldom and the encoder's screen mode is
/// tuned for it).
#[derive(Debug)]
pub struct ScreenSource {
    name: String,
    target: Target,
    interval: Duration,
    start: Instant,
    produced: u64,
    failures: Failures,
}

/// Consecutive failed grabs a share survives: xcap opens a fresh X
/// connection per grab, and on a busy X server (Xvfb in CI showed it one
/// grab in three) one can fail with an I/O error while the next succeeds.
/// A window that closed fails every time and ends the share after these.
pub(crate) const MAX_FAILED_GRABS: u32 = 10;

/// Counts consecutive failed grabs (see [`MAX_FAILED_GRABS`]).
#[derive(Debug, Default)]
struct Failures {
    consecutive: u32,
}

impl Failures {
    /// A grab failed: `true` when the source should give up.
    fn failed(&mut self) -> bool {
        self.consecutive += 1;
        self.consecutive >= MAX_FAILED_GRABS
    }

    fn succeeded(&mut self) {
        self.consecutive = 0;
    }
}

/// The monitors and windows xcap can see.
pub(super) fn list() -> Result<Vec<DeviceInfo>, MediaError> {
    let monitors = xcap::Monitor::all().map_err(|e| unavailable("display", &e))?;
    let mut out: Vec<DeviceInfo> = monitors
        .iter()
        .filter_map(|m| {
            let id = m.id().ok()?;
            let name = m
                .friendly_name()
                .or_else(|_| m.name())
                .unwrap_or_else(|_| format!("Screen {id}"));
            Some(DeviceInfo {
                id: format!("screen:{id}"),
                name,
                kind: DeviceKind::Screen,
            })
        })
        .collect();
    if let Ok(windows) = xcap::Window::all() {
        out.extend(windows.iter().filter_map(|w| {
            let id = w.id().ok()?;
            let title = w.title().unwrap_or_default();
            let app = w.app_name().unwrap_or_default();
            let name = match (app.is_empty(), title.is_empty()) {
                (false, false) => format!("{app}: {title}"),
                (false, true) => app,
                (true, false) => title,
                (true, true) => format!("Window {id}"),
            };
            Some(DeviceInfo {
                id: format!("window:{id}"),
                name,
                kind: DeviceKind::Window,
            })
        }));
    }
    Ok(out)
}

fn unavailable(name: &str, e: &dyn std::fmt::Display) -> MediaError {
    MediaError::DeviceUnavailable {
        kind: "screen",
        name: name.to_string(),
        reason: e.to_string(),
    }
}

impl ScreenSource {
    /// Opens `screen:ID` (a monitor; `screen:primary` for the primary one, or
    /// the first when the display names none) or
    /// `window:ID`, capturing `fps` pictures per second from `now`.
    pub fn open(id: &str, fps: u32, now: Instant) -> Result<Self, MediaError> {
        let not_found = || MediaError::DeviceNotFound {
            kind: "screen",
            id: id.to_string(),
        };
        let interval = Duration::from_secs(1) / fps.max(1);
        let (kind, wanted) = id.split_once(':').ok_or_else(not_found)?;
        let target = match kind {
            "screen" => {
                let monitors = xcap::Monitor::all().map_err(|e| unavailable("display", &e))?;
                let m = if wanted == "primary" {
                    // X servers without a RandR primary (Xvfb, some
                    // single-monitor setups) mark none: take the first.
                    let primary = monitors
                        .iter()
                        .position(|m| m.is_primary().unwrap_or(false))
                        .unwrap_or(0);
                    monitors.into_iter().nth(primary)
                } else {
                    monitors
                        .into_iter()
                        .find(|m| m.id().ok().map(|i| i.to_string()).as_deref() == Some(wanted))
                }
                .ok_or_else(not_found)?;
                Target::Monitor(m)
            }
            "window" => {
                let windows = xcap::Window::all().map_err(|e| unavailable("display", &e))?;
                let w = windows
                    .into_iter()
                    .find(|w| w.id().ok().map(|i| i.to_string()).as_deref() == Some(wanted))
                    .ok_or_else(not_found)?;
                Target::Window(w)
            }
            _ => return Err(not_found()),
        };
        let name = match &target {
            Target::Monitor(m) => m.name().unwrap_or_else(|_| id.to_string()),
            Target::Window(w) => w.title().unwrap_or_else(|_| id.to_string()),
        };
        Ok(ScreenSource {
            name,
            target,
            interval,
            start: now,
            produced: 0,
            failures: Failures::default(),
        })
    }

    /// Grabs one picture now, at native resolution (cropped to even size).
    pub fn capture(&self) -> Result<VideoFrame, MediaError> {
        let image = match &self.target {
            Target::Monitor(m) => m.capture_image(),
            Target::Window(w) => w.capture_image(),
        }
        .map_err(|e| unavailable(&self.name, &e))?;
        VideoFrame::from_rgba(image.width(), image.height(), image.as_raw(), false, 0)
    }
}

impl MediaSource for ScreenSource {
    fn kind(&self) -> MediaKind {
        MediaKind::Video
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn poll_frame(&mut self, now: Instant) -> Result<Option<Frame>, MediaError> {
        if now < due(self.start, self.produced, self.interval) {
            return Ok(None);
        }
        let captured = self.capture();
        self.produced += 1;
        let mut f = match captured {
            Ok(f) => {
                self.failures.succeeded();
                f
            }
            // Skip this picture; the next one is due one interval on.
            Err(_) if !self.failures.failed() => return Ok(None),
            Err(e) => return Err(e),
        };
        f.timestamp = (now.duration_since(self.start).as_micros() * 9 / 100) as u32;
        Ok(Some(Frame::Video(f)))
    }

    fn poll_timeout(&self) -> Option<Instant> {
        Some(due(self.start, self.produced, self.interval))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_failed_grabs_are_survived_and_a_run_of_them_is_not() {
        let mut f = Failures::default();
        for _ in 0..MAX_FAILED_GRABS - 1 {
            assert!(!f.failed());
        }
        f.succeeded();
        for _ in 0..MAX_FAILED_GRABS - 1 {
            assert!(!f.failed(), "a success starts the count over");
        }
        assert!(f.failed(), "the tenth failure in a row gives up");
    }
}
