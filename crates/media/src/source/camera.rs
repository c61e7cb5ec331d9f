//! Camera capture through nokhwa (V4L2 on Linux, AVFoundation and Media
//! Foundation elsewhere). The camera is asked for YUYV, which every UVC
//! camera offers and which converts to I420 without a JPEG decoder.

use std::time::Instant;

use nokhwa::Camera;
use nokhwa::pixel_format::YuyvFormat;
use nokhwa::utils::{ApiBackend, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType};

use super::{DeviceInfo, DeviceKind, Frame, MediaKind, MediaSource};
use crate::error::MediaError;
use crate::frame::VideoFrame;

/// A camera streaming YUYV frames, converted to I420.
pub struct CameraSource {
    name: String,
    camera: Camera,
    start: Option<Instant>,
}

impl std::fmt::Debug for CameraSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CameraSource")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The cameras nokhwa can see.
pub(super) fn list() -> Result<Vec<DeviceInfo>, MediaError> {
    let cams = nokhwa::query(ApiBackend::Auto).map_err(|e| MediaError::DeviceUnavailable {
        kind: "camera",
        name: "camera backend".into(),
        reason: e.to_string(),
    })?;
    Ok(cams
        .into_iter()
        .map(|c| DeviceInfo {
            id: format!("camera:{}", c.index()),
            name: c.human_name(),
            kind: DeviceKind::Camera,
        })
        .collect())
}

impl CameraSource {
    /// Opens `camera:N` (the index [`super::list_devices`] reported).
    pub fn open(id: &str) -> Result<Self, MediaError> {
        let not_found = || MediaError::DeviceNotFound {
            kind: "camera",
            id: id.to_string(),
        };
        let index: u32 = id
            .strip_prefix("camera:")
            .and_then(|n| n.parse().ok())
            .ok_or_else(not_found)?;
        let known = list()?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or_else(not_found)?;
        let requested =
            RequestedFormat::new::<YuyvFormat>(RequestedFormatType::AbsoluteHighestFrameRate);
        let unavailable = |e: nokhwa::NokhwaError| MediaError::DeviceUnavailable {
            kind: "camera",
            name: known.name.clone(),
            reason: e.to_string(),
        };
        let mut camera = Camera::new(CameraIndex::Index(index), requested).map_err(unavailable)?;
        camera.open_stream().map_err(unavailable)?;
        Ok(CameraSource {
            name: known.name.clone(),
            camera,
            start: None,
        })
    }
}

/// Converts packed YUYV 4:2:2 to I420 (chroma of even rows).
fn yuyv_to_i420(width: u32, height: u32, yuyv: &[u8]) -> Result<VideoFrame, MediaError> {
    let (w, h) = (width as usize & !1, height as usize & !1);
    let stride = width as usize * 2;
    if w == 0 || h == 0 || yuyv.len() < stride * height as usize {
        return Err(MediaError::FrameSize {
            width,
            height,
            len: yuyv.len(),
        });
    }
    let mut data = Vec::with_capacity(VideoFrame::i420_len(w as u32, h as u32));
    for y in 0..h {
        data.extend((0..w).map(|x| yuyv[y * stride + x * 2]));
    }
    for off in [1usize, 3] {
        for y in (0..h).step_by(2) {
            data.extend((0..w / 2).map(|x| yuyv[y * stride + x * 4 + off]));
        }
    }
    VideoFrame::new(w as u32, h as u32, data, 0)
}

impl MediaSource for CameraSource {
    fn kind(&self) -> MediaKind {
        MediaKind::Video
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    /// Blocks until the camera delivers its next frame (cameras pace themselves).
    fn poll_frame(&mut self, now: Instant) -> Result<Option<Frame>, MediaError> {
        let start = *self.start.get_or_insert(now);
        let buffer = self
            .camera
            .frame()
            .map_err(|e| MediaError::DeviceUnavailable {
                kind: "camera",
                name: self.name.clone(),
                reason: e.to_string(),
            })?;
        if buffer.source_frame_format() != FrameFormat::YUYV {
            return Err(MediaError::UnsupportedFormat(format!(
                "camera {} sent {:?}, expected YUYV",
                self.name,
                buffer.source_frame_format()
            )));
        }
        let res = buffer.resolution();
        let mut f = yuyv_to_i420(res.width(), res.height(), buffer.buffer())?;
        f.timestamp = (now.duration_since(start).as_micros() * 9 / 100) as u32;
        Ok(Some(Frame::Video(f)))
    }

    fn poll_timeout(&self) -> Option<Instant> {
        Some(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_yuyv() {
        // 2x2: Y0 U Y1 V per row.
        let yuyv = [10, 100, 20, 200, 30, 101, 40, 201];
        let f = yuyv_to_i420(2, 2, &yuyv).unwrap();
        assert_eq!(f.data, vec![10, 20, 30, 40, 100, 200]);
        assert!(yuyv_to_i420(2, 2, &yuyv[..4]).is_err());
    }
}
