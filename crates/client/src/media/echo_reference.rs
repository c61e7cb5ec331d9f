//! The echo canceller's far-end reference: what the speaker plays, which is
//! every other participant's audio mixed.
//!
//! The engine hands out each participant's 20 ms frames separately (the
//! front end mixes them for the speaker). Fed one by one, two talkers would
//! give the canceller 40 ms of reference every 20 ms, and it would model a
//! room that does not exist. So the frames handed out within one 20 ms
//! period are summed (saturating, as a mixer does) and the canceller gets
//! one frame per period, a period late at most: its delay estimate covers
//! that.

use std::time::{Duration, Instant};

use confer_media::frame::FRAME_SAMPLES;

/// One frame's length.
const PERIOD: Duration = Duration::from_millis(20);

/// Mixes the frames played in each 20 ms period (sans-IO: time comes in).
#[derive(Debug, Default)]
pub(super) struct EchoReference {
    /// The clock's origin, the first frame's time.
    start: Option<Instant>,
    /// The period being mixed, and the sum so far.
    current: Option<(u128, Vec<i32>)>,
}

impl EchoReference {
    /// Adds a frame handed out at `now`. When it opens a new period the
    /// previous period's mix is returned, ready for the canceller. A frame
    /// that is not 20 ms long is ignored (the engine only makes 20 ms ones).
    pub(super) fn add(&mut self, now: Instant, samples: &[i16]) -> Option<Vec<i16>> {
        if samples.len() != FRAME_SAMPLES {
            return None;
        }
        let start = *self.start.get_or_insert(now);
        let period = now.saturating_duration_since(start).as_nanos() / PERIOD.as_nanos();
        let finished = match &mut self.current {
            Some((p, mix)) if *p == period => {
                for (m, s) in mix.iter_mut().zip(samples) {
                    *m += i32::from(*s);
                }
                return None;
            }
            _ => self.current.take(),
        };
        self.current = Some((period, samples.iter().map(|s| i32::from(*s)).collect()));
        finished.map(|(_, mix)| {
            mix.into_iter()
                .map(|m| m.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16)
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_of_one_period_are_summed_and_handed_on_once() {
        let t0 = Instant::now();
        let mut r = EchoReference::default();
        let a = vec![1000i16; FRAME_SAMPLES];
        let b = vec![-300i16; FRAME_SAMPLES];
        // Two talkers in the first period, one in the second.
        assert_eq!(r.add(t0, &a), None);
        assert_eq!(r.add(t0 + Duration::from_millis(7), &b), None);
        let first = r.add(t0 + Duration::from_millis(21), &a).unwrap();
        assert_eq!(first, vec![700i16; FRAME_SAMPLES]);
        // A silent period in between hands on only what was played.
        let second = r.add(t0 + Duration::from_millis(65), &b).unwrap();
        assert_eq!(second, a);
    }

    #[test]
    fn loud_mixes_saturate_and_odd_frames_are_ignored() {
        let t0 = Instant::now();
        let mut r = EchoReference::default();
        let loud = vec![30_000i16; FRAME_SAMPLES];
        assert_eq!(r.add(t0, &loud), None);
        assert_eq!(r.add(t0, &loud), None);
        assert_eq!(r.add(t0, &[1, 2, 3]), None, "not 20 ms");
        let mixed = r.add(t0 + PERIOD, &loud).unwrap();
        assert!(mixed.iter().all(|s| *s == i16::MAX));
    }
}
