//! Synthetic video for measuring the UI alone (cargo feature
//! `bench-frames`, off by default and never in shipped builds): the
//! `bench_frames` command pushes moving 640×360 pictures for a number of
//! made-up participants down the same channel and through the same
//! [`crate::video::deliver`] path as a meeting's video, with no network
//! involved: as H.264 access units (the shipped path: the page decodes,
//! encoded once up front from the CLI's moving test pattern) or as raw
//! I420 (the path for pages without WebCodecs), plus optionally a 360×202
//! self view. `scripts/bench-desktop.sh --synthetic` drives it; see
//! `docs/desktop-bench.md`.

use std::time::Duration;

use serde::Deserialize;
use tauri::ipc::Channel;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use crate::error::Error;
use crate::video::{self, FLUSH_EVERY};

/// Picture size: the 360p the CLI's test pattern sends.
const WIDTH: u32 = 640;
/// Picture height.
const HEIGHT: u32 = 360;
/// First made-up participant id, well clear of real ones in a bench.
pub(crate) const FIRST_PARTICIPANT: u32 = 1_000_000;

/// What to push.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BenchFrames {
    /// Tiles (made-up participants), 1 to 25.
    tiles: u32,
    /// Pictures per tile per second, 1 to 60.
    fps: u32,
    /// How long to push, 1 to 600 s.
    seconds: u32,
    /// Batch pictures per display tick (the shipped path) or send each
    /// picture as its own message (to measure the per-message cost).
    batch: bool,
    /// Send the tiles as H.264 for the page to decode (the shipped path)
    /// instead of raw I420.
    #[serde(default)]
    encoded: bool,
    /// Add a small raw self-view tile, as in a meeting.
    #[serde(default)]
    self_view: bool,
}

/// Frames in the encoded loop: one keyframe interval, so the loop starts
/// at a keyframe each time round.
const LOOP_FRAMES: u32 = 90;

/// The CLI's moving 640×360 test pattern, encoded once as a meeting's
/// sender would (camera settings, a keyframe every 90 frames).
fn encoded_loop() -> Result<Vec<(bool, Vec<u8>)>, Error> {
    use confer_media::h264_codec::{VideoEncoder, VideoEncoderConfig};
    use confer_media::simulcast::LayerId;
    use confer_media::source::PatternSource;
    let fail = |e: confer_media::MediaError| Error::InvalidInput(format!("bench encoder: {e}"));
    let mut encoder = VideoEncoder::new(VideoEncoderConfig::camera(LayerId::High)).map_err(fail)?;
    let mut units = Vec::new();
    for n in 0..LOOP_FRAMES {
        let mut picture = PatternSource::picture(WIDTH, HEIGHT, u64::from(n));
        picture.timestamp = n * 3000;
        if let Some(unit) = encoder.encode(&picture).map_err(fail)? {
            units.push((unit.keyframe, unit.to_annex_b()));
        }
    }
    match units.first() {
        Some((true, _)) => Ok(units),
        _ => Err(Error::InvalidInput(
            "bench encoder: the loop does not start at a keyframe".into(),
        )),
    }
}

/// A moving diagonal ramp: row `r` of picture `n` is a window into a
/// precomputed double-width ramp, so a picture costs row copies rather
/// than per-pixel work (the bench measures the UI, not this).
struct Pattern {
    ramp: Vec<u8>,
}

impl Pattern {
    fn new() -> Self {
        let ramp = (0..2 * WIDTH as usize)
            .map(|x| (16 + (x * 219 / WIDTH as usize) % 220) as u8)
            .collect();
        Self { ramp }
    }

    /// Picture `n` of `tile`, packed for the channel.
    fn packed(&self, tile: u32, n: u32) -> Vec<u8> {
        let (w, h) = (WIDTH as usize, HEIGHT as usize);
        let mut y = Vec::with_capacity(w * h);
        for row in 0..h {
            let start = (row + n as usize * 4 + tile as usize * 40) % w;
            y.extend_from_slice(&self.ramp[start..start + w]);
        }
        let chroma = w.div_ceil(2) * h.div_ceil(2);
        // A different tint per tile so tiles are told apart on screen.
        let u = vec![(64 + tile * 37 % 128) as u8; chroma];
        let v = vec![(192 - tile * 53 % 128) as u8; chroma];
        let mut out = Vec::with_capacity(video::packed_len(WIDTH, HEIGHT));
        let timestamp = n.wrapping_mul(90_000 / 30);
        video::pack_into(
            &mut out,
            [FIRST_PARTICIPANT + tile, 0, timestamp, WIDTH, HEIGHT],
            &y,
            &u,
            &v,
        );
        out
    }

