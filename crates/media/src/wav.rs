//! WAV files (RIFF, 16-bit PCM): reading test input and saving received audio.
//!
//! Written here rather than taken from a crate because the engine needs only
//! the one layout it produces (mono, 16-bit, 48 kHz) plus a tolerant reader,
//! about a hundred lines with no dependency.

use std::io::Write;
use std::path::Path;

use crate::error::MediaError;
use crate::frame::SAMPLE_RATE;

/// PCM samples read from a WAV file, mixed down to mono.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WavAudio {
    /// Sample rate from the header.
    pub sample_rate: u32,
    /// Mono samples.
    pub samples: Vec<i16>,
}

/// Parses a 16-bit PCM WAV file held in memory; stereo is averaged to mono.
pub fn parse_wav(bytes: &[u8]) -> Result<WavAudio, MediaError> {
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(MediaError::UnsupportedFormat("not a RIFF/WAVE file".into()));
    }
    let mut pos = 12;
    let mut format: Option<(u16, u16, u32, u16)> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let len = u32::from_le_bytes([
            bytes[pos + 4],
            bytes[pos + 5],
            bytes[pos + 6],
            bytes[pos + 7],
        ]) as usize;
        let body_start = pos + 8;
        let body_end = body_start.saturating_add(len).min(bytes.len());
        let body = &bytes[body_start..body_end];
        if id == b"fmt " {
            if body.len() < 16 {
                return Err(MediaError::Truncated {
                    what: "WAV fmt chunk",
                    len: body.len(),
                    need: 16,
                });
            }
            format = Some((
                u16::from_le_bytes([body[0], body[1]]),
                u16::from_le_bytes([body[2], body[3]]),
                u32::from_le_bytes([body[4], body[5], body[6], body[7]]),
                u16::from_le_bytes([body[14], body[15]]),
            ));
        } else if id == b"data" {
            let Some((tag, channels, sample_rate, bits)) = format else {
                return Err(MediaError::Malformed("WAV data chunk before fmt chunk"));
            };
            // 1 = PCM, 0xFFFE = extensible (assumed PCM when 16-bit).
            if (tag != 1 && tag != 0xFFFE) || bits != 16 || !(1..=2).contains(&channels) {
                return Err(MediaError::UnsupportedFormat(format!(
                    "WAV format {tag:#x}, {bits} bits, {channels} channels (need 16-bit PCM, mono or stereo)"
                )));
            }
            let frame = 2 * usize::from(channels);
            let samples = body
                .chunks_exact(frame)
                .map(|f| {
                    let l = i16::from_le_bytes([f[0], f[1]]);
                    if channels == 2 {
                        ((i32::from(l) + i32::from(i16::from_le_bytes([f[2], f[3]]))) / 2) as i16
                    } else {
                        l
                    }
                })
                .collect();
            return Ok(WavAudio {
                sample_rate,
                samples,
            });
        }
        pos = body_start.saturating_add(len + (len & 1));
    }
    Err(MediaError::Malformed("WAV file without a data chunk"))
}

/// Reads a WAV file from disk (see [`parse_wav`]).
pub fn read_wav(path: &Path) -> Result<WavAudio, MediaError> {
    let bytes = std::fs::read(path).map_err(|e| MediaError::io(path, e))?;
    parse_wav(&bytes)
}

/// The bytes of a mono 16-bit WAV file holding `samples` at `sample_rate`.
pub fn wav_bytes(samples: &[i16], sample_rate: u32) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&(sample_rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// Collects received audio and saves it as a 48 kHz mono WAV file.
#[derive(Debug, Clone, Default)]
pub struct WavWriter {
    /// Every sample so far (a WAV header needs the total length up front).
    samples: Vec<i16>,
}

impl WavWriter {
    /// An empty recording.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends samples.
    pub fn push(&mut self, samples: &[i16]) {
        self.samples.extend_from_slice(samples);
    }

    /// The samples so far.
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// Writes the WAV file to `out`.
    pub fn write_to(&self, mut out: impl Write) -> Result<(), MediaError> {
        out.write_all(&wav_bytes(&self.samples, SAMPLE_RATE))?;
        Ok(())
    }

    /// Saves the WAV file at `path`.
    pub fn save(&self, path: &Path) -> Result<(), MediaError> {
        std::fs::write(path, wav_bytes(&self.samples, SAMPLE_RATE))
            .map_err(|e| MediaError::io(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_back() {
        let samples: Vec<i16> = (0..100).map(|i| (i * 300 - 15000) as i16).collect();
        let bytes = wav_bytes(&samples, 48_000);
        let back = parse_wav(&bytes).unwrap();
        assert_eq!(back.sample_rate, 48_000);
        assert_eq!(back.samples, samples);
    }

    #[test]
    fn rejects_junk_without_panicking() {
        assert!(parse_wav(b"RIFF").is_err());
        assert!(parse_wav(b"RIFF\0\0\0\0WAVEdata\xff\xff\xff\xff").is_err());
        let mut eight_bit = wav_bytes(&[1, 2], 8000);
        eight_bit[34] = 8;
        assert!(matches!(
            parse_wav(&eight_bit),
            Err(MediaError::UnsupportedFormat(_))
        ));
        let mut short_fmt = wav_bytes(&[1], 8000);
        short_fmt[16] = 4;
        assert!(parse_wav(&short_fmt).is_err());
    }
}
