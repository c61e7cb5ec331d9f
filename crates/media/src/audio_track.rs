//! An audio track end to end: [`AudioSender`] turns 20 ms frames into Opus
//! frames ([`AudioSender::encode`]) and, once the caller has sealed them,
//! RTP packets ([`AudioSender::packetize`]); [`AudioReceiver`] turns received packets back into a gapless
//! 20 ms frame timeline (jitter buffer, FEC, concealment, level).
//!
//! # Receiver driving contract
//!
//! - [`AudioReceiver::handle_packet`] for every packet of the stream, with `now`.
//! - [`AudioReceiver::poll_frame`] with `now` until `None`: each call past a
//!   frame's playout time yields that frame. Every 20 ms of the sender's
//!   timeline yields exactly one frame, decoded, rebuilt from FEC or
//!   concealed, so playout never has a hole. Frames play one frame (20 ms)
//!   after the jitter buffer's deadline: the look-ahead that lets a lost
//!   frame be rebuilt from the next packet's FEC data.
//! - [`AudioReceiver::poll_timeout`] says when the next frame is due.

use std::collections::VecDeque;
use std::time::Instant;

use confer_wire::rtp::RtpHeader;

use crate::error::MediaError;
use crate::frame::{AudioFrame, AudioOrigin, FRAME_SAMPLES};
use crate::jitter::{JitterBuffer, JitterConfig, JitterOutput, JitterStats};
use crate::level::audio_level_dbov;
use crate::opus_codec::{AudioDecoder, AudioEncoder, DTX_PACKET_MAX};
use crate::packet::{MediaPacket, PT_OPUS};

/// Encodes and packetises one audio track.
#[derive(Debug)]
pub struct AudioSender {
    encoder: AudioEncoder,
    /// SSRC of the track.
    ssrc: u32,
    /// Next sequence number (advances per packet sent).
    sequence: u16,
    /// RTP timestamp of the next frame (advances per frame, sent or not).
    timestamp: u32,
    /// Whether the previous frame was silence (DTX), so the next packet
    /// starts a talk spurt and gets the marker bit.
    in_silence: bool,
}

impl AudioSender {
    /// A sender for stream `ssrc` at `bitrate` bits per second.
    pub fn new(ssrc: u32, bitrate: i32) -> Result<Self, MediaError> {
        Ok(AudioSender {
            encoder: AudioEncoder::new(bitrate)?,
            ssrc,
            sequence: 0,
            timestamp: 0,
            in_silence: true,
        })
    }

    /// The Opus encoder, to tune it (expected loss from receiver reports).
    pub fn encoder_mut(&mut self) -> &mut AudioEncoder {
        &mut self.encoder
    }

    /// Encodes one 20 ms frame; `None` when it is silence that DTX leaves unsent.
    /// Sealing happens between this and [`Self::packetize`].
    pub fn encode(&mut self, samples: &[i16]) -> Result<Option<EncodedAudio>, MediaError> {
        let payload = self.encoder.encode(samples)?;
        let timestamp = self.timestamp;
        self.timestamp = self.timestamp.wrapping_add(FRAME_SAMPLES as u32);
        if payload.len() <= DTX_PACKET_MAX {
            self.in_silence = true;
            return Ok(None);
        }
        Ok(Some(EncodedAudio {
            timestamp,
            talk_spurt: std::mem::take(&mut self.in_silence),
            opus: payload,
        }))
    }

    /// Wraps one encoded frame's (sealed) bytes in an RTP packet: one frame
    /// per packet, so a loss costs one frame and FEC can rebuild it.
    pub fn packetize(&mut self, encoded: &EncodedAudio, payload: Vec<u8>) -> MediaPacket {
        let header = RtpHeader {
            marker: encoded.talk_spurt,
            payload_type: PT_OPUS,
            sequence: self.sequence,
            timestamp: encoded.timestamp,
            ssrc: self.ssrc,
        };
        self.sequence = self.sequence.wrapping_add(1);
        MediaPacket {
            header,
            layer: None,
            payload,
        }
    }

    /// Encodes and packetises one 20 ms frame without sealing (tests and
    /// benchmarks); `None` when DTX leaves it unsent.
    pub fn send_frame(&mut self, samples: &[i16]) -> Result<Option<MediaPacket>, MediaError> {
        Ok(self.encode(samples)?.map(|e| {
            let payload = e.opus.clone();
            self.packetize(&e, payload)
        }))
    }
}

/// One encoded 20 ms audio frame, before sealing and packetisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedAudio {
    /// RTP timestamp (48 kHz) of the frame.
    pub timestamp: u32,
    /// First frame after silence: its packet gets the marker bit.
    pub talk_spurt: bool,
    /// The Opus packet.
    pub opus: Vec<u8>,
}

