//! Roles: promotion, demotion, hand-over, and what happens when the host leaves.

use confer_wire::host::MeetingEvent;

use super::*;

#[test]
fn only_the_host_promotes_and_demotes_and_co_hosts_cannot_touch_the_host() {
    let mut h = Harness::new();
    let (host, host_id) = h.join_as("Host", Role::Host);
    let (bo, bo_id) = h.join("Bo");
    let (cy, cy_id) = h.join("Cy");
    h.drain();
    let out = h.host(
        host,
        HostAction::SetRole {
            participant_id: bo_id,
            role: Role::CoHost,
        },
    );
    assert_eq!(updated(cy, bo_id, &out).unwrap().role, Role::CoHost);
    // A co-host may use host controls on participants...
    let out = h.host(
        bo,
        HostAction::Mute {
            participant_id: Some(cy_id),
        },
    );
    assert!(updated(cy, cy_id, &out).unwrap().muted);
    // ...but not on the host, and may not end, promote or hand over.
    for action in [
        HostAction::Mute {
            participant_id: Some(host_id),
        },
        HostAction::Expel {
            participant_id: Some(host_id),
        },
        HostAction::End,
        HostAction::SetRole {
            participant_id: cy_id,
            role: Role::CoHost,
        },
        HostAction::MakeHost {
            participant_id: cy_id,
        },
    ] {
        let out = h.host(bo, action.clone());
        assert!(refused_quietly(bo, &out), "{action:?}");
    }
    let out = h.host(
        host,
        HostAction::SetRole {
            participant_id: bo_id,
            role: Role::Participant,
        },
    );
    assert_eq!(updated(cy, bo_id, &out).unwrap().role, Role::Participant);
    let out = h.host(
        bo,
        HostAction::Mute {
            participant_id: None,
        },
    );
    assert!(refused_quietly(bo, &out));
}

#[test]
fn the_host_hands_the_role_over() {
    let mut h = Harness::new();
    let (host, host_id) = h.join_as("Host", Role::Host);
    let (bo, bo_id) = h.join("Bo");
    h.drain();
    let out = h.host(
        host,
        HostAction::MakeHost {
            participant_id: bo_id,
        },
    );
    assert_eq!(updated(bo, bo_id, &out).unwrap().role, Role::Host);
    assert_eq!(updated(bo, host_id, &out).unwrap().role, Role::CoHost);
    // The new host may end the meeting; the old one may no longer.
    assert!(refused_quietly(host, &h.host(host, HostAction::End)));
    let out = h.host(bo, HostAction::End);
    assert!(closes(&out).contains(&(host, CloseReason::Ended)));
}

#[test]
fn a_departing_host_hands_the_role_to_the_longest_present_co_host() {
    let mut h = Harness::new();
    let (host, _) = h.join_as("Host", Role::Host);
    let (_, bo_id) = h.join("Bo");
    let (cy, cy_id) = h.join("Cy");
    let (_, dee_id) = h.join("Dee");
    h.host(
        host,
        HostAction::SetRole {
            participant_id: dee_id,
            role: Role::CoHost,
        },
    );
    h.host(
        host,
        HostAction::SetRole {
            participant_id: cy_id,
            role: Role::CoHost,
        },
    );
    h.send(host, ClientMessage::Leave);
    let out = h.drain();
    // Cy and Dee are both co-hosts; Cy came first.
    assert_eq!(updated(cy, cy_id, &out).unwrap().role, Role::Host);
    assert!(events(cy, &out).iter().any(|e| matches!(e,
        MeetingEvent::HostChanged { participant_id: Some(p), .. } if *p == cy_id)));
    let _ = bo_id;
}

#[test]
fn without_co_hosts_the_role_goes_to_the_longest_present_signed_in_participant() {
    let mut h = Harness::new();
    let (host, _) = h.join_as("Host", Role::Host);
    let mut guest = h.claims(MEETING, "Guest", Role::Participant);
    guest.guest = true;
    let (g, _) = h.join_claims(guest);
    let (_, bo_id) = h.join("Bo");
    h.drain();
    h.send(host, ClientMessage::Leave);
    let out = h.drain();
    assert_eq!(updated(g, bo_id, &out).unwrap().role, Role::Host);
}

#[test]
fn without_join_before_host_a_departing_host_leaves_the_meeting_waiting_for_one() {
    let mut h = Harness::new();
    let mut claims = h.claims(MEETING, "Host", Role::Host);
    claims.policy.join_before_host = false;
    let (host, _) = h.join_claims(claims);
    let (bo, _) = h.join("Bo");
    h.drain();
    h.send(host, ClientMessage::Leave);
    let out = h.drain();
    assert!(events(bo, &out).contains(&MeetingEvent::HostChanged {
        participant_id: None,
        previous: Some(ParticipantId(1))
    }));
    // Newcomers now wait for a host.
    let mut claims = h.claims(MEETING, "Cy", Role::Participant);
    claims.policy.join_before_host = false;
    let (cy, out) = h.join_claims(claims);
    assert!(matches!(
        to(cy, &out).as_slice(),
        [ServerMessage::Waiting { .. }]
    ));
    // The owner comes back: Cy is let in.
    let mut claims = h.claims(MEETING, "Host", Role::Host);
    claims.policy.join_before_host = false;
    let (_, out) = h.join_claims(claims);
    assert!(matches!(
        to(cy, &out).as_slice(),
        [ServerMessage::Joined { .. }]
    ));
}
