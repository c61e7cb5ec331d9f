//! Host controls: each takes effect when a host uses it, is refused with
//! `not_allowed` (changing nothing) when a participant tries it, and is
//! announced to everyone.

use confer_wire::host::{ChatPolicy, MeetingEvent, Permission, SharePolicy, ShareState};

use super::*;

/// A meeting with a host and two participants.
fn meeting() -> (Harness, [(ConnectionId, ParticipantId); 3]) {
    let mut h = Harness::new();
    let host = h.join_as("Host", Role::Host);
    let bo = h.join("Bo");
    let cy = h.join("Cy");
    h.drain();
    (h, [host, bo, cy])
}

/// Every host action a participant might try, aimed at `target`.
fn every_action(target: ParticipantId) -> Vec<HostAction> {
    let one = Some(target);
    vec![
        HostAction::Mute {
            participant_id: None,
        },
        HostAction::Mute {
            participant_id: one,
        },
        HostAction::AskUnmute {
            participant_id: target,
        },
        HostAction::StopVideo {
            participant_id: one,
        },
        HostAction::Expel {
            participant_id: one,
        },
        HostAction::Expel {
            participant_id: None,
        },
        HostAction::AllowRejoin {
            participant_id: target,
        },
        HostAction::Lock { locked: true },
        HostAction::End,
        HostAction::SetChat {
            chat: ChatPolicy::Nobody,
        },
        HostAction::SetRecording {
            participant_id: None,
            allowed: true,
        },
        HostAction::SetScreenShare {
            share: SharePolicy::HostOnly,
        },
        HostAction::StopShare {
            participant_id: target,
        },
        HostAction::Rename {
            participant_id: target,
            name: "X".into(),
        },
        HostAction::LowerHand {
            participant_id: None,
        },
        HostAction::SetRole {
            participant_id: target,
            role: Role::CoHost,
        },
        HostAction::MakeHost {
            participant_id: target,
        },
        HostAction::Admit {
            participant_id: None,
        },
        HostAction::Deny {
            participant_id: target,
        },
        HostAction::SetWaitingRoom { enabled: true },
        HostAction::Allow {
            permission: Permission::UnmuteSelf,
            allowed: false,
        },
    ]
}

#[test]
fn participants_are_refused_every_host_action_and_nothing_changes() {
    let (mut h, [(host, host_id), (bo, _), (_, cy_id)]) = meeting();
    for target in [host_id, cy_id] {
        for action in every_action(target) {
            let out = h.host(bo, action.clone());
            assert!(refused_quietly(bo, &out), "{action:?}: {out:?}");
        }
    }
    // Nothing changed: a fourth participant still gets in, the roster is intact.
    let (dee, _) = h.join("Dee");
    let out = h.drain();
    assert!(out.is_empty());
    assert_eq!(h.router.stats().participants, 4);
    let _ = (host, dee);
    assert!(h.router.stats().host_actions_refused >= 40);
    assert_eq!(h.router.stats().host_actions, 0);
}

#[test]
fn mute_all_mutes_everyone_but_hosts_and_everyone_hears_of_it() {
    let (mut h, [(host, host_id), (bo, bo_id), (cy, cy_id)]) = meeting();
    let out = h.host(
        host,
        HostAction::Mute {
            participant_id: None,
        },
    );
    for conn in [host, bo, cy] {
        assert_eq!(
            events(conn, &out),
            vec![MeetingEvent::HostAction(HostAction::Mute {
                participant_id: None
            })]
        );
        assert!(updated(conn, bo_id, &out).unwrap().muted);
        assert!(updated(conn, cy_id, &out).unwrap().muted);
        assert!(
            updated(conn, host_id, &out).is_none(),
            "the host is not muted"
        );
    }
    // Participants may unmute themselves by default...
    h.send(bo, ClientMessage::SetAudio { muted: false });
    let out = h.drain();
    assert!(!updated(cy, bo_id, &out).unwrap().muted);
    // ...until the host forbids it.
    h.host(
        host,
        HostAction::Mute {
            participant_id: Some(bo_id),
        },
    );
    h.host(
        host,
        HostAction::Allow {
            permission: Permission::UnmuteSelf,
            allowed: false,
        },
    );
    h.send(bo, ClientMessage::SetAudio { muted: false });
    assert!(refused_quietly(bo, &h.drain()));
    // Asking to unmute turns no microphone on.
    let out = h.host(
        host,
        HostAction::AskUnmute {
            participant_id: bo_id,
        },
    );
    assert_eq!(events(bo, &out).len(), 1);
    assert!(updated(bo, bo_id, &out).is_none());
    // The host may always unmute themselves.
    h.send(host, ClientMessage::SetAudio { muted: false });
    assert!(h.drain().iter().all(|o| !matches!(
        o,
        Output::Control {
            message: ServerMessage::Error { .. },
            ..
        }
    )));
}

