//! Sources that need no file and no device: a sine tone and a moving test
//! pattern, paced by the caller's clock.

use std::time::{Duration, Instant};

use super::{Frame, MediaKind, MediaSource, due};
use crate::error::MediaError;
use crate::frame::{
    AudioFrame, AudioOrigin, FRAME_DURATION, FRAME_SAMPLES, SAMPLE_RATE, VideoFrame,
};

/// A sine tone at -12 dBFS.
#[derive(Debug, Clone)]
pub struct ToneSource {
    freq: f32,
    start: Instant,
    /// Frames produced.
    produced: u64,
}

impl ToneSource {
    /// A tone of `freq` Hz whose first frame is due at `now`.
    pub fn new(freq: f32, now: Instant) -> Self {
        ToneSource {
            freq,
            start: now,
            produced: 0,
        }
    }

    /// The samples of frame `n` (phase-continuous across frames).
    pub fn samples(freq: f32, n: u64) -> Vec<i16> {
        let first = n * FRAME_SAMPLES as u64;
        (0..FRAME_SAMPLES as u64)
            .map(|i| {
                let t = (first + i) as f64 / f64::from(SAMPLE_RATE);
                ((t * f64::from(freq) * std::f64::consts::TAU).sin() * 8192.0) as i16
            })
            .collect()
    }
}

impl MediaSource for ToneSource {
    fn kind(&self) -> MediaKind {
        MediaKind::Audio
    }

    fn name(&self) -> String {
        format!("tone {} Hz", self.freq)
    }

    fn poll_frame(&mut self, now: Instant) -> Result<Option<Frame>, MediaError> {
        if now < due(self.start, self.produced, FRAME_DURATION) {
            return Ok(None);
        }
        let n = self.produced;
        self.produced += 1;
        Ok(Some(Frame::Audio(AudioFrame {
            samples: Self::samples(self.freq, n),
            timestamp: (n * FRAME_SAMPLES as u64) as u32,
            origin: AudioOrigin::Captured,
        })))
    }

    fn poll_timeout(&self) -> Option<Instant> {
        Some(due(self.start, self.produced, FRAME_DURATION))
    }
}

/// A moving test pattern: colour bars with a bright square sliding across,
/// so motion, edges and flat areas all exercise the encoder.
#[derive(Debug, Clone)]
pub struct PatternSource {
    width: u32,
    height: u32,
    interval: Duration,
    start: Instant,
    produced: u64,
}

impl PatternSource {
    /// A `width`×`height` pattern at `fps` frames per second, first frame due at `now`.
    pub fn new(width: u32, height: u32, fps: u32, now: Instant) -> Result<Self, MediaError> {
        if width == 0
            || height == 0
            || !width.is_multiple_of(2)
            || !height.is_multiple_of(2)
            || fps == 0
            || width > 4096
            || height > 4096
        {
            return Err(MediaError::UnsupportedFormat(format!(
                "pattern {width}x{height}@{fps}"
            )));
        }
        Ok(PatternSource {
            width,
            height,
            interval: Duration::from_secs(1) / fps,
            start: now,
            produced: 0,
        })
    }

    /// Picture `n` of a `width`×`height` pattern (timestamp at 30 fps).
    pub fn picture(width: u32, height: u32, n: u64) -> VideoFrame {
        let (w, h) = (width as usize, height as usize);
        let mut f = VideoFrame::black(width, height);
        const BARS: [(u8, u8, u8); 8] = [
            (235, 128, 128),
            (210, 16, 146),
            (170, 166, 16),
            (145, 54, 34),
            (106, 202, 222),
            (81, 90, 240),
            (41, 240, 110),
            (16, 128, 128),
        ];
        let size = (h / 4).max(2) & !1;
        let x0 = ((n as usize * 8) % w.saturating_sub(size).max(1)) & !1;
        let y0 = (h / 2 - size / 2) & !1;
        let (luma, chroma) = f.data.split_at_mut(w * h);
        let (us, vs) = chroma.split_at_mut((w / 2) * (h / 2));
        for y in 0..h {
            for x in 0..w {
                let bar = BARS[x * 8 / w];
                let in_square = (x0..x0 + size).contains(&x) && (y0..y0 + size).contains(&y);
                // A gentle gradient keeps the bars from being perfectly flat.
                let shade = ((y * 16) / h) as u8;
                luma[y * w + x] = if in_square {
                    235
                } else {
                    bar.0.saturating_add(shade)
                };
                if x % 2 == 0 && y % 2 == 0 {
                    let c = (y / 2) * (w / 2) + x / 2;
                    us[c] = if in_square { 128 } else { bar.1 };
                    vs[c] = if in_square { 128 } else { bar.2 };
                }
            }
        }
        f.timestamp = (n * 3000) as u32;
        f
    }
}

impl MediaSource for PatternSource {
    fn kind(&self) -> MediaKind {
        MediaKind::Video
    }

    fn name(&self) -> String {
        format!("test pattern {}x{}", self.width, self.height)
    }

    fn poll_frame(&mut self, now: Instant) -> Result<Option<Frame>, MediaError> {
        if now < due(self.start, self.produced, self.interval) {
            return Ok(None);
        }
        let n = self.produced;
        self.produced += 1;
        let mut f = Self::picture(self.width, self.height, n);
        f.timestamp = (now.duration_since(self.start).as_micros() * 9 / 100) as u32;
        Ok(Some(Frame::Video(f)))
    }

    fn poll_timeout(&self) -> Option<Instant> {
        Some(due(self.start, self.produced, self.interval))
    }
}