/// Counters of the receive side of one audio stream.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AudioReceiverStats {
    /// Frames decoded from their own packet.
    pub decoded: u64,
    /// Frames rebuilt from the next packet's FEC data.
    pub fec: u64,
    /// Frames concealed (no packet, no FEC, or silence between talk spurts).
    pub concealed: u64,
    /// Packets libopus rejected (concealed instead).
    pub corrupt: u64,
    /// The jitter buffer's counters.
    pub jitter: JitterStats,
}

/// Receives one audio stream. See the module docs for the contract.
#[derive(Debug)]
pub struct AudioReceiver {
    jitter: JitterBuffer,
    decoder: AudioDecoder,
    /// Packets released by the jitter buffer, not yet played.
    queue: VecDeque<MediaPacket>,
    /// RTP timestamp of the next frame to play, once the first packet came.
    play_ts: Option<u32>,
    /// Level (RFC 6464) of the last frame played.
    level: u8,
    stats: AudioReceiverStats,
}

impl AudioReceiver {
    /// A receiver with the default audio jitter buffer.
    pub fn new() -> Result<Self, MediaError> {
        Self::with_config(JitterConfig::audio())
    }

    /// A receiver with a tuned jitter buffer.
    pub fn with_config(config: JitterConfig) -> Result<Self, MediaError> {
        Ok(AudioReceiver {
            jitter: JitterBuffer::new(config),
            decoder: AudioDecoder::new()?,
            queue: VecDeque::new(),
            play_ts: None,
            level: 127,
            stats: AudioReceiverStats::default(),
        })
    }

    /// Counters so far.
    pub fn stats(&self) -> AudioReceiverStats {
        AudioReceiverStats {
            jitter: self.jitter.stats(),
            ..self.stats
        }
    }

    /// RFC 6464 level of the last frame played (0 loud, 127 silent).
    pub fn level(&self) -> u8 {
        self.level
    }

    /// Takes in one received packet.
    pub fn handle_packet(&mut self, now: Instant, packet: MediaPacket) {
        if self.play_ts.is_none() {
            self.play_ts = Some(packet.header.timestamp);
        }
        self.jitter.handle_packet(now, packet);
    }

    /// When the next frame is due, once the stream has started.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.play_deadline(self.play_ts?)
    }

    /// A frame plays one frame later than the jitter buffer releases its
    /// packet, so that when it is lost the next packet (carrying its FEC
    /// copy) has usually arrived.
    fn play_deadline(&self, play_ts: u32) -> Option<Instant> {
        self.jitter
            .deadline_for_timestamp(play_ts.wrapping_add(FRAME_SAMPLES as u32))
    }

    /// The next frame if its playout time has come.
    pub fn poll_frame(&mut self, now: Instant) -> Option<AudioFrame> {
        let play_ts = self.play_ts?;
        if self.play_deadline(play_ts)? > now {
            return None;
        }
        while let Some(out) = self.jitter.poll_output(now) {
            if let JitterOutput::Packet(p) = out {
                self.queue.push_back(p);
            }
        }
        // Drop packets whose time has passed (they were concealed already).
        while self
            .queue
            .front()
            .is_some_and(|p| (p.header.timestamp.wrapping_sub(play_ts) as i32) < 0)
        {
            self.queue.pop_front();
        }
        let (samples, origin) = self.frame_for(play_ts);
        self.play_ts = Some(play_ts.wrapping_add(FRAME_SAMPLES as u32));
        self.level = audio_level_dbov(&samples);
        Some(AudioFrame {
            samples,
            timestamp: play_ts,
            origin,
        })
    }

    /// Decodes, rebuilds or conceals the frame at `play_ts`.
    fn frame_for(&mut self, play_ts: u32) -> (Vec<i16>, AudioOrigin) {
        if self
            .queue
            .front()
            .is_some_and(|p| p.header.timestamp == play_ts)
            && let Some(p) = self.queue.pop_front()
        {
            match self.decoder.decode(&p.payload) {
                Ok(s) => {
                    self.stats.decoded += 1;
                    return (s, AudioOrigin::Decoded);
                }
                Err(_) => self.stats.corrupt += 1,
            }
        } else {
            let next_ts = play_ts.wrapping_add(FRAME_SAMPLES as u32);
            let next = self
                .queue
                .iter()
                .find(|p| p.header.timestamp == next_ts)
                .or_else(|| self.jitter.peek_timestamp(next_ts));
            if let Some(next) = next
                && let Ok(s) = self.decoder.decode_fec(&next.payload)
            {
                self.stats.fec += 1;
                return (s, AudioOrigin::Fec);
            }
        }
        self.stats.concealed += 1;
        let samples = self
            .decoder
            .conceal()
            .unwrap_or_else(|_| vec![0; FRAME_SAMPLES]);
        (samples, AudioOrigin::Concealed)
    }
}
