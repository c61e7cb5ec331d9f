//! The live meeting indicators, as pure logic: connection quality from loss
//! and round-trip time, loss from the media engine's counters, audio levels
//! and the active speaker.
//!
//! Quality thresholds (what the controls bar's indicator shows):
//! - good: loss under [`GOOD_LOSS_PERCENT`] and RTT under [`GOOD_RTT_MS`];
//! - poor: loss over [`POOR_LOSS_PERCENT`] or RTT over [`POOR_RTT_MS`];
//! - fair: anything between.
//!
//! Loss is measured on what we receive, over the last report interval:
//! audio frames rebuilt from FEC (each one a lost packet) plus camera frames
//! dropped broken, over all audio and camera frames. Concealed audio frames
//! are left out: the jitter buffer also "conceals" the silence of a muted
//! sender, which is not loss.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use confer_client::media::MediaEngineStats;

use crate::models::ConnectionQuality;

/// Below this loss (percent), and below [`GOOD_RTT_MS`], the link is good.
pub(crate) const GOOD_LOSS_PERCENT: f32 = 2.0;
/// Below this RTT (ms), and below [`GOOD_LOSS_PERCENT`], the link is good.
pub(crate) const GOOD_RTT_MS: u32 = 150;
/// Above this loss (percent) the link is poor.
pub(crate) const POOR_LOSS_PERCENT: f32 = 10.0;
/// Above this RTT (ms) the link is poor.
pub(crate) const POOR_RTT_MS: u32 = 400;

/// Quieter than this level (0..1) is not speech.
pub(crate) const SPEECH_LEVEL: f32 = 0.25;
/// How long the active speaker keeps the indicator after falling quiet or
/// being outspoken, so it does not flicker between words.
pub(crate) const SPEAKER_HOLD: Duration = Duration::from_millis(1500);
/// How much louder (in level) someone must be to take over early.
const TAKEOVER_MARGIN: f32 = 0.15;

/// How often levels go to the UI.
pub(crate) const LEVELS_EVERY: Duration = Duration::from_millis(200);

/// The indicator for `loss_percent` and `rtt_ms` (unmeasured RTT counts as
/// fine: loss alone decides then).
pub(crate) fn quality(loss_percent: f32, rtt_ms: Option<u32>) -> ConnectionQuality {
    let rtt = rtt_ms.unwrap_or(0);
    if loss_percent > POOR_LOSS_PERCENT || rtt > POOR_RTT_MS {
        ConnectionQuality::Poor
    } else if loss_percent < GOOD_LOSS_PERCENT && rtt < GOOD_RTT_MS {
        ConnectionQuality::Good
    } else {
        ConnectionQuality::Fair
    }
}

/// Loss over an interval from two snapshots of the engine's counters.
#[derive(Debug, Default)]
pub(crate) struct LossMeter {
    previous: Option<(u64, u64)>,
}

impl LossMeter {
    /// Takes the counters now; returns the loss since the last call, in
    /// percent (0 when nothing was received).
    pub(crate) fn update(&mut self, stats: &MediaEngineStats) -> f32 {
        let (mut lost, mut total) = (0u64, 0u64);
        for r in stats.received.values() {
            lost += r.audio_frames_fec + r.video_frames_dropped;
            total += r.audio_frames_decoded
                + r.audio_frames_fec
                + r.video_frames_decoded
                + r.video_frames_dropped;
        }
        let (prev_lost, prev_total) = self.previous.replace((lost, total)).unwrap_or((0, 0));
        // Counters of a participant who left vanish: never go negative.
        let d_lost = lost.saturating_sub(prev_lost);
        let d_total = total.saturating_sub(prev_total);
        if d_total == 0 {
            0.0
        } else {
            (d_lost as f32 / d_total as f32 * 100.0).min(100.0)
        }
    }
}

/// The level (0 silence .. 1 full scale) of 20 ms of audio: its RMS in
/// dBFS, with -60 dBFS and below as 0.
pub(crate) fn level_of(samples: &[i16]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|s| f64::from(*s).powi(2)).sum();
    let rms = (sum / samples.len() as f64).sqrt() / 32768.0;
    if rms <= 0.0 {
        return 0.0;
    }
    let db = 20.0 * rms.log10();
    ((db + 60.0) / 60.0).clamp(0.0, 1.0) as f32
}

/// Per-participant levels between two reports (the peak of each), and the
/// active speaker with a hold time.
#[derive(Debug, Default)]
pub(crate) struct Levels {
    peaks: BTreeMap<u32, f32>,
    speaker: Option<u32>,
    /// When the speaker was last above [`SPEECH_LEVEL`].
    speaker_heard: Option<Instant>,
    /// The speaker's level then: someone must beat it by the margin to
    /// take over during the hold.
    speaker_level: f32,
}

impl Levels {
    /// Records one frame's level of `participant`.
    pub(crate) fn handle_level(&mut self, participant: u32, level: f32) {
        let peak = self.peaks.entry(participant).or_insert(0.0);
        *peak = peak.max(level);
    }

