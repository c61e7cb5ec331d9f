//! Counters the router keeps about itself, for operators and benchmarks.

/// A snapshot of the router's counters.
///
/// Gauges (`connections`, `meetings`, `participants`) are current values;
/// everything else counts events since the router started. The meeting core
/// fills most fields; the three about outbound delivery come from the driver,
/// which owns those queues, and are zero in a bare core.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouterStats {
    /// Open connections, joined or still expected to join.
    pub connections: u64,
    /// Meetings with at least one participant.
    pub meetings: u64,
    /// Participants across all meetings.
    pub participants: u64,
    /// Joins admitted.
    pub joins_admitted: u64,
    /// Joins refused (bad token, reused session, wrong meeting, full, ...).
    pub joins_refused: u64,
    /// Chat messages relayed, sealed ones (E2E meetings) included.
    pub chat_messages: u64,
    /// Reactions relayed.
    pub reactions: u64,
    /// Host actions carried out.
    pub host_actions: u64,
    /// Host and self actions refused as `not_allowed`.
    pub host_actions_refused: u64,
    /// [`RouterEvent`](crate::core::RouterEvent)s dropped: by the core
    /// when nobody drained its event queue, or by the driver when the
    /// event sink was full or closed.
    pub events_dropped: u64,
    /// Media packets accepted from a sender and handed on for forwarding.
    pub media_forwarded: u64,
    /// Copies of media packets handed to the driver: each forwarded packet
    /// counts once per recipient.
    pub media_copies: u64,
    /// Media packets dropped because their connection had not joined (or
    /// was already gone).
    pub media_dropped_not_joined: u64,
    /// Media packets dropped because they were not RTP version 2 or were
    /// larger than a media frame may be.
    pub media_dropped_malformed: u64,
    /// Media packets dropped because their SSRC belongs to someone other
    /// than the sender.
    pub media_dropped_spoofed: u64,
    /// Audio packets dropped because their sender is muted (by themselves
    /// or a host).
    pub media_dropped_muted: u64,
    /// Camera video packets dropped because their sender's video is off
    /// (never started, stopped by themselves or by a host).
    pub media_dropped_video_off: u64,
    /// Screen share packets dropped because their sender is not sharing
    /// (never started, paused, stopped by a host) or may not share.
    pub media_dropped_screen_off: u64,
    /// Media packets dropped because their track number is outside the
    /// fixed layout (`confer_wire::ids::track`).
    pub media_dropped_unknown_track: u64,
    /// Camera video packets dropped because they carry no valid simulcast
    /// layer descriptor, or one naming another layer than their track.
    pub media_dropped_no_layer: u64,
    /// Copies of camera video not sent to a receiver because it gets
    /// another layer of that sender (or none, or waits for a keyframe).
    pub media_layer_skipped: u64,
    /// Keyframe requests (PLI) the router itself sent a sender because a
    /// receiver waits to switch layers.
    pub keyframe_requests_sent: u64,
    /// Keyframe requests of the router's own not sent because the
    /// sender's track had one (from the router or a receiver) too recently.
    pub keyframe_requests_limited: u64,
    /// RTCP feedback (PLI, NACK) relayed from a receiver to the sender
    /// owning the stream it names.
    pub feedback_relayed: u64,
    /// RTCP feedback dropped because its connection had not joined.
    pub feedback_dropped_not_joined: u64,
    /// RTCP feedback dropped because it was not a single well-formed PLI or
    /// NACK (or a PLI named an audio stream).
    pub feedback_dropped_malformed: u64,
    /// RTCP feedback dropped because its sender SSRC is not the sending
    /// participant's.
    pub feedback_dropped_spoofed: u64,
    /// Receivers' PLIs not relayed because the sender's track had a
    /// keyframe request too recently (so no receiver can make a sender
    /// encode keyframes without pause).
    pub feedback_dropped_rate_limited: u64,
    /// Receivers' NACKs not relayed because that receiver had asked for
    /// that track's retransmissions faster than [`NACK_BURST`] at once or
    /// [`NACK_INTERVAL`] apart (so no receiver can make the router flood a
    /// sender with retransmission requests).
    ///
    /// [`NACK_BURST`]: crate::core::NACK_BURST
    /// [`NACK_INTERVAL`]: crate::core::NACK_INTERVAL
    pub feedback_dropped_nack_limited: u64,
    /// RTCP feedback dropped because its media SSRC belongs to nobody else
    /// in the sender's meeting (or to no track in the layout).
    pub feedback_dropped_unknown_ssrc: u64,
    /// Media copies the driver dropped because a recipient's outbound queue
    /// was full (a slow client loses media rather than slowing others).
    pub media_dropped_queue_full: u64,
    /// Media copies the driver sent as frames on a QUIC control stream
    /// because the recipient's connection could not carry them as a
    /// datagram (no datagram support, or a path too narrow for the packet).
    pub media_datagram_fallbacks: u64,
    /// Clients the driver disconnected because their control queue
    /// overflowed.
    pub slow_clients_disconnected: u64,
}
