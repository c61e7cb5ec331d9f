//! Admission: joins, their refusals, session ids, leaving.

use confer_wire::host::{ChatPolicy, HostAction, MeetingSettings, Permission, SharePolicy};

use super::*;
use crate::core::bans::BAN_RETENTION;

#[test]
fn join_sends_roster_with_self_and_announces_newcomer() {
    let mut h = Harness::new();
    let ada = h.connect();
    let claims = h.claims(MEETING, "Ada", Role::Host);
    h.send_join(ada, MEETING, Ok(claims));
    let out = h.drain();
    let ada_entry = RosterEntry {
        participant_id: ParticipantId(1),
        name: "Ada".into(),
        role: Role::Host,
        guest: false,
        ..RosterEntry::default()
    };
    assert_eq!(
        to(ada, &out),
        vec![ServerMessage::Joined {
            version: PROTOCOL_VERSION,
            participant_id: ParticipantId(1),
            meeting_id: MEETING,
            role: Role::Host,
            roster: vec![ada_entry.clone()],
            keepalive_interval_ms: 2000,
            silence_timeout_ms: 6000,
            settings: MeetingSettings::default(),
        }]
    );

    let bo = h.connect();
    let claims = h.claims(MEETING, "Bo", Role::Participant);
    h.send_join(bo, MEETING, Ok(claims));
    let out = h.drain();
    let bo_entry = RosterEntry {
        participant_id: ParticipantId(2),
        name: "Bo".into(),
        role: Role::Participant,
        guest: false,
        ..RosterEntry::default()
    };
    match to(bo, &out).as_slice() {
        [
            ServerMessage::Joined {
                participant_id,
                roster,
                role,
                ..
            },
        ] => {
            assert_eq!(*participant_id, ParticipantId(2));
            assert_eq!(*role, Role::Participant);
            assert_eq!(roster, &vec![ada_entry, bo_entry.clone()]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        to(ada, &out),
        vec![ServerMessage::ParticipantJoined {
            participant: bo_entry
        }]
    );
    let stats = h.router.stats();
    assert_eq!(
        (stats.meetings, stats.participants, stats.joins_admitted),
        (1, 2, 2)
    );
}

#[test]
fn participant_ids_are_never_reused_and_meetings_are_separate() {
    let mut h = Harness::new();
    let (_, a) = h.join("A");
    let (b_conn, b) = h.join("B");
    assert_eq!((a, b), (ParticipantId(1), ParticipantId(2)));
    h.send(b_conn, ClientMessage::Leave);
    h.drain();
    let (_, c) = h.join("C");
    assert_eq!(c, ParticipantId(3));
    let (_, other) = h.join_meeting(MeetingId(7), "D", Role::Participant);
    assert_eq!(other, ParticipantId(1), "ids count per meeting");
}

#[test]
fn a_session_id_is_admitted_once() {
    let mut h = Harness::new();
    let claims = h.claims(MEETING, "A", Role::Participant);
    let first = h.connect();
    h.send_join(first, MEETING, Ok(claims.clone()));
    h.drain();
    let second = h.connect();
    h.send_join(second, MEETING, Ok(claims.clone()));
    let out = h.drain();
    assert!(error(ErrorCode::SessionReused, true)(&to(second, &out)[0]));
    assert!(
        to(first, &out).is_empty(),
        "no announcement of a refused join"
    );
    // Still refused after the first session has left.
    h.send(first, ClientMessage::Leave);
    let third = h.connect();
    h.send_join(third, MEETING, Ok(claims));
    assert!(error(ErrorCode::SessionReused, true)(
        &to(third, &h.drain())[0]
    ));
}

#[test]
fn session_ids_are_forgotten_after_their_token_expires() {
    let mut h = Harness::new();
    for _ in 0..3 {
        h.join("A");
    }
    assert_eq!(h.router.remembered_sessions(), 3);
    // Tokens live an hour, plus the 30 s leeway.
    h.advance(Duration::from_secs(3600 + 30 + 2));
    assert_eq!(h.router.remembered_sessions(), 0);
}

#[test]
fn join_refusals_carry_the_right_code() {
    let mut h = Harness::new();
    type Case = (Box<dyn Fn(&mut Harness, ConnectionId)>, ErrorCode);
    let cases: Vec<Case> = vec![
        (
            Box::new(|h, c| {
                let claims = h.claims(MEETING, "A", Role::Host);
                h.router.handle_control(
                    h.now,
                    c,
                    ControlInput::Join {
                        version: 2,
                        meeting_id: MEETING,
                        claims: Ok(claims),
                        verified_at_unix: 0,
                    },
                );
            }),
            ErrorCode::UnsupportedVersion,
        ),
        (
            Box::new(|h, c| h.send_join(c, MEETING, Err(TokenError::Expired))),
            ErrorCode::TokenExpired,
        ),
        (
            Box::new(|h, c| {
                h.send_join(c, MEETING, Err(TokenError::Invalid("bad signature".into())))
            }),
            ErrorCode::InvalidToken,
        ),
        (
            Box::new(|h, c| {
                let claims = h.claims(MeetingId(1), "A", Role::Host);
                h.send_join(c, MEETING, Ok(claims));
            }),
            ErrorCode::WrongMeeting,
        ),
        (
            Box::new(|h, c| h.send(c, ClientMessage::Ping { nonce: 1 })),
            ErrorCode::NotJoined,
        ),
        (
            Box::new(|h, c| {
                let e = DecodeError::Malformed("unknown variant `fly`".into());
                h.router
                    .handle_control(h.now, c, ControlInput::Malformed(e));
            }),
            ErrorCode::MalformedMessage,
        ),
        (
            Box::new(|h, c| {
                let e = FrameError::TooLarge {
                    kind: FrameKind::Media,
                    len: 5000,
                    max: 1500,
                };
                h.router.handle_frame_error(h.now, c, &e);
            }),
            ErrorCode::FrameTooLarge,
        ),
        (
            Box::new(|h, c| {
                h.router
                    .handle_frame_error(h.now, c, &FrameError::UnknownKind(9))
            }),
            ErrorCode::MalformedMessage,
        ),
    ];
    for (send, code) in cases {
        let conn = h.connect();
        send(&mut h, conn);
        let out = h.drain();
        let msgs = to(conn, &out);
        assert_eq!(msgs.len(), 1, "{code:?}: {msgs:?}");
        assert!(error(code, true)(&msgs[0]), "{code:?}: {msgs:?}");
        assert_eq!(closes(&out), vec![(conn, CloseReason::Error(code))]);
        assert!(!h.router.is_open(conn));
    }
    assert_eq!(h.router.stats().meetings, 0);
}

#[test]
fn the_same_token_for_another_meeting_is_refused_but_works_for_its_own() {
    let mut h = Harness::new();
    let claims = h.claims(MeetingId(5), "A", Role::Participant);
    let wrong = h.connect();
    h.send_join(wrong, MEETING, Ok(claims.clone()));
    assert!(error(ErrorCode::WrongMeeting, true)(
        &to(wrong, &h.drain())[0]
    ));
    let right = h.connect();
    h.send_join(right, MeetingId(5), Ok(claims));
    assert!(matches!(
        to(right, &h.drain())[0],
        ServerMessage::Joined { .. }
    ));
}

#[test]
fn malformed_or_repeated_messages_after_joining_are_not_fatal() {
    let mut h = Harness::new();
    let (a, _) = h.join("A");
    let e = DecodeError::Malformed("unknown variant `fly`".into());
    h.router
        .handle_control(h.now, a, ControlInput::Malformed(e));
    let claims = h.claims(MEETING, "A", Role::Participant);
    h.send_join(a, MEETING, Ok(claims));
    let out = h.drain();
    let msgs = to(a, &out);
    assert!(error(ErrorCode::MalformedMessage, false)(&msgs[0]));
    assert!(error(ErrorCode::AlreadyJoined, false)(&msgs[1]));
    assert!(closes(&out).is_empty());
    assert!(h.router.is_open(a));
}

#[test]
fn leave_and_disconnect_tell_the_others_and_empty_meetings_vanish() {
    let mut h = Harness::new();
    let (a, pa) = h.join("A");
    let (b, pb) = h.join("B");
    let (c, _) = h.join("C");
    h.send(a, ClientMessage::Leave);
    let out = h.drain();
    assert_eq!(
        to(b, &out),
        vec![ServerMessage::ParticipantLeft {
            participant_id: pa,
            reason: LeaveReason::Left
        }]
    );
    assert_eq!(closes(&out), vec![(a, CloseReason::Left)]);
    h.router.handle_disconnect(h.now, b);
    let out = h.drain();
    assert_eq!(
        to(c, &out),
        vec![ServerMessage::ParticipantLeft {
            participant_id: pb,
            reason: LeaveReason::Disconnected
        }]
    );
    assert!(closes(&out).is_empty(), "the transport is already gone");
    assert_eq!(h.router.stats().meetings, 1);
    h.router.handle_disconnect(h.now, c);
    assert_eq!(h.router.stats().meetings, 0);
    // Inputs on closed connections are ignored.
    h.send(a, ClientMessage::Ping { nonce: 1 });
    h.router.handle_disconnect(h.now, a);
    assert!(h.drain().is_empty());
}

#[test]
fn a_full_meeting_refuses_the_next_join() {
    let mut h = Harness::with_config(CoreConfig {
        max_participants_per_meeting: 2,
        ..CoreConfig::default()
    });
    h.join("A");
    h.join("B");
    let c = h.connect();
    let claims = h.claims(MEETING, "C", Role::Participant);
    h.send_join(c, MEETING, Ok(claims));
    assert!(error(ErrorCode::MeetingFull, true)(&to(c, &h.drain())[0]));
    assert_eq!(h.router.stats().participants, 2);
}

#[test]
fn leave_before_joining_just_closes() {
    let mut h = Harness::new();
    let conn = h.connect();
    h.send(conn, ClientMessage::Leave);
    let out = h.drain();
    assert_eq!(
        out,
        vec![Output::Close {
            conn,
            reason: CloseReason::Left
        }]
    );
}

#[test]
fn unknown_type_or_missing_field_is_malformed_and_only_join_is_verified() {
    let calls = std::cell::Cell::new(0);
    let verify = |_: &str, _: u64| {
        calls.set(calls.get() + 1);
        Err(TokenError::Invalid("test".into()))
    };
    for bad in [
        &br#"{"type":"fly"}"#[..],
        br#"{"type":"chat"}"#,
        b"[]",
        b"\xff",
    ] {
        assert!(matches!(
            ControlInput::decode(bad, UNIX_T0, verify),
            ControlInput::Malformed(_)
        ));
    }
    let ping = ControlInput::decode(
        br#"{"type":"ping","nonce":5,"extra":true}"#,
        UNIX_T0,
        verify,
    );
    assert_eq!(
        ping,
        ControlInput::Message(ClientMessage::Ping { nonce: 5 })
    );
    assert_eq!(calls.get(), 0, "no token, no verification");
    let join = br#"{"type":"join","version":1,"meeting_id":3,"token":"t"}"#;
    assert!(matches!(
        ControlInput::decode(join, UNIX_T0, verify),
        ControlInput::Join {
            meeting_id: MeetingId(3),
            claims: Err(_),
            verified_at_unix: UNIX_T0,
            ..
        }
    ));
    assert_eq!(calls.get(), 1);

    // Before joining, an unknown type closes the connection.
    let mut h = Harness::new();
    let conn = h.connect();
    let input = ControlInput::decode(br#"{"type":"fly"}"#, UNIX_T0, |_, _| unreachable!());
    h.router.handle_control(h.now, conn, input);
    let out = h.drain();
    assert!(error(ErrorCode::MalformedMessage, true)(&to(conn, &out)[0]));
    assert_eq!(
        closes(&out),
        vec![(conn, CloseReason::Error(ErrorCode::MalformedMessage))]
    );
}

/// Joins as a guest (a fresh random `sub`, as the web service issues one).
fn guest_claims(h: &mut Harness, name: &str) -> JoinClaims {
    let mut claims = h.claims(MEETING, name, Role::Participant);
    claims.sub = format!("guest:{}", claims.sid);
    claims.guest = true;
    claims
}

fn joined_settings(conn: ConnectionId, out: &[Output]) -> Option<MeetingSettings> {
    to(conn, out).into_iter().find_map(|m| match m {
        ServerMessage::Joined { settings, .. } => Some(settings),
        _ => None,
    })
}

#[test]
fn a_late_joiner_is_told_the_meetings_current_settings() {
    let mut h = Harness::new();
    let (host, _) = h.join_as("Host", Role::Host);
    for action in [
        HostAction::SetChat {
            chat: ChatPolicy::HostOnly,
        },
        HostAction::SetScreenShare {
            share: SharePolicy::HostOnly,
        },
        HostAction::Allow {
            permission: Permission::UnmuteSelf,
            allowed: false,
        },
        HostAction::Allow {
            permission: Permission::RenameSelf,
            allowed: false,
        },
        HostAction::SetRecording {
            participant_id: None,
            allowed: true,
        },
    ] {
        h.host(host, action);
    }
    let claims = h.claims(MEETING, "Late", Role::Participant);
    let (late, out) = h.join_claims(claims);
    let want = MeetingSettings {
        chat: ChatPolicy::HostOnly,
        share: SharePolicy::HostOnly,
        unmute_self: false,
        rename_self: false,
        record_all: true,
        ..MeetingSettings::default()
    };
    assert_eq!(joined_settings(late, &out), Some(want.clone()));
    // A host token may enter a locked meeting with a waiting room: it
    // sees both.
    h.host(host, HostAction::Lock { locked: true });
    h.host(host, HostAction::SetWaitingRoom { enabled: true });
    let claims = h.claims(MEETING, "Owner", Role::Host);
    let (owner, out) = h.join_claims(claims);
    assert_eq!(
        joined_settings(owner, &out),
        Some(MeetingSettings {
            locked: true,
            waiting_room: true,
            ..want
        })
    );
}

#[test]
fn bans_outlive_the_meeting_until_every_earlier_token_has_expired() {
    let mut h = Harness::new();
    let (host, _) = h.join_as("Host", Role::Host);
    let (_, bo) = h.join("Bo");
    h.host(
        host,
        HostAction::Expel {
            participant_id: Some(bo),
        },
    );
    // Everyone leaves: the meeting is dropped, its bans are not.
    h.send(host, ClientMessage::Leave);
    h.drain();
    assert_eq!(h.router.stats().meetings, 0);
    let claims = h.claims(MEETING, "Bo", Role::Participant);
    let (again, out) = h.join_claims(claims);
    assert!(to(again, &out).iter().any(error(ErrorCode::Expelled, true)));
    assert_eq!(
        h.router.stats().meetings,
        0,
        "a refused join starts nothing"
    );

    // The host comes back: ids continue, so `allow_rejoin` still names Bo.
    let (host, host_id) = h.join_as("Host", Role::Host);
    assert!(host_id > bo, "{host_id} reused an id at or below {bo}");
    let out = h.host(host, HostAction::AllowRejoin { participant_id: bo });
    assert_eq!(events(host, &out).len(), 1, "{out:?}");
    let (_, bo_again) = h.join("Bo");
    assert!(bo_again > host_id);

    // Expelled again; the meeting empties; the ban lasts until no token
    // issued before it can still be valid, then is forgotten.
    h.host(
        host,
        HostAction::Expel {
            participant_id: Some(bo_again),
        },
    );
    h.send(host, ClientMessage::Leave);
    h.drain();
    h.advance(BAN_RETENTION - Duration::from_secs(1));
    let claims = h.claims(MEETING, "Bo", Role::Participant);
    let (refused, out) = h.join_claims(claims);
    assert!(
        to(refused, &out)
            .iter()
            .any(error(ErrorCode::Expelled, true))
    );
    h.advance(Duration::from_secs(1));
    let (_, fresh) = h.join("Bo");
    assert_eq!(fresh, ParticipantId(1), "a forgotten meeting starts afresh");
}

#[test]
fn an_expelled_guest_bars_new_guests_until_a_host_allows_them_back() {
    let mut h = Harness::new();
    let (host, _) = h.join_as("Host", Role::Host);
    let claims = guest_claims(&mut h, "Mallory");
    let (_, out) = h.join_claims(claims);
    let mallory = to(ConnectionId(2), &out)
        .into_iter()
        .find_map(|m| match m {
            ServerMessage::Joined { participant_id, .. } => Some(participant_id),
            _ => None,
        })
        .expect("the guest joined");
    let claims = guest_claims(&mut h, "Gus");
    let (gus, out) = h.join_claims(claims);
    assert!(matches!(to(gus, &out)[0], ServerMessage::Joined { .. }));
    h.host(
        host,
        HostAction::Expel {
            participant_id: Some(mallory),
        },
    );
    // A fresh guest token (a new random user) is refused, whatever the name.
    let claims = guest_claims(&mut h, "Not Mallory");
    let (evader, out) = h.join_claims(claims);
    assert!(
        to(evader, &out)
            .iter()
            .any(error(ErrorCode::Expelled, true))
    );
    // Signed-in users and guests already present are not affected.
    assert!(h.router.participant(gus).is_some());
    h.join("Signed In");
    h.host(
        host,
        HostAction::AllowRejoin {
            participant_id: mallory,
        },
    );
    let claims = guest_claims(&mut h, "Mallory");
    let (back, out) = h.join_claims(claims);
    assert!(matches!(to(back, &out)[0], ServerMessage::Joined { .. }));
}
