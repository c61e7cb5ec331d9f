//! Joining rules: the waiting room, waiting for a host, and the
//! 30-minute rule for meetings without a host (on the virtual clock).

use confer_wire::host::{MeetingEvent, WaitReason, WaitingEntry};

use super::*;

/// Claims for a meeting with a waiting room, or without join-before-host.
fn claims_with(
    h: &mut Harness,
    name: &str,
    role: Role,
    waiting_room: bool,
    jbh: bool,
) -> JoinClaims {
    let mut claims = h.claims(MEETING, name, role);
    claims.policy.waiting_room = waiting_room;
    claims.policy.join_before_host = jbh;
    claims
}

fn waiting_list(conn: ConnectionId, out: &[Output]) -> Option<Vec<WaitingEntry>> {
    to(conn, out).into_iter().rev().find_map(|m| match m {
        ServerMessage::WaitingRoom { waiting } => Some(waiting),
        _ => None,
    })
}

#[test]
fn the_waiting_room_holds_participants_until_a_host_admits_them() {
    let mut h = Harness::new();
    let claims = claims_with(&mut h, "Host", Role::Host, true, true);
    let (host, _) = h.join_claims(claims);
    let claims = claims_with(&mut h, "Bo", Role::Participant, true, true);
    let (bo, out) = h.join_claims(claims);
    let bo_id = ParticipantId(2);
    assert_eq!(
        to(bo, &out),
        vec![ServerMessage::Waiting {
            meeting_id: MEETING,
            participant_id: bo_id,
            reason: WaitReason::WaitingRoom
        }]
    );
    assert_eq!(waiting_list(host, &out).unwrap()[0].name, "Bo");
    assert!(
        !to(host, &out)
            .iter()
            .any(|m| matches!(m, ServerMessage::ParticipantJoined { .. }))
    );
    // Waiting is not being in the meeting: no chat, no media; pings are answered.
    h.send(
        bo,
        ClientMessage::Chat {
            to: None,
            text: "hi".into(),
        },
    );
    assert!(
        to(bo, &h.drain())
            .iter()
            .any(error(ErrorCode::NotJoined, false))
    );
    h.send(bo, ClientMessage::Ping { nonce: 9 });
    assert_eq!(to(bo, &h.drain()), vec![ServerMessage::Pong { nonce: 9 }]);
    h.media(bo, rtp(ssrc_for(bo_id, 0), 1));
    assert!(h.drain().is_empty());
    // A participant cannot admit anyone.
    let out = h.host(
        host,
        HostAction::Admit {
            participant_id: Some(bo_id),
        },
    );
    assert!(matches!(
        to(bo, &out).as_slice(),
        [ServerMessage::Joined { .. }]
    ));
    assert!(
        to(host, &out)
            .iter()
            .any(|m| matches!(m, ServerMessage::ParticipantJoined { .. }))
    );
    assert_eq!(waiting_list(host, &out), Some(vec![]));
    let claims = claims_with(&mut h, "Cy", Role::Participant, true, true);
    let (cy, _) = h.join_claims(claims);
    assert!(refused_quietly(
        bo,
        &h.host(
            bo,
            HostAction::Admit {
                participant_id: None
            }
        )
    ));
    assert!(refused_quietly(
        bo,
        &h.host(
            bo,
            HostAction::Deny {
                participant_id: ParticipantId(3)
            }
        )
    ));
    let _ = cy;
}

#[test]
fn denied_participants_are_disconnected_and_admit_all_lets_everyone_in() {
    let mut h = Harness::new();
    let claims = claims_with(&mut h, "Host", Role::Host, true, true);
    let (host, _) = h.join_claims(claims);
    let mut waiting = Vec::new();
    for name in ["A", "B", "C"] {
        let claims = claims_with(&mut h, name, Role::Participant, true, true);
        waiting.push(h.join_claims(claims).0);
    }
    let out = h.host(
        host,
        HostAction::Deny {
            participant_id: ParticipantId(2),
        },
    );
    assert_eq!(
        to(waiting[0], &out),
        vec![ServerMessage::Removed {
            reason: LeaveReason::Denied
        }]
    );
    assert_eq!(closes(&out), vec![(waiting[0], CloseReason::Denied)]);
    assert_eq!(waiting_list(host, &out).unwrap().len(), 2);
    let out = h.host(
        host,
        HostAction::Admit {
            participant_id: None,
        },
    );
    for conn in &waiting[1..] {
        assert!(matches!(to(*conn, &out)[0], ServerMessage::Joined { .. }));
    }
    assert_eq!(h.router.stats().participants, 3);
}