    /// Picture `n` of the self view (`participant`): tile `tile`'s pattern
    /// scaled down as the self view is.
    fn self_view(&self, tile: u32, participant: u32, n: u32) -> Vec<u8> {
        let full = self.packed(tile, n);
        let data = full[video::HEADER_LEN..].to_vec();
        let timestamp = n.wrapping_mul(3000);
        let Ok(frame) = confer_media::frame::VideoFrame::new(WIDTH, HEIGHT, data, timestamp) else {
            return full;
        };
        let half = video::self_view(&frame);
        let mut out = Vec::with_capacity(video::packed_len(half.width, half.height));
        let header = [participant, 0, timestamp, half.width, half.height];
        video::pack_into(&mut out, header, half.y(), half.u(), half.v());
        out
    }
}

/// Starts pushing synthetic pictures down `video` and returns at once.
#[tauri::command]
pub(crate) async fn bench_frames(request: BenchFrames, video: Channel) -> Result<(), Error> {
    let BenchFrames {
        tiles,
        fps,
        seconds,
        batch,
        encoded,
        self_view,
    } = request;
    if !(1..=25).contains(&tiles) || !(1..=60).contains(&fps) || !(1..=600).contains(&seconds) {
        return Err(Error::InvalidInput(
            "bench_frames: 1-25 tiles, 1-60 fps, 1-600 s".into(),
        ));
    }
    let units = if encoded {
        tauri::async_runtime::spawn_blocking(encoded_loop)
            .await
            .map_err(|e| Error::InvalidInput(format!("bench encoder: {e}")))??
    } else {
        Vec::new()
    };
    let (tx, rx) = mpsc::channel(video::ENCODED_QUEUE.max(video::QUEUE * tiles as usize));
    let flush = batch.then_some(FLUSH_EVERY);
    tauri::async_runtime::spawn(video::deliver(rx, video, flush, |_, _| {}));
    tauri::async_runtime::spawn(async move {
        let pattern = Pattern::new();
        let own = FIRST_PARTICIPANT + tiles;
        let mut tick = tokio::time::interval(Duration::from_secs(1) / fps);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        for n in 0..seconds * fps {
            tick.tick().await;
            let mut records = Vec::new();
            for tile in 0..tiles {
                let participant = FIRST_PARTICIPANT + tile;
                if let Some((keyframe, unit)) = units.get((n % LOOP_FRAMES) as usize) {
                    let flags = if *keyframe { video::FLAG_KEYFRAME } else { 0 };
                    let timestamp = n.wrapping_mul(3000);
                    records.push(video::Record::Encoded(video::Unit {
                        participant,
                        flags,
                        timestamp,
                        annex_b: unit.clone(),
                    }));
                } else if !encoded {
                    records.push(video::Record::Picture(
                        (participant, false),
                        pattern.packed(tile, n),
                    ));
                }
            }
            if self_view {
                records.push(video::Record::Picture(
                    (own, false),
                    pattern.self_view(tiles, own, n),
                ));
            }
            for record in records {
                // A full queue means the UI side is behind: drop, as the
                // media engine's sink does.
                match tx.try_send(record) {
                    Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => {}
                    Err(mpsc::error::TrySendError::Closed(_)) => return,
                }
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_whole_and_move() {
        let pattern = Pattern::new();
        let first = pattern.packed(2, 0);
        let next = pattern.packed(2, 1);
        assert_eq!(first.len(), video::packed_len(WIDTH, HEIGHT));
        let id = u32::from_le_bytes(first[4..8].try_into().unwrap());
        assert_eq!(id, FIRST_PARTICIPANT + 2);
        assert_ne!(first[video::HEADER_LEN..], next[video::HEADER_LEN..]);
        // Luma stays in video range.
        let luma = &first[video::HEADER_LEN..video::HEADER_LEN + 640 * 360];
        assert!(luma.iter().all(|&b| (16..=235).contains(&b)));
        assert_eq!(
            pattern.self_view(9, 5, 0).len(),
            video::packed_len(360, 202)
        );
    }

    #[test]
    fn the_encoded_loop_starts_at_a_keyframe_and_decodes() {
        let units = encoded_loop().unwrap();
        assert_eq!(units.len(), LOOP_FRAMES as usize);
        assert!(units[0].0);
        let mut decoder = confer_media::h264_codec::VideoDecoder::new().unwrap();
        for (_, unit) in units.iter().chain(units.iter().take(3)) {
            let picture = decoder.decode_annex_b(unit, 0).unwrap().unwrap();
            assert_eq!((picture.width, picture.height), (WIDTH, HEIGHT));
        }
    }
}
