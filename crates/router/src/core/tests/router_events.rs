//! [`RouterEvent`]s: what the core reports to observers about meetings
//! starting and ending, people coming and going, and host actions.

use super::*;

/// Every event the core has queued, oldest first.
fn drain_events(h: &mut Harness) -> Vec<RouterEvent> {
    std::iter::from_fn(|| h.router.poll_event()).collect()
}

/// The `sub` and name of an event's participant.
fn who(p: &EventParticipant) -> (&str, &str) {
    (p.sub.as_str(), p.name.as_str())
}

#[test]
fn first_admission_starts_the_meeting_and_joins_are_reported() {
    let mut h = Harness::new();
    let (_, host_id) = h.join_as("Ada", Role::Host);
    h.join("Bo");
    let events = drain_events(&mut h);
    let [
        RouterEvent::MeetingStarted { meeting_id, first },
        RouterEvent::ParticipantJoined {
            participant: ada,
            role: Role::Host,
            ..
        },
        RouterEvent::ParticipantJoined {
            participant: bo,
            role: Role::Participant,
            ..
        },
    ] = events.as_slice()
    else {
        panic!("unexpected events {events:?}");
    };
    assert_eq!(*meeting_id, MEETING);
    assert_eq!(first.participant_id, host_id);
    assert_eq!(who(ada), ("user-Ada", "Ada"));
    assert_eq!(who(bo), ("user-Bo", "Bo"));
}

#[test]
fn an_expel_names_actor_and_target_then_the_target_leaves() {
    let mut h = Harness::new();
    let (host, _) = h.join_as("Ada", Role::Host);
    let (_, bo) = h.join("Bo");
    drain_events(&mut h);
    h.host(
        host,
        HostAction::Expel {
            participant_id: Some(bo),
        },
    );
    let events = drain_events(&mut h);
    let [
        RouterEvent::HostAction {
            actor,
            target: Some(target),
            action: HostAction::Expel { .. },
            ..
        },
        RouterEvent::ParticipantLeft {
            participant,
            reason: LeaveReason::Expelled,
            ..
        },
    ] = events.as_slice()
    else {
        panic!("unexpected events {events:?}");
    };
    assert_eq!(who(actor), ("user-Ada", "Ada"));
    assert_eq!(who(target), ("user-Bo", "Bo"));
    assert_eq!(participant.participant_id, bo);
}

#[test]
fn a_refused_host_action_is_not_reported() {
    let mut h = Harness::new();
    let (host, host_id) = h.join_as("Ada", Role::Host);
    let (bo, _) = h.join("Bo");
    drain_events(&mut h);
    h.host(
        bo,
        HostAction::Expel {
            participant_id: Some(host_id),
        },
    );
    assert!(drain_events(&mut h).is_empty());
    h.host(host, HostAction::Lock { locked: true });
    let events = drain_events(&mut h);
    assert!(
        matches!(
            events.as_slice(),
            [RouterEvent::HostAction { target: None, .. }]
        ),
        "{events:?}"
    );
}

#[test]
fn meetings_end_when_ended_or_empty() {
    let mut h = Harness::new();
    let (host, _) = h.join_as("Ada", Role::Host);
    h.join("Bo");
    drain_events(&mut h);
    h.host(host, HostAction::End);
    let events = drain_events(&mut h);
    let left = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                RouterEvent::ParticipantLeft {
                    reason: LeaveReason::Ended,
                    ..
                }
            )
        })
        .count();
    assert_eq!(left, 2);
    assert!(matches!(
        events.last(),
        Some(RouterEvent::MeetingEnded {
            reason: MeetingEndReason::EndedByHost,
            ..
        })
    ));

    let (ada, _) = h.join_as("Ada", Role::Host);
    h.send(ada, ClientMessage::Leave);
    let events = drain_events(&mut h);
    assert!(matches!(
        events.as_slice(),
        [
            RouterEvent::MeetingStarted { .. },
            RouterEvent::ParticipantJoined { .. },
            RouterEvent::ParticipantLeft {
                reason: LeaveReason::Left,
                ..
            },
            RouterEvent::MeetingEnded {
                reason: MeetingEndReason::Empty,
                ..
            },
        ]
    ));
}

#[test]
fn undrained_events_are_bounded() {
    let mut h = Harness::new();
    let (host, _) = h.join_as("Ada", Role::Host);
    for _ in 0..super::super::event::MAX_PENDING_EVENTS {
        h.host(host, HostAction::Lock { locked: true });
    }
    assert!(h.router.stats().events_dropped > 0);
    assert_eq!(
        drain_events(&mut h).len(),
        super::super::event::MAX_PENDING_EVENTS
    );
}