    /// Ends the interval: each participant's peak level since the last
    /// call, and who is speaking.
    pub(crate) fn take(&mut self, now: Instant) -> (Vec<(u32, f32)>, Option<u32>) {
        let levels: Vec<(u32, f32)> = std::mem::take(&mut self.peaks).into_iter().collect();
        let level_of = |id: u32| {
            levels
                .iter()
                .find(|(p, _)| *p == id)
                .map_or(0.0, |(_, l)| *l)
        };
        let loudest = levels
            .iter()
            .filter(|(_, l)| *l >= SPEECH_LEVEL)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .copied();
        if let Some(current) = self.speaker
            && level_of(current) >= SPEECH_LEVEL
        {
            self.speaker_heard = Some(now);
            self.speaker_level = level_of(current);
        }
        let held = self
            .speaker_heard
            .is_some_and(|t| now.saturating_duration_since(t) < SPEAKER_HOLD);
        match (self.speaker, loudest) {
            // Take over when the speaker fell quiet beyond the hold, or is
            // clearly outspoken.
            (Some(current), Some((id, level)))
                if id != current && (!held || level > self.speaker_level + TAKEOVER_MARGIN) =>
            {
                self.speaker = Some(id);
                self.speaker_heard = Some(now);
                self.speaker_level = level;
            }
            (None, Some((id, level))) => {
                self.speaker = Some(id);
                self.speaker_heard = Some(now);
                self.speaker_level = level;
            }
            (Some(_), None) if !held => {
                self.speaker = None;
                self.speaker_heard = None;
            }
            _ => {}
        }
        (levels, self.speaker)
    }
}

#[cfg(test)]
mod tests {
    use confer_client::media::RemoteMediaStats;
    use confer_wire::ids::ParticipantId;

    use super::*;

    #[test]
    fn quality_follows_the_documented_thresholds() {
        assert_eq!(quality(0.0, Some(20)), ConnectionQuality::Good);
        assert_eq!(quality(1.9, None), ConnectionQuality::Good);
        assert_eq!(quality(2.0, Some(20)), ConnectionQuality::Fair);
        assert_eq!(quality(0.0, Some(150)), ConnectionQuality::Fair);
        assert_eq!(quality(10.0, Some(400)), ConnectionQuality::Fair);
        assert_eq!(quality(10.1, Some(20)), ConnectionQuality::Poor);
        assert_eq!(quality(0.0, Some(401)), ConnectionQuality::Poor);
    }

    fn stats(decoded: u64, fec: u64, dropped: u64) -> MediaEngineStats {
        let mut s = MediaEngineStats::default();
        s.received.insert(
            ParticipantId(2),
            RemoteMediaStats {
                audio_frames_decoded: decoded,
                audio_frames_fec: fec,
                video_frames_dropped: dropped,
                audio_frames_concealed: 1000,
                ..RemoteMediaStats::default()
            },
        );
        s
    }

    #[test]
    fn loss_is_per_interval_and_ignores_concealment() {
        let mut m = LossMeter::default();
        assert_eq!(m.update(&stats(100, 0, 0)), 0.0);
        // 45 decoded + 5 rebuilt from FEC in this interval: 10 %.
        assert!((m.update(&stats(145, 5, 0)) - 10.0).abs() < 1e-3);
        // Nothing new: no loss, not a division by zero.
        assert_eq!(m.update(&stats(145, 5, 0)), 0.0);
        // The sender left: counters vanish, never negative.
        assert_eq!(m.update(&MediaEngineStats::default()), 0.0);
    }

    #[test]
    fn levels_map_silence_to_zero_and_full_scale_to_one() {
        assert_eq!(level_of(&[]), 0.0);
        assert_eq!(level_of(&[0; 960]), 0.0);
        assert!((level_of(&[i16::MAX; 960]) - 1.0).abs() < 0.01);
        let quiet = level_of(&[30; 960]);
        let loud = level_of(&[10_000; 960]);
        assert!(quiet < SPEECH_LEVEL && loud > SPEECH_LEVEL);
    }

    #[test]
    fn active_speaker_is_the_loudest_and_holds_through_pauses() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut l = Levels::default();
        l.handle_level(1, 0.6);
        l.handle_level(2, 0.3);
        assert_eq!(l.take(at(0)).1, Some(1));
        // A pause between words keeps the indicator on 1.
        l.handle_level(1, 0.0);
        l.handle_level(2, 0.4);
        let (levels, speaker) = l.take(at(200));
        assert_eq!(speaker, Some(1));
        assert_eq!(levels, vec![(1, 0.0), (2, 0.4)]);
        // 2 keeps talking past the hold: it takes over.
        l.handle_level(2, 0.4);
        assert_eq!(l.take(at(1600)).1, Some(2));
        // Someone much louder takes over at once.
        l.handle_level(2, 0.3);
        l.handle_level(3, 0.9);
        assert_eq!(l.take(at(1800)).1, Some(3));
        // Silence beyond the hold: nobody.
        assert_eq!(l.take(at(2000)).1, Some(3));
        assert_eq!(l.take(at(3400)).1, None);
    }
}
