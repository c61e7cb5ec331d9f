//! Host controls through a real `confer-server`: the meeting's owner gets a
//! `host` token from the server, everyone else a `participant` one, and the
//! router enforces what each may do. Participants' attempts are hand-crafted
//! frames (`RawClient`), not the CLI, so no client-side check is involved.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::time::Duration;

use common::{Api, RawClient, STEP_TIMEOUT, Server, wait_with_timeout};
use confer_wire::control::{ClientMessage, ErrorCode, LeaveReason, ServerMessage};
use confer_wire::host::{HostAction, MeetingEvent, Permission, WaitReason};
use confer_wire::ids::{MeetingId, ParticipantId, Role};

const PASSWORD: &str = "correct horse battery staple";

/// How long to wait for something that should come promptly.
const SOON: Duration = Duration::from_secs(10);

struct Meeting {
    server: Server,
    api: Api,
    owner: String,
    id: u64,
}

/// One joined (or waiting) raw client.
struct Member {
    client: RawClient,
    id: ParticipantId,
}

async fn meeting() -> Meeting {
    let server = Server::start();
    let api = Api::new(&server);
    let owner = api.sign_up("host@example.com", "Host", PASSWORD).await;
    let id = api.create_meeting(&owner, None).await;
    Meeting {
        server,
        api,
        owner,
        id,
    }
}

impl Meeting {
    /// A join token from the server for `bearer` (a signed-in user) or a guest.
    async fn token(&self, bearer: Option<&str>, name: &str) -> String {
        let (status, body) = self
            .api
            .join_token(bearer, self.id, serde_json::json!({"display_name": name}))
            .await;
        assert_eq!(status, 200, "join token: {body}");
        body["token"].as_str().expect("token").to_string()
    }

    /// Connects and sends `join`; returns the client and the first answer.
    async fn connect(&self, token: &str) -> (RawClient, Option<ServerMessage>) {
        let mut client = RawClient::connect(self.server.tls, &self.server.ca_pem()).await;
        client
            .send(&ClientMessage::Join {
                version: confer_wire::PROTOCOL_VERSION,
                meeting_id: MeetingId(self.id),
                token: token.to_string(),
            })
            .await;
        let answer = client.recv_control(STEP_TIMEOUT).await;
        (client, answer)
    }

    /// Joins and expects to be admitted with `role`.
    async fn join(&self, bearer: Option<&str>, name: &str, role: Role) -> Member {
        let token = self.token(bearer, name).await;
        let (client, answer) = self.connect(&token).await;
        match answer {
            Some(ServerMessage::Joined {
                participant_id,
                role: got,
                ..
            }) => {
                assert_eq!(got, role, "{name}'s role");
                Member {
                    client,
                    id: participant_id,
                }
            }
            other => panic!("{name} not admitted: {other:?}"),
        }
    }

    async fn host(&self) -> Member {
        self.join(Some(&self.owner), "Host", Role::Host).await
    }

    async fn guest(&self, name: &str) -> Member {
        self.join(None, name, Role::Participant).await
    }
}

impl Member {
    async fn act(&mut self, action: HostAction) {
        self.client.send(&ClientMessage::Host(action)).await;
    }

    /// Reads until a message matching `want` arrives; fails on close or timeout.
    async fn until(&mut self, what: &str, want: impl Fn(&ServerMessage) -> bool) -> ServerMessage {
        loop {
            match self.client.recv_control(SOON).await {
                Some(m) if want(&m) => return m,
                Some(_) => continue,
                None => panic!("closed while waiting for {what}"),
            }
        }
    }

    async fn event(&mut self, name: &str) -> MeetingEvent {
        match self
            .until(
                name,
                |m| matches!(m, ServerMessage::Event { event, .. } if event.name() == name),
            )
            .await
        {
            ServerMessage::Event { event, .. } => event,
            _ => unreachable!(),
        }
    }

    async fn refused(&mut self) {
        self.until("not_allowed", |m| {
            matches!(
                m,
                ServerMessage::Error {
                    code: ErrorCode::NotAllowed,
                    fatal: false,
                    ..
                }
            )
        })
        .await;
    }

