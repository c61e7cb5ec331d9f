//! The Y4M reader on arbitrary bytes: never panics or allocates beyond
//! what the input holds; a clip it accepts has frames of the declared size
//! and survives being written and read again.
#![no_main]

use confer_media::frame::VideoFrame;
use confer_media::y4m::{Y4mWriter, parse_y4m};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(clip) = parse_y4m(data) else {
        return;
    };
    let frame_len = VideoFrame::i420_len(clip.width, clip.height);
    // Every frame is backed by input bytes: no frame is invented.
    assert!(clip.frames.len() * frame_len <= data.len());
    for f in &clip.frames {
        assert_eq!((f.width, f.height), (clip.width, clip.height));
        assert_eq!(f.data.len(), frame_len);
    }
    let fps = if clip.fps.is_finite() && clip.fps >= 1.0 && clip.fps <= 1000.0 {
        clip.fps.round() as u32
    } else {
        30
    };
    let mut w = Y4mWriter::new(Vec::new(), fps);
    for f in &clip.frames {
        w.write_frame(f).expect("a parsed frame writes");
    }
    let bytes = w.finish().expect("writing to memory works");
    if clip.frames.is_empty() {
        return;
    }
    let again = parse_y4m(&bytes).expect("a written clip parses");
    assert_eq!(again.frames.len(), clip.frames.len());
    for (a, b) in again.frames.iter().zip(&clip.frames) {
        assert_eq!(a.data, b.data);
    }
});
