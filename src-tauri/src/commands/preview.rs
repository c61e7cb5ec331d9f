//! The device preview on the settings screen: the chosen camera's pictures
//! on a video channel (same packed format as the meeting's, participant 0)
//! and the chosen microphone's level as `preview-level` events.
//!
//! Each device runs on a thread of its own (device sources block and must
//! stay on the thread that opened them), paced by the source like the
//! meeting's capture. Starting a preview replaces the running one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use confer_client::media::{DecodedVideo, MediaOutput, SourceSpec, VideoKind};
use confer_media::source::{self, Frame};
use confer_wire::ids::ParticipantId;
use tauri::ipc::Channel;
use tauri::{AppHandle, Emitter, Runtime, State};
use tokio::sync::mpsc;

use crate::app_settings;
use crate::error::Error;
use crate::models::{PREVIEW_LEVEL_EVENT, PreviewLevel};
use crate::state::{AppState, PreviewHandle};
use crate::status;

/// How often the level goes to the UI.
const LEVEL_EVERY: Duration = Duration::from_millis(100);

/// Longest sleep between two polls, so a stop is noticed promptly.
const MAX_IDLE: Duration = Duration::from_millis(20);

/// How long to wait for a device to open before reporting it.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);

/// Starts (or replaces) the preview of `camera` and `microphone` (ids as in
/// the settings; `null` is the system default, falling back to the test
/// pattern or tone when there is no device). Fails, naming the device, when
/// one does not open; the other keeps running.
#[tauri::command]
pub(crate) async fn start_preview<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    camera: Option<String>,
    microphone: Option<String>,
    video: Channel,
) -> Result<(), Error> {
    let mut slot = state.preview.lock().await;
    // Dropping the old handle stops its threads.
    *slot = None;
    let settings = super::devices::load_settings(&app);
    let devices = super::devices::capture_devices().await;
    let first = |prefix: &str| {
        devices
            .iter()
            .find(|d| d.id.starts_with(prefix))
            .map(|d| d.id.clone())
    };
    let camera = app_settings::camera_spec(
        camera.as_deref(),
        first("camera:").as_deref(),
        settings.video_quality,
    )
    .unwrap_or_else(|| app_settings::pattern_spec(settings.video_quality));
    let any_mic = first("mic:").map(|_| app_settings::DEFAULT_MIC.to_owned());
    let microphone = app_settings::microphone_spec(microphone.as_deref(), any_mic.as_deref())
        .unwrap_or_else(app_settings::tone_spec);
    let camera: SourceSpec = camera
        .parse()
        .map_err(|e| Error::InvalidInput(format!("camera: {e}")))?;
    let microphone: SourceSpec = microphone
        .parse()
        .map_err(|e| Error::InvalidInput(format!("microphone: {e}")))?;

    let stop = Arc::new(AtomicBool::new(false));
    let (video_tx, video_rx) = mpsc::channel(crate::video::QUEUE);
    tauri::async_runtime::spawn(crate::video::forward(video_rx, video));
    let camera_open = spawn_source("preview-camera", camera, stop.clone(), move |frame| {
        if let Frame::Video(v) = frame {
            let _ = video_tx.try_send(MediaOutput::Video(DecodedVideo {
                participant: ParticipantId(0),
                kind: VideoKind::Camera,
                frame: v,
            }));
        }
    });
    let mut meter = LevelMeter::default();
    let mic_open = spawn_source("preview-mic", microphone, stop.clone(), move |frame| {
        if let Frame::Audio(a) = frame
            && let Some(level) = meter.handle(Instant::now(), status::level_of(&a.samples))
        {
            let _ = app.emit(PREVIEW_LEVEL_EVENT, PreviewLevel { level });
        }
    });
    *slot = Some(PreviewHandle { stop });
    drop(slot);
    let mut failures = Vec::new();
    for (what, open) in [("camera", camera_open), ("microphone", mic_open)] {
        let result = tokio::task::spawn_blocking(move || open.recv_timeout(OPEN_TIMEOUT))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.unwrap_or_else(|_| Err("did not open in time".into())));
        if let Err(e) = result {
            failures.push(format!("cannot open the {what}: {e}"));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidInput(failures.join("; ")))
    }
}