#[test]
fn stop_video_and_the_start_video_rule() {
    let (mut h, [(host, _), (bo, bo_id), (cy, _)]) = meeting();
    h.send(bo, ClientMessage::SetVideo { on: true });
    assert!(updated(cy, bo_id, &h.drain()).unwrap().video);
    let out = h.host(
        host,
        HostAction::StopVideo {
            participant_id: Some(bo_id),
        },
    );
    assert!(!updated(cy, bo_id, &out).unwrap().video);
    h.host(
        host,
        HostAction::Allow {
            permission: Permission::StartVideo,
            allowed: false,
        },
    );
    h.send(bo, ClientMessage::SetVideo { on: true });
    assert!(refused_quietly(bo, &h.drain()));
}

#[test]
fn expelled_users_cannot_rejoin_until_allowed() {
    let (mut h, [(host, _), (bo, bo_id), (cy, _)]) = meeting();
    let out = h.host(
        host,
        HostAction::Expel {
            participant_id: Some(bo_id),
        },
    );
    assert!(to(bo, &out).contains(&ServerMessage::Removed {
        reason: LeaveReason::Expelled
    }));
    assert!(closes(&out).contains(&(bo, CloseReason::Expelled)));
    assert!(to(cy, &out).contains(&ServerMessage::ParticipantLeft {
        participant_id: bo_id,
        reason: LeaveReason::Expelled
    }));
    assert_eq!(events(cy, &out).len(), 1);
    // A fresh token (new session) for the same user is refused.
    let claims = h.claims(MEETING, "Bo", Role::Participant);
    let (again, out) = h.join_claims(claims);
    assert!(to(again, &out).iter().any(error(ErrorCode::Expelled, true)));
    // Until the host allows it.
    h.host(
        host,
        HostAction::AllowRejoin {
            participant_id: bo_id,
        },
    );
    let claims = h.claims(MEETING, "Bo", Role::Participant);
    let (back, out) = h.join_claims(claims);
    assert!(matches!(
        to(back, &out).as_slice(),
        [ServerMessage::Joined { .. }]
    ));
}

#[test]
fn expel_all_spares_hosts() {
    let (mut h, [(host, _), (bo, _), (cy, _)]) = meeting();
    let out = h.host(
        host,
        HostAction::Expel {
            participant_id: None,
        },
    );
    let closed: Vec<_> = closes(&out).into_iter().map(|(c, _)| c).collect();
    assert_eq!(closed, vec![bo, cy]);
    assert_eq!(h.router.stats().participants, 1);
}

#[test]
fn a_locked_meeting_refuses_valid_tokens_except_the_hosts() {
    let (mut h, [(host, _), ..]) = meeting();
    let out = h.host(host, HostAction::Lock { locked: true });
    assert_eq!(events(host, &out).len(), 1);
    let claims = h.claims(MEETING, "Late", Role::Participant);
    let (late, out) = h.join_claims(claims);
    assert!(
        to(late, &out)
            .iter()
            .any(error(ErrorCode::MeetingLocked, true))
    );
    let claims = h.claims(MEETING, "Owner", Role::Host);
    let (owner, out) = h.join_claims(claims);
    // A second host token enters as co-host: one host at a time.
    assert!(matches!(
        to(owner, &out).as_slice(),
        [ServerMessage::Joined {
            role: Role::CoHost,
            ..
        }]
    ));
    h.host(host, HostAction::Lock { locked: false });
    let (_, _) = h.join("Later");
}

