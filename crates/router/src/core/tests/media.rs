//! The media fast path: who gets a packet, and what is dropped.

use super::*;

#[test]
fn media_goes_unchanged_to_everyone_else_never_back_to_sender() {
    let mut h = Harness::new();
    let (a, pa) = h.join("A");
    let (b, _) = h.join("B");
    let (c, _) = h.join("C");
    let (elsewhere, _) = h.join_meeting(MeetingId(9), "D", Role::Participant);
    let packet = rtp(ssrc_for(pa, 3), 1);
    h.media(a, packet.clone());
    let out = h.drain();
    let [Output::Media { to, packet: sent }] = out.as_slice() else {
        panic!("{out:?}")
    };
    let mut recipients: Vec<_> = to.iter().collect();
    recipients.sort();
    assert_eq!(recipients, vec![b, c]);
    assert_eq!(to.len(), 2);
    assert!(!recipients.contains(&a) && !recipients.contains(&elsewhere));
    assert_eq!(sent, &packet);
    assert_eq!(sent.as_ptr(), packet.as_ptr(), "forwarded without copying");
    let stats = h.router.stats();
    assert_eq!((stats.media_forwarded, stats.media_copies), (1, 2));
}

#[test]
fn alone_in_a_meeting_media_goes_nowhere() {
    let mut h = Harness::new();
    let (a, pa) = h.join("A");
    h.media(a, rtp(ssrc_for(pa, 0), 1));
    assert!(h.drain().is_empty());
}

#[test]
fn spoofed_malformed_and_unjoined_media_is_dropped_and_counted() {
    let mut h = Harness::new();
    let (a, _) = h.join("A");
    let (_, pb) = h.join("B");
    h.media(a, rtp(ssrc_for(pb, 0), 1)); // B's SSRC from A
    h.media(a, Bytes::from_static(&[0x40; 20])); // RTP version 1
    h.media(a, Bytes::from_static(&[0x80; 5])); // truncated
    let mut big = rtp(ssrc_for(ParticipantId(1), 0), 1).to_vec();
    big.resize(confer_wire::frame::MAX_MEDIA_LEN + 1, 0);
    h.media(a, Bytes::from(big));
    let pending = h.connect();
    h.media(pending, rtp(ssrc_for(ParticipantId(3), 0), 1)); // before join
    h.media(ConnectionId(999), rtp(0x100, 1)); // unknown connection
    assert!(h.drain().is_empty());
    let stats = h.router.stats();
    assert_eq!(stats.media_dropped_spoofed, 1);
    assert_eq!(stats.media_dropped_malformed, 3);
    assert_eq!(stats.media_dropped_not_joined, 2);
    assert_eq!(stats.media_forwarded, 0);
}
