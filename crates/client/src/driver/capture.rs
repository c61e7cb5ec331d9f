//! Capture pacing: one thread per source, reading frames in real time and
//! handing them to the driver's task.
//!
//! Sources pace themselves by the clock they are given (a WAV file yields a
//! 20 ms frame every 20 ms; a camera yields what it captured), so this only
//! sleeps until each source says its next frame is due. Threads rather than
//! tasks because device sources (cpal, nokhwa, xcap) block and are not all
//! `Send`: each source is opened on its own thread and never leaves it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use confer_media::source::{self, Frame, SourceSpec};
use tokio::sync::mpsc;

use crate::media::CaptureTrack;

/// Longest sleep between two polls of a source, so a stop request is
/// noticed promptly even when a source names no next frame.
const MAX_IDLE: Duration = Duration::from_millis(20);

/// What a capture thread reports.
#[derive(Debug)]
pub(super) enum Captured {
    /// A frame for `track`.
    Frame(CaptureTrack, Frame),
    /// The source could not be opened or failed.
    Failed(CaptureTrack, String),
}

/// The running capture threads; dropping it asks them to stop.
#[derive(Debug)]
pub(super) struct Capture {
    stop: Arc<AtomicBool>,
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Starts one thread per source; frames arrive on `tx`.
pub(super) fn start(
    sources: &[(CaptureTrack, SourceSpec)],
    tx: &mpsc::Sender<Captured>,
) -> Capture {
    let stop = Arc::new(AtomicBool::new(false));
    for (track, spec) in sources {
        let (track, spec, thread_tx, thread_stop) =
            (*track, spec.clone(), tx.clone(), stop.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("capture-{track:?}").to_lowercase())
            .spawn(move || pump(track, &spec, &thread_tx, &thread_stop));
        if let Err(e) = spawned {
            let _ = tx.try_send(Captured::Failed(
                track,
                format!("cannot start the capture thread: {e}"),
            ));
        }
    }
    Capture { stop }
}

/// Reads `spec` until it ends, fails, or the driver stops listening.
fn pump(track: CaptureTrack, spec: &SourceSpec, tx: &mpsc::Sender<Captured>, stop: &AtomicBool) {
    let mut source = match source::open(spec, Instant::now()) {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.blocking_send(Captured::Failed(track, e.to_string()));
            return;
        }
    };
    tracing::debug!("capturing {track:?} from {}", source.name());
    while !stop.load(Ordering::Relaxed) {
        match source.poll_frame(Instant::now()) {
            Ok(Some(frame)) => {
                if tx.blocking_send(Captured::Frame(track, frame)).is_err() {
                    return;
                }
                continue;
            }
            Ok(None) => {}
            Err(e) => {
                let _ =
                    tx.blocking_send(Captured::Failed(track, format!("{}: {e}", source.name())));
                return;
            }
        }
        if source.is_finished() {
            tracing::debug!("{} finished", source.name());
            return;
        }
        let wait = source
            .poll_timeout()
            .map_or(MAX_IDLE, |t| t.saturating_duration_since(Instant::now()))
            .min(MAX_IDLE);
        std::thread::sleep(wait);
    }
}