#[test]
fn ending_the_meeting_removes_everyone() {
    let (mut h, [(host, _), (bo, _), (cy, _)]) = meeting();
    let out = h.host(host, HostAction::End);
    for conn in [host, bo, cy] {
        let msgs = to(conn, &out);
        assert!(matches!(msgs[0], ServerMessage::Event { .. }));
        assert!(msgs.contains(&ServerMessage::Removed {
            reason: LeaveReason::Ended
        }));
        assert!(closes(&out).contains(&(conn, CloseReason::Ended)));
    }
    assert_eq!(h.router.stats().meetings, 0);
}

#[test]
fn chat_rules_limit_participants_not_hosts() {
    let (mut h, [(host, host_id), (bo, _), (cy, cy_id)]) = meeting();
    h.host(
        host,
        HostAction::SetChat {
            chat: ChatPolicy::HostOnly,
        },
    );
    h.send(
        bo,
        ClientMessage::Chat {
            to: None,
            text: "all".into(),
        },
    );
    assert!(refused_quietly(bo, &h.drain()));
    h.send(
        bo,
        ClientMessage::Chat {
            to: Some(cy_id),
            text: "psst".into(),
        },
    );
    assert!(refused_quietly(bo, &h.drain()));
    h.send(
        bo,
        ClientMessage::Chat {
            to: Some(host_id),
            text: "hi host".into(),
        },
    );
    assert_eq!(to(host, &h.drain()).len(), 1);
    h.host(
        host,
        HostAction::SetChat {
            chat: ChatPolicy::Nobody,
        },
    );
    h.send(
        bo,
        ClientMessage::Chat {
            to: Some(host_id),
            text: "hi".into(),
        },
    );
    assert!(refused_quietly(bo, &h.drain()));
    // The host chats with everyone, or with one participant.
    h.send(
        host,
        ClientMessage::Chat {
            to: None,
            text: "all".into(),
        },
    );
    assert_eq!(to(cy, &h.drain()).len(), 1);
    h.send(
        host,
        ClientMessage::Chat {
            to: Some(cy_id),
            text: "you".into(),
        },
    );
    let out = h.drain();
    assert_eq!((to(cy, &out).len(), to(bo, &out).len()), (1, 0));
}

#[test]
fn local_recording_needs_the_hosts_permission() {
    let (mut h, [(host, _), (bo, bo_id), (cy, cy_id)]) = meeting();
    h.send(bo, ClientMessage::SetRecording { on: true });
    assert!(refused_quietly(bo, &h.drain()));
    h.host(
        host,
        HostAction::SetRecording {
            participant_id: Some(bo_id),
            allowed: true,
        },
    );
    h.send(bo, ClientMessage::SetRecording { on: true });
    assert!(updated(cy, bo_id, &h.drain()).unwrap().recording);
    h.send(cy, ClientMessage::SetRecording { on: true });
    assert!(refused_quietly(cy, &h.drain()));
    // Forbidding it for everyone stops the recording in progress.
    let out = h.host(
        host,
        HostAction::SetRecording {
            participant_id: None,
            allowed: false,
        },
    );
    assert!(!updated(cy, bo_id, &out).unwrap().recording);
    h.host(
        host,
        HostAction::SetRecording {
            participant_id: None,
            allowed: true,
        },
    );
    h.send(cy, ClientMessage::SetRecording { on: true });
    assert!(updated(bo, cy_id, &h.drain()).unwrap().recording);
}

