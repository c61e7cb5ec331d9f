//! Thin wrappers around libopus (the `opus` crate): the settings Confer uses
//! and nothing else.
//!
//! The encoder runs in VoIP mode, mono, 20 ms frames, with in-band FEC (each
//! packet carries a low-bitrate copy of the previous frame) and DTX (silence
//! becomes tiny packets, which the sender does not send). The decoder
//! rebuilds a lost frame from the next packet's FEC data when it has it, and
//! otherwise lets libopus conceal the gap.

use opus::{Application, Bitrate, Channels};

use crate::error::MediaError;
use crate::frame::{FRAME_SAMPLES, SAMPLE_RATE};

/// Default audio bitrate: wideband speech with room for FEC.
pub const DEFAULT_AUDIO_BITRATE: i32 = 32_000;

/// Packet loss the encoder plans FEC for, in percent.
pub const EXPECTED_LOSS_PERCENT: i32 = 10;

/// Largest Opus packet we produce.
const MAX_PACKET: usize = 1275;

/// An encoded packet no larger than this is a DTX (silence) frame.
pub const DTX_PACKET_MAX: usize = 2;

/// Encodes 20 ms mono frames to Opus packets.
pub struct AudioEncoder {
    inner: opus::Encoder,
}

impl std::fmt::Debug for AudioEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioEncoder").finish_non_exhaustive()
    }
}

impl AudioEncoder {
    /// An encoder at `bitrate` bits per second with FEC and DTX on.
    pub fn new(bitrate: i32) -> Result<Self, MediaError> {
        let mut inner = opus::Encoder::new(SAMPLE_RATE, Channels::Mono, Application::Voip)?;
        inner.set_bitrate(Bitrate::Bits(bitrate))?;
        inner.set_inband_fec(true)?;
        inner.set_packet_loss_perc(EXPECTED_LOSS_PERCENT)?;
        inner.set_dtx(true)?;
        Ok(AudioEncoder { inner })
    }

    /// Encodes one frame of [`FRAME_SAMPLES`] samples.
    pub fn encode(&mut self, samples: &[i16]) -> Result<Vec<u8>, MediaError> {
        if samples.len() != FRAME_SAMPLES {
            return Err(MediaError::FrameSize {
                width: FRAME_SAMPLES as u32,
                height: 1,
                len: samples.len(),
            });
        }
        Ok(self.inner.encode_vec(samples, MAX_PACKET)?)
    }

    /// Tells the encoder the loss the receivers report, to size its FEC.
    pub fn set_expected_loss(&mut self, percent: i32) -> Result<(), MediaError> {
        Ok(self.inner.set_packet_loss_perc(percent.clamp(0, 100))?)
    }
}

/// Decodes Opus packets to 20 ms mono frames, concealing losses.
pub struct AudioDecoder {
    inner: opus::Decoder,
}

impl std::fmt::Debug for AudioDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioDecoder").finish_non_exhaustive()
    }
}

impl AudioDecoder {
    /// A mono 48 kHz decoder.
    pub fn new() -> Result<Self, MediaError> {
        Ok(AudioDecoder {
            inner: opus::Decoder::new(SAMPLE_RATE, Channels::Mono)?,
        })
    }

    /// Decodes one received packet (a corrupt one is an error, not a panic).
    pub fn decode(&mut self, packet: &[u8]) -> Result<Vec<i16>, MediaError> {
        if packet.is_empty() {
            return self.conceal();
        }
        self.run(packet, false)
    }

    /// Rebuilds the frame before `next_packet` from its FEC data (libopus
    /// falls back to concealment when the packet carries none).
    pub fn decode_fec(&mut self, next_packet: &[u8]) -> Result<Vec<i16>, MediaError> {
        if next_packet.is_empty() {
            return self.conceal();
        }
        self.run(next_packet, true)
    }

    /// Invents 20 ms continuing the signal (packet-loss concealment).
    pub fn conceal(&mut self) -> Result<Vec<i16>, MediaError> {
        self.run(&[], false)
    }

    fn run(&mut self, packet: &[u8], fec: bool) -> Result<Vec<i16>, MediaError> {
        let mut out = vec![0i16; FRAME_SAMPLES];
        let n = self.inner.decode(packet, &mut out, fec)?;
        // A packet of another duration would overflow nothing (the buffer
        // bounds it) but breaks the 20 ms timeline: pad or cut to one frame.
        out.truncate(n.min(FRAME_SAMPLES));
        out.resize(FRAME_SAMPLES, 0);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_decodes_and_conceals() {
        let mut enc = AudioEncoder::new(DEFAULT_AUDIO_BITRATE).unwrap();
        let mut dec = AudioDecoder::new().unwrap();
        let tone: Vec<i16> = (0..FRAME_SAMPLES)
            .map(|i| ((i as f64 * 0.05).sin() * 8000.0) as i16)
            .collect();
        let p = enc.encode(&tone).unwrap();
        assert!(p.len() > DTX_PACKET_MAX);
        assert_eq!(dec.decode(&p).unwrap().len(), FRAME_SAMPLES);
        assert_eq!(dec.conceal().unwrap().len(), FRAME_SAMPLES);
        assert_eq!(dec.decode_fec(&p).unwrap().len(), FRAME_SAMPLES);
        assert!(enc.encode(&tone[..10]).is_err());
    }

    #[test]
    fn garbage_packets_are_errors() {
        let mut dec = AudioDecoder::new().unwrap();
        // TOC says code 3 (arbitrary frames) with a frame count byte of 0: invalid.
        assert!(dec.decode(&[0x03, 0x00]).is_err());
    }
}