    async fn removed(&mut self, reason: LeaveReason) {
        let seen = self.client.drain_until_closed(SOON).await;
        assert!(
            seen.contains(&ServerMessage::Removed { reason }),
            "expected removed {reason:?}: {seen:?}"
        );
    }
}

#[tokio::test]
async fn mute_all_reaches_everyone_and_a_participant_cannot() {
    let m = meeting().await;
    let mut host = m.host().await;
    let mut bo = m.guest("Bo").await;
    let mut cy = m.guest("Cy").await;
    bo.act(HostAction::Mute {
        participant_id: None,
    })
    .await;
    bo.refused().await;
    host.act(HostAction::Mute {
        participant_id: None,
    })
    .await;
    for member in [&mut host, &mut bo, &mut cy] {
        member.event("mute").await;
        for _ in 0..2 {
            let ServerMessage::ParticipantUpdated { participant } = member
                .until("update", |m| {
                    matches!(m, ServerMessage::ParticipantUpdated { .. })
                })
                .await
            else {
                unreachable!()
            };
            assert!(participant.muted);
            assert_ne!(participant.role, Role::Host);
        }
    }
    // Bo may unmute himself until the host forbids it.
    host.act(HostAction::Allow {
        permission: Permission::UnmuteSelf,
        allowed: false,
    })
    .await;
    host.event("allow").await;
    bo.client
        .send(&ClientMessage::SetAudio { muted: false })
        .await;
    bo.refused().await;
}

#[tokio::test]
async fn a_participant_is_refused_every_host_action() {
    let m = meeting().await;
    let mut host = m.host().await;
    let mut bo = m.guest("Bo").await;
    let cy = m.guest("Cy").await;
    let target = cy.id;
    let actions = [
        HostAction::Mute {
            participant_id: Some(target),
        },
        HostAction::AskUnmute {
            participant_id: target,
        },
        HostAction::StopVideo {
            participant_id: None,
        },
        HostAction::Expel {
            participant_id: Some(target),
        },
        HostAction::Expel {
            participant_id: None,
        },
        HostAction::Lock { locked: true },
        HostAction::End,
        HostAction::SetChat {
            chat: confer_wire::host::ChatPolicy::Nobody,
        },
        HostAction::SetRecording {
            participant_id: None,
            allowed: true,
        },
        HostAction::SetScreenShare {
            share: confer_wire::host::SharePolicy::HostOnly,
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
            participant_id: bo.id,
            role: Role::CoHost,
        },
        HostAction::MakeHost {
            participant_id: bo.id,
        },
        HostAction::Admit {
            participant_id: None,
        },
        HostAction::SetWaitingRoom { enabled: true },
        HostAction::Allow {
            permission: Permission::UnmuteSelf,
            allowed: false,
        },
    ];
    for action in actions {
        bo.act(action).await;
        bo.refused().await;
    }
    // Nothing changed: the meeting still admits, and the host heard of no action.
    let _late = m.guest("Late").await;
    loop {
        match host.client.recv_control(SOON).await {
            Some(ServerMessage::ParticipantJoined { participant })
                if participant.name == "Late" =>
            {
                break;
            }
            // Joins (and the media keys they rotate) are not host actions.
            Some(ServerMessage::ParticipantJoined { .. } | ServerMessage::MediaKey(_)) => {}
            other => panic!("the host heard something: {other:?}"),
        }
    }
}

/// Reads `member`'s messages until their roster entry for `id` satisfies `want`.
async fn entry_until(
    member: &mut Member,
    id: ParticipantId,
    what: &str,
    want: impl Fn(&confer_wire::control::RosterEntry) -> bool,
) {
    member
        .until(what, |m| {
            matches!(m, ServerMessage::ParticipantUpdated { participant }
                if participant.participant_id == id && want(participant))
        })
        .await;
}

