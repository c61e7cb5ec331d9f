//! RTP packets (RFC 3550 §5.1), the layout of every media packet.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |V=2|P|X|  CC   |M|     PT      |       sequence number         |
//! |                           timestamp                           |
//! |           synchronization source (SSRC) identifier            |
//! |            contributing source (CSRC) identifiers             |  CC × 4 bytes
//! |      header extension (if X): profile (16), length (16), ...  |
//! |                          payload ...                          |
//! |                     ... padding (if P), last byte = count     |
//! ```
//!
//! The router only needs the SSRC ([`ssrc`]) to check who sent a packet; the
//! clients parse the whole header with [`RtpPacket::parse`].

/// Fixed header length, before CSRCs and extensions.
pub const RTP_HEADER_LEN: usize = 12;

/// Payload type of the synthetic test stream (`confer join --send-media synthetic`).
pub const PT_SYNTHETIC: u8 = 127;

/// Why bytes are not an RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtpError {
    /// Fewer bytes than the header says there must be.
    #[error("RTP packet truncated: {len} bytes, need {need}")]
    Truncated {
        /// Bytes present.
        len: usize,
        /// Bytes the header requires.
        need: usize,
    },
    /// The version field is not 2.
    #[error("RTP version {0} is not 2")]
    BadVersion(u8),
    /// The padding count is zero or runs past the payload.
    #[error("RTP padding of {0} bytes is invalid")]
    BadPadding(u8),
}

/// The header fields Confer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    /// Marks the last packet of a frame (video) or the start of a talk spurt (audio).
    pub marker: bool,
    /// Payload type (codec), 0..=127.
    pub payload_type: u8,
    /// Sequence number, +1 per packet of this SSRC, wrapping.
    pub sequence: u16,
    /// Media timestamp in the codec's clock rate.
    pub timestamp: u32,
    /// Synchronisation source: who sent it and which track (see [`crate::ids::ssrc_for`]).
    pub ssrc: u32,
}

/// A parsed RTP packet borrowing its payload from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// The header fields.
    pub header: RtpHeader,
    /// The payload, without CSRCs, extension or padding.
    pub payload: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// Parses one RTP packet, validating every length in its header.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, RtpError> {
        if bytes.len() < RTP_HEADER_LEN {
            return Err(RtpError::Truncated {
                len: bytes.len(),
                need: RTP_HEADER_LEN,
            });
        }
        let version = bytes[0] >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion(version));
        }
        let has_padding = bytes[0] & 0x20 != 0;
        let has_extension = bytes[0] & 0x10 != 0;
        let csrc_count = usize::from(bytes[0] & 0x0f);
        let mut offset = RTP_HEADER_LEN + 4 * csrc_count;
        if has_extension {
            let need = offset + 4;
            if bytes.len() < need {
                return Err(RtpError::Truncated {
                    len: bytes.len(),
                    need,
                });
            }
            let words = usize::from(u16::from_be_bytes([bytes[offset + 2], bytes[offset + 3]]));
            offset = need + 4 * words;
        }
        if bytes.len() < offset {
            return Err(RtpError::Truncated {
                len: bytes.len(),
                need: offset,
            });
        }
        let mut end = bytes.len();
        if has_padding {
            let pad = bytes[end - 1];
            if pad == 0 || usize::from(pad) > end - offset {
                return Err(RtpError::BadPadding(pad));
            }
            end -= usize::from(pad);
        }
        let header = RtpHeader {
            marker: bytes[1] & 0x80 != 0,
            payload_type: bytes[1] & 0x7f,
            sequence: u16::from_be_bytes([bytes[2], bytes[3]]),
            timestamp: u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
            ssrc: u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]),
        };
        Ok(RtpPacket {
            header,
            payload: &bytes[offset..end],
        })
    }
}

impl RtpHeader {
    /// Appends this header (no CSRCs, no extension, no padding) and `payload` to `out`.
    pub fn write(&self, payload: &[u8], out: &mut Vec<u8>) {
        out.reserve(RTP_HEADER_LEN + payload.len());
        out.push(0x80);
        out.push((u8::from(self.marker) << 7) | (self.payload_type & 0x7f));
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(payload);
    }
}

/// The SSRC of an RTP packet, checking only what the router needs: that the
/// fixed header is present and the version is 2. The forwarding fast path.
pub fn ssrc(bytes: &[u8]) -> Result<u32, RtpError> {
    if bytes.len() < RTP_HEADER_LEN {
        return Err(RtpError::Truncated {
            len: bytes.len(),
            need: RTP_HEADER_LEN,
        });
    }
    if bytes[0] >> 6 != 2 {
        return Err(RtpError::BadVersion(bytes[0] >> 6));
    }
    Ok(u32::from_be_bytes([
        bytes[8], bytes[9], bytes[10], bytes[11],
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_parses_a_packet() {
        let h = RtpHeader {
            marker: true,
            payload_type: PT_SYNTHETIC,
            sequence: 65535,
            timestamp: 0xdead_beef,
            ssrc: 0x0102_0304,
        };
        let mut out = Vec::new();
        h.write(b"hello", &mut out);
        let p = RtpPacket::parse(&out).unwrap();
        assert_eq!(p.header, h);
        assert_eq!(p.payload, b"hello");
        assert_eq!(ssrc(&out), Ok(0x0102_0304));
    }

    #[test]
    fn parses_csrcs_extension_and_padding() {
        // V=2 P=1 X=1 CC=1, PT 96, then 1 CSRC, an extension of 1 word, payload "ab", 2 bytes padding.
        let mut b = vec![0xb1, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        b.extend_from_slice(&[9, 9, 9, 9]);
        b.extend_from_slice(&[0xbe, 0xde, 0, 1, 1, 2, 3, 4]);
        b.extend_from_slice(b"ab");
        b.extend_from_slice(&[0, 2]);
        let p = RtpPacket::parse(&b).unwrap();
        assert_eq!(p.payload, b"ab");
        assert_eq!(p.header.ssrc, 3);
    }

    #[test]
    fn rejects_malformed_packets() {
        assert!(matches!(
            RtpPacket::parse(&[0x80; 5]),
            Err(RtpError::Truncated { .. })
        ));
        assert_eq!(RtpPacket::parse(&[0x40; 12]), Err(RtpError::BadVersion(1)));
        // CC = 15 but no CSRCs present.
        assert!(matches!(
            RtpPacket::parse(&[0x8f; 12]),
            Err(RtpError::Truncated { .. })
        ));
        // Padding count larger than the packet.
        let mut b = vec![0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200];
        assert_eq!(RtpPacket::parse(&b), Err(RtpError::BadPadding(200)));
        b[12] = 0;
        assert_eq!(RtpPacket::parse(&b), Err(RtpError::BadPadding(0)));
    }
}
