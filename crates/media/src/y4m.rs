//! YUV4MPEG2 (Y4M) files: raw I420 video for test input and for saving
//! received video. Only 4:2:0 8-bit (`C420`, `C420jpeg`, `C420paldv`,
//! `C420mpeg2` or no `C` tag) is read.

use std::io::Write;
use std::path::Path;

use crate::error::MediaError;
use crate::frame::VideoFrame;

/// A whole Y4M clip.
#[derive(Debug, Clone, PartialEq)]
pub struct Y4mClip {
    /// Picture width.
    pub width: u32,
    /// Picture height.
    pub height: u32,
    /// Frames per second (numerator / denominator of the `F` tag).
    pub fps: f64,
    /// The pictures, with RTP timestamps at 90 kHz from the frame rate.
    pub frames: Vec<VideoFrame>,
}

/// Parses a Y4M clip held in memory.
pub fn parse_y4m(bytes: &[u8]) -> Result<Y4mClip, MediaError> {
    let header_end = bytes
        .iter()
        .position(|b| *b == b'\n')
        .ok_or(MediaError::Truncated {
            what: "Y4M header",
            len: bytes.len(),
            need: bytes.len() + 1,
        })?;
    let header = std::str::from_utf8(&bytes[..header_end])
        .map_err(|_| MediaError::Malformed("Y4M header is not text"))?;
    let mut tags = header.split(' ');
    if tags.next() != Some("YUV4MPEG2") {
        return Err(MediaError::UnsupportedFormat("not a YUV4MPEG2 file".into()));
    }
    let (mut width, mut height, mut fps) = (0u32, 0u32, 30.0f64);
    for tag in tags {
        // The key is the first character, which need not be ASCII in a
        // hostile file (splitting at byte 1 could cut a character).
        let (key, value) = tag.split_at(tag.chars().next().map_or(0, char::len_utf8));
        match key {
            "W" => {
                width = value
                    .parse()
                    .map_err(|_| MediaError::Malformed("Y4M width"))?
            }
            "H" => {
                height = value
                    .parse()
                    .map_err(|_| MediaError::Malformed("Y4M height"))?
            }
            "F" => {
                let (n, d) = value
                    .split_once(':')
                    .ok_or(MediaError::Malformed("Y4M frame rate"))?;
                let n: f64 = n
                    .parse()
                    .map_err(|_| MediaError::Malformed("Y4M frame rate"))?;
                let d: f64 = d
                    .parse()
                    .map_err(|_| MediaError::Malformed("Y4M frame rate"))?;
                if n > 0.0 && d > 0.0 {
                    fps = n / d;
                }
            }
            "C" if !matches!(value, "420" | "420jpeg" | "420paldv" | "420mpeg2") => {
                return Err(MediaError::UnsupportedFormat(format!(
                    "Y4M colour space C{value}"
                )));
            }
            _ => {}
        }
    }
    if width == 0
        || height == 0
        || !width.is_multiple_of(2)
        || !height.is_multiple_of(2)
        || width > 8192
        || height > 8192
    {
        return Err(MediaError::UnsupportedFormat(format!(
            "Y4M size {width}x{height}"
        )));
    }
    let size = VideoFrame::i420_len(width, height);
    let mut frames = Vec::new();
    let mut pos = header_end + 1;
    while pos < bytes.len() {
        let line_end = bytes[pos..]
            .iter()
            .position(|b| *b == b'\n')
            .map(|i| pos + i)
            .ok_or(MediaError::Truncated {
                what: "Y4M frame header",
                len: bytes.len() - pos,
                need: 6,
            })?;
        if !bytes[pos..line_end].starts_with(b"FRAME") {
            return Err(MediaError::Malformed("Y4M frame does not start with FRAME"));
        }
        let data = bytes
            .get(line_end + 1..line_end + 1 + size)
            .ok_or(MediaError::Truncated {
                what: "Y4M frame",
                len: bytes.len() - line_end - 1,
                need: size,
            })?;
        let timestamp = (frames.len() as f64 * 90_000.0 / fps).round() as u32;
        frames.push(VideoFrame::new(width, height, data.to_vec(), timestamp)?);
        pos = line_end + 1 + size;
    }
    Ok(Y4mClip {
        width,
        height,
        fps,
        frames,
    })
}

