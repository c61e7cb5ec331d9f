//! Mixing several remote audio streams into the one stream the speakers play.

/// Sums frames of equal length into one, clipping softly so that several
/// loud talkers do not wrap around (a frame shorter than the longest counts
/// as silence past its end).
pub fn mix(frames: &[&[i16]]) -> Vec<i16> {
    let len = frames.iter().map(|f| f.len()).max().unwrap_or(0);
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let sum: i32 = frames
            .iter()
            .filter_map(|f| f.get(i))
            .map(|s| i32::from(*s))
            .sum();
        out.push(soft_clip(sum));
    }
    out
}

/// Linear below 3/4 of full scale, then compressed smoothly into the rest.
fn soft_clip(x: i32) -> i16 {
    const KNEE: f64 = 24_576.0;
    const HEADROOM: f64 = 32_767.0 - KNEE;
    let v = f64::from(x);
    let a = v.abs();
    if a <= KNEE {
        return x as i16;
    }
    let over = a - KNEE;
    let compressed = KNEE + HEADROOM * (over / (over + HEADROOM));
    (compressed.copysign(v)).round() as i16
}

/// Accumulates one playout interval's frames from several streams.
#[derive(Debug, Clone, Default)]
pub struct Mixer {
    /// Frames handed in for the current interval.
    pending: Vec<Vec<i16>>,
}

impl Mixer {
    /// An empty mixer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one stream's frame for the current interval.
    pub fn push(&mut self, frame: &[i16]) {
        self.pending.push(frame.to_vec());
    }

    /// The mix of everything pushed since the last call (silence of `len`
    /// samples if nothing was).
    pub fn take_mix(&mut self, len: usize) -> Vec<i16> {
        let refs: Vec<&[i16]> = self.pending.iter().map(Vec::as_slice).collect();
        let mut out = mix(&refs);
        out.resize(len.max(out.len()), 0);
        self.pending.clear();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_quiet_signals_exactly_and_never_wraps_loud_ones() {
        assert_eq!(mix(&[&[100, -200], &[50, 50, 7]]), vec![150, -150, 7]);
        let loud = mix(&[&[30_000, -30_000], &[30_000, -30_000], &[30_000, -30_000]]);
        assert!(loud[0] > 30_000);
        assert!(loud[1] < -30_000);
        let mut m = Mixer::new();
        m.push(&[1, 2]);
        m.push(&[3]);
        assert_eq!(m.take_mix(4), vec![4, 2, 0, 0]);
        assert_eq!(m.take_mix(2), vec![0, 0]);
    }
}
