//! RTCP feedback (RFC 4585) as the router needs to see it, and telling RTCP
//! from RTP on the one media path they share (RFC 5761).
//!
//! Receivers ask a media sender for a keyframe with a Picture Loss
//! Indication (PLI, payload-specific feedback, RFC 4585 §6.3.1) and for
//! retransmissions with a generic NACK (transport-layer feedback, §6.2.1).
//! Both travel on the media path like RTP packets, so the router first tells
//! them apart ([`is_rtcp`]), then reads just the header
//! ([`FeedbackPacket::parse`]): the packet type and FMT say what it is, the
//! media SSRC says whose stream it is about and so who gets it. The
//! feedback control information (the NACK's sequence numbers) stays opaque
//! here; `confer-media`'s `feedback` module reads it.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |V=2|P|   FMT   |       PT      |          length               |
//! |                  SSRC of packet sender                        |
//! |                  SSRC of media source                         |
//! :            Feedback Control Information (FCI)                 :
//! ```
//!
//! `length` is the packet's size in 32-bit words minus one.

/// RTCP packet type of transport-layer feedback (generic NACK is FMT 1).
pub const PT_RTPFB: u8 = 205;
/// RTCP packet type of payload-specific feedback (PLI is FMT 1).
pub const PT_PSFB: u8 = 206;
/// FMT of a generic NACK within [`PT_RTPFB`].
pub const FMT_NACK: u8 = 1;
/// FMT of a Picture Loss Indication within [`PT_PSFB`].
pub const FMT_PLI: u8 = 1;
/// Length of a feedback packet's header: the common header and both SSRCs.
pub const FEEDBACK_HEADER_LEN: usize = 12;
/// Length of a whole PLI, which has no FCI.
pub const PLI_LEN: usize = FEEDBACK_HEADER_LEN;

/// Why bytes are not an RTCP feedback packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtcpError {
    /// Fewer bytes than the header says there must be (more may complete it).
    #[error("RTCP packet truncated: {len} bytes, need {need}")]
    Truncated {
        /// Bytes present.
        len: usize,
        /// Bytes the header requires.
        need: usize,
    },
    /// The version field is not 2.
    #[error("RTCP version {0} is not 2")]
    BadVersion(u8),
    /// The length field names fewer bytes than a feedback header.
    #[error("RTCP length field of {0} words is too short for feedback")]
    TooShort(u16),
}

/// What a feedback packet asks for, from its packet type and FMT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedbackKind {
    /// Picture Loss Indication: send a keyframe.
    Pli,
    /// Generic NACK: resend the listed packets.
    Nack,
    /// Any other packet type or FMT (reports, other feedback).
    Other {
        /// The RTCP packet type.
        packet_type: u8,
        /// The FMT (or report count) field.
        fmt: u8,
    },
}

/// The header of one RTCP feedback packet, borrowing its FCI from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedbackPacket<'a> {
    /// What it asks for.
    pub kind: FeedbackKind,
    /// The SSRC of whoever sent the feedback.
    pub sender_ssrc: u32,
    /// The SSRC of the stream the feedback is about.
    pub media_ssrc: u32,
    /// The feedback control information, as long as the length field says.
    pub fci: &'a [u8],
    /// The packet's length in bytes, from its length field. Bytes after it
    /// (a compound packet's next part) are not part of this packet.
    pub len: usize,
}

impl<'a> FeedbackPacket<'a> {
    /// Parses the first RTCP packet in `bytes` as feedback, validating its
    /// version and length. Any packet type parses; [`FeedbackKind::Other`]
    /// says it is not a PLI or NACK. Never panics on malformed input.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, RtcpError> {
        if bytes.len() < FEEDBACK_HEADER_LEN {
            return Err(RtcpError::Truncated {
                len: bytes.len(),
                need: FEEDBACK_HEADER_LEN,
            });
        }
        let version = bytes[0] >> 6;
        if version != 2 {
            return Err(RtcpError::BadVersion(version));
        }
        let words = u16::from_be_bytes([bytes[2], bytes[3]]);
        let len = 4 * (usize::from(words) + 1);
        if len < FEEDBACK_HEADER_LEN {
            return Err(RtcpError::TooShort(words));
        }
        if bytes.len() < len {
            return Err(RtcpError::Truncated {
                len: bytes.len(),
                need: len,
            });
        }
        let fmt = bytes[0] & 0x1f;
        let kind = match (bytes[1], fmt) {
            (PT_PSFB, FMT_PLI) => FeedbackKind::Pli,
            (PT_RTPFB, FMT_NACK) => FeedbackKind::Nack,
            (packet_type, fmt) => FeedbackKind::Other { packet_type, fmt },
        };
        Ok(FeedbackPacket {
            kind,
            sender_ssrc: u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
            media_ssrc: u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]),
            fci: &bytes[FEEDBACK_HEADER_LEN..len],
            len,
        })
    }
}

