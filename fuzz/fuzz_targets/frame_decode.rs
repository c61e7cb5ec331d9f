//! Framing from arbitrary bytes arriving in arbitrary pieces, as a TCP or
//! QUIC stream delivers them.
//!
//! Checks that `decode_frame` never panics; that every frame it returns
//! re-encodes to exactly the bytes it was read from; that how the stream is
//! cut into reads changes nothing (same frames, same error); and that what is
//! left over at the end is an incomplete frame, never a lost complete one.
#![no_main]

use bytes::BytesMut;
use confer_wire::frame::{Frame, FrameError, decode_frame, frame_bytes};
use libfuzzer_sys::fuzz_target;

/// What decoding a whole stream produced.
#[derive(Debug, PartialEq)]
struct Outcome {
    frames: Vec<Frame>,
    error: Option<FrameError>,
    /// Bytes still buffered when the input ran out (or at the error).
    leftover: usize,
}

/// Decodes `stream`, handing it to the decoder in pieces of the given sizes
/// (cycled; 0 is read as 1), as a reader loop would.
fn decode_in_pieces(stream: &[u8], sizes: &[u8]) -> Outcome {
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut at = 0;
    let mut sizes = sizes.iter().copied().map(|s| usize::from(s.max(1))).cycle();
    while at < stream.len() {
        let n = sizes.next().unwrap_or(stream.len()).min(stream.len() - at);
        buf.extend_from_slice(&stream[at..at + n]);
        at += n;
        loop {
            match decode_frame(&mut buf) {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(e) => {
                    return Outcome {
                        frames,
                        error: Some(e),
                        leftover: buf.len(),
                    };
                }
            }
        }
    }
    Outcome {
        frames,
        error: None,
        leftover: buf.len(),
    }
}

fuzz_target!(|input: (Vec<u8>, Vec<u8>)| {
    let (stream, sizes) = input;
    let whole = decode_in_pieces(&stream, &[]);
    let pieces = decode_in_pieces(&stream, &sizes);

    // Every frame is the exact bytes it came from.
    let mut offset = 0;
    for frame in &whole.frames {
        let encoded = frame_bytes(frame.kind, &frame.payload).expect("a decoded frame re-encodes");
        assert_eq!(
            &stream[offset..offset + encoded.len()],
            &encoded[..],
            "frame at {offset}"
        );
        offset += encoded.len();
    }
    if whole.error.is_none() {
        // Nothing complete is left behind.
        assert_eq!(whole.leftover, stream.len() - offset);
        let mut rest = BytesMut::from(&stream[offset..]);
        assert_eq!(
            decode_frame(&mut rest),
            Ok(None),
            "leftover holds a whole frame"
        );
    }

    // The cut of the stream into reads is invisible, except that an error
    // may be found with less of the stream buffered.
    assert_eq!(pieces.frames, whole.frames, "frames depend on read sizes");
    assert_eq!(pieces.error, whole.error, "error depends on read sizes");
    if whole.error.is_none() {
        assert_eq!(pieces.leftover, whole.leftover);
    }
});
