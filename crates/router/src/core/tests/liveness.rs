//! Timers: the join timeout and the silence timeout, on the virtual clock.

use super::*;

#[test]
fn silent_participant_is_dropped_at_six_seconds() {
    let mut h = Harness::new();
    let (a, pa) = h.join("A");
    let (b, _) = h.join("B");
    for _ in 0..5 {
        h.advance(Duration::from_secs(1));
        h.send(b, ClientMessage::Ping { nonce: 0 });
    }
    h.advance(Duration::from_millis(999)); // A silent for 5.999 s
    assert!(h.router.is_open(a));
    h.drain();
    h.advance(Duration::from_millis(1)); // 6 s
    let out = h.drain();
    assert!(!h.router.is_open(a));
    assert_eq!(
        to(a, &out),
        vec![ServerMessage::Removed {
            reason: LeaveReason::TimedOut
        }]
    );
    assert_eq!(
        to(b, &out),
        vec![ServerMessage::ParticipantLeft {
            participant_id: pa,
            reason: LeaveReason::TimedOut
        }]
    );
    assert_eq!(closes(&out), vec![(a, CloseReason::TimedOut)]);
    assert!(h.router.is_open(b), "B kept pinging");
}

#[test]
fn media_counts_as_being_heard() {
    let mut h = Harness::new();
    let (a, pa) = h.join("A");
    for seq in 0..20 {
        h.advance(Duration::from_millis(500));
        h.media(a, rtp(ssrc_for(pa, 0), seq));
    }
    assert!(h.router.is_open(a));
}

#[test]
fn connection_without_join_is_refused_at_five_seconds() {
    let mut h = Harness::new();
    let conn = h.connect();
    assert_eq!(
        h.router.poll_timeout(),
        Some(h.now + Duration::from_secs(5))
    );
    h.advance(Duration::from_millis(4999));
    assert!(h.drain().is_empty());
    h.advance(Duration::from_millis(1));
    let out = h.drain();
    let msgs = to(conn, &out);
    assert_eq!(msgs.len(), 1);
    assert!(error(ErrorCode::JoinTimeout, true)(&msgs[0]));
    assert_eq!(
        closes(&out),
        vec![(conn, CloseReason::Error(ErrorCode::JoinTimeout))]
    );
    assert_eq!(h.router.stats().connections, 0);
}

#[test]
fn timers_never_fire_late_and_track_the_earliest_deadline() {
    let mut h = Harness::new();
    assert_eq!(h.router.poll_timeout(), None);
    let (a, pa) = h.join("A");
    assert_eq!(h.router.poll_timeout(), Some(h.t0 + Duration::from_secs(5)));
    // The join deadline passes without incident; the silence deadline is next.
    h.advance(Duration::from_secs(5));
    assert_eq!(h.router.poll_timeout(), Some(h.t0 + Duration::from_secs(6)));
    h.media(a, rtp(ssrc_for(pa, 0), 0));
    h.advance(Duration::from_secs(1));
    assert!(h.router.is_open(a));
    assert_eq!(
        h.router.poll_timeout(),
        Some(h.t0 + Duration::from_secs(11))
    );
}
