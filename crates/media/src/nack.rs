//! The sender's history of recent packets, so it can answer a NACK with a
//! retransmission (sans-IO: it holds bytes and answers questions; sending is
//! the driver's job).
//!
//! Retransmissions are the original packets, sent again unchanged (same SSRC
//! and sequence number; RFC 4588's separate RTX stream is not used, because
//! the jitter buffer already discards duplicates and the router forwards by
//! SSRC). A receiver's jitter buffer treats a retransmission that arrives in
//! time as the original.

use std::collections::VecDeque;

use crate::packet::MediaPacket;

/// Default number of packets kept: about one second of 720p video.
pub const DEFAULT_HISTORY_LEN: usize = 512;

/// A ring of the most recent packets of one stream, looked up by sequence number.
#[derive(Debug, Clone)]
pub struct SendHistory {
    /// Oldest first; sequence numbers increase by one along the ring.
    packets: VecDeque<MediaPacket>,
    /// Most packets kept.
    capacity: usize,
}

impl SendHistory {
    /// A history keeping the last `capacity` packets (at least 1).
    pub fn new(capacity: usize) -> Self {
        SendHistory {
            packets: VecDeque::with_capacity(capacity.max(1)),
            capacity: capacity.max(1),
        }
    }

    /// Records a packet just sent. Packets must be recorded in sending order;
    /// a packet that does not follow the previous one's sequence number
    /// restarts the history.
    pub fn handle_sent(&mut self, packet: MediaPacket) {
        if let Some(last) = self.packets.back()
            && packet.header.sequence != last.header.sequence.wrapping_add(1)
        {
            self.packets.clear();
        }
        if self.packets.len() == self.capacity {
            self.packets.pop_front();
        }
        self.packets.push_back(packet);
    }

    /// The packet with sequence number `sequence`, if still kept.
    pub fn get(&self, sequence: u16) -> Option<&MediaPacket> {
        let first = self.packets.front()?.header.sequence;
        let index = usize::from(sequence.wrapping_sub(first));
        self.packets.get(index)
    }

    /// The packets to resend for a NACK listing `sequences`, skipping the ones
    /// no longer kept.
    pub fn handle_nack<'a>(
        &'a self,
        sequences: &'a [u16],
    ) -> impl Iterator<Item = &'a MediaPacket> + 'a {
        sequences.iter().filter_map(|s| self.get(*s))
    }

    /// Number of packets kept.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use confer_wire::rtp::RtpHeader;

    use super::*;

    fn pkt(sequence: u16) -> MediaPacket {
        MediaPacket {
            header: RtpHeader {
                marker: false,
                payload_type: 102,
                sequence,
                timestamp: 0,
                ssrc: 1,
            },
            layer: None,
            payload: sequence.to_be_bytes().to_vec(),
        }
    }

    #[test]
    fn answers_nacks_from_a_bounded_wrapping_history() {
        let mut h = SendHistory::new(4);
        for s in [65533u16, 65534, 65535, 0, 1, 2] {
            h.handle_sent(pkt(s));
        }
        assert_eq!(h.len(), 4);
        assert!(h.get(65534).is_none(), "evicted");
        let got: Vec<u16> = h
            .handle_nack(&[65534, 65535, 1, 3])
            .map(|p| p.header.sequence)
            .collect();
        assert_eq!(got, vec![65535, 1]);
        assert_eq!(h.get(2).map(|p| p.payload.clone()), Some(vec![0, 2]));
    }

    #[test]
    fn a_sequence_jump_restarts_the_history() {
        let mut h = SendHistory::new(8);
        h.handle_sent(pkt(10));
        h.handle_sent(pkt(11));
        h.handle_sent(pkt(500));
        assert_eq!(h.len(), 1);
        assert!(h.get(10).is_none());
        assert!(h.get(500).is_some());
    }
}
