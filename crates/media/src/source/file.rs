//! Sources that play a file: WAV for audio, Y4M for video, paced by the
//! caller's clock.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{Frame, MediaKind, MediaSource, due};
use crate::error::MediaError;
use crate::frame::{
    AudioFrame, AudioOrigin, FRAME_DURATION, FRAME_SAMPLES, SAMPLE_RATE, VideoFrame,
};
use crate::wav::read_wav;
use crate::y4m::read_y4m;

/// Plays a 48 kHz WAV file in 20 ms frames (the last one padded with silence).
#[derive(Debug, Clone)]
pub struct WavSource {
    name: String,
    samples: Vec<i16>,
    start: Instant,
    produced: u64,
}

impl WavSource {
    /// Opens `path`; the first frame is due at `now`.
    pub fn open(path: &Path, now: Instant) -> Result<Self, MediaError> {
        let wav = read_wav(path)?;
        if wav.sample_rate != SAMPLE_RATE {
            return Err(MediaError::UnsupportedFormat(format!(
                "{}: {} Hz (need {SAMPLE_RATE} Hz)",
                path.display(),
                wav.sample_rate
            )));
        }
        Ok(WavSource {
            name: path.display().to_string(),
            samples: wav.samples,
            start: now,
            produced: 0,
        })
    }
}

impl MediaSource for WavSource {
    fn kind(&self) -> MediaKind {
        MediaKind::Audio
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn poll_frame(&mut self, now: Instant) -> Result<Option<Frame>, MediaError> {
        if self.is_finished() || now < due(self.start, self.produced, FRAME_DURATION) {
            return Ok(None);
        }
        let first = self.produced as usize * FRAME_SAMPLES;
        let mut samples =
            self.samples[first..(first + FRAME_SAMPLES).min(self.samples.len())].to_vec();
        samples.resize(FRAME_SAMPLES, 0);
        self.produced += 1;
        Ok(Some(Frame::Audio(AudioFrame {
            samples,
            timestamp: first as u32,
            origin: AudioOrigin::Captured,
        })))
    }

    fn poll_timeout(&self) -> Option<Instant> {
        (!self.is_finished()).then(|| due(self.start, self.produced, FRAME_DURATION))
    }

    fn is_finished(&self) -> bool {
        self.produced as usize * FRAME_SAMPLES >= self.samples.len()
    }
}

/// Plays a Y4M file at its own frame rate.
#[derive(Debug, Clone)]
pub struct Y4mSource {
    name: String,
    frames: Vec<VideoFrame>,
    interval: Duration,
    start: Instant,
    produced: u64,
}

impl Y4mSource {
    /// Opens `path`; the first frame is due at `now`.
    pub fn open(path: &Path, now: Instant) -> Result<Self, MediaError> {
        let clip = read_y4m(path)?;
        let interval = Duration::from_secs_f64(1.0 / clip.fps.clamp(0.1, 240.0));
        Ok(Y4mSource {
            name: path.display().to_string(),
            frames: clip.frames,
            interval,
            start: now,
            produced: 0,
        })
    }
}

impl MediaSource for Y4mSource {
    fn kind(&self) -> MediaKind {
        MediaKind::Video
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn poll_frame(&mut self, now: Instant) -> Result<Option<Frame>, MediaError> {
        if self.is_finished() || now < due(self.start, self.produced, self.interval) {
            return Ok(None);
        }
        let f = self.frames[self.produced as usize].clone();
        self.produced += 1;
        Ok(Some(Frame::Video(f)))
    }

    fn poll_timeout(&self) -> Option<Instant> {
        (!self.is_finished()).then(|| due(self.start, self.produced, self.interval))
    }

    fn is_finished(&self) -> bool {
        self.produced as usize >= self.frames.len()
    }
}
