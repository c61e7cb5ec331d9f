//! Shared test harness: a seeded lossy link and test signals.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use confer_media::packet::MediaPacket;

/// A tiny deterministic PRNG (xorshift64*), so loss patterns repeat exactly.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A one-way link with seeded random loss, a fixed delay and uniform jitter
/// (which reorders packets when it exceeds their spacing).
pub struct LossyLink {
    rng: Rng,
    pub loss: f64,
    pub delay: Duration,
    pub jitter: Duration,
    in_flight: Vec<(Instant, MediaPacket)>,
    pub sent: u64,
    pub dropped: u64,
}

impl LossyLink {
    pub fn new(seed: u64, loss: f64, delay: Duration, jitter: Duration) -> Self {
        LossyLink {
            rng: Rng::new(seed),
            loss,
            delay,
            jitter,
            in_flight: Vec::new(),
            sent: 0,
            dropped: 0,
        }
    }

    /// Sends a packet at `now`; it goes through the wire format and back.
    pub fn send(&mut self, now: Instant, packet: &MediaPacket) {
        self.sent += 1;
        if self.rng.unit() < self.loss {
            self.dropped += 1;
            return;
        }
        let extra = self.jitter.mul_f64(self.rng.unit());
        let bytes = packet.to_bytes();
        let parsed = MediaPacket::parse(&bytes).expect("our own packets parse");
        self.in_flight.push((now + self.delay + extra, parsed));
    }

    /// Packets that have arrived by `now`, in arrival order.
    pub fn deliver(&mut self, now: Instant) -> Vec<MediaPacket> {
        self.in_flight.sort_by_key(|(at, _)| *at);
        let n = self
            .in_flight
            .iter()
            .take_while(|(at, _)| *at <= now)
            .count();
        self.in_flight.drain(..n).map(|(_, p)| p).collect()
    }
}

/// A speech-like test signal: a 150 Hz voice with harmonics, its loudness
/// changing at syllable rate, with short pauses.
pub fn speech_like(seconds: f64) -> Vec<i16> {
    let n = (seconds * 48_000.0) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / 48_000.0;
            let f0 = 150.0 + 20.0 * (t * 2.0 * std::f64::consts::TAU).sin();
            let mut v = 0.0;
            for h in 1..=6 {
                v += (t * f0 * h as f64 * std::f64::consts::TAU).sin() / h as f64;
            }
            let envelope = (0.5 + 0.5 * (t * 4.0 * std::f64::consts::TAU).sin()).powi(2);
            (v * envelope * 6000.0) as i16
        })
        .collect()
}

/// The lag (0..max_lag samples) at which `output` best matches `input`,
/// and the normalised correlation there.
pub fn best_alignment(input: &[i16], output: &[i16], max_lag: usize) -> (usize, f64) {
    let mut best = (0, f64::MIN);
    for lag in 0..max_lag {
        let c = correlation(input, &output[lag.min(output.len())..]);
        if c > best.1 {
            best = (lag, c);
        }
    }
    best
}

/// Normalised cross-correlation of two signals over their common length.
pub fn correlation(a: &[i16], b: &[i16]) -> f64 {
    let n = a.len().min(b.len());
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (x, y) = (f64::from(a[i]), f64::from(b[i]));
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        ab / (aa * bb).sqrt()
    }
}

/// Signal-to-noise ratio (dB) of `output` against `input`, over their common length.
pub fn snr_db(input: &[i16], output: &[i16]) -> f64 {
    let n = input.len().min(output.len());
    let (mut s, mut e) = (0.0, 0.0);
    for i in 0..n {
        let x = f64::from(input[i]);
        let d = x - f64::from(output[i]);
        s += x * x;
        e += d * d;
    }
    10.0 * (s / e.max(1e-9)).log10()
}

/// Whether `ffmpeg` is installed.
pub fn have_ffmpeg() -> bool {
    std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Correlation of the two signals' loudness envelopes (RMS over 10 ms
/// windows): how well the output follows the input's syllables, blind to
/// the phase changes a parametric codec (SILK) and concealment make.
pub fn envelope_correlation(a: &[i16], b: &[i16]) -> f64 {
    let env = |x: &[i16]| -> Vec<i16> {
        x.chunks(480)
            .map(|c| {
                (c.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / c.len() as f64).sqrt()
                    as i16
            })
            .collect()
    };
    let (ea, eb) = (env(a), env(b));
    // Remove the mean so the correlation measures shape, not level.
    let mean = |e: &[i16]| e.iter().map(|v| f64::from(*v)).sum::<f64>() / e.len().max(1) as f64;
    let (ma, mb) = (mean(&ea), mean(&eb));
    let n = ea.len().min(eb.len());
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (x, y) = (f64::from(ea[i]) - ma, f64::from(eb[i]) - mb);
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        ab / (aa * bb).sqrt()
    }
}
