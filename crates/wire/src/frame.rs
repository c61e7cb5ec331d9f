//! Length-prefixed framing, the same on every reliable transport.
//!
//! ```text
//! +--------+-----------------------+------------------+
//! | kind   | length (u32, BE)      | payload          |
//! | 1 byte | 4 bytes               | `length` bytes   |
//! +--------+-----------------------+------------------+
//! ```
//!
//! `kind` is [`FrameKind::Control`] (payload: one JSON control message) or
//! [`FrameKind::Media`] (payload: one RTP packet). On QUIC, media normally
//! travels as datagrams holding the bare RTP packet, and the control stream
//! carries frames; on TLS over TCP and WebSocket everything is frames.

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Bytes before a frame's payload.
pub const FRAME_HEADER_LEN: usize = 5;

/// Largest control payload accepted (256 KiB): room for a large roster,
/// small enough that a peer cannot make us buffer much.
pub const MAX_CONTROL_LEN: usize = 256 * 1024;

/// Largest media payload accepted: one RTP packet within a typical path MTU,
/// with slack for the headers later layers add.
pub const MAX_MEDIA_LEN: usize = 1500;

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum FrameKind {
    /// One control message, JSON.
    Control = 1,
    /// One RTP packet.
    Media = 2,
}

impl FrameKind {
    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(FrameKind::Control),
            2 => Some(FrameKind::Media),
            _ => None,
        }
    }

    /// The largest payload allowed for this kind.
    pub fn max_len(self) -> usize {
        match self {
            FrameKind::Control => MAX_CONTROL_LEN,
            FrameKind::Media => MAX_MEDIA_LEN,
        }
    }
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// What the payload is.
    pub kind: FrameKind,
    /// The payload, without the frame header.
    pub payload: Bytes,
}

/// Why a byte stream is not valid framing. Any of these ends the connection:
/// after a bad header there is no way to find the next frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The kind byte is not one this version knows.
    #[error("unknown frame kind {0:#04x}")]
    UnknownKind(u8),
    /// The length field exceeds the limit for the frame's kind.
    #[error("{kind:?} frame of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// The frame's kind.
        kind: FrameKind,
        /// The length the header announced.
        len: usize,
        /// The limit for that kind.
        max: usize,
    },
}

/// Takes one complete frame off the front of `buf`.
///
/// Returns `Ok(None)` when `buf` holds only part of a frame (read more and
/// call again), and an error as soon as the header is invalid, without
/// waiting for (or buffering) an oversized payload.
pub fn decode_frame(buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
    if buf.is_empty() {
        return Ok(None);
    }
    let kind = FrameKind::from_byte(buf[0]).ok_or(FrameError::UnknownKind(buf[0]))?;
    if buf.len() < FRAME_HEADER_LEN {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
    let max = kind.max_len();
    if len > max {
        return Err(FrameError::TooLarge { kind, len, max });
    }
    if buf.len() < FRAME_HEADER_LEN + len {
        buf.reserve(FRAME_HEADER_LEN + len - buf.len());
        return Ok(None);
    }
    buf.advance(FRAME_HEADER_LEN);
    let payload = buf.split_to(len).freeze();
    Ok(Some(Frame { kind, payload }))
}

/// Appends one frame to `out`.
///
/// Fails if `payload` exceeds the limit for `kind`: a frame the peer would
/// refuse is never sent.
pub fn encode_frame(kind: FrameKind, payload: &[u8], out: &mut BytesMut) -> Result<(), FrameError> {
    let max = kind.max_len();
    if payload.len() > max {
        return Err(FrameError::TooLarge {
            kind,
            len: payload.len(),
            max,
        });
    }
    out.reserve(FRAME_HEADER_LEN + payload.len());
    out.put_u8(kind as u8);
    out.put_u32(payload.len() as u32);
    out.put_slice(payload);
    Ok(())
}

/// Encodes one frame into a fresh buffer (see [`encode_frame`]).
pub fn frame_bytes(kind: FrameKind, payload: &[u8]) -> Result<Bytes, FrameError> {
    let mut out = BytesMut::with_capacity(FRAME_HEADER_LEN + payload.len());
    encode_frame(kind, payload, &mut out)?;
    Ok(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_frames_split_at_every_byte() {
        let mut wire = BytesMut::new();
        encode_frame(FrameKind::Control, b"{\"type\":\"leave\"}", &mut wire).unwrap();
        encode_frame(FrameKind::Media, &[0x80; 40], &mut wire).unwrap();
        let all = wire.freeze();
        for split in 0..all.len() {
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            buf.extend_from_slice(&all[..split]);
            while let Some(f) = decode_frame(&mut buf).unwrap() {
                got.push(f);
            }
            buf.extend_from_slice(&all[split..]);
            while let Some(f) = decode_frame(&mut buf).unwrap() {
                got.push(f);
            }
            assert_eq!(got.len(), 2, "split at {split}");
            assert_eq!(got[0].kind, FrameKind::Control);
            assert_eq!(&got[1].payload[..], &[0x80; 40]);
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn rejects_oversized_frame_from_header_alone() {
        let mut buf = BytesMut::from(&[2u8, 0, 0, 0x10, 0][..]);
        assert_eq!(
            decode_frame(&mut buf),
            Err(FrameError::TooLarge {
                kind: FrameKind::Media,
                len: 4096,
                max: MAX_MEDIA_LEN
            })
        );
        let mut buf = BytesMut::from(&[1u8, 0xff, 0xff, 0xff, 0xff][..]);
        assert!(matches!(
            decode_frame(&mut buf),
            Err(FrameError::TooLarge { .. })
        ));
    }

    #[test]
    fn rejects_unknown_kind_immediately() {
        let mut buf = BytesMut::from(&[9u8][..]);
        assert_eq!(decode_frame(&mut buf), Err(FrameError::UnknownKind(9)));
    }

    #[test]
    fn refuses_to_encode_oversized_payload() {
        let mut out = BytesMut::new();
        assert!(encode_frame(FrameKind::Media, &[0; MAX_MEDIA_LEN + 1], &mut out).is_err());
        assert!(out.is_empty());
    }
}
