//! Audio levels for the active-speaker indicator.
//!
//! Levels are RFC 6464 style: `0` is full scale (0 dBov) and `127` is
//! -127 dBov or quieter (silence), from the RMS of a frame relative to a
//! full-scale square wave.

/// The RFC 6464 level (0 = loudest, 127 = silent) of `samples`.
pub fn audio_level_dbov(samples: &[i16]) -> u8 {
    if samples.is_empty() {
        return 127;
    }
    let sum: f64 = samples.iter().map(|s| f64::from(*s) * f64::from(*s)).sum();
    let rms = (sum / samples.len() as f64).sqrt() / 32768.0;
    if rms <= 0.0 {
        return 127;
    }
    let db = 20.0 * rms.log10();
    (-db).round().clamp(0.0, 127.0) as u8
}

/// Tracks smoothed levels of several streams and names the loudest speaker.
///
/// A stream becomes the active speaker when its smoothed level is above
/// [`SPEECH_THRESHOLD_DBOV`] and louder than the current speaker's by
/// [`SWITCH_MARGIN_DB`], so the indicator does not flicker between two
/// people talking at once.
#[derive(Debug, Clone, Default)]
pub struct ActiveSpeaker {
    /// Stream id → smoothed level in dBov (negative, 0 = full scale).
    levels: std::collections::BTreeMap<u32, f64>,
    /// The current speaker.
    current: Option<u32>,
}

/// Quieter than this (dBov) is not speech.
pub const SPEECH_THRESHOLD_DBOV: f64 = -50.0;

/// How much louder a stream must be to take over, in dB.
pub const SWITCH_MARGIN_DB: f64 = 6.0;

impl ActiveSpeaker {
    /// No streams yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one frame's level (RFC 6464 value) of `stream`.
    pub fn handle_level(&mut self, stream: u32, level: u8) {
        let db = -f64::from(level);
        let smoothed = self.levels.entry(stream).or_insert(-127.0);
        // Fast attack, slow release.
        let k = if db > *smoothed { 0.5 } else { 0.1 };
        *smoothed += k * (db - *smoothed);
        let current_db = self
            .current
            .and_then(|c| self.levels.get(&c))
            .copied()
            .unwrap_or(-127.0);
        if let Some((&loudest, &db)) = self.levels.iter().max_by(|a, b| a.1.total_cmp(b.1))
            && db > SPEECH_THRESHOLD_DBOV
            && (self.current.is_none()
                || db > current_db + SWITCH_MARGIN_DB
                || current_db < SPEECH_THRESHOLD_DBOV)
        {
            self.current = Some(loudest);
        }
    }

    /// Forgets a stream (its participant left).
    pub fn remove(&mut self, stream: u32) {
        self.levels.remove(&stream);
        if self.current == Some(stream) {
            self.current = None;
        }
    }

    /// The active speaker, if anyone is speaking.
    pub fn current(&self) -> Option<u32> {
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_rfc_6464() {
        assert_eq!(audio_level_dbov(&[0; 960]), 127);
        assert_eq!(audio_level_dbov(&[i16::MAX; 960]), 0);
        // A -20 dBov square wave.
        let s: Vec<i16> = (0..960)
            .map(|i| if i % 2 == 0 { 3277 } else { -3277 })
            .collect();
        assert_eq!(audio_level_dbov(&s), 20);
    }

    #[test]
    fn the_loudest_speaker_wins_with_hysteresis() {
        let mut a = ActiveSpeaker::new();
        for _ in 0..20 {
            a.handle_level(1, 30);
            a.handle_level(2, 127);
        }
        assert_eq!(a.current(), Some(1));
        for _ in 0..20 {
            a.handle_level(1, 30);
            a.handle_level(2, 27);
        }
        assert_eq!(a.current(), Some(1), "3 dB louder is not enough");
        for _ in 0..40 {
            a.handle_level(1, 60);
            a.handle_level(2, 20);
        }
        assert_eq!(a.current(), Some(2));
        a.remove(2);
        assert_eq!(a.current(), None);
    }
}
