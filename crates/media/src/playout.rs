//! Speaker playout through cpal (the `mic` feature's backend): the mixed
//! 48 kHz mono stream goes into a queue that the device callback drains.
//! When the queue runs dry the device plays silence and the underrun is
//! counted; the queue is bounded so a stalled device cannot grow memory.
//!
//! Output devices are named by a stable id, `speaker:` followed by cpal's
//! device id (`speaker:pulseaudio:alsa_output.pci…`, `speaker:alsa:hw:0,0`):
//! [`list_speakers`] offers them and [`Speaker::open`] opens one. An id
//! whose device is gone (unplugged, another machine's settings) fails with
//! [`MediaError::DeviceNotFound`], so the caller can fall back to
//! [`Speaker::open_default`] and say so rather than play nowhere.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

use crate::error::MediaError;
use crate::frame::SAMPLE_RATE;

/// Most samples queued (1 s); older ones are dropped.
const MAX_QUEUED: usize = SAMPLE_RATE as usize;

/// Id prefix of speakers (so a speaker id is never mistaken for a
/// microphone's, whose ids share cpal's scheme).
pub const SPEAKER_PREFIX: &str = "speaker:";

/// One output device as [`list_speakers`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeakerInfo {
    /// Stable id to open it with ([`SPEAKER_PREFIX`] and cpal's device id).
    pub id: String,
    /// Human label for pickers.
    pub name: String,
    /// Whether the system plays on it by default.
    pub is_default: bool,
}

/// The output devices of the default host (PulseAudio when a server runs,
/// else ALSA), the system default marked. A host that cannot enumerate
/// fails with [`MediaError::DeviceUnavailable`]; no devices is an empty list.
pub fn list_speakers() -> Result<Vec<SpeakerInfo>, MediaError> {
    let host = cpal::default_host();
    let default_id = host
        .default_output_device()
        .and_then(|d| d.id().ok())
        .map(|id| id.to_string());
    let devices = host
        .output_devices()
        .map_err(|e| MediaError::DeviceUnavailable {
            kind: "speaker",
            name: host.id().name().to_string(),
            reason: e.to_string(),
        })?;
    Ok(devices
        .filter_map(|d| {
            let (id, name) = crate::source::described(&d)?;
            Some(SpeakerInfo {
                is_default: default_id.as_ref() == Some(&id),
                id: format!("{SPEAKER_PREFIX}{id}"),
                name,
            })
        })
        .collect())
}

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
        let device =
            cpal::default_host()
                .default_output_device()
                .ok_or(MediaError::DeviceNotFound {
                    kind: "speaker",
                    id: "default".into(),
                })?;
        Self::start(device)
    }

    /// Opens the output device with id `id`, as [`list_speakers`] gives it
    /// (the [`SPEAKER_PREFIX`] may be left off). An id that names no
    /// present device, or does not parse, is [`MediaError::DeviceNotFound`].
    pub fn open(id: &str) -> Result<Self, MediaError> {
        let not_found = || MediaError::DeviceNotFound {
            kind: "speaker",
            id: id.to_string(),
        };
        let wanted = id.strip_prefix(SPEAKER_PREFIX).unwrap_or(id);
        let parsed: cpal::DeviceId = wanted.parse().map_err(|_| not_found())?;
        let device = cpal::default_host()
            .device_by_id(&parsed)
            .ok_or_else(not_found)?;
        // PulseAudio lists sources by the same kind of id: a microphone's id
        // must not open as a speaker.
        if !device.supports_output() {
            return Err(not_found());
        }
        Self::start(device)
    }

    /// Starts a 48 kHz output stream on `device`.
    fn start(device: cpal::Device) -> Result<Self, MediaError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids that name nothing here fail as "not found" — the one error the
    /// app turns into "playing on the default instead" — whatever sound
    /// server runs (or none).
    #[test]
    fn an_unknown_speaker_id_is_not_found() {
        for id in [
            "speaker:pulseaudio:no-such-sink-confer-test",
            "speaker:alsa:no-such-card-confer-test",
            "speaker:not-a-host:x",
            "speaker:",
            "no colon at all",
        ] {
            match Speaker::open(id) {
                Err(MediaError::DeviceNotFound { kind, id: got }) => {
                    assert_eq!(kind, "speaker");
                    assert_eq!(got, id, "the error names the id asked for");
                }
                other => panic!("{id:?} gave {other:?}"),
            }
        }
    }

    /// Listing never panics, and every id it gives carries the prefix.
    #[test]
    fn listed_speakers_have_prefixed_ids() {
        if let Ok(speakers) = list_speakers() {
            assert!(speakers.iter().all(|s| s.id.starts_with(SPEAKER_PREFIX)));
            assert!(speakers.iter().filter(|s| s.is_default).count() <= 1);
        }
    }
}
