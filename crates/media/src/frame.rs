//! Raw media frames: 20 ms of mono 48 kHz audio, or one I420 picture.

use crate::error::MediaError;

/// Audio sample rate everywhere in the engine (Opus's native rate).
pub const SAMPLE_RATE: u32 = 48_000;

/// Samples in one 20 ms audio frame.
pub const FRAME_SAMPLES: usize = 960;

/// Duration of one audio frame.
pub const FRAME_DURATION: std::time::Duration = std::time::Duration::from_millis(20);

/// How an audio frame came to be on the receive side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioOrigin {
    /// Captured or read from a file.
    Captured,
    /// Decoded from the packet for this frame.
    Decoded,
    /// Rebuilt from the forward error correction data in the next packet.
    Fec,
    /// Invented by the decoder's packet-loss concealment.
    Concealed,
}

/// 20 ms of mono audio at 48 kHz.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioFrame {
    /// [`FRAME_SAMPLES`] signed 16-bit samples.
    pub samples: Vec<i16>,
    /// RTP timestamp (sample count) of the first sample.
    pub timestamp: u32,
    /// Where the samples came from.
    pub origin: AudioOrigin,
}

/// One picture in I420 (planar Y, then U and V at half resolution).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoFrame {
    /// Width in pixels (even).
    pub width: u32,
    /// Height in pixels (even).
    pub height: u32,
    /// Y plane (`width*height`), then U and V (`width/2 * height/2` each).
    pub data: Vec<u8>,
    /// RTP timestamp at 90 kHz.
    pub timestamp: u32,
}

impl VideoFrame {
    /// Bytes an I420 picture of this size takes.
    pub fn i420_len(width: u32, height: u32) -> usize {
        let (w, h) = (width as usize, height as usize);
        w * h + 2 * (w / 2) * (h / 2)
    }

    /// Wraps I420 bytes, checking the size (dimensions must be even and non-zero).
    pub fn new(width: u32, height: u32, data: Vec<u8>, timestamp: u32) -> Result<Self, MediaError> {
        if width == 0
            || height == 0
            || !width.is_multiple_of(2)
            || !height.is_multiple_of(2)
            || data.len() != Self::i420_len(width, height)
        {
            return Err(MediaError::FrameSize {
                width,
                height,
                len: data.len(),
            });
        }
        Ok(VideoFrame {
            width,
            height,
            data,
            timestamp,
        })
    }

    /// A black picture.
    pub fn black(width: u32, height: u32) -> Self {
        let luma = width as usize * height as usize;
        let mut data = vec![16u8; Self::i420_len(width, height)];
        data[luma..].fill(128);
        VideoFrame {
            width,
            height,
            data,
            timestamp: 0,
        }
    }

    /// The Y plane.
    pub fn y(&self) -> &[u8] {
        &self.data[..self.luma_len()]
    }

    /// The U plane.
    pub fn u(&self) -> &[u8] {
        let l = self.luma_len();
        &self.data[l..l + self.chroma_len()]
    }

    /// The V plane.
    pub fn v(&self) -> &[u8] {
        let l = self.luma_len() + self.chroma_len();
        &self.data[l..]
    }

    fn luma_len(&self) -> usize {
        self.width as usize * self.height as usize
    }

    fn chroma_len(&self) -> usize {
        (self.width as usize / 2) * (self.height as usize / 2)
    }

    /// This picture scaled to `width`×`height` (area average when shrinking,
    /// nearest when growing): the simulcast layers' input.
    pub fn scaled(&self, width: u32, height: u32) -> VideoFrame {
        if width == self.width && height == self.height {
            return self.clone();
        }
        let mut data = Vec::with_capacity(Self::i420_len(width, height));
        scale_plane(
            self.y(),
            self.width as usize,
            self.height as usize,
            width as usize,
            height as usize,
            &mut data,
        );
        let (sw, sh) = (self.width as usize / 2, self.height as usize / 2);
        let (dw, dh) = (width as usize / 2, height as usize / 2);
        scale_plane(self.u(), sw, sh, dw, dh, &mut data);
        scale_plane(self.v(), sw, sh, dw, dh, &mut data);
        VideoFrame {
            width,
            height,
            data,
            timestamp: self.timestamp,
        }
    }

