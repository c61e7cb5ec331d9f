//! The media engine's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in the media engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// Bytes that are not a valid RTP packet.
    #[error(transparent)]
    Rtp(#[from] confer_wire::rtp::RtpError),
    /// Input shorter than its own headers say (more bytes may complete it).
    #[error("{what} truncated: {len} bytes, need {need}")]
    Truncated {
        /// What was being parsed.
        what: &'static str,
        /// Bytes present.
        len: usize,
        /// Bytes required.
        need: usize,
    },
    /// Input that can never be valid, whatever follows.
    #[error("malformed input: {0}")]
    Malformed(&'static str),
    /// A media file in a layout this crate does not read.
    #[error("unsupported media format: {0}")]
    UnsupportedFormat(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Writing to an output stream failed.
    #[error("write failed: {0}")]
    Write(#[from] std::io::Error),
    /// libopus refused a call (bad parameters or a corrupt packet).
    #[error("opus: {0}")]
    Opus(#[from] opus::Error),
    /// openh264 refused a call (bad parameters or a corrupt bitstream).
    #[error("h264: {0}")]
    H264(#[from] openh264::Error),
    /// A frame whose size does not match its declared dimensions.
    #[error("frame of {len} bytes does not match {width}x{height}")]
    FrameSize {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// Bytes present.
        len: usize,
    },
    /// No capture device with this id exists (it may have been unplugged).
    #[error("no {kind} device with id {id:?}")]
    DeviceNotFound {
        /// "microphone", "camera" or "screen".
        kind: &'static str,
        /// The id that was asked for.
        id: String,
    },
    /// The device exists but could not be opened or read (busy, permission, unplugged).
    #[error("{kind} {name:?} unavailable: {reason}")]
    DeviceUnavailable {
        /// "microphone", "camera" or "screen".
        kind: &'static str,
        /// The device's human name.
        name: String,
        /// What the backend said.
        reason: String,
    },
    /// The backend was not compiled in (cargo feature off).
    #[error("{0} capture is not compiled in (cargo feature off)")]
    BackendDisabled(&'static str),
}

impl MediaError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        MediaError::Io {
            path: path.into(),
            source,
        }
    }
}
