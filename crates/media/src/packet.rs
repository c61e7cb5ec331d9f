//! An owned RTP packet as the media engine handles it: the header fields,
//! the optional simulcast layer descriptor, and the payload.
//!
//! `confer_wire::rtp` parses and writes the fixed header; this adds the one
//! header extension the engine uses (the layer descriptor, see
//! [`crate::simulcast`]) and owns its payload so packets can sit in jitter
//! buffers and retransmission histories.

use confer_wire::rtp::{RtpHeader, RtpPacket};

use crate::error::MediaError;
use crate::simulcast::LayerDescriptor;

/// Payload type of Opus audio (48 kHz clock).
pub const PT_OPUS: u8 = 111;

/// Payload type of H.264 video (90 kHz clock, packetization-mode 1).
pub const PT_H264: u8 = 102;

/// RTP clock rate of video.
pub const VIDEO_CLOCK_RATE: u32 = 90_000;

/// An owned RTP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaPacket {
    /// The fixed header fields.
    pub header: RtpHeader,
    /// The simulcast layer descriptor, on video packets.
    pub layer: Option<LayerDescriptor>,
    /// The payload (codec data, or SFrame ciphertext once sealed).
    pub payload: Vec<u8>,
}

impl MediaPacket {
    /// Parses a complete RTP packet, picking up the layer descriptor if present.
    pub fn parse(bytes: &[u8]) -> Result<Self, MediaError> {
        let p = RtpPacket::parse(bytes)?;
        Ok(MediaPacket {
            header: p.header,
            layer: LayerDescriptor::find_in_rtp(bytes),
            payload: p.payload.to_vec(),
        })
    }

    /// The packet's bytes on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    /// Appends the packet's bytes to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self.layer {
            None => self.header.write(&self.payload, out),
            Some(d) => {
                let start = out.len();
                self.header.write(&[], out);
                // Set the X bit: an extension block follows the fixed header.
                out[start] |= 0x10;
                out.extend_from_slice(&d.extension_block());
                out.extend_from_slice(&self.payload);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulcast::LayerId;

    #[test]
    fn round_trips_with_and_without_a_layer_descriptor() {
        let header = RtpHeader {
            marker: true,
            payload_type: PT_H264,
            sequence: 7,
            timestamp: 9000,
            ssrc: 0x0000_0102,
        };
        for layer in [
            None,
            Some(LayerDescriptor {
                layer: LayerId::Low,
                keyframe: true,
                start_of_frame: true,
                end_of_frame: true,
                top_layer: true,
            }),
        ] {
            let p = MediaPacket {
                header,
                layer,
                payload: vec![1, 2, 3],
            };
            let bytes = p.to_bytes();
            assert_eq!(MediaPacket::parse(&bytes).ok(), Some(p));
        }
        assert!(MediaPacket::parse(&[0x90, 0, 0]).is_err());
    }
}
