//! Waiting, mirroring host controls, and screen-share pausing.
use confer_wire::host::{HostAction, MeetingEvent, ShareState, WaitReason};

use super::*;

fn session(t0: Instant) -> Session {
    let mut s = Session::new(SessionConfig::new(MEETING, "tok"), t0);
    drain(&mut s);
    s
}

#[test]
fn waiting_pings_until_admitted_and_denied_is_a_refusal() {
    let t0 = Instant::now();
    let mut s = session(t0);
    s.handle_message(
        t0,
        ServerMessage::Waiting {
            meeting_id: MEETING,
            participant_id: ME,
            reason: WaitReason::WaitingRoom,
        },
    );
    assert_eq!(s.waiting(), Some(WaitReason::WaitingRoom));
    assert!(events(&drain(&mut s)).contains(&&Event::Waiting(WaitReason::WaitingRoom)));
    // Well past the join timeout: still waiting, pinging every 2 s.
    for i in 1..=10 {
        let now = t0 + ms(2000 * i);
        s.handle_message(now, ServerMessage::Pong { nonce: i });
        s.handle_timeout(now);
        assert!(matches!(
            controls(&drain(&mut s)).as_slice(),
            [ClientMessage::Ping { .. }]
        ));
    }
    assert_eq!(s.state(), SessionState::Joining);
    assert!(s.request(ClientMessage::SetHand { raised: true }).is_err());
    s.handle_message(t0 + ms(20_500), joined_msg());
    assert_eq!(s.state(), SessionState::Joined);
    assert_eq!(s.waiting(), None);

    let mut denied = session(t0);
    denied.handle_message(
        t0,
        ServerMessage::Waiting {
            meeting_id: MEETING,
            participant_id: ME,
            reason: WaitReason::HostAbsent,
        },
    );
    denied.handle_message(
        t0,
        ServerMessage::Removed {
            reason: LeaveReason::Denied,
        },
    );
    assert!(matches!(
        denied.end_reason(),
        Some(EndReason::Refused {
            code: ErrorCode::NotAllowed,
            ..
        })
    ));
}

#[test]
fn mirrors_updates_and_events_and_pauses_a_share_on_a_new_window() {
    let t0 = Instant::now();
    let mut s = session(t0);
    s.handle_message(t0, joined_msg());
    drain(&mut s);
    // Not sharing: a new window changes nothing.
    assert!(!s.handle_new_window_detected(true));
    assert!(
        s.request(ClientMessage::SetShare {
            state: ShareState::On
        })
        .is_ok()
    );
    assert!(s.request(ClientMessage::Leave).is_err());
    drain(&mut s);
    let mut me = entry(ME, "Bo", Role::CoHost);
    me.sharing = ShareState::On;
    s.handle_message(t0, ServerMessage::ParticipantUpdated { participant: me });
    assert_eq!(s.role(), Some(Role::CoHost));
    assert!(
        !s.handle_new_window_detected(false),
        "sharing one window: no pause"
    );
    assert!(s.handle_new_window_detected(true));
    assert_eq!(
        controls(&drain(&mut s)),
        vec![&ClientMessage::SetShare {
            state: ShareState::Paused
        }]
    );
    let event = MeetingEvent::HostAction(HostAction::Mute {
        participant_id: None,
    });
    s.handle_message(
        t0 + ms(5),
        ServerMessage::Event {
            by: Some(ADA),
            event: event.clone(),
        },
    );
    assert_eq!(s.meeting_events()[0].event, event);
    assert_eq!(s.protocol_violations(), 0);
}
