//! A sans-IO jitter buffer for one incoming RTP stream.
//!
//! Packets arrive late, early, twice, out of order or never. The buffer holds
//! each one until its playout deadline, releases them in sequence order, and
//! says which sequence numbers were lost so the decoder can conceal them
//! (audio) or ask for a keyframe (video).
//!
//! # Timing model
//!
//! The deadline of a packet with RTP timestamp `ts` is
//! `base + media_time(ts) + min_transit + target_delay`: `min_transit` is the
//! fastest transit seen (the network's floor), and `target_delay` is the
//! spread of transit times over the last [`DELAY_WINDOW`] in-order packets
//! (their largest delay above the floor, plus a small margin), clamped to the
//! configured range. A burst of jitter raises the target at once; it falls
//! back as the burst leaves the window. Packets with the same timestamp (one
//! video frame) share a deadline and leave together.
//!
//! # Driving contract
//!
//! - [`JitterBuffer::handle_packet`] for every packet received, with `now`.
//! - [`JitterBuffer::poll_output`] with `now` until it returns `None`; each
//!   result is the next packet in sequence order or a [`JitterOutput::Lost`]
//!   for a sequence number that did not arrive before its deadline.
//! - [`JitterBuffer::poll_timeout`] says when to call `poll_output` next.
//! - [`JitterBuffer::poll_nack`] lists sequence numbers seen missing since
//!   the last call (to ask the sender for a retransmission).
//!
//! A packet arriving after its sequence number was released or declared
//! lost is counted as late and dropped; a second copy of a held packet is
//! counted as a duplicate and dropped.
//!
//! # Sequence jumps
//!
//! A packet more than [`JitterConfig::max_packets`] sequence numbers ahead of
//! the highest seen is a stream restart or a corrupt sender, not loss:
//! walking every number in between would report tens of thousands of losses
//! one by one (and have the decoder conceal minutes of silence). Instead the
//! buffer resets, counts the jump in [`JitterStats::resets`], counts the
//! packets it was still holding as lost, and starts over from the new packet.
//!
//! A restart to a *lower* sequence number would otherwise look late forever.
//! One stray old packet is just late, so the buffer resets backwards only
//! when two consecutive packets both land that far behind.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::packet::MediaPacket;

/// Number of recent in-order packets whose delays set the target.
pub const DELAY_WINDOW: usize = 200;

/// Most sequence numbers listed as missing for one gap (a larger jump is a
/// stream restart, not loss worth retransmitting).
const MAX_NACK_GAP: u64 = 100;

/// How the buffer is tuned for one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    /// RTP clock rate of the stream.
    pub clock_rate: u32,
    /// Smallest target delay.
    pub min_delay: Duration,
    /// Largest target delay; packets later than this are lost anyway.
    pub max_delay: Duration,
    /// Most packets held; beyond this the oldest are released early.
    pub max_packets: usize,
}

impl JitterConfig {
    /// Opus audio: 48 kHz, 20–400 ms.
    pub fn audio() -> Self {
        JitterConfig {
            clock_rate: 48_000,
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(400),
            max_packets: 100,
        }
    }

    /// H.264 video: 90 kHz, 50–600 ms (room for one retransmission).
    pub fn video() -> Self {
        JitterConfig {
            clock_rate: 90_000,
            min_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(600),
            max_packets: 2000,
        }
    }
}

/// What the buffer releases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JitterOutput {
    /// The next packet in sequence order.
    Packet(MediaPacket),
    /// This sequence number did not arrive before its deadline.
    Lost {
        /// The missing sequence number.
        sequence: u16,
    },
}

/// Counters for the stream's health (RTCP-receiver-report style).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct JitterStats {
    /// Packets accepted into the buffer.
    pub received: u64,
    /// Copies of packets already held, dropped.
    pub duplicates: u64,
    /// Packets that came after their deadline, dropped.
    pub late: u64,
    /// Packets that arrived out of order but in time.
    pub reordered: u64,
    /// Sequence numbers declared lost.
    pub lost: u64,
    /// Times a sequence jump too large to walk reset the buffer.
    pub resets: u64,
    /// Interarrival jitter, RFC 3550 §6.4.1, in seconds.
    pub jitter: f64,
    /// The current target delay.
    pub target_delay: Duration,
}

