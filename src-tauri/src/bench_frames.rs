//! Synthetic video for measuring the UI alone (cargo feature
//! `bench-frames`, off by default and never in shipped builds): the
//! `bench_frames` command pushes moving 640×360 I420 pictures for a number
//! of made-up participants down the same channel and through the same
//! [`crate::video::deliver`] path as a meeting's decoded video, with no
//! network or decoder involved. `scripts/bench-desktop.sh --synthetic`
//! drives it; see `docs/desktop-bench.md`.

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
            [FIRST_PARTICIPANT + tile, WIDTH, HEIGHT, timestamp],
            &y,
            &u,
            &v,
        );
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
    } = request;
    if !(1..=25).contains(&tiles) || !(1..=60).contains(&fps) || !(1..=600).contains(&seconds) {
        return Err(Error::InvalidInput(
            "bench_frames: 1-25 tiles, 1-60 fps, 1-600 s".into(),
        ));
    }
    let (tx, rx) = mpsc::channel(video::QUEUE * tiles as usize);
    let flush = batch.then_some(FLUSH_EVERY);
    tauri::async_runtime::spawn(video::deliver(rx, video, flush));
    tauri::async_runtime::spawn(async move {
        let pattern = Pattern::new();
        let mut tick = tokio::time::interval(Duration::from_secs(1) / fps);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        for n in 0..seconds * fps {
            tick.tick().await;
            for tile in 0..tiles {
                // A full queue means the UI side is behind: drop, as the
                // media engine's sink does.
                match tx.try_send((FIRST_PARTICIPANT + tile, pattern.packed(tile, n))) {
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
        let id = u32::from_le_bytes(first[0..4].try_into().unwrap());
        assert_eq!(id, FIRST_PARTICIPANT + 2);
        assert_ne!(first[video::HEADER_LEN..], next[video::HEADER_LEN..]);
        // Luma stays in video range.
        let luma = &first[video::HEADER_LEN..video::HEADER_LEN + 640 * 360];
        assert!(luma.iter().all(|&b| (16..=235).contains(&b)));
    }
}
