//! Where outgoing frames come from, behind one trait.
//!
//! [`MediaSource`] is what the send path pulls from; [`SourceSpec`] names a
//! source so the user (or a test) can choose at run time, and [`open`]
//! builds it. Synthetic and file sources work on any machine: [`ToneSource`]
//! and [`WavSource`] for audio, [`PatternSource`] and [`Y4mSource`] for
//! video. Device sources need their cargo feature (all on by default):
//! `mic` (cpal, PulseAudio host when a server runs, else ALSA), `screen`
//! (xcap: whole monitors or single windows) and `camera` (nokhwa, V4L2).
//!
//! Every device has a stable id (`mic:…`, `screen:…`, `window:…`,
//! `camera:…`) and a human name; [`list_devices`] returns them. A missing
//! or busy device is a [`MediaError::DeviceNotFound`] or
//! [`MediaError::DeviceUnavailable`] naming it.
//!
//! # Driving contract
//!
//! Call [`MediaSource::poll_frame`] with the current time; file and
//! synthetic sources pace themselves by it (one frame per interval since
//! the first call), device sources return what the device has captured
//! since the last call. [`MediaSource::poll_timeout`] says when to call again.

use std::path::PathBuf;
use std::time::Instant;

use crate::error::MediaError;
use crate::frame::{AudioFrame, VideoFrame};

mod file;
mod generated;

#[cfg(feature = "camera")]
mod camera;
#[cfg(feature = "mic")]
mod mic;
#[cfg(feature = "screen")]
mod screen;

pub use file::{WavSource, Y4mSource};
pub use generated::{PatternSource, ToneSource};

#[cfg(feature = "camera")]
pub use camera::CameraSource;
#[cfg(feature = "mic")]
pub use mic::MicrophoneSource;
#[cfg(feature = "mic")]
pub(crate) use mic::described;
#[cfg(feature = "screen")]
pub use screen::ScreenSource;

/// Audio or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// 48 kHz mono audio in 20 ms frames.
    Audio,
    /// I420 pictures.
    Video,
}

/// A captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// 20 ms of audio.
    Audio(AudioFrame),
    /// One picture.
    Video(VideoFrame),
}

/// A source of outgoing media frames.
pub trait MediaSource {
    /// Audio or video.
    fn kind(&self) -> MediaKind;

    /// A human name for the source ("Built-in microphone", "tone 440 Hz").
    fn name(&self) -> String;

    /// The next frame if one is ready at `now`; `Ok(None)` if not yet (or,
    /// for a file, after its end: see [`MediaSource::is_finished`]).
    fn poll_frame(&mut self, now: Instant) -> Result<Option<Frame>, MediaError>;

    /// When a frame is next expected.
    fn poll_timeout(&self) -> Option<Instant>;

    /// Whether the source has no more frames (a file reached its end).
    fn is_finished(&self) -> bool {
        false
    }
}

/// A source chosen by name, e.g. from the command line.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SourceSpec {
    /// A sine tone at this frequency (Hz).
    Tone(f32),
    /// A 16-bit PCM WAV file (48 kHz).
    Wav(PathBuf),
    /// A moving test pattern of this size and frame rate.
    Pattern {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Frames per second.
        fps: u32,
    },
    /// A Y4M (YUV4MPEG2, 4:2:0) file.
    Y4m(PathBuf),
    /// A device by the id [`list_devices`] gave.
    Device(String),
}

impl std::str::FromStr for SourceSpec {
    type Err = MediaError;

    /// Parses `tone:440`, `wav:PATH`, `pattern:1280x720@30`, `y4m:PATH`, or a
    /// device id (`mic:…`, `screen:…`, `window:…`, `camera:…`).
    fn from_str(s: &str) -> Result<Self, MediaError> {
        let bad = || MediaError::UnsupportedFormat(format!("source {s:?}"));
        let (kind, rest) = s.split_once(':').ok_or_else(bad)?;
        match kind {
            "tone" => Ok(SourceSpec::Tone(rest.parse().map_err(|_| bad())?)),
            "wav" => Ok(SourceSpec::Wav(rest.into())),
            "y4m" => Ok(SourceSpec::Y4m(rest.into())),
            "pattern" => {
                let (size, fps) = rest.split_once('@').unwrap_or((rest, "30"));
                let (w, h) = size.split_once('x').ok_or_else(bad)?;
                Ok(SourceSpec::Pattern {
                    width: w.parse().map_err(|_| bad())?,
                    height: h.parse().map_err(|_| bad())?,
                    fps: fps.parse().map_err(|_| bad())?,
                })
            }
            "mic" | "screen" | "window" | "camera" => Ok(SourceSpec::Device(s.to_string())),
            _ => Err(bad()),
        }
    }
}