/// One held packet.
#[derive(Debug, Clone)]
struct Held {
    packet: MediaPacket,
    /// Unwrapped RTP timestamp.
    ext_ts: i64,
}

/// The jitter buffer of one RTP stream. See the module docs for the contract.
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    config: JitterConfig,
    /// Held packets by extended (unwrapped) sequence number.
    held: BTreeMap<u64, Held>,
    /// Extended sequence number to release next.
    next_seq: Option<u64>,
    /// Highest extended sequence number received.
    highest_seq: Option<u64>,
    /// Extended timestamp and sequence of the last packet released or lost,
    /// to place the deadlines of missing packets between known ones.
    last_released: Option<(u64, i64)>,
    /// Last raw timestamp and its extension, for unwrapping.
    ts_anchor: Option<(u32, i64)>,
    /// Arrival of the first packet and its extended timestamp: time zero.
    base: Option<(Instant, i64)>,
    /// Fastest transit seen, µs relative to the first packet's.
    min_transit_us: i64,
    /// Recent transits (µs) of in-order packets.
    delays: VecDeque<i64>,
    /// Previous transit, for the RFC 3550 jitter estimate.
    last_transit_us: Option<i64>,
    /// Missing sequence numbers not yet reported by `poll_nack`.
    nacks: Vec<u16>,
    /// Raw sequence of the last packet that landed far behind the stream,
    /// to tell a backwards restart (a consecutive run) from one stray packet.
    far_behind: Option<u16>,
    stats: JitterStats,
}

impl JitterBuffer {
    /// An empty buffer.
    pub fn new(config: JitterConfig) -> Self {
        JitterBuffer {
            config,
            held: BTreeMap::new(),
            next_seq: None,
            highest_seq: None,
            last_released: None,
            ts_anchor: None,
            base: None,
            min_transit_us: 0,
            delays: VecDeque::with_capacity(DELAY_WINDOW),
            last_transit_us: None,
            nacks: Vec::new(),
            far_behind: None,
            stats: JitterStats {
                target_delay: config.min_delay,
                ..JitterStats::default()
            },
        }
    }

    /// The stream's counters so far.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Number of packets held.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// Whether no packet is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Raises (or lowers) the smallest target delay, e.g. to the round-trip
    /// time so a NACKed packet can still arrive in time; clamped to the
    /// configured maximum.
    pub fn set_min_delay(&mut self, min_delay: Duration) {
        self.config.min_delay = min_delay.min(self.config.max_delay);
        self.stats.target_delay = self
            .stats
            .target_delay
            .clamp(self.config.min_delay, self.config.max_delay);
    }

    /// Forgets the stream (a new SSRC or a restart); counters are kept.
    pub fn reset(&mut self) {
        let stats = self.stats;
        *self = JitterBuffer::new(self.config);
        self.stats = stats;
    }

    /// The held packet with sequence number `sequence`, if any (an audio
    /// decoder peeks at the packet after a loss for its FEC data).
    pub fn peek(&self, sequence: u16) -> Option<&MediaPacket> {
        self.held.get(&self.extend_seq(sequence)).map(|h| &h.packet)
    }

    /// The held packet with RTP timestamp `timestamp`, if any (the audio
    /// receiver looks for the next frame's packet to rebuild a lost one
    /// from its FEC data).
    pub fn peek_timestamp(&self, timestamp: u32) -> Option<&MediaPacket> {
        self.held
            .values()
            .map(|h| &h.packet)
            .find(|p| p.header.timestamp == timestamp)
    }