    /// Builds an I420 picture from packed RGBA (or BGRA with `bgr`) pixels,
    /// BT.601 limited range; odd sizes are cropped to even.
    pub fn from_rgba(
        width: u32,
        height: u32,
        rgba: &[u8],
        bgr: bool,
        timestamp: u32,
    ) -> Result<Self, MediaError> {
        let (w, h) = (width as usize & !1, height as usize & !1);
        if w == 0 || h == 0 || rgba.len() < width as usize * height as usize * 4 {
            return Err(MediaError::FrameSize {
                width,
                height,
                len: rgba.len(),
            });
        }
        let stride = width as usize * 4;
        let mut data = vec![0u8; w * h + 2 * (w / 2) * (h / 2)];
        let (ys, uv) = data.split_at_mut(w * h);
        let (us, vs) = uv.split_at_mut((w / 2) * (h / 2));
        let px = |x: usize, y: usize| {
            let i = y * stride + x * 4;
            let (r, g, b) = (
                i32::from(rgba[i]),
                i32::from(rgba[i + 1]),
                i32::from(rgba[i + 2]),
            );
            if bgr { (b, g, r) } else { (r, g, b) }
        };
        for y in 0..h {
            for x in 0..w {
                let (r, g, b) = px(x, y);
                ys[y * w + x] = (((66 * r + 129 * g + 25 * b + 128) >> 8) + 16).clamp(0, 255) as u8;
            }
        }
        for y in 0..h / 2 {
            for x in 0..w / 2 {
                let (mut r, mut g, mut b) = (0, 0, 0);
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let (pr, pg, pb) = px(2 * x + dx, 2 * y + dy);
                    r += pr;
                    g += pg;
                    b += pb;
                }
                let (r, g, b) = (r / 4, g / 4, b / 4);
                us[y * (w / 2) + x] =
                    (((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128).clamp(0, 255) as u8;
                vs[y * (w / 2) + x] =
                    (((112 * r - 94 * g - 18 * b + 128) >> 8) + 128).clamp(0, 255) as u8;
            }
        }
        VideoFrame::new(w as u32, h as u32, data, timestamp)
    }

    /// Peak signal-to-noise ratio of the luma plane against `reference`, in dB
    /// (`f64::INFINITY` when identical, 0 when the sizes differ).
    pub fn psnr_y(&self, reference: &VideoFrame) -> f64 {
        if self.width != reference.width || self.height != reference.height {
            return 0.0;
        }
        let mse = self
            .y()
            .iter()
            .zip(reference.y())
            .map(|(a, b)| {
                let d = f64::from(*a) - f64::from(*b);
                d * d
            })
            .sum::<f64>()
            / self.y().len() as f64;
        if mse == 0.0 {
            f64::INFINITY
        } else {
            10.0 * (255.0 * 255.0 / mse).log10()
        }
    }
}

/// Resamples one plane: box average when shrinking, nearest neighbour otherwise.
fn scale_plane(src: &[u8], sw: usize, sh: usize, dw: usize, dh: usize, out: &mut Vec<u8>) {
    for dy in 0..dh {
        let y0 = dy * sh / dh;
        let y1 = ((dy + 1) * sh / dh).max(y0 + 1).min(sh);
        for dx in 0..dw {
            let x0 = dx * sw / dw;
            let x1 = ((dx + 1) * sw / dw).max(x0 + 1).min(sw);
            let mut sum = 0u32;
            for y in y0..y1 {
                for x in x0..x1 {
                    sum += u32::from(src[y * sw + x]);
                }
            }
            let n = ((y1 - y0) * (x1 - x0)) as u32;
            out.push(((sum + n / 2) / n) as u8);
        }
    }
}

impl openh264::formats::YUVSource for VideoFrame {
    fn dimensions(&self) -> (usize, usize) {
        (self.width as usize, self.height as usize)
    }

    fn strides(&self) -> (usize, usize, usize) {
        let w = self.width as usize;
        (w, w / 2, w / 2)
    }

    fn y(&self) -> &[u8] {
        VideoFrame::y(self)
    }

    fn u(&self) -> &[u8] {
        VideoFrame::u(self)
    }

    fn v(&self) -> &[u8] {
        VideoFrame::v(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_sizes_and_scales_planes() {
        assert!(VideoFrame::new(4, 2, vec![0; 11], 0).is_err());
        assert!(VideoFrame::new(3, 2, vec![0; 9], 0).is_err());
        let f = VideoFrame::new(4, 2, vec![10, 20, 30, 40, 50, 60, 70, 80, 1, 2, 3, 4], 0).unwrap();
        let s = f.scaled(2, 2);
        assert_eq!(s.y(), &[15, 35, 55, 75]);
        assert_eq!(s.u(), &[2]);
        assert_eq!(s.v(), &[4]);
        assert_eq!(f.psnr_y(&f), f64::INFINITY);
    }

    #[test]
    fn converts_rgba_to_i420() {
        let red = [255u8, 0, 0, 255].repeat(4);
        let f = VideoFrame::from_rgba(2, 2, &red, false, 0).unwrap();
        assert_eq!(f.y(), &[82; 4]);
        assert_eq!((f.u()[0], f.v()[0]), (90, 240));
        assert!(VideoFrame::from_rgba(2, 2, &red[..8], false, 0).is_err());
    }
}
