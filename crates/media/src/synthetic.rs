//! A synthetic media source: RTP packets with a known payload at a fixed
//! cadence.
//!
//! It stands in for an audio track (20 ms packets at a 48 kHz clock, the
//! shape of an Opus stream) so that tests and load tools can send media
//! through a real router and check, at the other end, that what arrived is
//! what was sent: every payload starts with [`PAYLOAD_MAGIC`], then the
//! packet's counter, then a pattern derived from the counter
//! ([`parse_payload`] checks all three).
//!
//! # Driving contract
//!
//! [`SyntheticSource`] is sans-IO: it owns no timer. The caller
//!
//! 1. asks [`SyntheticSource::poll_timeout`] when the next packet is due and
//!    sleeps until then (or until something else wakes it);
//! 2. calls [`SyntheticSource::poll_packet`] with the current time, repeatedly,
//!    until it returns `None`, and sends each packet it gets.
//!
//! A caller that falls far behind (a suspended laptop, a stalled runtime) gets
//! at most [`MAX_BURST`] packets at once; the rest are skipped, as a real
//! capture device would drop them, while the RTP timestamp still advances
//! with real time so a receiver sees the gap.

use std::time::{Duration, Instant};

use confer_wire::ids::{ParticipantId, ssrc_for};
use confer_wire::rtp::{PT_SYNTHETIC, RtpHeader};

/// Time between packets: 20 ms, 50 packets per second.
pub const PACKET_INTERVAL: Duration = Duration::from_millis(20);

/// The RTP clock rate of the stream, that of Opus audio.
pub const CLOCK_RATE: u32 = 48_000;

/// RTP timestamp increment per packet: 20 ms at 48 kHz.
pub const SAMPLES_PER_PACKET: u32 = CLOCK_RATE / 50;

/// First bytes of every synthetic payload, so a receiver (or a person reading
/// a packet capture) can tell the test stream apart from real media.
pub const PAYLOAD_MAGIC: &[u8; 8] = b"CONFSYN1";

/// Bytes of payload after the magic and the counter. Small, like a
/// low-bitrate Opus frame, so tests measure packet handling rather than
/// bandwidth.
pub const PATTERN_LEN: usize = 64;

/// Total payload length of a synthetic packet.
pub const PAYLOAD_LEN: usize = PAYLOAD_MAGIC.len() + 8 + PATTERN_LEN;

/// The most packets [`SyntheticSource::poll_packet`] yields for one late
/// wake-up before it skips ahead (100 ms of media).
pub const MAX_BURST: u32 = 5;

/// Generates the synthetic test stream for one participant's track.
#[derive(Debug, Clone)]
pub struct SyntheticSource {
    /// The stream's SSRC, fixed by the participant id and track number so
    /// the router accepts it from this participant only.
    ssrc: u32,
    /// Next RTP sequence number; counts packets actually produced.
    sequence: u16,
    /// RTP timestamp of the next packet; counts media time, skips included.
    timestamp: u32,
    /// Number of packets produced so far, written into each payload.
    counter: u64,
    /// When the next packet is due.
    next_due: Instant,
}

impl SyntheticSource {
    /// A source for `participant`'s track `track` whose first packet is due
    /// at `now`.
    ///
    /// Sequence numbers and timestamps start at zero rather than at random
    /// values (RFC 3550 §5.1 recommends random ones against known-plaintext
    /// attacks on encrypted media): this stream is a test signal whose
    /// content is public anyway, and fixed starts make traces easy to read.
    pub fn new(participant: ParticipantId, track: u8, now: Instant) -> Self {
        SyntheticSource {
            ssrc: ssrc_for(participant, track),
            sequence: 0,
            timestamp: 0,
            counter: 0,
            next_due: now,
        }
    }

    /// The SSRC this source stamps on its packets.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// How many packets this source has produced.
    pub fn packets_produced(&self) -> u64 {
        self.counter
    }

    /// When the next packet is due; call [`Self::poll_packet`] then.
    pub fn poll_timeout(&self) -> Instant {
        self.next_due
    }