    /// Takes in one received packet.
    pub fn handle_packet(&mut self, now: Instant, packet: MediaPacket) {
        let mut ext_seq = self.extend_seq(packet.header.sequence);
        if self.is_restart(packet.header.sequence, ext_seq) {
            // Packets still held belong to the old run and will never be
            // released in order with the new one: they count as lost.
            let dropped = self.held.len() as u64;
            self.reset();
            self.stats.lost += dropped;
            self.stats.resets += 1;
            ext_seq = self.extend_seq(packet.header.sequence);
        }
        if self.next_seq.is_some_and(|n| ext_seq < n) {
            self.stats.late += 1;
            return;
        }
        if self.held.contains_key(&ext_seq) {
            self.stats.duplicates += 1;
            return;
        }
        let ext_ts = self.extend_ts(packet.header.timestamp);
        let in_order = self.highest_seq.is_none_or(|h| ext_seq > h);
        if in_order {
            if let Some(h) = self.highest_seq
                && ext_seq > h + 1
                && ext_seq - h - 1 <= MAX_NACK_GAP
            {
                self.nacks.extend((h + 1..ext_seq).map(|s| s as u16));
            }
            self.highest_seq = Some(ext_seq);
            self.ts_anchor = Some((packet.header.timestamp, ext_ts));
            self.observe_transit(now, ext_ts);
        } else {
            self.stats.reordered += 1;
            self.nacks.retain(|s| *s != packet.header.sequence);
        }
        if self.next_seq.is_none() {
            self.next_seq = Some(ext_seq);
        }
        self.stats.received += 1;
        self.held.insert(ext_seq, Held { packet, ext_ts });
        while self.held.len() > self.config.max_packets {
            // Overfull (a stalled consumer): skip ahead to the oldest kept.
            if let Some((&oldest, _)) = self.held.iter().next() {
                let dropped = self.held.remove(&oldest);
                self.next_seq = Some(oldest + 1);
                if let Some(h) = dropped {
                    self.last_released = Some((oldest, h.ext_ts));
                }
                self.stats.lost += 1;
            }
        }
    }

    /// Whether packet `seq` (extended: `ext_seq`) starts a new run rather
    /// than being reordering or loss: more than `max_packets` past the
    /// highest seen, or the second consecutive packet that far behind the
    /// next to release. Remembers a first far-behind packet.
    fn is_restart(&mut self, seq: u16, ext_seq: u64) -> bool {
        let window = self.config.max_packets.max(1) as u64;
        // More than `window` numbers missing in between.
        if self.highest_seq.is_some_and(|h| ext_seq > h + 1 + window) {
            return true;
        }
        if self.next_seq.is_some_and(|n| ext_seq + window < n) {
            let run = self
                .far_behind
                .is_some_and(|prev| seq == prev.wrapping_add(1));
            self.far_behind = Some(seq);
            return run;
        }
        self.far_behind = None;
        false
    }

    /// Sequence numbers found missing since the last call (for a NACK).
    pub fn poll_nack(&mut self) -> Vec<u16> {
        std::mem::take(&mut self.nacks)
    }

