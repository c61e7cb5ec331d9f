//! Receiver feedback: keyframe requests (RTCP PLI, RFC 4585 §6.3.1) and
//! retransmission requests (RTCP generic NACK, RFC 4585 §6.2.1).
//!
//! Both are standard RTCP feedback packets, so a packet capture reads them
//! as such. The router forwards them to the media sender named in them (the
//! media SSRC says whose stream it is); how they travel on the transports is
//! for `docs/protocol.md`.

use crate::error::MediaError;

/// A feedback message from a receiver to a media sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feedback {
    /// Picture loss: send a keyframe on `media_ssrc`.
    KeyframeRequest {
        /// SSRC of the receiver asking.
        sender_ssrc: u32,
        /// SSRC of the stream that needs a keyframe.
        media_ssrc: u32,
    },
    /// Retransmit these sequence numbers of `media_ssrc`.
    Nack {
        /// SSRC of the receiver asking.
        sender_ssrc: u32,
        /// SSRC of the stream with the gaps.
        media_ssrc: u32,
        /// The missing sequence numbers.
        sequences: Vec<u16>,
    },
}

/// RTCP payload type of transport-layer feedback (generic NACK).
const RTPFB: u8 = 205;
/// RTCP payload type of payload-specific feedback (PLI).
const PSFB: u8 = 206;

impl Feedback {
    /// The RTCP bytes of this message.
    pub fn to_bytes(&self) -> Vec<u8> {
        let (fmt, pt, sender, media, fci) = match self {
            Feedback::KeyframeRequest {
                sender_ssrc,
                media_ssrc,
            } => (1u8, PSFB, *sender_ssrc, *media_ssrc, Vec::new()),
            Feedback::Nack {
                sender_ssrc,
                media_ssrc,
                sequences,
            } => (1u8, RTPFB, *sender_ssrc, *media_ssrc, nack_fci(sequences)),
        };
        let words = (8 + fci.len()) / 4; // length field: words minus one, header included
        let mut out = Vec::with_capacity(4 + 8 + fci.len());
        out.push(0x80 | fmt);
        out.push(pt);
        out.extend_from_slice(&(words as u16).to_be_bytes());
        out.extend_from_slice(&sender.to_be_bytes());
        out.extend_from_slice(&media.to_be_bytes());
        out.extend_from_slice(&fci);
        out
    }

    /// Parses one RTCP feedback packet.
    pub fn parse(bytes: &[u8]) -> Result<Self, MediaError> {
        if bytes.len() < 12 {
            return Err(MediaError::Truncated {
                what: "RTCP feedback",
                len: bytes.len(),
                need: 12,
            });
        }
        if bytes[0] >> 6 != 2 {
            return Err(MediaError::Malformed("RTCP version is not 2"));
        }
        let fmt = bytes[0] & 0x1f;
        let words = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
        let need = 4 * (words + 1);
        if bytes.len() < need || need < 12 {
            return Err(MediaError::Truncated {
                what: "RTCP feedback",
                len: bytes.len(),
                need: need.max(12),
            });
        }
        let sender_ssrc = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        let media_ssrc = u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        match (bytes[1], fmt) {
            (PSFB, 1) => Ok(Feedback::KeyframeRequest {
                sender_ssrc,
                media_ssrc,
            }),
            (RTPFB, 1) => {
                let mut sequences = Vec::new();
                for item in bytes[12..need].chunks_exact(4) {
                    let pid = u16::from_be_bytes([item[0], item[1]]);
                    let blp = u16::from_be_bytes([item[2], item[3]]);
                    sequences.push(pid);
                    for bit in 0..16u16 {
                        if blp & (1 << bit) != 0 {
                            sequences.push(pid.wrapping_add(bit + 1));
                        }
                    }
                }
                Ok(Feedback::Nack {
                    sender_ssrc,
                    media_ssrc,
                    sequences,
                })
            }
            _ => Err(MediaError::Malformed("not a PLI or generic NACK")),
        }
    }
}

/// Packs sequence numbers into NACK items (PID + bitmask of the next 16).
fn nack_fci(sequences: &[u16]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < sequences.len() {
        let pid = sequences[i];
        let mut blp = 0u16;
        i += 1;
        while i < sequences.len() {
            let d = sequences[i].wrapping_sub(pid);
            if d == 0 || d > 16 {
                break;
            }
            blp |= 1 << (d - 1);
            i += 1;
        }
        out.extend_from_slice(&pid.to_be_bytes());
        out.extend_from_slice(&blp.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pli_and_nack_round_trip() {
        let pli = Feedback::KeyframeRequest {
            sender_ssrc: 1,
            media_ssrc: 0x0203,
        };
        let bytes = pli.to_bytes();
        assert_eq!(bytes.len(), 12);
        assert_eq!(&bytes[..4], &[0x81, 206, 0, 2]);
        assert_eq!(Feedback::parse(&bytes).ok(), Some(pli));
        let nack = Feedback::Nack {
            sender_ssrc: 1,
            media_ssrc: 2,
            sequences: vec![65534, 65535, 0, 5, 40],
        };
        let bytes = nack.to_bytes();
        // Two items: 65534 with bits for 65535, 0 and 5; then 40.
        assert_eq!(bytes.len(), 12 + 8);
        assert_eq!(Feedback::parse(&bytes).ok(), Some(nack));
    }

    #[test]
    fn rejects_malformed_feedback() {
        assert!(Feedback::parse(&[0x81, 206, 0]).is_err());
        assert!(Feedback::parse(&[0x81, 206, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(Feedback::parse(&[0x81, 200, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(Feedback::parse(&[0x41, 206, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
