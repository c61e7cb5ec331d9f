//! Microphone capture through cpal: the PulseAudio host (pure Rust) when a
//! sound server runs, else ALSA. The device callback runs on cpal's thread
//! and only appends samples to a shared queue; [`MicrophoneSource::poll_frame`]
//! takes them out 20 ms at a time.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

use super::{DeviceInfo, DeviceKind, Frame, MediaKind, MediaSource};
use crate::error::MediaError;
use crate::frame::{AudioFrame, AudioOrigin, FRAME_DURATION, FRAME_SAMPLES, SAMPLE_RATE};

/// Most samples queued (2 s) before the oldest are dropped: a consumer that
/// stalls loses old audio rather than growing memory.
const MAX_QUEUED: usize = 2 * SAMPLE_RATE as usize;

/// Id prefix of microphones.
const PREFIX: &str = "mic:";

/// Captured samples and the stream's last error, shared with the callback.
#[derive(Debug, Default)]
struct Shared {
    samples: VecDeque<i16>,
    error: Option<String>,
}

/// A microphone capturing 48 kHz mono.
pub struct MicrophoneSource {
    name: String,
    shared: Arc<Mutex<Shared>>,
    /// Keeps the device running; dropped, capture stops.
    _stream: cpal::Stream,
    produced: u64,
}

impl std::fmt::Debug for MicrophoneSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MicrophoneSource")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A cpal device's stable id and human name (its id when it has no
/// description); `None` for a device without an id, which could not be
/// opened again later. Shared with the speaker list (`crate::playout`).
pub(crate) fn described(device: &cpal::Device) -> Option<(String, String)> {
    let id = device.id().ok()?.to_string();
    let name = device
        .description()
        .map(|x| x.name().to_string())
        .unwrap_or_else(|_| id.clone());
    Some((id, name))
}

/// The input devices of the default host.
pub(super) fn list() -> Result<Vec<DeviceInfo>, MediaError> {
    let host = cpal::default_host();
    let devices = host
        .input_devices()
        .map_err(|e| MediaError::DeviceUnavailable {
            kind: "microphone",
            name: host.id().name().to_string(),
            reason: e.to_string(),
        })?;
    Ok(devices
        .filter_map(|d| {
            let (id, name) = described(&d)?;
            Some(DeviceInfo {
                id: format!("{PREFIX}{id}"),
                name,
                kind: DeviceKind::Microphone,
            })
        })
        .collect())
}

impl MicrophoneSource {
    /// Opens the microphone with id `id` (`mic:default` for the default input).
    pub fn open(id: &str) -> Result<Self, MediaError> {
        let host = cpal::default_host();
        let wanted = id.strip_prefix(PREFIX).unwrap_or(id);
        let not_found = || MediaError::DeviceNotFound {
            kind: "microphone",
            id: id.to_string(),
        };
        let device = if wanted == "default" {
            host.default_input_device().ok_or_else(not_found)?
        } else {
            let parsed: cpal::DeviceId = wanted.parse().map_err(|_| not_found())?;
            host.device_by_id(&parsed).ok_or_else(not_found)?
        };
        let name = device
            .description()
            .map(|d| d.name().to_string())
            .unwrap_or_else(|_| id.to_string());
        let unavailable = |e: &dyn std::fmt::Display| MediaError::DeviceUnavailable {
            kind: "microphone",
            name: name.clone(),
            reason: e.to_string(),
        };
        let default = device.default_input_config().map_err(|e| unavailable(&e))?;
        let channels = default.channels().max(1);
        let rate = default.sample_rate();
        let config = cpal::StreamConfig {
            channels,
            sample_rate: rate,
            buffer_size: cpal::BufferSize::Default,
        };
        let shared = Arc::new(Mutex::new(Shared::default()));
        let cb_shared = Arc::clone(&shared);
        let err_shared = Arc::clone(&shared);
        let mut resampler = Resampler::new(rate);
        let stream = device
            .build_input_stream(
                config,
                move |data: &[f32], _: &cpal::InputCallbackInfo| {
                    let mono = data
                        .chunks(usize::from(channels))
                        .map(|c| c.iter().sum::<f32>() / c.len() as f32);
                    let out = resampler.push(mono);
                    if let Ok(mut s) = cb_shared.lock() {
                        s.samples.extend(out);
                        let excess = s.samples.len().saturating_sub(MAX_QUEUED);
                        s.samples.drain(..excess);
                    }
                },
                move |e| {
                    if let Ok(mut s) = err_shared.lock() {
                        s.error = Some(e.to_string());
                    }
                },
                None,
            )
            .map_err(|e| unavailable(&e))?;
        stream.play().map_err(|e| unavailable(&e))?;
        Ok(MicrophoneSource {
            name,
            shared,
            _stream: stream,
            produced: 0,
        })
    }
}

impl MediaSource for MicrophoneSource {
    fn kind(&self) -> MediaKind {
        MediaKind::Audio
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn poll_frame(&mut self, _now: Instant) -> Result<Option<Frame>, MediaError> {
        let mut s = self
            .shared
            .lock()
            .map_err(|_| MediaError::DeviceUnavailable {
                kind: "microphone",
                name: self.name.clone(),
                reason: "capture thread panicked".into(),
            })?;
        if let Some(reason) = s.error.take() {
            return Err(MediaError::DeviceUnavailable {
                kind: "microphone",
                name: self.name.clone(),
                reason,
            });
        }
        if s.samples.len() < FRAME_SAMPLES {
            return Ok(None);
        }
        let samples: Vec<i16> = s.samples.drain(..FRAME_SAMPLES).collect();
        let timestamp = (self.produced * FRAME_SAMPLES as u64) as u32;
        self.produced += 1;
        Ok(Some(Frame::Audio(AudioFrame {
            samples,
            timestamp,
            origin: AudioOrigin::Captured,
        })))
    }

    fn poll_timeout(&self) -> Option<Instant> {
        Some(Instant::now() + FRAME_DURATION / 2)
    }
}

/// Linear-interpolation resampler to 48 kHz (good enough for speech from
/// 44.1 kHz devices; most devices run at 48 kHz and pass straight through).
struct Resampler {
    /// Input samples per output sample.
    step: f64,
    /// Position of the next output sample, in input samples after `prev`.
    pos: f64,
    /// The last input sample of the previous callback.
    prev: f32,
}

impl Resampler {
    fn new(input_rate: u32) -> Self {
        Resampler {
            step: f64::from(input_rate) / f64::from(SAMPLE_RATE),
            pos: 0.0,
            prev: 0.0,
        }
    }

    fn push(&mut self, input: impl Iterator<Item = f32>) -> Vec<i16> {
        let to_i16 = |x: f32| (x.clamp(-1.0, 1.0) * 32767.0) as i16;
        let mut out = Vec::new();
        if (self.step - 1.0).abs() < f64::EPSILON {
            out.extend(input.map(to_i16));
            return out;
        }
        for x in input {
            while self.pos <= 1.0 {
                let v = self.prev + (x - self.prev) * self.pos as f32;
                out.push(to_i16(v));
                self.pos += self.step;
            }
            self.pos -= 1.0;
            self.prev = x;
        }
        out
    }
}