    /// When [`Self::poll_output`] will next have something, if anything is held.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let n = self.next_seq?;
        let (&seq, held) = self.held.range(n..).next()?;
        if seq == n {
            return self.deadline(held.ext_ts);
        }
        self.deadline(self.missing_ts(n, seq, held.ext_ts))
    }

    /// The next packet or loss whose deadline has passed at `now`.
    pub fn poll_output(&mut self, now: Instant) -> Option<JitterOutput> {
        let n = self.next_seq?;
        let (&seq, held) = self.held.range(n..).next()?;
        if seq == n {
            if self.deadline(held.ext_ts)? > now {
                return None;
            }
            let held = self.held.remove(&n)?;
            self.next_seq = Some(n + 1);
            self.last_released = Some((n, held.ext_ts));
            return Some(JitterOutput::Packet(held.packet));
        }
        let ts = self.missing_ts(n, seq, held.ext_ts);
        if self.deadline(ts)? > now {
            return None;
        }
        self.next_seq = Some(n + 1);
        self.last_released = Some((n, ts));
        self.stats.lost += 1;
        Some(JitterOutput::Lost { sequence: n as u16 })
    }

    /// The playout deadline of RTP timestamp `timestamp`, once timing is known.
    pub fn deadline_for_timestamp(&self, timestamp: u32) -> Option<Instant> {
        let (raw, ext) = self.ts_anchor?;
        self.deadline(ext + i64::from(timestamp.wrapping_sub(raw) as i32))
    }

    /// Deadline of extended timestamp `ext_ts`.
    fn deadline(&self, ext_ts: i64) -> Option<Instant> {
        let (base_at, base_ts) = self.base?;
        let media_us = (ext_ts - base_ts) * 1_000_000 / i64::from(self.config.clock_rate);
        let offset_us = media_us + self.min_transit_us + self.stats.target_delay.as_micros() as i64;
        Some(if offset_us >= 0 {
            base_at + Duration::from_micros(offset_us as u64)
        } else {
            base_at
                .checked_sub(Duration::from_micros(offset_us.unsigned_abs()))
                .unwrap_or(base_at)
        })
    }

    /// Estimated timestamp of missing sequence `n`, given the next held
    /// packet (`seq`, `ts`): linear between the last released and that one.
    fn missing_ts(&self, n: u64, seq: u64, ts: i64) -> i64 {
        match self.last_released {
            Some((last_seq, last_ts)) if seq > last_seq => {
                last_ts + (ts - last_ts) * (n - last_seq) as i64 / (seq - last_seq) as i64
            }
            _ => ts,
        }
    }

    /// Updates the transit floor, delay window, target and RFC 3550 jitter.
    fn observe_transit(&mut self, now: Instant, ext_ts: i64) {
        let (base_at, base_ts) = *self.base.get_or_insert((now, ext_ts));
        let arrival_us = if now >= base_at {
            now.duration_since(base_at).as_micros() as i64
        } else {
            -(base_at.duration_since(now).as_micros() as i64)
        };
        let media_us = (ext_ts - base_ts) * 1_000_000 / i64::from(self.config.clock_rate);
        let transit = arrival_us - media_us;
        if let Some(last) = self.last_transit_us {
            let d = (transit - last).abs() as f64 / 1e6;
            self.stats.jitter += (d - self.stats.jitter) / 16.0;
        }
        self.last_transit_us = Some(transit);
        self.min_transit_us = self.min_transit_us.min(transit);
        if self.delays.len() == DELAY_WINDOW {
            self.delays.pop_front();
        }
        self.delays.push_back(transit);
        let spread = self.delays.iter().max().copied().unwrap_or(0) - self.min_transit_us;
        // 5 ms margin on top of the worst recent delay absorbs scheduling noise.
        let wanted = Duration::from_micros(spread.max(0) as u64 + 5_000);
        self.stats.target_delay = wanted.clamp(self.config.min_delay, self.config.max_delay);
    }

    /// Unwraps a 16-bit sequence number to the value nearest the highest
    /// seen. The first one lands at 2^32 + seq, so going backwards from it
    /// never underflows and the low 16 bits stay the wire value.
    fn extend_seq(&self, seq: u16) -> u64 {
        match self.highest_seq {
            None => (1 << 32) + u64::from(seq),
            Some(h) => {
                let delta = i64::from(seq.wrapping_sub(h as u16) as i16);
                (h as i64 + delta).max(0) as u64
            }
        }
    }

    /// Unwraps a 32-bit RTP timestamp relative to the last in-order one.
    fn extend_ts(&self, ts: u32) -> i64 {
        match self.ts_anchor {
            None => i64::from(ts),
            Some((raw, ext)) => ext + i64::from(ts.wrapping_sub(raw) as i32),
        }
    }
}

#[cfg(test)]
mod tests {
    use confer_wire::rtp::RtpHeader;

    use super::*;

