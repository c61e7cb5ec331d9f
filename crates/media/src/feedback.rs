//! Receiver feedback: keyframe requests (RTCP PLI, RFC 4585 §6.3.1) and
//! retransmission requests (RTCP generic NACK, RFC 4585 §6.2.1).
//!
//! Both are standard RTCP feedback packets, so a packet capture reads them
//! as such. The router forwards them to the media sender named in them (the
//! media SSRC says whose stream it is); how they travel on the transports is
//! for `docs/protocol.md`.

use confer_wire::rtcp::{
    FMT_NACK, FMT_PLI, FeedbackKind, FeedbackPacket, PT_PSFB, PT_RTPFB, RtcpError,
    write_feedback_header,
};

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

impl Feedback {
    /// The RTCP bytes of this message.
    pub fn to_bytes(&self) -> Vec<u8> {
        let (fmt, pt, sender, media, fci) = match self {
            Feedback::KeyframeRequest {
                sender_ssrc,
                media_ssrc,
            } => (FMT_PLI, PT_PSFB, *sender_ssrc, *media_ssrc, Vec::new()),
            Feedback::Nack {
                sender_ssrc,
                media_ssrc,
                sequences,
            } => (
                FMT_NACK,
                PT_RTPFB,
                *sender_ssrc,
                *media_ssrc,
                nack_fci(sequences),
            ),
        };
        let mut out = Vec::with_capacity(12 + fci.len());
        write_feedback_header(pt, fmt, sender, media, fci.len(), &mut out);
        out.extend_from_slice(&fci);
        out
    }

    /// Parses one RTCP feedback packet (the header through
    /// [`confer_wire::rtcp`], which the router shares; the NACK's FCI here).
    pub fn parse(bytes: &[u8]) -> Result<Self, MediaError> {
        let packet = FeedbackPacket::parse(bytes).map_err(|e| match e {
            RtcpError::Truncated { len, need } => MediaError::Truncated {
                what: "RTCP feedback",
                len,
                need,
            },
            RtcpError::BadVersion(_) => MediaError::Malformed("RTCP version is not 2"),
            _ => MediaError::Malformed("RTCP length too short for feedback"),
        })?;
        let FeedbackPacket {
            sender_ssrc,
            media_ssrc,
            fci,
            ..
        } = packet;
        match packet.kind {
            FeedbackKind::Pli => Ok(Feedback::KeyframeRequest {
                sender_ssrc,
                media_ssrc,
            }),
            FeedbackKind::Nack => {
                let mut sequences = Vec::new();
                for item in fci.chunks_exact(4) {
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
            FeedbackKind::Other { .. } => Err(MediaError::Malformed("not a PLI or generic NACK")),
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