#[test]
fn the_host_can_turn_the_waiting_room_on_during_the_meeting() {
    let mut h = Harness::new();
    let (host, _) = h.join_as("Host", Role::Host);
    h.host(host, HostAction::SetWaitingRoom { enabled: true });
    let claims = h.claims(MEETING, "Bo", Role::Participant);
    let (bo, out) = h.join_claims(claims);
    assert!(matches!(
        to(bo, &out).as_slice(),
        [ServerMessage::Waiting { .. }]
    ));
}

#[test]
fn without_a_host_and_without_join_before_host_nobody_is_admitted() {
    let mut h = Harness::new();
    let mut conns = Vec::new();
    for name in ["A", "B"] {
        let claims = claims_with(&mut h, name, Role::Participant, false, false);
        let (conn, out) = h.join_claims(claims);
        assert!(matches!(
            to(conn, &out).as_slice(),
            [ServerMessage::Waiting {
                reason: WaitReason::HostAbsent,
                ..
            }]
        ));
        conns.push(conn);
    }
    assert_eq!(h.router.stats().participants, 0);
    // Waiting people keep pinging; the router keeps them.
    for _ in 0..10 {
        h.advance(Duration::from_secs(2));
        for &c in &conns {
            h.send(c, ClientMessage::Ping { nonce: 1 });
        }
    }
    h.drain();
    let claims = claims_with(&mut h, "Host", Role::Host, false, false);
    let (host, out) = h.join_claims(claims);
    for &c in &conns {
        assert!(
            matches!(to(c, &out)[0], ServerMessage::Joined { .. }),
            "{:?}",
            to(c, &out)
        );
    }
    assert_eq!(h.router.stats().participants, 3);
    let _ = host;
}

#[test]
fn a_meeting_without_a_host_is_warned_at_25_minutes_and_ends_at_30() {
    let mut h = Harness::new();
    let (a, _) = h.join("A");
    let (b, _) = h.join("B");
    h.drain();
    let mut warned_at = None;
    let mut ended_at = None;
    let start = h.now;
    for _ in 0..(31 * 60 / 2) {
        h.advance(Duration::from_secs(2));
        for c in [a, b] {
            h.send(c, ClientMessage::Ping { nonce: 1 });
        }
        let out = h.drain();
        if events(a, &out)
            .iter()
            .any(|e| matches!(e, MeetingEvent::EndingSoon { in_secs: 300 }))
        {
            warned_at.get_or_insert(h.now - start);
        }
        if to(a, &out).contains(&ServerMessage::Removed {
            reason: LeaveReason::Ended,
        }) {
            ended_at = Some(h.now - start);
            assert!(closes(&out).contains(&(b, CloseReason::Ended)));
            break;
        }
    }
    assert_eq!(warned_at, Some(Duration::from_secs(25 * 60)));
    assert_eq!(ended_at, Some(Duration::from_secs(30 * 60)));
}

#[test]
fn a_host_arriving_stops_the_hostless_clock() {
    let mut h = Harness::new();
    let (a, _) = h.join("A");
    h.advance(Duration::from_secs(2));
    let (host, _) = h.join_as("Host", Role::Host);
    for _ in 0..(31 * 60 / 2) {
        h.advance(Duration::from_secs(2));
        for c in [a, host] {
            h.send(c, ClientMessage::Ping { nonce: 1 });
        }
        assert!(events(a, &h.drain()).is_empty());
    }
    assert_eq!(h.router.stats().participants, 2);
}

#[test]
fn a_meeting_whose_host_left_without_a_successor_ends_after_30_minutes() {
    let mut h = Harness::new();
    let claims = claims_with(&mut h, "Host", Role::Host, false, false);
    let (host, _) = h.join_claims(claims);
    let mut guest = claims_with(&mut h, "Guest", Role::Participant, false, false);
    guest.guest = true;
    let (g, _) = h.join_claims(guest);
    h.send(host, ClientMessage::Leave);
    h.drain();
    let start = h.now;
    let mut ended_at = None;
    for _ in 0..(31 * 60 / 2) {
        h.advance(Duration::from_secs(2));
        h.send(g, ClientMessage::Ping { nonce: 1 });
        if to(g, &h.drain()).contains(&ServerMessage::Removed {
            reason: LeaveReason::Ended,
        }) {
            ended_at = Some(h.now - start);
            break;
        }
    }
    assert_eq!(ended_at, Some(Duration::from_secs(30 * 60)));
}