/// Opens the source `spec` names; its first frame is due at `now`.
pub fn open(spec: &SourceSpec, now: Instant) -> Result<Box<dyn MediaSource>, MediaError> {
    match spec {
        SourceSpec::Tone(freq) => Ok(Box::new(ToneSource::new(*freq, now))),
        SourceSpec::Wav(path) => Ok(Box::new(WavSource::open(path, now)?)),
        SourceSpec::Pattern { width, height, fps } => {
            Ok(Box::new(PatternSource::new(*width, *height, *fps, now)?))
        }
        SourceSpec::Y4m(path) => Ok(Box::new(Y4mSource::open(path, now)?)),
        SourceSpec::Device(id) => open_device(id, now),
    }
}

/// What a capture device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// An audio input.
    Microphone,
    /// A whole monitor.
    Screen,
    /// One application window.
    Window,
    /// A camera.
    Camera,
}

/// One capture device as [`list_devices`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Stable id to open it with (`mic:…`, `screen:…`, `window:…`, `camera:…`).
    pub id: String,
    /// Name to show people.
    pub name: String,
    /// What it is.
    pub kind: DeviceKind,
}

/// Every capture device the compiled-in backends can see. A backend that
/// fails to enumerate (no sound server, no X display) contributes nothing
/// and its error is returned beside the list.
pub fn list_devices() -> (Vec<DeviceInfo>, Vec<MediaError>) {
    let backends: Vec<Result<Vec<DeviceInfo>, MediaError>> = vec![
        #[cfg(feature = "mic")]
        mic::list(),
        #[cfg(feature = "screen")]
        screen::list(),
        #[cfg(feature = "camera")]
        camera::list(),
    ];
    let mut devices = Vec::new();
    let mut errors = Vec::new();
    for result in backends {
        match result {
            Ok(d) => devices.extend(d),
            Err(e) => errors.push(e),
        }
    }
    (devices, errors)
}

/// Opens a device by id.
fn open_device(id: &str, now: Instant) -> Result<Box<dyn MediaSource>, MediaError> {
    let kind = id.split_once(':').map_or(id, |(k, _)| k);
    let _ = now;
    match kind {
        #[cfg(feature = "mic")]
        "mic" => Ok(Box::new(MicrophoneSource::open(id)?)),
        #[cfg(not(feature = "mic"))]
        "mic" => Err(MediaError::BackendDisabled("microphone")),
        #[cfg(feature = "screen")]
        "screen" | "window" => Ok(Box::new(ScreenSource::open(id, 5, now)?)),
        #[cfg(not(feature = "screen"))]
        "screen" | "window" => Err(MediaError::BackendDisabled("screen")),
        #[cfg(feature = "camera")]
        "camera" => Ok(Box::new(CameraSource::open(id)?)),
        #[cfg(not(feature = "camera"))]
        "camera" => Err(MediaError::BackendDisabled("camera")),
        _ => Err(MediaError::DeviceNotFound {
            kind: "capture",
            id: id.to_string(),
        }),
    }
}

/// Frame `n`'s due time for a paced source started at `start`.
fn due(start: Instant, n: u64, interval: std::time::Duration) -> Instant {
    start + interval * u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_open() {
        let t0 = Instant::now();
        let tone: SourceSpec = "tone:440".parse().unwrap();
        assert_eq!(tone, SourceSpec::Tone(440.0));
        let pattern: SourceSpec = "pattern:320x180@15".parse().unwrap();
        let mut s = open(&pattern, t0).unwrap();
        assert_eq!(s.kind(), MediaKind::Video);
        assert!(matches!(s.poll_frame(t0), Ok(Some(Frame::Video(f))) if f.width == 320));
        assert!(s.poll_frame(t0).unwrap().is_none());
        assert!("nonsense".parse::<SourceSpec>().is_err());
        assert!("pattern:axb".parse::<SourceSpec>().is_err());
        let missing = open(&SourceSpec::Wav("/nonexistent.wav".into()), t0);
        assert!(matches!(missing, Err(MediaError::Io { .. })));
        let unknown = open(&SourceSpec::Device("mic:no-such-device-xyz".into()), t0);
        assert!(unknown.is_err());
    }
}