#[test]
fn screen_share_rules_stop_and_pause() {
    let (mut h, [(host, _), (bo, bo_id), (cy, _)]) = meeting();
    h.send(
        bo,
        ClientMessage::SetShare {
            state: ShareState::On,
        },
    );
    assert_eq!(
        updated(cy, bo_id, &h.drain()).unwrap().sharing,
        ShareState::On
    );
    // A new window on the shared screen: the share pauses; others are told.
    h.send(
        bo,
        ClientMessage::SetShare {
            state: ShareState::Paused,
        },
    );
    let out = h.drain();
    assert_eq!(
        events(cy, &out),
        vec![MeetingEvent::SharePaused {
            participant_id: bo_id
        }]
    );
    h.send(
        bo,
        ClientMessage::SetShare {
            state: ShareState::On,
        },
    );
    let out = h.drain();
    assert_eq!(
        events(cy, &out),
        vec![MeetingEvent::ShareResumed {
            participant_id: bo_id
        }]
    );
    let out = h.host(
        host,
        HostAction::StopShare {
            participant_id: bo_id,
        },
    );
    assert_eq!(updated(cy, bo_id, &out).unwrap().sharing, ShareState::Off);
    h.host(
        host,
        HostAction::SetScreenShare {
            share: SharePolicy::HostOnly,
        },
    );
    h.send(
        bo,
        ClientMessage::SetShare {
            state: ShareState::On,
        },
    );
    assert!(refused_quietly(bo, &h.drain()));
    h.send(
        host,
        ClientMessage::SetShare {
            state: ShareState::On,
        },
    );
    assert!(!h.drain().is_empty());
}

#[test]
fn renaming_and_lowering_hands() {
    let (mut h, [(host, _), (bo, bo_id), (cy, cy_id)]) = meeting();
    h.send(bo, ClientMessage::Rename { name: "Bob".into() });
    assert_eq!(updated(cy, bo_id, &h.drain()).unwrap().name, "Bob");
    let out = h.host(
        host,
        HostAction::Rename {
            participant_id: cy_id,
            name: "Cyd".into(),
        },
    );
    assert_eq!(updated(bo, cy_id, &out).unwrap().name, "Cyd");
    h.host(
        host,
        HostAction::Allow {
            permission: Permission::RenameSelf,
            allowed: false,
        },
    );
    h.send(
        bo,
        ClientMessage::Rename {
            name: "Robert".into(),
        },
    );
    assert!(refused_quietly(bo, &h.drain()));
    h.send(bo, ClientMessage::SetHand { raised: true });
    h.send(cy, ClientMessage::SetHand { raised: true });
    assert!(updated(host, cy_id, &h.drain()).unwrap().hand_raised);
    let out = h.host(
        host,
        HostAction::LowerHand {
            participant_id: None,
        },
    );
    assert!(!updated(bo, bo_id, &out).unwrap().hand_raised);
    assert!(!updated(bo, cy_id, &out).unwrap().hand_raised);
    h.send(
        bo,
        ClientMessage::Rename {
            name: String::new(),
        },
    );
    assert!(
        to(bo, &h.drain())
            .iter()
            .any(error(ErrorCode::NotAllowed, false))
    );
}

#[test]
fn the_roster_marks_guests_and_other_organisations() {
    let mut h = Harness::new();
    let mut claims = h.claims(MEETING, "Host", Role::Host);
    claims.policy.org = Some("acme".into());
    h.join_claims(claims);
    let mut claims = h.claims(MEETING, "Out", Role::Participant);
    claims.policy.org = Some("globex".into());
    let (_, out) = h.join_claims(claims);
    let mut claims = h.claims(MEETING, "In", Role::Participant);
    claims.policy.org = Some("acme".into());
    claims.guest = true;
    let (inside, out2) = h.join_claims(claims);
    let roster = match &to(inside, &out2)[0] {
        ServerMessage::Joined { roster, .. } => roster.clone(),
        other => panic!("{other:?}"),
    };
    assert!(!out.is_empty());
    assert_eq!(
        roster
            .iter()
            .map(|e| (e.external, e.guest))
            .collect::<Vec<_>>(),
        vec![(false, false), (true, false), (false, true)]
    );
}
