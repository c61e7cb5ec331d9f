//! Decoded video to the UI without JSON: each picture goes down a Tauri
//! `ipc::Channel` as raw bytes (an `ArrayBuffer` in the page), which the UI
//! draws on the participant's tile canvas.
//!
//! Wire format of one message (all integers little-endian `u32`):
//! `participant, width, height, timestamp`, then the I420 planes Y
//! (`width*height`), U and V (`ceil(w/2)*ceil(h/2)` each).

use confer_client::media::{DecodedVideo, MediaOutput, VideoKind};
use tauri::ipc::{Channel, InvokeResponseBody};
use tokio::sync::mpsc;

/// Bytes before the planes.
pub(crate) const HEADER_LEN: usize = 16;

/// How many decoded outputs may wait for the forwarder; beyond that the
/// engine's sink drops them (a late picture is worth nothing).
pub(crate) const QUEUE: usize = 8;

/// Packs one picture for the UI.
pub(crate) fn pack(video: &DecodedVideo) -> Vec<u8> {
    let f = &video.frame;
    let (y, u, v) = (f.y(), f.u(), f.v());
    let mut out = Vec::with_capacity(HEADER_LEN + y.len() + u.len() + v.len());
    for word in [video.participant.0, f.width, f.height, f.timestamp] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    out.extend_from_slice(y);
    out.extend_from_slice(u);
    out.extend_from_slice(v);
    out
}

/// Forwards camera pictures from the media engine to the UI until either
/// side closes. Screen shares and audio are not drawn yet.
pub(crate) async fn forward(mut outputs: mpsc::Receiver<MediaOutput>, channel: Channel) {
    while let Some(output) = outputs.recv().await {
        if let MediaOutput::Video(video) = output
            && video.kind == VideoKind::Camera
            && channel.send(InvokeResponseBody::Raw(pack(&video))).is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use confer_media::frame::VideoFrame;
    use confer_wire::ids::ParticipantId;

    use super::*;

    #[test]
    fn packs_a_header_then_the_three_planes() {
        let (w, h) = (4, 2);
        let data: Vec<u8> = (0..VideoFrame::i420_len(w, h)).map(|i| i as u8).collect();
        let frame = VideoFrame::new(w, h, data.clone(), 9000).unwrap();
        let packed = pack(&DecodedVideo {
            participant: ParticipantId(7),
            kind: VideoKind::Camera,
            frame,
        });
        let word = |i: usize| u32::from_le_bytes(packed[i * 4..i * 4 + 4].try_into().unwrap());
        assert_eq!([word(0), word(1), word(2), word(3)], [7, 4, 2, 9000]);
        assert_eq!(&packed[HEADER_LEN..], data.as_slice());
    }
}