/// Writes the 12-byte header of a feedback packet with `fci_len` bytes of
/// FCI to follow (a multiple of 4).
pub fn write_feedback_header(
    packet_type: u8,
    fmt: u8,
    sender_ssrc: u32,
    media_ssrc: u32,
    fci_len: usize,
    out: &mut Vec<u8>,
) {
    // Length in words minus one; the header itself is three words.
    let words = (FEEDBACK_HEADER_LEN + fci_len) / 4 - 1;
    out.push(0x80 | (fmt & 0x1f));
    out.push(packet_type);
    out.extend_from_slice(&u16::try_from(words).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(&sender_ssrc.to_be_bytes());
    out.extend_from_slice(&media_ssrc.to_be_bytes());
}

/// A whole PLI asking the owner of `media_ssrc` for a keyframe.
pub fn pli(sender_ssrc: u32, media_ssrc: u32) -> [u8; PLI_LEN] {
    let mut out = [0u8; PLI_LEN];
    out[0] = 0x80 | FMT_PLI;
    out[1] = PT_PSFB;
    // Length: three words, minus one.
    out[3] = 2;
    out[4..8].copy_from_slice(&sender_ssrc.to_be_bytes());
    out[8..12].copy_from_slice(&media_ssrc.to_be_bytes());
    out
}

/// Whether a packet on the media path is RTCP rather than RTP (RFC 5761 §4).
///
/// The second byte of RTCP is its packet type, 192..=223 for every type in
/// use; in RTP the same byte is the marker bit and payload type, and payload
/// types 64..=95 (which would collide) are never used on Confer's media path.
/// So a version-2 packet whose second byte is in 192..=223 is RTCP.
pub fn is_rtcp(packet: &[u8]) -> bool {
    match packet {
        [first, second, ..] => first >> 6 == 2 && (192..=223).contains(second),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pli_parses_back_with_its_ssrcs() {
        let bytes = pli(0x0100, 0x0203);
        assert_eq!(&bytes[..4], &[0x81, 206, 0, 2]);
        let p = FeedbackPacket::parse(&bytes).unwrap();
        assert_eq!(p.kind, FeedbackKind::Pli);
        assert_eq!((p.sender_ssrc, p.media_ssrc), (0x0100, 0x0203));
        assert!(p.fci.is_empty());
        assert_eq!(p.len, PLI_LEN);
        assert!(is_rtcp(&bytes));
    }

    #[test]
    fn nack_exposes_its_fci_and_stops_at_its_length() {
        let mut bytes = Vec::new();
        write_feedback_header(PT_RTPFB, FMT_NACK, 1, 2, 4, &mut bytes);
        bytes.extend_from_slice(&[0, 7, 0, 1]);
        bytes.extend_from_slice(b"next");
        let p = FeedbackPacket::parse(&bytes).unwrap();
        assert_eq!(p.kind, FeedbackKind::Nack);
        assert_eq!(p.fci, &[0, 7, 0, 1]);
        assert_eq!(p.len, 16);
    }

    #[test]
    fn tells_rtcp_from_rtp() {
        // RTP, payload types 102 and 127, with and without the marker bit.
        for second in [102, 127, 0x80 | 102, 0x80 | 111] {
            assert!(!is_rtcp(&[0x80, second, 0, 0]), "{second}");
        }
        // Sender report, receiver report, both feedback types.
        for pt in [200, 201, PT_RTPFB, PT_PSFB] {
            assert!(is_rtcp(&[0x81, pt, 0, 1]), "{pt}");
        }
        assert!(!is_rtcp(&[0x41, 206, 0, 2]), "version 1");
        assert!(!is_rtcp(&[0x81]));
        assert!(!is_rtcp(&[]));
    }

    #[test]
    fn rejects_malformed_feedback() {
        assert!(matches!(
            FeedbackPacket::parse(&[0x81, 206, 0]),
            Err(RtcpError::Truncated { need: 12, .. })
        ));
        assert!(matches!(
            FeedbackPacket::parse(&[0x81, 206, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(RtcpError::Truncated { need: 40, .. })
        ));
        assert_eq!(
            FeedbackPacket::parse(&[0x81, 206, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(RtcpError::TooShort(1))
        );
        assert_eq!(
            FeedbackPacket::parse(&[0x41, 206, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(RtcpError::BadVersion(1))
        );
        let sr = FeedbackPacket::parse(&[0x81, 200, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
        assert_eq!(
            sr.kind,
            FeedbackKind::Other {
                packet_type: 200,
                fmt: 1
            }
        );
    }

    #[test]
    fn random_bytes_never_panic() {
        // A small xorshift so the test needs no dependency and is repeatable.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if let Some(first) = bytes.first_mut() {
                // Version 2, so the length checks are reached.
                *first = (*first & 0x3f) | 0x80;
            }
            let _ = is_rtcp(&bytes);
            if let Ok(p) = FeedbackPacket::parse(&bytes) {
                assert!(p.len <= bytes.len());
                assert_eq!(p.fci.len(), p.len - FEEDBACK_HEADER_LEN);
            }
        }
    }
}