    /// The next packet if one is due at `now`, as a complete RTP packet.
    ///
    /// Call until it returns `None`.
    pub fn poll_packet(&mut self, now: Instant) -> Option<Vec<u8>> {
        if now < self.next_due {
            return None;
        }
        let behind = now.duration_since(self.next_due);
        let late_packets = behind.as_micros() / PACKET_INTERVAL.as_micros();
        if late_packets >= u128::from(MAX_BURST) {
            // Skip ahead to the most recent due slot; the timestamp moves
            // with media time, the sequence number does not (nothing was sent).
            let skipped = u32::try_from(late_packets).unwrap_or(u32::MAX);
            self.timestamp = self
                .timestamp
                .wrapping_add(skipped.wrapping_mul(SAMPLES_PER_PACKET));
            self.next_due += PACKET_INTERVAL * skipped;
        }
        let header = RtpHeader {
            // The first packet starts the stream, as a talk spurt would.
            marker: self.counter == 0,
            payload_type: PT_SYNTHETIC,
            sequence: self.sequence,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
        };
        let mut packet = Vec::new();
        header.write(&payload_for(self.counter), &mut packet);
        self.sequence = self.sequence.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(SAMPLES_PER_PACKET);
        self.counter += 1;
        self.next_due += PACKET_INTERVAL;
        Some(packet)
    }
}

/// The payload of the synthetic packet number `counter`.
pub fn payload_for(counter: u64) -> Vec<u8> {
    let mut payload = Vec::with_capacity(PAYLOAD_LEN);
    payload.extend_from_slice(PAYLOAD_MAGIC);
    payload.extend_from_slice(&counter.to_be_bytes());
    payload.extend((0..PATTERN_LEN).map(|i| pattern_byte(counter, i)));
    payload
}

/// Why a payload is not an intact synthetic payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyntheticPayloadError {
    /// The payload is not [`PAYLOAD_LEN`] bytes long.
    #[error("synthetic payload of {0} bytes, expected {PAYLOAD_LEN}")]
    WrongLength(usize),
    /// The payload does not start with [`PAYLOAD_MAGIC`]: not the test stream.
    #[error("payload does not start with the synthetic magic")]
    NotSynthetic,
    /// Magic and counter are there but the pattern is damaged.
    #[error("synthetic payload {counter} is corrupted at byte {offset}")]
    Corrupted {
        /// The packet counter read from the payload.
        counter: u64,
        /// Offset of the first wrong byte within the payload.
        offset: usize,
    },
}

/// Checks a received synthetic payload and returns its packet counter.
pub fn parse_payload(payload: &[u8]) -> Result<u64, SyntheticPayloadError> {
    if payload.len() != PAYLOAD_LEN {
        return Err(SyntheticPayloadError::WrongLength(payload.len()));
    }
    let (magic, rest) = payload.split_at(PAYLOAD_MAGIC.len());
    if magic != PAYLOAD_MAGIC {
        return Err(SyntheticPayloadError::NotSynthetic);
    }
    let (counter_bytes, pattern) = rest.split_at(8);
    let mut be = [0u8; 8];
    be.copy_from_slice(counter_bytes);
    let counter = u64::from_be_bytes(be);
    if let Some(i) = pattern
        .iter()
        .enumerate()
        .position(|(i, b)| *b != pattern_byte(counter, i))
    {
        return Err(SyntheticPayloadError::Corrupted {
            counter,
            offset: PAYLOAD_MAGIC.len() + 8 + i,
        });
    }
    Ok(counter)
}

/// Byte `i` of the pattern for packet `counter`: varies with both, so a
/// swapped, shifted or stale payload does not check out.
fn pattern_byte(counter: u64, i: usize) -> u8 {
    (counter as u8).wrapping_mul(31).wrapping_add(i as u8)
}

#[cfg(test)]
mod tests {
    use confer_wire::ids::participant_of_ssrc;
    use confer_wire::rtp::RtpPacket;

    use super::*;

