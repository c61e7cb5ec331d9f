//! Screen sharing and reactions in a meeting: what can be shared (screens
//! and windows with small thumbnails), starting and stopping the share, and
//! sending a reaction.

use std::io::Cursor;
use std::time::Instant;

use base64::Engine as _;
use confer_client::driver::Command;
use confer_client::media::CaptureTrack;
use confer_media::frame::VideoFrame;
use confer_media::source::{DeviceKind, ScreenSource, list_devices};
use confer_wire::control::{ClientMessage, REACTIONS};
use confer_wire::host::ShareState;
use tauri::State;

use crate::error::Error;
use crate::models::{ShareKind, ShareSource};
use crate::state::AppState;

/// Widest thumbnail, in pixels.
const THUMBNAIL_WIDTH: u32 = 320;

/// The screens and windows that can be shared, each with a thumbnail when
/// one could be taken. Listed on a blocking thread (capturing blocks).
#[tauri::command]
pub(crate) async fn share_sources() -> Result<Vec<ShareSource>, Error> {
    tokio::task::spawn_blocking(list_share_sources)
        .await
        .map_err(|e| Error::Settings(format!("listing screens stopped: {e}")))?
}

fn list_share_sources() -> Result<Vec<ShareSource>, Error> {
    let (devices, errors) = list_devices();
    let sources: Vec<ShareSource> = devices
        .into_iter()
        .filter_map(|d| {
            let kind = match d.kind {
                DeviceKind::Screen => ShareKind::Screen,
                DeviceKind::Window => ShareKind::Window,
                _ => return None,
            };
            let thumbnail = ScreenSource::open(&d.id, 1, Instant::now())
                .and_then(|s| s.capture())
                .ok()
                .and_then(|frame| thumbnail(&frame));
            Some(ShareSource {
                id: d.id,
                name: d.name,
                kind,
                thumbnail,
            })
        })
        .collect();
    if sources.is_empty()
        && let Some(e) = errors.iter().find(|e| e.to_string().contains("screen"))
    {
        return Err(Error::Settings(format!("nothing can be shared here: {e}")));
    }
    Ok(sources)
}

/// A PNG data URL of `frame`, at most [`THUMBNAIL_WIDTH`] wide.
pub(crate) fn thumbnail(frame: &VideoFrame) -> Option<String> {
    if frame.width == 0 || frame.height == 0 {
        return None;
    }
    let (w, h) = if frame.width > THUMBNAIL_WIDTH {
        let h = (u64::from(frame.height) * u64::from(THUMBNAIL_WIDTH) / u64::from(frame.width))
            .max(2) as u32;
        // I420 wants even sizes.
        (THUMBNAIL_WIDTH, h & !1)
    } else {
        (frame.width, frame.height)
    };
    let small = if (w, h) == (frame.width, frame.height) {
        frame.clone()
    } else {
        frame.scaled(w, h)
    };
    let rgb = i420_to_rgb(&small);
    let image = image::RgbImage::from_raw(small.width, small.height, rgb)?;
    let mut png = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .ok()?;
    Some(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    ))
}

/// BT.601 limited-range I420 to packed RGB.
fn i420_to_rgb(f: &VideoFrame) -> Vec<u8> {
    let (w, h) = (f.width as usize, f.height as usize);
    let cw = w.div_ceil(2);
    let (y, u, v) = (f.y(), f.u(), f.v());
    let mut out = Vec::with_capacity(w * h * 3);
    for row in 0..h {
        for col in 0..w {
            let c = (row / 2) * cw + col / 2;
            let yy = f32::from(y.get(row * w + col).copied().unwrap_or(16)) - 16.0;
            let uu = f32::from(u.get(c).copied().unwrap_or(128)) - 128.0;
            let vv = f32::from(v.get(c).copied().unwrap_or(128)) - 128.0;
            let px = |x: f32| x.round().clamp(0.0, 255.0) as u8;
            out.push(px(1.164 * yy + 1.596 * vv));
            out.push(px(1.164 * yy - 0.392 * uu - 0.813 * vv));
            out.push(px(1.164 * yy + 2.017 * uu));
        }
    }
    out
}

/// Shares the screen or window `source_id` (from `share_sources`) in the
/// meeting, replacing any share running.
#[tauri::command]
pub(crate) async fn start_share(
    state: State<'_, AppState>,
    source_id: String,
) -> Result<(), Error> {
    let id = source_id.trim();
    if !(id.starts_with("screen:") || id.starts_with("window:")) {
        return Err(Error::InvalidInput(format!(
            "{id:?} is not a screen or window to share"
        )));
    }
    let (commands, local) = state.meeting_local().await?;
    if let Ok(mut l) = local.lock() {
        l.share = Some(id.to_owned());
    }
    let closed = |_| Error::NotInMeeting;
    commands
        .send(Command::Capture {
            track: CaptureTrack::Screen,
            source: Some(id.to_owned()),
        })
        .await
        .map_err(closed)?;
    commands
        .send(Command::Request(ClientMessage::SetShare {
            state: ShareState::On,
        }))
        .await
        .map_err(closed)
}

/// Stops sharing.
#[tauri::command]
pub(crate) async fn stop_share(state: State<'_, AppState>) -> Result<(), Error> {
    let (commands, local) = state.meeting_local().await?;
    if let Ok(mut l) = local.lock() {
        l.share = None;
    }
    let closed = |_| Error::NotInMeeting;
    commands
        .send(Command::Capture {
            track: CaptureTrack::Screen,
            source: None,
        })
        .await
        .map_err(closed)?;
    commands
        .send(Command::Request(ClientMessage::SetShare {
            state: ShareState::Off,
        }))
        .await
        .map_err(closed)
}

/// Sends a reaction (one of the router's set) for everyone to see.
#[tauri::command]
pub(crate) async fn react(state: State<'_, AppState>, emoji: String) -> Result<(), Error> {
    let emoji = checked_reaction(&emoji)?;
    let commands = state.meeting_commands().await?;
    commands
        .send(Command::Request(ClientMessage::React { emoji }))
        .await
        .map_err(|_| Error::NotInMeeting)
}

/// The reaction if it is one the router relays.
fn checked_reaction(emoji: &str) -> Result<String, Error> {
    let emoji = emoji.trim();
    if REACTIONS.contains(&emoji) {
        Ok(emoji.to_owned())
    } else {
        Err(Error::InvalidInput(format!(
            "reactions are {}",
            REACTIONS.join(" ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_routers_reactions_pass() {
        assert_eq!(checked_reaction(" 👍 ").unwrap(), "👍");
        assert!(checked_reaction("❤️").is_ok());
        assert!(matches!(
            checked_reaction("<script>"),
            Err(Error::InvalidInput(_))
        ));
        assert!(checked_reaction("").is_err());
    }

    #[test]
    fn thumbnails_are_small_pngs() {
        let frame = VideoFrame::black(1280, 720);
        let url = thumbnail(&frame).unwrap();
        let b64 = url.strip_prefix("data:image/png;base64,").unwrap();
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let img = image::load_from_memory_with_format(&png, image::ImageFormat::Png).unwrap();
        assert_eq!((img.width(), img.height()), (320, 180));
        // Black stays black.
        assert!(img.to_rgb8().pixels().all(|p| p.0.iter().all(|c| *c < 8)));
    }
}