/// The controls not covered above, one after another in one meeting over
/// the real server and router: each takes effect for whom it concerns,
/// everyone hears of it, the participant's own attempts the new rules
/// forbid are refused, and a late joiner is told the rules as they stand.
#[tokio::test]
async fn every_other_control_takes_effect_and_everyone_hears_of_it() {
    let m = meeting().await;
    let mut host = m.host().await;
    let mut bo = m.guest("Bo").await;
    let mut cy = m.guest("Cy").await;
    let (bo_id, cy_id) = (bo.id, cy.id);
    let everyone_hears = async |members: &mut [&mut Member], name: &str| {
        for member in members.iter_mut() {
            member.event(name).await;
        }
    };

    // Bo starts video, raises a hand and shares; Cy mutes herself.
    for message in [
        ClientMessage::SetVideo { on: true },
        ClientMessage::SetHand { raised: true },
        ClientMessage::SetShare {
            state: confer_wire::host::ShareState::On,
        },
    ] {
        bo.client.send(&message).await;
    }
    cy.client
        .send(&ClientMessage::SetAudio { muted: true })
        .await;
    entry_until(&mut host, bo_id, "Bo sharing", |e| {
        e.video && e.hand_raised && e.sharing == confer_wire::host::ShareState::On
    })
    .await;

    host.act(HostAction::AskUnmute {
        participant_id: cy_id,
    })
    .await;
    everyone_hears(&mut [&mut host, &mut bo, &mut cy], "ask_unmute").await;

    host.act(HostAction::StopVideo {
        participant_id: None,
    })
    .await;
    everyone_hears(&mut [&mut host, &mut bo, &mut cy], "stop_video").await;
    entry_until(&mut cy, bo_id, "Bo's video off", |e| !e.video).await;

    host.act(HostAction::LowerHand {
        participant_id: Some(bo_id),
    })
    .await;
    everyone_hears(&mut [&mut host, &mut bo, &mut cy], "lower_hand").await;
    entry_until(&mut cy, bo_id, "Bo's hand down", |e| !e.hand_raised).await;

    host.act(HostAction::StopShare {
        participant_id: bo_id,
    })
    .await;
    everyone_hears(&mut [&mut host, &mut bo, &mut cy], "stop_share").await;
    entry_until(&mut cy, bo_id, "Bo's share stopped", |e| {
        e.sharing == confer_wire::host::ShareState::Off
    })
    .await;

    host.act(HostAction::Rename {
        participant_id: bo_id,
        name: "Bob".into(),
    })
    .await;
    everyone_hears(&mut [&mut host, &mut bo, &mut cy], "rename").await;
    entry_until(&mut cy, bo_id, "Bo renamed", |e| e.name == "Bob").await;

    // Rules participants must then keep.
    host.act(HostAction::SetChat {
        chat: confer_wire::host::ChatPolicy::Nobody,
    })
    .await;
    everyone_hears(&mut [&mut host, &mut bo, &mut cy], "set_chat").await;
    bo.client
        .send(&ClientMessage::Chat {
            to: None,
            text: "anyone?".into(),
        })
        .await;
    bo.refused().await;

    host.act(HostAction::SetScreenShare {
        share: confer_wire::host::SharePolicy::HostOnly,
    })
    .await;
    everyone_hears(&mut [&mut host, &mut bo, &mut cy], "set_screen_share").await;
    bo.client
        .send(&ClientMessage::SetShare {
            state: confer_wire::host::ShareState::On,
        })
        .await;
    bo.refused().await;

    host.act(HostAction::Allow {
        permission: Permission::UnmuteSelf,
        allowed: false,
    })
    .await;
    everyone_hears(&mut [&mut host, &mut bo, &mut cy], "allow").await;
    cy.client
        .send(&ClientMessage::SetAudio { muted: false })
        .await;
    cy.refused().await;

    // Recording: Cy may not until the host allows her.
    cy.client
        .send(&ClientMessage::SetRecording { on: true })
        .await;
    cy.refused().await;
    host.act(HostAction::SetRecording {
        participant_id: Some(cy_id),
        allowed: true,
    })
    .await;
    everyone_hears(&mut [&mut host, &mut bo, &mut cy], "set_recording").await;
    cy.client
        .send(&ClientMessage::SetRecording { on: true })
        .await;
    entry_until(&mut bo, cy_id, "Cy recording", |e| e.recording).await;

    // A late joiner is told the rules as they stand.
    let token = m.token(None, "Late").await;
    let (_late, answer) = m.connect(&token).await;
    let Some(ServerMessage::Joined { settings, .. }) = answer else {
        panic!("Late not admitted: {answer:?}");
    };
    assert_eq!(settings.chat, confer_wire::host::ChatPolicy::Nobody);
    assert_eq!(settings.share, confer_wire::host::SharePolicy::HostOnly);
    assert!(!settings.unmute_self && settings.start_video && !settings.locked);
}

