//! Session tests on a virtual clock: every `now` is `t0` plus an offset, and
//! nothing sleeps.

use std::time::{Duration, Instant};

use bytes::Bytes;
use confer_media::synthetic::{PACKET_INTERVAL, SyntheticSource};
use confer_wire::control::{ClientMessage, ErrorCode, LeaveReason, RosterEntry, ServerMessage};
use confer_wire::ids::{MeetingId, ParticipantId, Role, ssrc_for};
use confer_wire::rtp::RtpPacket;

use super::*;

const ME: ParticipantId = ParticipantId(2);
const ADA: ParticipantId = ParticipantId(1);
const MEETING: MeetingId = MeetingId(4_821_937_650);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn entry(id: ParticipantId, name: &str, role: Role) -> RosterEntry {
    RosterEntry {
        participant_id: id,
        name: name.into(),
        role,
        guest: false,
        ..RosterEntry::default()
    }
}

fn joined_msg() -> ServerMessage {
    ServerMessage::Joined {
        version: 1,
        participant_id: ME,
        meeting_id: MEETING,
        role: Role::Participant,
        roster: vec![
            entry(ADA, "Ada", Role::Host),
            entry(ME, "Bo", Role::Participant),
        ],
        keepalive_interval_ms: 2000,
        silence_timeout_ms: 6000,
        settings: Default::default(),
    }
}

fn drain(s: &mut Session) -> Vec<Output> {
    std::iter::from_fn(|| s.poll_output()).collect()
}

fn events(outputs: &[Output]) -> Vec<&Event> {
    outputs
        .iter()
        .filter_map(|o| {
            if let Output::Event(e) = o {
                Some(e)
            } else {
                None
            }
        })
        .collect()
}

fn controls(outputs: &[Output]) -> Vec<&ClientMessage> {
    outputs
        .iter()
        .filter_map(|o| {
            if let Output::Control(m) = o {
                Some(m)
            } else {
                None
            }
        })
        .collect()
}

/// A session that has sent `join` and been admitted at `t0`.
fn joined(config: SessionConfig) -> (Session, Instant) {
    let t0 = Instant::now();
    let mut s = Session::new(config, t0);
    drain(&mut s);
    s.handle_control(t0, &joined_msg().encode());
    (s, t0)
}

#[test]
fn starts_with_join_and_admits_on_joined() {
    let t0 = Instant::now();
    let mut s = Session::new(SessionConfig::new(MEETING, "tok"), t0);
    assert_eq!(s.state(), SessionState::Joining);
    assert_eq!(
        drain(&mut s),
        vec![Output::Control(ClientMessage::Join {
            version: 1,
            meeting_id: MEETING,
            token: "tok".into()
        })]
    );
    assert_eq!(s.poll_timeout(), Some(t0 + DEFAULT_JOIN_TIMEOUT));

    s.handle_control(t0 + ms(10), &joined_msg().encode());
    let out = drain(&mut s);
    assert!(matches!(
        events(&out)[..],
        [Event::Joined {
            participant_id: ME,
            ..
        }]
    ));
    assert_eq!(s.state(), SessionState::Joined);
    assert_eq!(s.participant_id(), Some(ME));
    assert_eq!(s.role(), Some(Role::Participant));
    assert_eq!(s.roster().len(), 2);
    assert_eq!(s.poll_timeout(), Some(t0 + ms(2010)));
}

#[test]
fn pings_every_keepalive_and_measures_rtt() {
    let (mut s, t0) = joined(SessionConfig::new(MEETING, "t"));
    drain(&mut s);
    s.handle_timeout(t0 + ms(1999));
    assert!(drain(&mut s).is_empty());
    s.handle_timeout(t0 + ms(2000));
    let out = drain(&mut s);
    assert_eq!(controls(&out), vec![&ClientMessage::Ping { nonce: 1 }]);
    s.handle_message(t0 + ms(2030), ServerMessage::Pong { nonce: 1 });
    assert_eq!(s.rtt(), Some(ms(30)));
    assert_eq!(s.poll_timeout(), Some(t0 + ms(4000)));
    s.handle_timeout(t0 + ms(4000));
    assert_eq!(
        controls(&drain(&mut s)),
        vec![&ClientMessage::Ping { nonce: 2 }]
    );
    // An unknown nonce is ignored.
    s.handle_message(t0 + ms(4001), ServerMessage::Pong { nonce: 99 });
    assert_eq!(s.rtt(), Some(ms(30)));
}

