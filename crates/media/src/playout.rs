//! Speaker playout through cpal (the `mic` feature's backend): the mixed
//! 48 kHz mono stream goes into a queue that the device callback drains.
//! When the queue runs dry the device plays silence and the underrun is
//! counted; the queue is bounded so a stalled device cannot grow memory.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

use crate::error::MediaError;
use crate::frame::SAMPLE_RATE;

/// Most samples queued (1 s); older ones are dropped.
const MAX_QUEUED: usize = SAMPLE_RATE as usize;

/// State shared with the device callback.
#[derive(Debug, Default)]
struct Shared {
    samples: Mutex<VecDeque<i16>>,
    /// Callbacks that found too few samples.
    underruns: AtomicU64,
}

/// An output device playing 48 kHz mono (duplicated to every channel).
pub struct Speaker {
    name: String,
    shared: Arc<Shared>,
    /// Keeps the device running; dropped, playout stops.
    _stream: cpal::Stream,
}

impl std::fmt::Debug for Speaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Speaker")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Speaker {
    /// Opens the default output device of the default host (PulseAudio when
    /// a server runs, else ALSA).
    pub fn open_default() -> Result<Self, MediaError> {
        let host = cpal::default_host();
        let device = host
            .default_output_device()
            .ok_or(MediaError::DeviceNotFound {
                kind: "speaker",
                id: "default".into(),
            })?;
        let name = device
            .description()
            .map(|d| d.name().to_string())
            .unwrap_or_else(|_| "default".into());
        let unavailable = |e: &dyn std::fmt::Display| MediaError::DeviceUnavailable {
            kind: "speaker",
            name: name.clone(),
            reason: e.to_string(),
        };
        let default = device
            .default_output_config()
            .map_err(|e| unavailable(&e))?;
        let channels = usize::from(default.channels().max(1));
        if default.sample_rate() != SAMPLE_RATE {
            return Err(unavailable(&format!(
                "runs at {} Hz; only {SAMPLE_RATE} Hz output is supported",
                default.sample_rate()
            )));
        }
        let config = cpal::StreamConfig {
            channels: default.channels().max(1),
            sample_rate: SAMPLE_RATE,
            buffer_size: cpal::BufferSize::Default,
        };
        let shared = Arc::new(Shared::default());
        let cb = Arc::clone(&shared);
        let stream = device
            .build_output_stream(
                config,
                move |out: &mut [f32], _: &cpal::OutputCallbackInfo| {
                    let Ok(mut q) = cb.samples.lock() else {
                        out.fill(0.0);
                        return;
                    };
                    if q.len() < out.len() / channels {
                        cb.underruns.fetch_add(1, Ordering::Relaxed);
                    }
                    for frame in out.chunks_mut(channels) {
                        let v = q.pop_front().map_or(0.0, |s| f32::from(s) / 32768.0);
                        frame.fill(v);
                    }
                },
                |_| {},
                None,
            )
            .map_err(|e| unavailable(&e))?;
        stream.play().map_err(|e| unavailable(&e))?;
        Ok(Speaker {
            name,
            shared,
            _stream: stream,
        })
    }

    /// The device's human name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Queues samples (one mixed 20 ms frame at a time, normally).
    pub fn play(&self, samples: &[i16]) {
        if let Ok(mut q) = self.shared.samples.lock() {
            q.extend(samples);
            let excess = q.len().saturating_sub(MAX_QUEUED);
            q.drain(..excess);
        }
    }

    /// Samples queued and not yet played.
    pub fn queued(&self) -> usize {
        self.shared.samples.lock().map_or(0, |q| q.len())
    }

    /// Device callbacks that ran short of samples so far.
    pub fn underruns(&self) -> u64 {
        self.shared.underruns.load(Ordering::Relaxed)
    }
}