/// Asks for join tokens until the answer has `status`: the web service
/// learns of an expulsion from the router's report, a moment after the
/// router acts. Returns the body.
async fn token_until(
    m: &Meeting,
    bearer: Option<&str>,
    name: &str,
    status: u16,
) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + SOON;
    loop {
        let (got, body) = m
            .api
            .join_token(bearer, m.id, serde_json::json!({"display_name": name}))
            .await;
        if got == status {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "join token for {name}: still {got} {body}, not {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether `answer` is the router's fatal `expelled` refusal.
fn expelled(answer: &Option<ServerMessage>) -> bool {
    matches!(
        answer,
        Some(ServerMessage::Error {
            code: ErrorCode::Expelled,
            fatal: true,
            ..
        })
    )
}

#[tokio::test]
async fn an_expelled_user_cannot_rejoin_with_a_fresh_token() {
    let m = meeting().await;
    let mut host = m.host().await;
    let bo_bearer = m.api.sign_up("bo@example.com", "Bo", PASSWORD).await;
    let mut bo = m.join(Some(&bo_bearer), "Bo", Role::Participant).await;
    // A token Bo fetched before being expelled.
    let early = m.token(Some(&bo_bearer), "Bo").await;
    host.act(HostAction::Expel {
        participant_id: Some(bo.id),
    })
    .await;
    bo.removed(LeaveReason::Expelled).await;
    host.event("expel").await;
    // The router refuses the token issued before; the web service issues
    // no new one.
    let (_, answer) = m.connect(&early).await;
    assert!(expelled(&answer), "{answer:?}");
    let refusal = token_until(&m, Some(&bo_bearer), "Bo", 403).await;
    assert_eq!(refusal["error"], "expelled", "{refusal}");
    // Someone else still gets in.
    m.guest("Cy").await;
    host.act(HostAction::AllowRejoin {
        participant_id: bo.id,
    })
    .await;
    host.event("allow_rejoin").await;
    token_until(&m, Some(&bo_bearer), "Bo", 200).await;
    m.join(Some(&bo_bearer), "Bo", Role::Participant).await;
}

#[tokio::test]
async fn an_expelled_guest_cannot_come_back_as_a_new_guest() {
    let m = meeting().await;
    let mut host = m.host().await;
    let mut mallory = m.guest("Mallory").await;
    // A second guest token, fetched before the expulsion under another name.
    let early = m.token(None, "Not Mallory").await;
    host.act(HostAction::Expel {
        participant_id: Some(mallory.id),
    })
    .await;
    mallory.removed(LeaveReason::Expelled).await;
    host.event("expel").await;
    let (_, answer) = m.connect(&early).await;
    assert!(expelled(&answer), "{answer:?}");
    let refusal = token_until(&m, None, "Someone Else", 403).await;
    assert_eq!(refusal["error"], "guests_expelled", "{refusal}");
    // Signed-in users are not affected.
    let di = m.api.sign_up("di@example.com", "Di", PASSWORD).await;
    m.join(Some(&di), "Di", Role::Participant).await;
    // The ban outlives the meeting: everyone leaves, guests are still refused.
    host.client.send(&ClientMessage::Leave).await;
    let refusal = token_until(&m, None, "Mallory", 403).await;
    assert_eq!(refusal["error"], "guests_expelled", "{refusal}");
}

#[tokio::test]
async fn a_locked_meeting_refuses_a_valid_token() {
    let m = meeting().await;
    let mut host = m.host().await;
    host.act(HostAction::Lock { locked: true }).await;
    host.event("lock").await;
    let token = m.token(None, "Late").await;
    let (_, answer) = m.connect(&token).await;
    assert!(
        matches!(
            answer,
            Some(ServerMessage::Error {
                code: ErrorCode::MeetingLocked,
                fatal: true,
                ..
            })
        ),
        "{answer:?}"
    );
    host.act(HostAction::Lock { locked: false }).await;
    host.event("lock").await;
    m.guest("Later").await;
}

#[tokio::test]
async fn the_waiting_room_holds_until_admitted_and_denied_ones_are_disconnected() {
    let m = meeting().await;
    let mut host = m.host().await;
    host.act(HostAction::SetWaitingRoom { enabled: true }).await;
    host.event("set_waiting_room").await;
    let mut waiting = Vec::new();
    for name in ["Bo", "Cy"] {
        let token = m.token(None, name).await;
        let (client, answer) = m.connect(&token).await;
        let Some(ServerMessage::Waiting {
            participant_id,
            reason: WaitReason::WaitingRoom,
            ..
        }) = answer
        else {
            panic!("{name} not held: {answer:?}");
        };
        waiting.push(Member {
            client,
            id: participant_id,
        });
    }
    host.until(
        "both waiting",
        |msg| matches!(msg, ServerMessage::WaitingRoom { waiting } if waiting.len() == 2),
    )
    .await;
    let mut cy = waiting.pop().unwrap();
    let mut bo = waiting.pop().unwrap();
    // A waiting person cannot admit themselves.
    bo.act(HostAction::Admit {
        participant_id: None,
    })
    .await;
    bo.until("not joined", |msg| {
        matches!(
            msg,
            ServerMessage::Error {
                code: ErrorCode::NotJoined,
                ..
            }
        )
    })
    .await;
    host.act(HostAction::Deny {
        participant_id: cy.id,
    })
    .await;
    cy.removed(LeaveReason::Denied).await;
    host.act(HostAction::Admit {
        participant_id: Some(bo.id),
    })
    .await;
    bo.until("joined", |msg| matches!(msg, ServerMessage::Joined { .. }))
        .await;
    host.until("Bo joined", |msg| {
        matches!(msg, ServerMessage::ParticipantJoined { participant } if participant.name == "Bo")
    })
    .await;
}

#[tokio::test]
async fn the_host_hands_over_and_a_departing_host_passes_the_role_on() {
    let m = meeting().await;
    let mut host = m.host().await;
    let mut bo = m.guest("Bo").await;
    let mut cy = m.guest("Cy").await;
    host.act(HostAction::MakeHost {
        participant_id: bo.id,
    })
    .await;
    host.event("make_host").await;
    // The old host is a co-host now and may no longer end the meeting.
    host.act(HostAction::End).await;
    host.refused().await;
    bo.act(HostAction::SetRole {
        participant_id: cy.id,
        role: Role::CoHost,
    })
    .await;
    bo.event("set_role").await;
    // Bo (host) leaves: the longest-present co-host (the owner) takes over.
    bo.client.send(&ClientMessage::Leave).await;
    let event = cy.event("host_changed").await;
    assert_eq!(
        event,
        MeetingEvent::HostChanged {
            participant_id: Some(ParticipantId(1)),
            previous: Some(bo.id),
        }
    );
    host.act(HostAction::End).await;
    cy.removed(LeaveReason::Ended).await;
    host.removed(LeaveReason::Ended).await;
}

#[tokio::test]
async fn ending_the_meeting_removes_everyone() {
    let m = meeting().await;
    let mut host = m.host().await;
    let mut bo = m.guest("Bo").await;
    host.act(HostAction::End).await;
    bo.event("end").await;
    bo.removed(LeaveReason::Ended).await;
    host.removed(LeaveReason::Ended).await;
}

/// `confer join --script`: the host's CLI runs timed actions, the
/// participant's stats file lists the events and the CLI's refusals.
#[test]
fn the_cli_runs_a_script_and_reports_events_and_refusals() {
    let server = Server::start();
    let host_home = tempfile::tempdir().unwrap();
    let bo_home = tempfile::tempdir().unwrap();
    let host_cli = server.cli(host_home.path());
    let bo_cli = server.cli(bo_home.path());
    host_cli.sign_up("host@example.com", "Host", PASSWORD);
    let meeting = host_cli
        .create_meeting(&["--topic", "Scripted"])
        .to_string();

    // A bad script is refused before joining, with its line number.
    let bad = host_home.path().join("bad.script");
    std::fs::write(&bad, "1s chat hi\n2s fly away\n").unwrap();
    let out = host_cli.run(&["join", &meeting, "--script", bad.to_str().unwrap()], "");
    assert!(!out.status.success());
    assert!(out.stderr.contains("line 2"), "{}", out.stderr);

    // No step depends on how long anything takes: Bo tries `mute-all`,
    // raises a hand once the router has refused it, and the host acts only
    // once it sees that hand (however long Bo took to start and join).
    let host_script = host_home.path().join("host.script");
    std::fs::write(
        &host_script,
        "# host\n0s wait-for hand \"Bo\"\n1s chat-to \"Bo\" hello Bo\n\
         1s react 👏\n1s mute-all\n1s lock\n1s end\n",
    )
    .unwrap();
    let bo_script = bo_home.path().join("bo.script");
    std::fs::write(
        &bo_script,
        "0s mute-all\n0s wait-for refusals 1\n0s hand-up\n0s react 👎\n",
    )
    .unwrap();
    let host_stats = host_home.path().join("stats.json");
    let bo_stats = bo_home.path().join("stats.json");
    let mut host_child = host_cli
        .command(&[
            "join",
            &meeting,
            "--for",
            "60s",
            "--script",
            host_script.to_str().unwrap(),
            "--stats",
            host_stats.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut bo_child = bo_cli
        .command(&[
            "join",
            &meeting,
            "--name",
            "Bo",
            "--for",
            "60s",
            "--script",
            bo_script.to_str().unwrap(),
            "--stats",
            bo_stats.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_with_timeout(&mut host_child, STEP_TIMEOUT);
    wait_with_timeout(&mut bo_child, STEP_TIMEOUT);
    let bo: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bo_stats).unwrap()).unwrap();
    let host: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&host_stats).unwrap()).unwrap();
    let types: Vec<&str> = bo["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    // The host's reaction is among them; it may share a millisecond with
    // the mute, so its place in the list is not checked.
    let others: Vec<&str> = types.iter().copied().filter(|t| *t != "reaction").collect();
    assert_eq!(others, ["mute", "lock", "end"], "{bo}");
    let reactions: Vec<&serde_json::Value> = bo["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "reaction")
        .collect();
    assert_eq!(reactions.len(), 1, "{bo}");
    assert_eq!(reactions[0]["emoji"], "👏", "{bo}");
    assert_eq!(reactions[0]["by"], host["participant_id"], "{bo}");
    assert_eq!(bo["left_reason"], "ended", "{bo}");
    assert_eq!(host["left_reason"], "ended", "{host}");
    assert_eq!(bo["chat_received"][0]["text"], "hello Bo");
    assert_eq!(bo["refusals"][0]["action"], "mute-all", "{bo}");
    assert_eq!(bo["refusals"][0]["reason"], "not_allowed", "{bo}");
    // A reaction outside the router's set is refused by the router.
    assert_eq!(bo["refusals"][1]["action"], "react", "{bo}");
    assert_eq!(bo["refusals"][1]["reason"], "invalid_reaction", "{bo}");
    assert_eq!(host["refusals"], serde_json::json!([]), "{host}");
}