#[test]
fn mirrors_roster_changes_and_records_them() {
    let (mut s, t0) = joined(SessionConfig::new(MEETING, "t"));
    drain(&mut s);
    let cy = entry(ParticipantId(3), "Cy", Role::Participant);
    s.handle_message(
        t0 + ms(100),
        ServerMessage::ParticipantJoined {
            participant: cy.clone(),
        },
    );
    s.handle_message(
        t0 + ms(200),
        ServerMessage::ParticipantLeft {
            participant_id: ADA,
            reason: LeaveReason::TimedOut,
        },
    );
    let out = drain(&mut s);
    assert_eq!(
        events(&out),
        vec![
            &Event::ParticipantJoined(cy.clone()),
            &Event::ParticipantLeft {
                participant_id: ADA,
                name: Some("Ada".into()),
                reason: LeaveReason::TimedOut
            },
        ]
    );
    let ids: Vec<_> = s.roster().iter().map(|e| e.participant_id).collect();
    assert_eq!(ids, vec![ME, ParticipantId(3)]);
    assert_eq!(s.roster_events().len(), 2);
    assert_eq!(s.roster_events()[1].at_ms, 200);
    assert_eq!(
        s.roster_events()[1].change,
        RosterChange::Left(LeaveReason::TimedOut)
    );
}

#[test]
fn records_chat_from_others_but_not_our_echo() {
    let (mut s, t0) = joined(SessionConfig::new(MEETING, "t"));
    drain(&mut s);
    s.send_chat(None, "hello").unwrap();
    assert_eq!(
        controls(&drain(&mut s)),
        vec![&ClientMessage::Chat {
            to: None,
            text: "hello".into()
        }]
    );
    s.handle_message(
        t0,
        ServerMessage::Chat {
            id: 1,
            from: ME,
            to: None,
            text: "hello".into(),
        },
    );
    s.handle_message(
        t0,
        ServerMessage::Chat {
            id: 2,
            from: ADA,
            to: Some(ME),
            text: "psst".into(),
        },
    );
    let out = drain(&mut s);
    assert!(matches!(events(&out)[0], Event::Chat { own: true, .. }));
    assert!(
        matches!(events(&out)[1], Event::Chat { own: false, from_name: Some(n), .. } if n == "Ada")
    );
    assert_eq!(
        s.chat_received(),
        &[ChatRecord {
            id: 2,
            from: ADA,
            to: Some(ME),
            text: "psst".into(),
            e2e: false,
        }]
    );
    assert_eq!(s.chat_sent(), 1);
}

#[test]
fn refuses_bad_chat_and_chat_before_joining() {
    let t0 = Instant::now();
    let mut s = Session::new(SessionConfig::new(MEETING, "t"), t0);
    assert_eq!(
        s.send_chat(None, "hi"),
        Err(SessionError::NotJoined(SessionState::Joining))
    );
    s.handle_control(t0, &joined_msg().encode());
    assert_eq!(s.send_chat(None, ""), Err(SessionError::InvalidChat(0)));
    let long = "x".repeat(4097);
    assert_eq!(
        s.send_chat(None, &long),
        Err(SessionError::InvalidChat(4097))
    );
    assert!(s.send_chat(None, &long[..4096]).is_ok());
}

