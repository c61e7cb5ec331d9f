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
    /// Opens `screen:ID` (a monitor; `screen:primary` for the primary one) or
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
                let m = monitors
                    .into_iter()
                    .find(|m| {
                        if wanted == "primary" {
                            m.is_primary().unwrap_or(false)
                        } else {
                            m.id().ok().map(|i| i.to_string()).as_deref() == Some(wanted)
                        }
                    })
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
        let mut f = self.capture()?;
        self.produced += 1;
        f.timestamp = (now.duration_since(self.start).as_micros() * 9 / 100) as u32;
        Ok(Some(Frame::Video(f)))
    }

    fn poll_timeout(&self) -> Option<Instant> {
        Some(due(self.start, self.produced, self.interval))
    }
}
