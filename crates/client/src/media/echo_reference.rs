//! The echo canceller's far-end reference: what the speaker plays, which is
//! every other participant's audio mixed.
//!
//! The engine hands out each participant's 20 ms frames separately (the
//! front end mixes them for the speaker). Fed one by one, two talkers would
//! give the canceller 40 ms of reference every 20 ms, and it would model a
//! room that does not exist. So frames are summed (saturating, as a mixer
//! does) until a participant already in the mix sends its next frame: that
//! frame belongs to the next 20 ms, so the mix so far goes to the canceller
//! and a new one starts. One talker's frames thus pass one by one, in
//! order, however unevenly they come; the last mix waits for the next frame
//! (20 ms of reference at the end of speech is not missed).

use confer_media::frame::FRAME_SAMPLES;
use confer_wire::ids::ParticipantId;

/// Mixes the others' frames into one per 20 ms (sans-IO).
#[derive(Debug, Default)]
pub(super) struct EchoReference {
    /// Who is in the mix being built, and the sum so far.
    current: Option<(Vec<ParticipantId>, Vec<i32>)>,
}

impl EchoReference {
    /// Adds `from`'s next frame. When it starts a new mix, the previous one
    /// is returned, ready for the canceller. A frame that is not 20 ms long
    /// is ignored (the engine only makes 20 ms ones).
    pub(super) fn add(&mut self, from: ParticipantId, samples: &[i16]) -> Option<Vec<i16>> {
        if samples.len() != FRAME_SAMPLES {
            return None;
        }
        let finished = match &mut self.current {
            Some((who, mix)) if !who.contains(&from) => {
                who.push(from);
                for (m, s) in mix.iter_mut().zip(samples) {
                    *m += i32::from(*s);
                }
                return None;
            }
            _ => self.current.take(),
        };
        self.current = Some((vec![from], samples.iter().map(|s| i32::from(*s)).collect()));
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

    const ADA: ParticipantId = ParticipantId(1);
    const BO: ParticipantId = ParticipantId(3);

    #[test]
    fn one_talker_passes_frame_by_frame_in_order() {
        let mut r = EchoReference::default();
        let frames: Vec<Vec<i16>> = (0..5)
            .map(|n| vec![n as i16 * 100; FRAME_SAMPLES])
            .collect();
        assert_eq!(r.add(ADA, &frames[0]), None);
        for n in 1..5 {
            // However they come (a burst handed out at once is the same
            // here): each frame ends the previous one's mix.
            assert_eq!(r.add(ADA, &frames[n]).as_ref(), Some(&frames[n - 1]));
        }
    }

    #[test]
    fn two_talkers_are_summed_one_frame_each() {
        let mut r = EchoReference::default();
        let a = vec![1000i16; FRAME_SAMPLES];
        let b = vec![-300i16; FRAME_SAMPLES];
        assert_eq!(r.add(ADA, &a), None);
        assert_eq!(r.add(BO, &b), None);
        // Ada's next frame starts the next 20 ms.
        assert_eq!(r.add(ADA, &a), Some(vec![700i16; FRAME_SAMPLES]));
        // Bo fell silent: Ada alone.
        assert_eq!(r.add(ADA, &b), Some(a.clone()));
    }

    #[test]
    fn loud_mixes_saturate_and_odd_frames_are_ignored() {
        let mut r = EchoReference::default();
        let loud = vec![30_000i16; FRAME_SAMPLES];
        assert_eq!(r.add(ADA, &loud), None);
        assert_eq!(r.add(BO, &loud), None);
        assert_eq!(r.add(ParticipantId(4), &[1, 2, 3]), None, "not 20 ms");
        let mixed = r.add(ADA, &loud).unwrap();
        assert!(mixed.iter().all(|s| *s == i16::MAX));
    }
}