#[test]
fn counts_media_per_sender_and_drops_malformed_packets() {
    let (mut s, t0) = joined(SessionConfig::new(MEETING, "t"));
    let mut ada = SyntheticSource::new(ADA, 0, t0);
    let mut cy = SyntheticSource::new(ParticipantId(3), 1, t0);
    for i in 0..10 {
        let now = t0 + PACKET_INTERVAL * i;
        s.handle_media(now, &ada.poll_packet(now).unwrap());
        if i % 2 == 0 {
            let mut p = cy.poll_packet(now).unwrap();
            if i == 4 {
                let last = p.len() - 1;
                p[last] ^= 0xff; // damage the payload
            }
            s.handle_media(now, &p);
        } else {
            let _ = cy.poll_packet(now);
        }
    }
    s.handle_media(t0, &[0x80, 1, 2]);
    s.handle_media(t0, &[0u8; 20]);
    let m = s.media();
    assert_eq!(m.received[&ADA].packets, 10);
    assert_eq!(m.received[&ADA].synthetic_intact, 10);
    assert_eq!(m.received[&ParticipantId(3)].packets, 5);
    assert_eq!(m.received[&ParticipantId(3)].synthetic_corrupt, 1);
    assert_eq!(m.malformed_packets, 2);
}

#[test]
fn rtcp_feedback_goes_on_to_the_media_engine() {
    let (mut s, t0) = joined(SessionConfig::new(MEETING, "t"));
    // The router's keyframe request for our camera: 12 bytes, whose first
    // byte read as RTP would promise a CSRC the packet does not have.
    let pli = confer_wire::rtcp::pli(1, ssrc_for(ME, 1));
    assert_eq!(pli.len(), 12);
    assert!(s.handle_media(t0, &pli), "a PLI must reach the engine");
    let nack = confer_media::feedback::Feedback::Nack {
        sender_ssrc: 1,
        media_ssrc: ssrc_for(ME, 1),
        sequences: vec![7, 9],
    }
    .to_bytes();
    assert!(s.handle_media(t0, &nack), "a NACK must reach the engine");
    let m = s.media();
    assert_eq!(m.feedback_packets, 2);
    assert_eq!(m.malformed_packets, 0);
    assert!(m.received.is_empty(), "feedback is nobody's media: {m:?}");
}

#[test]
fn streams_synthetic_media_at_fifty_packets_a_second_once_joined() {
    let mut config = SessionConfig::new(MEETING, "t");
    config.synthetic_media = true;
    let (mut s, t0) = joined(config);
    let mut packets = Vec::new();
    let end = t0 + Duration::from_secs(1);
    loop {
        for o in drain(&mut s) {
            match o {
                Output::Media(p) => packets.push(p),
                Output::Control(ClientMessage::Ping { nonce }) => {
                    let now = s.poll_timeout().unwrap_or(end);
                    s.handle_message(now, ServerMessage::Pong { nonce });
                }
                _ => {}
            }
        }
        let Some(next) = s.poll_timeout() else { break };
        if next >= end {
            break;
        }
        s.handle_timeout(next);
    }
    assert_eq!(packets.len(), 50);
    for p in &packets {
        assert_eq!(RtpPacket::parse(p).unwrap().header.ssrc, ssrc_for(ME, 0));
    }
    assert_eq!(s.media().sent_packets, 50);
    // Leaving stops the stream.
    s.leave(end);
    s.handle_timeout(end + Duration::from_millis(100));
    assert!(drain(&mut s).iter().all(|o| !matches!(o, Output::Media(_))));
}

#[test]
fn send_media_requires_our_own_ssrc() {
    let (mut s, t0) = joined(SessionConfig::new(MEETING, "t"));
    let mut mine = SyntheticSource::new(ME, 4, t0);
    let mut theirs = SyntheticSource::new(ADA, 0, t0);
    assert!(
        s.send_media(Bytes::from(mine.poll_packet(t0).unwrap()))
            .is_ok()
    );
    assert!(matches!(
        s.send_media(Bytes::from(theirs.poll_packet(t0).unwrap())),
        Err(SessionError::InvalidMedia(_))
    ));
    assert!(matches!(
        s.send_media(Bytes::from_static(b"junk")),
        Err(SessionError::InvalidMedia(_))
    ));
    assert_eq!(s.media().sent_packets, 1);
}