/// Reads a Y4M file from disk (see [`parse_y4m`]).
pub fn read_y4m(path: &Path) -> Result<Y4mClip, MediaError> {
    let bytes = std::fs::read(path).map_err(|e| MediaError::io(path, e))?;
    parse_y4m(&bytes)
}

/// Streams pictures into a Y4M file (the header comes from the first frame;
/// later frames of another size are scaled to it).
#[derive(Debug)]
pub struct Y4mWriter<W: Write> {
    /// Where the bytes go.
    out: W,
    /// Frame rate written in the header.
    fps: u32,
    /// Size fixed by the first frame.
    size: Option<(u32, u32)>,
}

impl<W: Write> Y4mWriter<W> {
    /// A writer declaring `fps` frames per second.
    pub fn new(out: W, fps: u32) -> Self {
        Y4mWriter {
            out,
            fps: fps.max(1),
            size: None,
        }
    }

    /// Appends one picture.
    pub fn write_frame(&mut self, frame: &VideoFrame) -> Result<(), MediaError> {
        let (w, h) = match self.size {
            Some(size) => size,
            None => {
                writeln!(
                    self.out,
                    "YUV4MPEG2 W{} H{} F{}:1 Ip A1:1 C420jpeg",
                    frame.width, frame.height, self.fps
                )?;
                self.size = Some((frame.width, frame.height));
                (frame.width, frame.height)
            }
        };
        self.out.write_all(b"FRAME\n")?;
        if (w, h) == (frame.width, frame.height) {
            self.out.write_all(&frame.data)?;
        } else {
            self.out.write_all(&frame.scaled(w, h).data)?;
        }
        Ok(())
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> Result<W, MediaError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_back() {
        let mut w = Y4mWriter::new(Vec::new(), 30);
        let a = VideoFrame::black(4, 2);
        let mut b = VideoFrame::black(4, 2);
        b.data[0] = 200;
        w.write_frame(&a).unwrap();
        w.write_frame(&b).unwrap();
        let bytes = w.finish().unwrap();
        let clip = parse_y4m(&bytes).unwrap();
        assert_eq!((clip.width, clip.height, clip.frames.len()), (4, 2, 2));
        assert_eq!(clip.frames[1].data, b.data);
        assert_eq!(clip.frames[1].timestamp, 3000);
    }

    #[test]
    fn rejects_junk_without_panicking() {
        assert!(parse_y4m(b"YUV4MPEG2 W4 H2").is_err());
        assert!(parse_y4m(b"YUV4MPEG2 W4 H2 C444\n").is_err());
        assert!(parse_y4m(b"YUV4MPEG2 W3 H2\n").is_err());
        assert!(parse_y4m(b"YUV4MPEG2 W4 H2\nFRAME\n\x01").is_err());
        assert!(parse_y4m(b"YUV4MPEG2 W4 H2\nFRAMX\n").is_err());
        assert!(parse_y4m(b"P6 W4 H2\n").is_err());
    }

    /// Found by the `y4m_parse` fuzz target: a tag starting with a
    /// multi-byte character panicked when split after its first byte.
    #[test]
    fn a_non_ascii_tag_is_ignored_not_a_panic() {
        let clip = parse_y4m("YUV4MPEG2 W2 H2 ƽ2 \u{0} B\n".as_bytes()).unwrap();
        assert_eq!((clip.width, clip.height, clip.frames.len()), (2, 2, 0));
        assert!(parse_y4m("YUV4MPEG2 Wƽ H2\n".as_bytes()).is_err());
    }
}