    fn pkt(sequence: u16, timestamp: u32) -> MediaPacket {
        MediaPacket {
            header: RtpHeader {
                marker: false,
                payload_type: 111,
                sequence,
                timestamp,
                ssrc: 1,
            },
            layer: None,
            payload: vec![sequence as u8],
        }
    }

    fn drain(jb: &mut JitterBuffer, now: Instant) -> Vec<JitterOutput> {
        std::iter::from_fn(|| jb.poll_output(now)).collect()
    }

    fn seqs(out: &[JitterOutput]) -> Vec<i32> {
        out.iter()
            .map(|o| match o {
                JitterOutput::Packet(p) => i32::from(p.header.sequence),
                JitterOutput::Lost { sequence } => -i32::from(*sequence),
            })
            .collect()
    }

    #[test]
    fn holds_until_the_deadline_then_releases_in_order() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::audio());
        jb.handle_packet(t0, pkt(10, 0));
        assert!(jb.poll_output(t0).is_none());
        let due = jb.poll_timeout().unwrap();
        assert_eq!(due, t0 + Duration::from_millis(20));
        // 12 before 11: reordered but in time.
        jb.handle_packet(t0 + Duration::from_millis(40), pkt(12, 1920));
        jb.handle_packet(t0 + Duration::from_millis(41), pkt(11, 960));
        let out = drain(&mut jb, t0 + Duration::from_millis(200));
        assert_eq!(seqs(&out), vec![10, 11, 12]);
        let s = jb.stats();
        assert_eq!((s.received, s.reordered, s.lost), (3, 1, 0));
    }

    #[test]
    fn declares_a_gap_lost_at_its_interpolated_deadline_and_drops_late_and_duplicate_packets() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::audio());
        jb.handle_packet(t0, pkt(0, 0));
        jb.handle_packet(t0, pkt(0, 0));
        jb.handle_packet(t0 + Duration::from_millis(100), pkt(3, 2880));
        assert_eq!(jb.poll_nack(), vec![1, 2]);
        assert!(jb.poll_nack().is_empty());
        // Packet 3 was 40 ms slower than packet 0: the target covers it.
        let target = jb.stats().target_delay;
        assert_eq!(target, Duration::from_millis(45));
        // Deadlines: 0 at 45 ms, missing 1 and 2 at 65 and 85 ms, 3 at 105 ms.
        let out = drain(&mut jb, t0 + Duration::from_millis(100));
        assert_eq!(seqs(&out), vec![0, -1, -2]);
        assert_eq!(jb.poll_timeout(), Some(t0 + Duration::from_millis(105)));
        let out = drain(&mut jb, t0 + Duration::from_millis(105));
        assert_eq!(seqs(&out), vec![3]);
        // Packet 1 finally shows up: late.
        jb.handle_packet(t0 + Duration::from_millis(500), pkt(1, 960));
        let s = jb.stats();
        assert_eq!((s.duplicates, s.late, s.lost), (1, 1, 2));
    }

    #[test]
    fn sequence_and_timestamp_wrap_without_a_hiccup() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::audio());
        let mut out = Vec::new();
        for i in 0..10u32 {
            let at = t0 + Duration::from_millis(20 * u64::from(i));
            jb.handle_packet(
                at,
                pkt(
                    65530u16.wrapping_add(i as u16),
                    (u32::MAX - 2000).wrapping_add(960 * i),
                ),
            );
            out.extend(drain(&mut jb, at));
        }
        out.extend(drain(&mut jb, t0 + Duration::from_secs(1)));
        assert_eq!(out.len(), 10);
        assert!(out.iter().all(|o| matches!(o, JitterOutput::Packet(_))));
        assert_eq!(jb.stats().lost, 0);
    }

    #[test]
    fn a_video_frame_leaves_together() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::video());
        for s in 0..3 {
            jb.handle_packet(t0, pkt(s, 0));
        }
        jb.handle_packet(t0 + Duration::from_millis(33), pkt(3, 3000));
        let out = drain(&mut jb, t0 + Duration::from_millis(50));
        assert_eq!(seqs(&out), vec![0, 1, 2]);
    }

    /// Feeds audio packets `seqs` (20 ms apart, timestamps from `ts0`) from
    /// `start` and drains after each; returns everything released.
    fn feed(
        jb: &mut JitterBuffer,
        start: Instant,
        seqs: impl IntoIterator<Item = u16>,
        ts0: u32,
    ) -> Vec<JitterOutput> {
        let mut out = Vec::new();
        for (i, s) in seqs.into_iter().enumerate() {
            let at = start + Duration::from_millis(20 * i as u64);
            jb.handle_packet(at, pkt(s, ts0.wrapping_add(960 * i as u32)));
            out.extend(drain(jb, at));
        }
        out
    }

    #[test]
    fn a_huge_forward_jump_resets_instead_of_walking_every_missing_number() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::audio());
        let mut out = feed(&mut jb, t0, 0..10, 0);
        // Two packets are still held when the sender jumps 30 000 ahead.
        let t1 = t0 + Duration::from_millis(200);
        out.extend(feed(&mut jb, t1, 30_010..30_020, 5_000_000));
        out.extend(drain(&mut jb, t1 + Duration::from_secs(10)));
        // Bounded work: no NACK for the jump, no run of 30 000 losses.
        assert!(jb.poll_nack().is_empty());
        let lost = out
            .iter()
            .filter(|o| matches!(o, JitterOutput::Lost { .. }))
            .count();
        assert_eq!(lost, 0, "losses reported one by one");
        let s = jb.stats();
        assert_eq!(s.resets, 1);
        // Playout goes on: the new run plays in order after the old one.
        let played: Vec<i32> = seqs(&out).into_iter().filter(|s| *s >= 0).collect();
        let tail: Vec<i32> = (30_010..30_020).collect();
        assert!(played.ends_with(&tail), "{played:?}");
        // The packets held at the jump are the only ones lost.
        assert_eq!(played.len() as u64 + s.lost, 20);
        assert_eq!(jb.poll_timeout(), None);
    }

    #[test]
    fn a_gap_within_the_window_is_still_loss_not_a_restart() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::audio());
        let gap = JitterConfig::audio().max_packets as u16;
        // Exactly `max_packets` numbers missing: the largest gap walked.
        jb.handle_packet(t0, pkt(0, 0));
        jb.handle_packet(t0, pkt(gap + 1, 960 * (u32::from(gap) + 1)));
        let mut out = Vec::new();
        out.extend(drain(&mut jb, t0 + Duration::from_secs(10)));
        assert_eq!(out.len(), usize::from(gap) + 2);
        assert_eq!((jb.stats().resets, jb.stats().lost), (0, u64::from(gap)));
    }

    #[test]
    fn a_backward_restart_needs_a_run_one_stray_old_packet_is_just_late() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::audio());
        let mut out = feed(&mut jb, t0, 40_000..40_010, 0);
        out.extend(drain(&mut jb, t0 + Duration::from_secs(1)));
        // One stray packet from far in the past (20 000 behind, within the
        // backward half of the 16-bit space): dropped as late.
        let t1 = t0 + Duration::from_secs(1);
        jb.handle_packet(t1, pkt(10_000, 0));
        assert_eq!((jb.stats().late, jb.stats().resets), (1, 0));
        // A run restarting from a lower number: the second packet resets.
        out.extend(feed(&mut jb, t1, 20_000..20_010, 9_000_000));
        out.extend(drain(&mut jb, t1 + Duration::from_secs(10)));
        let s = jb.stats();
        assert_eq!((s.late, s.resets, s.lost), (2, 1, 0));
        let played = seqs(&out);
        assert_eq!(played.len(), 19);
        assert!(
            played.ends_with(&(20_001..20_010).collect::<Vec<_>>()),
            "{played:?}"
        );
    }
}