#[test]
fn a_fatal_error_before_joining_is_a_refusal() {
    let t0 = Instant::now();
    let mut s = Session::new(SessionConfig::new(MEETING, "t"), t0);
    drain(&mut s);
    let refusal = ServerMessage::Error {
        code: ErrorCode::SessionReused,
        message: "already used".into(),
        fatal: true,
    };
    s.handle_control(t0, &refusal.encode());
    let out = drain(&mut s);
    assert_eq!(out.last(), Some(&Output::Close));
    let reason = s.end_reason().unwrap();
    assert_eq!(reason.as_str(), "refused");
    assert_eq!(
        reason.error_text().as_deref(),
        Some("session_reused: already used")
    );
    // Whatever follows is ignored.
    s.handle_transport_closed(t0, Some("closed"));
    assert!(drain(&mut s).is_empty());
    assert_eq!(s.end_reason().unwrap().as_str(), "refused");
}

#[test]
fn a_non_fatal_error_keeps_the_session() {
    let (mut s, t0) = joined(SessionConfig::new(MEETING, "t"));
    drain(&mut s);
    s.handle_message(
        t0,
        ServerMessage::Error {
            code: ErrorCode::InvalidChat,
            message: "too long".into(),
            fatal: false,
        },
    );
    assert!(matches!(
        events(&drain(&mut s))[..],
        [Event::RouterError { .. }]
    ));
    assert_eq!(s.state(), SessionState::Joined);
    assert_eq!(s.router_errors().len(), 1);
}

#[test]
fn removal_reasons_map_to_end_reasons() {
    for (reason, expected) in [
        (LeaveReason::Expelled, "expelled"),
        (LeaveReason::Ended, "ended"),
        (LeaveReason::Left, "left"),
        (LeaveReason::TimedOut, "error"),
    ] {
        let (mut s, t0) = joined(SessionConfig::new(MEETING, "t"));
        s.handle_message(t0, ServerMessage::Removed { reason });
        assert_eq!(s.end_reason().unwrap().as_str(), expected, "{reason:?}");
        assert_eq!(drain(&mut s).last(), Some(&Output::Close));
        assert_eq!(s.poll_timeout(), None);
    }
}

#[test]
fn leave_says_goodbye_and_ends_when_the_router_closes() {
    let (mut s, t0) = joined(SessionConfig::new(MEETING, "t"));
    drain(&mut s);
    s.leave(t0 + ms(500));
    assert_eq!(controls(&drain(&mut s)), vec![&ClientMessage::Leave]);
    assert_eq!(s.state(), SessionState::Leaving);
    assert_eq!(s.poll_timeout(), Some(t0 + ms(500) + DEFAULT_LEAVE_LINGER));
    s.handle_transport_closed(t0 + ms(510), None);
    assert_eq!(s.end_reason(), Some(&EndReason::Left));
    assert_eq!(drain(&mut s).last(), Some(&Output::Close));
}

#[test]
fn leave_gives_up_waiting_for_the_router_after_the_linger() {
    let (mut s, t0) = joined(SessionConfig::new(MEETING, "t"));
    s.leave(t0);
    drain(&mut s);
    s.handle_timeout(t0 + DEFAULT_LEAVE_LINGER);
    assert_eq!(s.end_reason(), Some(&EndReason::Left));
    assert_eq!(drain(&mut s).last(), Some(&Output::Close));
}

#[test]
fn leaving_before_admission_just_closes() {
    let t0 = Instant::now();
    let mut s = Session::new(SessionConfig::new(MEETING, "t"), t0);
    drain(&mut s);
    s.leave(t0);
    assert_eq!(s.end_reason(), Some(&EndReason::Left));
    assert_eq!(controls(&drain(&mut s)), Vec::<&ClientMessage>::new());
}

#[test]
fn gives_up_when_the_join_is_not_answered() {
    let t0 = Instant::now();
    let mut s = Session::new(SessionConfig::new(MEETING, "t"), t0);
    s.handle_timeout(t0 + DEFAULT_JOIN_TIMEOUT - ms(1));
    assert!(!s.is_ended());
    s.handle_timeout(t0 + DEFAULT_JOIN_TIMEOUT);
    assert_eq!(s.end_reason().unwrap().as_str(), "error");
}