    fn drain(source: &mut SyntheticSource, now: Instant) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| source.poll_packet(now)).collect()
    }

    #[test]
    fn first_packet_is_due_immediately_then_every_20ms() {
        let t0 = Instant::now();
        let mut s = SyntheticSource::new(ParticipantId(7), 1, t0);
        assert_eq!(s.poll_timeout(), t0);
        assert_eq!(drain(&mut s, t0).len(), 1);
        assert_eq!(s.poll_timeout(), t0 + PACKET_INTERVAL);
        assert!(s.poll_packet(t0 + Duration::from_millis(19)).is_none());
        assert_eq!(drain(&mut s, t0 + PACKET_INTERVAL).len(), 1);
    }

    #[test]
    fn one_virtual_second_is_fifty_well_formed_packets() {
        let t0 = Instant::now();
        let participant = ParticipantId(42);
        let mut s = SyntheticSource::new(participant, 3, t0);
        let mut packets = Vec::new();
        let mut now = t0;
        while now < t0 + Duration::from_secs(1) {
            packets.extend(drain(&mut s, now));
            now = s.poll_timeout();
        }
        assert_eq!(packets.len(), 50);
        for (i, bytes) in packets.iter().enumerate() {
            let p = RtpPacket::parse(bytes).unwrap();
            assert_eq!(p.header.payload_type, PT_SYNTHETIC);
            assert_eq!(p.header.ssrc, ssrc_for(participant, 3));
            assert_eq!(participant_of_ssrc(p.header.ssrc), participant);
            assert_eq!(p.header.sequence, i as u16);
            assert_eq!(p.header.timestamp, i as u32 * SAMPLES_PER_PACKET);
            assert_eq!(p.header.marker, i == 0);
            assert_eq!(parse_payload(p.payload), Ok(i as u64));
        }
        assert_eq!(s.packets_produced(), 50);
    }

    #[test]
    fn a_late_caller_gets_a_bounded_burst_and_the_timestamp_keeps_real_time() {
        let t0 = Instant::now();
        let mut s = SyntheticSource::new(ParticipantId(1), 0, t0);
        assert_eq!(drain(&mut s, t0).len(), 1);
        // Slightly late: every missed packet is still sent.
        assert_eq!(drain(&mut s, t0 + Duration::from_millis(65)).len(), 3);
        // Two seconds late: a bounded burst, not 100 packets.
        let late = t0 + Duration::from_secs(2);
        let burst = drain(&mut s, late);
        assert!(burst.len() <= MAX_BURST as usize, "{}", burst.len());
        let last = RtpPacket::parse(burst.last().unwrap()).unwrap();
        assert_eq!(last.header.timestamp, 100 * SAMPLES_PER_PACKET);
        assert_eq!(usize::from(last.header.sequence), 4 + burst.len() - 1);
        assert!(s.poll_timeout() > late);
    }

    #[test]
    fn sequence_and_timestamp_wrap() {
        let t0 = Instant::now();
        let mut s = SyntheticSource::new(ParticipantId(1), 0, t0);
        s.sequence = u16::MAX;
        s.timestamp = u32::MAX - 10;
        let first = drain(&mut s, t0);
        let second = drain(&mut s, t0 + PACKET_INTERVAL);
        let a = RtpPacket::parse(&first[0]).unwrap().header;
        let b = RtpPacket::parse(&second[0]).unwrap().header;
        assert_eq!(b.sequence, a.sequence.wrapping_add(1));
        assert_eq!(b.timestamp, a.timestamp.wrapping_add(SAMPLES_PER_PACKET));
    }

    #[test]
    fn damaged_payloads_are_told_apart() {
        let good = payload_for(9);
        assert_eq!(parse_payload(&good), Ok(9));
        assert_eq!(
            parse_payload(&good[..10]),
            Err(SyntheticPayloadError::WrongLength(10))
        );
        let mut other = good.clone();
        other[0] = b'X';
        assert_eq!(
            parse_payload(&other),
            Err(SyntheticPayloadError::NotSynthetic)
        );
        let mut corrupt = good.clone();
        corrupt[PAYLOAD_LEN - 1] ^= 1;
        assert_eq!(
            parse_payload(&corrupt),
            Err(SyntheticPayloadError::Corrupted {
                counter: 9,
                offset: PAYLOAD_LEN - 1
            })
        );
        // A payload claiming another counter does not match its pattern.
        let mut stale = payload_for(10);
        stale[8..16].copy_from_slice(&9u64.to_be_bytes());
        assert!(matches!(
            parse_payload(&stale),
            Err(SyntheticPayloadError::Corrupted { .. })
        ));
    }
}
