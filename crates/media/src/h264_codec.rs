//! Thin wrappers around openh264 (built from source with nasm): an encoder
//! per resolution, the three-layer simulcast encoder, and the decoder.
//!
//! Camera video uses openh264's camera real-time mode; screen share uses its
//! screen-content mode (better text, cheaper on static content) at native
//! resolution and a lower frame rate ([`VideoEncoderConfig::screen`]).

use openh264::OpenH264API;
use openh264::decoder::{Decoder, DecoderConfig};
use openh264::encoder::{
    BitRate, Complexity, Encoder, EncoderConfig, FrameRate, IntraFramePeriod, RateControlMode,
    UsageType,
};
use openh264::formats::YUVSource;

use crate::error::MediaError;
use crate::frame::VideoFrame;
use crate::h264_rtp::{is_keyframe, join_annex_b, split_annex_b};
use crate::simulcast::LayerId;

/// What the video shows, which picks the encoder's tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    /// A camera: natural images, motion.
    Camera,
    /// A screen or window: text, sharp edges, mostly static.
    Screen,
}

/// Settings of one encoder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoEncoderConfig {
    /// Target bitrate in bits per second.
    pub bitrate: u32,
    /// Highest frame rate fed in.
    pub max_fps: f32,
    /// Frames between periodic keyframes (0 = only on request).
    pub keyframe_interval: u32,
    /// Camera or screen tuning.
    pub content: ContentKind,
    /// Encoder threads (1 for predictable per-core cost).
    pub threads: u16,
}

impl VideoEncoderConfig {
    /// Camera video at the bitrate suited to `layer`, 30 fps, a keyframe every 3 s.
    pub fn camera(layer: LayerId) -> Self {
        VideoEncoderConfig {
            bitrate: match layer {
                LayerId::Low => 150_000,
                LayerId::Medium => 500_000,
                LayerId::High => 1_500_000,
            },
            max_fps: 30.0,
            keyframe_interval: 90,
            content: ContentKind::Camera,
            threads: 1,
        }
    }

    /// Screen share: native resolution, 5 fps, 1.2 Mbit/s, a keyframe every 10 s.
    pub fn screen() -> Self {
        VideoEncoderConfig {
            bitrate: 1_200_000,
            max_fps: 5.0,
            keyframe_interval: 50,
            content: ContentKind::Screen,
            threads: 1,
        }
    }
}

/// One encoded picture: an access unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedFrame {
    /// NAL units without start codes.
    pub nals: Vec<Vec<u8>>,
    /// Whether it is a keyframe (IDR, decodable on its own).
    pub keyframe: bool,
}

impl EncodedFrame {
    /// The access unit as Annex B bytes (for `.h264` files).
    pub fn to_annex_b(&self) -> Vec<u8> {
        let mut out = Vec::new();
        join_annex_b(&self.nals, &mut out);
        out
    }
}

/// An H.264 encoder for one resolution.
pub struct VideoEncoder {
    inner: Encoder,
    config: VideoEncoderConfig,
}

impl std::fmt::Debug for VideoEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoEncoder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl VideoEncoder {
    /// An encoder with `config`; the size comes from the first frame.
    pub fn new(config: VideoEncoderConfig) -> Result<Self, MediaError> {
        let usage = match config.content {
            ContentKind::Camera => UsageType::CameraVideoRealTime,
            ContentKind::Screen => UsageType::ScreenContentRealTime,
        };
        let oh = EncoderConfig::new()
            .bitrate(BitRate::from_bps(config.bitrate))
            .max_frame_rate(FrameRate::from_hz(config.max_fps))
            .usage_type(usage)
            .rate_control_mode(RateControlMode::Bitrate)
            .skip_frames(false)
            .complexity(Complexity::Low)
            .intra_frame_period(IntraFramePeriod::from_num_frames(config.keyframe_interval))
            .num_threads(config.threads);
        let inner = Encoder::with_api_config(OpenH264API::from_source(), oh)?;
        Ok(VideoEncoder { inner, config })
    }

    /// The settings in use.
    pub fn config(&self) -> VideoEncoderConfig {
        self.config
    }

    /// Makes the next frame a keyframe (a receiver lost its reference).
    pub fn request_keyframe(&mut self) {
        self.inner.force_intra_frame();
    }

    /// Encodes one picture; `None` if the encoder skipped it.
    pub fn encode(&mut self, frame: &VideoFrame) -> Result<Option<EncodedFrame>, MediaError> {
        let ms = u64::from(frame.timestamp) / 90;
        let bits = self
            .inner
            .encode_at(frame, openh264::Timestamp::from_millis(ms))?;
        let mut annex_b = Vec::new();
        bits.write_vec(&mut annex_b);
        let nals = split_annex_b(&annex_b);
        if nals.is_empty() {
            return Ok(None);
        }
        let keyframe = is_keyframe(&nals);
        Ok(Some(EncodedFrame { nals, keyframe }))
    }
}