#[test]
fn gives_up_on_a_silent_router() {
    let (mut s, t0) = joined(SessionConfig::new(MEETING, "t"));
    // Pings go out, no pong ever comes back.
    let mut now = t0;
    while !s.is_ended() {
        now = s.poll_timeout().unwrap();
        s.handle_timeout(now);
    }
    // Silence timeout (6 s) plus one keep-alive (2 s).
    assert_eq!(now, t0 + ms(8000));
    assert!(
        s.end_reason()
            .unwrap()
            .error_text()
            .unwrap()
            .contains("heard nothing")
    );
}

#[test]
fn malformed_messages_end_a_join_but_not_a_meeting() {
    let t0 = Instant::now();
    let mut s = Session::new(SessionConfig::new(MEETING, "t"), t0);
    s.handle_control(t0, b"\xff not json");
    assert_eq!(s.end_reason().unwrap().as_str(), "error");

    let (mut s, t0) = joined(SessionConfig::new(MEETING, "t"));
    drain(&mut s);
    s.handle_control(t0, br#"{"type":"teleport"}"#);
    s.handle_control(t0, br#"{"type":"chat","from":1}"#);
    s.handle_control(t0, &joined_msg().encode());
    assert_eq!(s.protocol_violations(), 3);
    assert_eq!(s.state(), SessionState::Joined);
}

#[test]
fn roster_messages_before_joined_are_violations() {
    let t0 = Instant::now();
    let mut s = Session::new(SessionConfig::new(MEETING, "t"), t0);
    s.handle_message(
        t0,
        ServerMessage::ParticipantJoined {
            participant: entry(ADA, "Ada", Role::Host),
        },
    );
    assert_eq!(s.end_reason().unwrap().as_str(), "error");
    assert!(s.roster().is_empty());
}

#[test]
fn losing_the_connection_is_an_error_while_joined() {
    let (mut s, t0) = joined(SessionConfig::new(MEETING, "t"));
    s.handle_transport_closed(t0, Some("reset"));
    let reason = s.end_reason().unwrap();
    assert_eq!(reason.as_str(), "error");
    assert!(reason.error_text().unwrap().ends_with("reset"));
    // The final roster stays readable.
    assert_eq!(s.roster().len(), 2);
}

#[test]
fn admission_to_another_meeting_is_an_error() {
    let t0 = Instant::now();
    let mut s = Session::new(SessionConfig::new(MeetingId(1), "t"), t0);
    s.handle_message(t0, joined_msg());
    assert!(
        s.end_reason()
            .unwrap()
            .error_text()
            .unwrap()
            .contains("not 1")
    );
}

#[test]
fn a_newer_protocol_version_is_an_error() {
    let t0 = Instant::now();
    let mut s = Session::new(SessionConfig::new(MEETING, "t"), t0);
    let mut msg = joined_msg();
    if let ServerMessage::Joined { version, .. } = &mut msg {
        *version = 2;
    }
    s.handle_message(t0, msg);
    assert_eq!(s.end_reason().unwrap().as_str(), "error");
}

mod host_controls;
mod media_keys;
mod sealed_chat;

#[test]
fn send_media_accepts_feedback_only_from_our_own_ssrc() {
    let (mut s, _t0) = joined(SessionConfig::new(MEETING, "t"));
    // A keyframe request from us about Ada's camera leaves on the media path.
    let ours = confer_wire::rtcp::pli(ssrc_for(ME, 0), ssrc_for(ADA, 1));
    assert!(s.send_media(Bytes::copy_from_slice(&ours)).is_ok());
    let out = drain(&mut s);
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Media(p) if p.as_ref() == ours.as_slice()))
    );
    // One claiming to come from Ada's stream is refused: we would be
    // speaking for her.
    let forged = confer_wire::rtcp::pli(ssrc_for(ADA, 0), ssrc_for(ADA, 1));
    assert!(matches!(
        s.send_media(Bytes::copy_from_slice(&forged)),
        Err(SessionError::InvalidMedia(_))
    ));
    // A truncated feedback packet is refused, not sent.
    assert!(matches!(
        s.send_media(Bytes::copy_from_slice(&ours[..8])),
        Err(SessionError::InvalidMedia(_))
    ));
}
