//! Lip sync: when to show a participant's video frame so it matches the
//! audio being played.
//!
//! Convention (sender side): a participant's audio and video RTP timestamps
//! count from the same capture instant, audio at 48 kHz and video at 90 kHz,
//! so `audio_ts / 48000` and `video_ts / 90000` are seconds on one clock.
//! (With RTCP sender reports this mapping would come from their NTP/RTP
//! pairs; Confer's senders share the capture epoch instead.)
//!
//! The helper is sans-IO: feed it what the speakers are playing
//! ([`LipSync::handle_audio_played`]) and ask it when a video frame is due
//! ([`LipSync::video_due`]). Without audio (a muted participant) video plays
//! as soon as it is decoded.

use std::time::{Duration, Instant};

/// A video frame later than this behind the audio is dropped rather than shown.
pub const MAX_VIDEO_LAG: Duration = Duration::from_millis(100);

/// What to do with a decoded video frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoTiming {
    /// Show it at this instant.
    ShowAt(Instant),
    /// It is too late for the audio; skip it.
    Drop,
}

/// Aligns one participant's video with their audio.
#[derive(Debug, Clone, Copy, Default)]
pub struct LipSync {
    /// When the audio frame with this RTP timestamp started playing.
    audio_anchor: Option<(Instant, u32)>,
}

impl LipSync {
    /// No audio heard yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The speakers started playing the frame with RTP timestamp `audio_ts` at `at`.
    pub fn handle_audio_played(&mut self, at: Instant, audio_ts: u32) {
        self.audio_anchor = Some((at, audio_ts));
    }

    /// When the video frame with RTP timestamp `video_ts` should be shown,
    /// judged at `now`.
    pub fn video_due(&self, now: Instant, video_ts: u32) -> VideoTiming {
        let Some((at, audio_ts)) = self.audio_anchor else {
            return VideoTiming::ShowAt(now);
        };
        // Seconds of the video frame minus seconds of the anchored audio, on
        // the shared capture clock (64-bit so neither clock overflows).
        let video_us = i128::from(video_ts) * 1_000_000 / 90_000;
        let audio_us = i128::from(audio_ts) * 1_000_000 / 48_000;
        let delta_us = video_us - audio_us;
        let show = if delta_us >= 0 {
            at + Duration::from_micros(delta_us as u64)
        } else {
            at.checked_sub(Duration::from_micros((-delta_us) as u64))
                .unwrap_or(at)
        };
        if now.saturating_duration_since(show) > MAX_VIDEO_LAG {
            VideoTiming::Drop
        } else {
            VideoTiming::ShowAt(show.max(now))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_follows_the_audio_clock() {
        let t0 = Instant::now();
        let mut s = LipSync::new();
        assert_eq!(s.video_due(t0, 9000), VideoTiming::ShowAt(t0));
        // Audio at 1.0 s of capture time plays at t0.
        s.handle_audio_played(t0, 48_000);
        // Video at 1.1 s: show 100 ms after t0.
        assert_eq!(
            s.video_due(t0, 99_000),
            VideoTiming::ShowAt(t0 + Duration::from_millis(100))
        );
        // Video at 0.95 s: already due, show now.
        assert_eq!(s.video_due(t0, 85_500), VideoTiming::ShowAt(t0));
        // Video at 0.5 s: hopelessly late.
        assert_eq!(s.video_due(t0, 45_000), VideoTiming::Drop);
    }
}