/// Encodes one source into up to three simulcast layers (720p, 360p, 180p),
/// each from its own downscaled copy of the picture.
#[derive(Debug)]
pub struct SimulcastEncoder {
    /// Layers, lowest first.
    layers: Vec<(LayerId, VideoEncoder)>,
}

impl SimulcastEncoder {
    /// Encoders for `layers` with the camera settings of each.
    pub fn new(layers: &[LayerId]) -> Result<Self, MediaError> {
        let mut v = Vec::new();
        for &layer in layers {
            v.push((layer, VideoEncoder::new(VideoEncoderConfig::camera(layer))?));
        }
        v.sort_by_key(|(l, _)| *l);
        Ok(SimulcastEncoder { layers: v })
    }

    /// The layers being encoded.
    pub fn layers(&self) -> Vec<LayerId> {
        self.layers.iter().map(|(l, _)| *l).collect()
    }

    /// Asks `layer` for a keyframe on its next frame.
    pub fn request_keyframe(&mut self, layer: LayerId) {
        if let Some((_, e)) = self.layers.iter_mut().find(|(l, _)| *l == layer) {
            e.request_keyframe();
        }
    }

    /// Encodes `frame` (any size; scaled to each layer's size) into every layer.
    pub fn encode(
        &mut self,
        frame: &VideoFrame,
    ) -> Result<Vec<(LayerId, EncodedFrame)>, MediaError> {
        let mut out = Vec::with_capacity(self.layers.len());
        for (layer, encoder) in &mut self.layers {
            let (w, h) = layer.dimensions();
            let scaled;
            let input = if (frame.width, frame.height) == (w, h) {
                frame
            } else {
                scaled = frame.scaled(w, h);
                &scaled
            };
            if let Some(e) = encoder.encode(input)? {
                out.push((*layer, e));
            }
        }
        Ok(out)
    }
}

/// An H.264 decoder.
pub struct VideoDecoder {
    inner: Decoder,
}

impl std::fmt::Debug for VideoDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoDecoder").finish_non_exhaustive()
    }
}

impl VideoDecoder {
    /// A decoder (single-threaded, as openh264 recommends).
    pub fn new() -> Result<Self, MediaError> {
        let inner = Decoder::with_api_config(OpenH264API::from_source(), DecoderConfig::new())?;
        Ok(VideoDecoder { inner })
    }

    /// Decodes one access unit; `None` if it produced no picture yet.
    pub fn decode(
        &mut self,
        nals: &[Vec<u8>],
        timestamp: u32,
    ) -> Result<Option<VideoFrame>, MediaError> {
        let mut annex_b = Vec::new();
        join_annex_b(nals, &mut annex_b);
        self.decode_annex_b(&annex_b, timestamp)
    }

    /// Decodes Annex B bytes (one or more whole NAL units).
    pub fn decode_annex_b(
        &mut self,
        annex_b: &[u8],
        timestamp: u32,
    ) -> Result<Option<VideoFrame>, MediaError> {
        let Some(yuv) = self.inner.decode(annex_b)? else {
            return Ok(None);
        };
        let (w, h) = yuv.dimensions();
        let (ys, us, vs) = yuv.strides();
        let mut data = Vec::with_capacity(VideoFrame::i420_len(w as u32, h as u32));
        let planes = [
            (yuv.y(), ys, w, h),
            (yuv.u(), us, w / 2, h / 2),
            (yuv.v(), vs, w / 2, h / 2),
        ];
        for (plane, stride, width, height) in planes {
            for row in 0..height {
                let line = plane
                    .get(row * stride..row * stride + width)
                    .ok_or(MediaError::Malformed("decoder returned a short plane"))?;
                data.extend_from_slice(line);
            }
        }
        Ok(Some(VideoFrame::new(w as u32, h as u32, data, timestamp)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_frame_is_a_keyframe_and_decodes() {
        let mut enc = VideoEncoder::new(VideoEncoderConfig::camera(LayerId::Low)).unwrap();
        let mut dec = VideoDecoder::new().unwrap();
        let mut f = VideoFrame::black(320, 180);
        f.data[..320 * 90].fill(200);
        let e = enc.encode(&f).unwrap().unwrap();
        assert!(e.keyframe);
        let d = dec.decode(&e.nals, 0).unwrap().unwrap();
        assert_eq!((d.width, d.height), (320, 180));
        assert!(d.psnr_y(&f) > 30.0, "{}", d.psnr_y(&f));
        enc.request_keyframe();
        assert!(enc.encode(&f).unwrap().unwrap().keyframe);
    }

    #[test]
    fn garbage_is_an_error_or_nothing_never_a_panic() {
        let mut dec = VideoDecoder::new().unwrap();
        let junk = vec![
            vec![0x65, 0xff, 0x00, 0x13, 0x37],
            vec![0x67],
            vec![0x41; 64],
        ];
        let _ = dec.decode(&junk, 0);
    }
}