/// Stops the preview, if one runs.
#[tauri::command]
pub(crate) async fn stop_preview(state: State<'_, AppState>) -> Result<(), Error> {
    *state.preview.lock().await = None;
    Ok(())
}

/// Peak level over [`LEVEL_EVERY`], emitted once per interval.
#[derive(Debug, Default)]
struct LevelMeter {
    peak: f32,
    last: Option<Instant>,
}

impl LevelMeter {
    /// Takes one frame's level; returns the interval's peak when it is over.
    fn handle(&mut self, now: Instant, level: f32) -> Option<f32> {
        self.peak = self.peak.max(level);
        let last = *self.last.get_or_insert(now);
        if now.saturating_duration_since(last) >= LEVEL_EVERY {
            self.last = Some(now);
            return Some(std::mem::take(&mut self.peak));
        }
        None
    }
}

/// Opens `spec` on a thread and hands each frame to `on_frame` until `stop`
/// is set. The receiver says whether it opened.
fn spawn_source(
    name: &str,
    spec: SourceSpec,
    stop: Arc<AtomicBool>,
    mut on_frame: impl FnMut(Frame) + Send + 'static,
) -> std_mpsc::Receiver<Result<(), String>> {
    let (opened_tx, opened_rx) = std_mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let mut source = match source::open(&spec, Instant::now()) {
                Ok(s) => {
                    let _ = opened_tx.send(Ok(()));
                    s
                }
                Err(e) => {
                    let _ = opened_tx.send(Err(e.to_string()));
                    return;
                }
            };
            while !stop.load(Ordering::Relaxed) {
                match source.poll_frame(Instant::now()) {
                    Ok(Some(frame)) => {
                        on_frame(frame);
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        eprintln!("confer-desktop: preview of {}: {e}", source.name());
                        return;
                    }
                }
                if source.is_finished() {
                    return;
                }
                let wait = source
                    .poll_timeout()
                    .map_or(MAX_IDLE, |t| t.saturating_duration_since(Instant::now()))
                    .min(MAX_IDLE);
                std::thread::sleep(wait);
            }
        });
    if let Err(e) = spawned {
        let (tx, rx) = std_mpsc::channel();
        let _ = tx.send(Err(format!("cannot start a thread: {e}")));
        return rx;
    }
    opened_rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_level_is_the_peak_of_each_interval() {
        let t0 = Instant::now();
        let mut m = LevelMeter::default();
        assert_eq!(m.handle(t0, 0.2), None);
        assert_eq!(m.handle(t0 + Duration::from_millis(50), 0.7), None);
        assert_eq!(m.handle(t0 + Duration::from_millis(100), 0.1), Some(0.7));
        assert_eq!(m.handle(t0 + Duration::from_millis(150), 0.3), None);
        assert_eq!(m.handle(t0 + Duration::from_millis(200), 0.0), Some(0.3));
    }

    #[test]
    fn synthetic_sources_open_and_produce_frames() {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std_mpsc::channel();
        let opened = spawn_source(
            "test-pattern",
            app_settings::pattern_spec(crate::models::VideoQuality::Low)
                .parse()
                .unwrap(),
            stop.clone(),
            move |f| {
                let _ = tx.send(f);
            },
        );
        assert_eq!(opened.recv_timeout(OPEN_TIMEOUT).unwrap(), Ok(()));
        let frame = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(matches!(frame, Frame::Video(v) if v.width == 320 && v.height == 180));
        stop.store(true, Ordering::Relaxed);
        let bad = spawn_source(
            "test-missing",
            SourceSpec::Device("camera:99".into()),
            Arc::new(AtomicBool::new(false)),
            |_| {},
        );
        assert!(bad.recv_timeout(OPEN_TIMEOUT).unwrap().is_err());
    }
}
