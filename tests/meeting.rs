//! A meeting happens: three `confer` clients meet through a real `confer-server`
//! on loopback, over QUIC and over TLS, and a client that dies without a word
//! disappears from the others' rosters.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Api, RawClient, Received, STEP_TIMEOUT, Server, wait_with_timeout};
use confer_wire::control::{ClientMessage, LeaveReason, ServerMessage};
use confer_wire::ids::MeetingId;
use serde_json::Value;

const PASSWORD: &str = "correct horse battery staple";

/// Runs three clients in one meeting over `transport` and checks everything each one saw.
fn three_clients_meet(transport: &str) {
    let server = Server::start();
    let names = ["Ada", "Bo", "Cy"];
    let homes: Vec<_> = names.iter().map(|_| tempfile::tempdir().unwrap()).collect();
    let clis: Vec<_> = homes.iter().map(|h| server.cli(h.path())).collect();
    for (cli, name) in clis.iter().zip(names) {
        cli.sign_up(
            &format!("{}@example.com", name.to_lowercase()),
            name,
            PASSWORD,
        );
    }
    let meeting = clis[0].create_meeting(&["--topic", "Standup"]);
    let meeting_arg = meeting.to_string();

    let stats_paths: Vec<_> = homes.iter().map(|h| h.path().join("stats.json")).collect();
    let mut children: Vec<Child> = Vec::new();
    for ((cli, name), stats) in clis.iter().zip(names).zip(&stats_paths) {
        let chat = format!("hello from {name}");
        let child = cli
            .command(&[
                "join",
                &meeting_arg,
                "--name",
                name,
                "--transport",
                transport,
            ])
            .args([
                "--send-media",
                "synthetic",
                "--chat",
                &chat,
                "--wait-for",
                "3",
                "--for",
                "6s",
            ])
            .arg("--stats")
            .arg(stats)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn confer join");
        children.push(child);
    }
    for child in &mut children {
        let status = wait_with_timeout(child, STEP_TIMEOUT);
        assert!(
            status.success(),
            "a client exited with {status}; server log:\n{}",
            server.log()
        );
    }

    let stats: Vec<Value> = stats_paths
        .iter()
        .map(|p| {
            serde_json::from_slice(&std::fs::read(p).expect("stats file")).expect("stats JSON")
        })
        .collect();
    // Who is who, from each client's own id.
    let ids: Vec<u64> = stats
        .iter()
        .map(|s| s["participant_id"].as_u64().expect("participant_id"))
        .collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 3, "participant ids must differ: {ids:?}");

    for (i, s) in stats.iter().enumerate() {
        let me = names[i];
        assert_eq!(s["transport"], transport, "{me}'s transport");
        assert_eq!(s["left_reason"], "left", "{me} left cleanly: {s}");
        assert!(s["error"].is_null(), "{me} saw an error: {s}");

        // Roster: the other two, with the roles the server decided.
        let roster: BTreeMap<u64, (String, String)> = s["roster"]
            .as_array()
            .expect("roster")
            .iter()
            .map(|e| {
                let id = e["participant_id"].as_u64().expect("id");
                (
                    id,
                    (
                        e["name"].as_str().unwrap().into(),
                        e["role"].as_str().unwrap().into(),
                    ),
                )
            })
            .collect();
        for (j, other) in names.iter().enumerate() {
            let (name, role) = roster
                .get(&ids[j])
                .unwrap_or_else(|| panic!("{me} never saw {other} in the roster: {s}"));
            assert_eq!(name, other);
            assert_eq!(
                role,
                if j == 0 { "host" } else { "participant" },
                "{other}'s role"
            );
        }

        // Chat: exactly one message from each of the other two, none from self.
        let chats = s["chat_received"].as_array().expect("chat_received");
        for (j, other) in names.iter().enumerate() {
            let from_other: Vec<_> = chats
                .iter()
                .filter(|c| c["from"].as_u64() == Some(ids[j]))
                .collect();
            if j == i {
                assert!(
                    from_other.is_empty(),
                    "{me} got its own chat back as received: {s}"
                );
            } else {
                assert_eq!(from_other.len(), 1, "{me} got {other}'s chat once: {s}");
                assert_eq!(from_other[0]["text"], format!("hello from {other}"));
            }
        }

        // Media: from each of the other two, never from self.
        assert!(
            s["media"]["sent_packets"].as_u64().unwrap_or(0) > 0,
            "{me} sent media: {s}"
        );
        let received = s["media"]["received"].as_object().expect("media.received");
        assert!(
            !received.contains_key(&ids[i].to_string()),
            "{me} received its own media: {s}"
        );
        for (j, other) in names.iter().enumerate() {
            if j != i {
                let packets = received
                    .get(&ids[j].to_string())
                    .and_then(|r| r["packets"].as_u64())
                    .unwrap_or(0);
                assert!(packets > 0, "{me} received no media from {other}: {s}");
            }
        }
    }
}

#[test]
fn three_clients_meet_over_quic() {
    three_clients_meet("quic");
}

#[test]
fn three_clients_meet_over_tls() {
    three_clients_meet("tls");
}

/// Sends a ping every second while waiting, so the observer itself is never timed out.
async fn next_event(observer: &mut RawClient, deadline: Instant) -> Option<ServerMessage> {
    let mut nonce = 0;
    while Instant::now() < deadline {
        match observer.poll(Duration::from_secs(1)).await {
            Some(Received::Control(ServerMessage::Pong { .. })) | Some(Received::Media(_)) => {}
            Some(Received::Control(m)) => return Some(m),
            Some(Received::Closed) => panic!("router closed the observer's connection"),
            None => {
                nonce += 1;
                observer.send(&ClientMessage::Ping { nonce }).await;
            }
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_client_leaves_the_roster_within_ten_seconds() {
    let server = Server::start();
    let api = Api::new(&server);
    let host = api.sign_up("host@example.com", "Host", PASSWORD).await;
    let meeting = api.create_meeting(&host, None).await;

    // The observer is a raw protocol client holding a guest token.
    let (status, ticket) = api
        .join_token(
            None,
            meeting,
            serde_json::json!({"display_name": "Observer"}),
        )
        .await;
    assert_eq!(status, 200, "guest join token: {ticket}");
    let mut observer = RawClient::connect(server.tls, &server.ca_pem()).await;
    observer
        .send(&ClientMessage::Join {
            version: confer_wire::PROTOCOL_VERSION,
            meeting_id: MeetingId(meeting),
            token: ticket["token"].as_str().unwrap().into(),
        })
        .await;
    assert!(
        matches!(
            observer.recv_control(STEP_TIMEOUT).await,
            Some(ServerMessage::Joined { .. })
        ),
        "observer admitted"
    );

    // The victim joins over QUIC, where a dead process sends no goodbye at all.
    let home = tempfile::tempdir().unwrap();
    let cli = server.cli(home.path());
    let mut victim = cli
        .command(&[
            "join",
            &meeting.to_string(),
            "--name",
            "Victim",
            "--transport",
            "quic",
        ])
        .args(["--send-media", "synthetic", "--for", "120s"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn victim");

    let deadline = Instant::now() + STEP_TIMEOUT;
    let victim_id = loop {
        match next_event(&mut observer, deadline).await {
            Some(ServerMessage::ParticipantJoined { participant })
                if participant.name == "Victim" =>
            {
                break participant.participant_id;
            }
            Some(_) => continue,
            None => panic!("the victim never joined; server log:\n{}", server.log()),
        }
    };

    victim.kill().expect("SIGKILL the victim");
    let killed_at = Instant::now();
    let _ = victim.wait();
    let deadline = killed_at + Duration::from_secs(10);
    loop {
        match next_event(&mut observer, deadline).await {
            Some(ServerMessage::ParticipantLeft {
                participant_id,
                reason,
            }) if participant_id == victim_id => {
                assert!(
                    matches!(reason, LeaveReason::TimedOut | LeaveReason::Disconnected),
                    "unexpected reason {reason:?}"
                );
                println!(
                    "victim left the roster {:?} after SIGKILL",
                    killed_at.elapsed()
                );
                break;
            }
            Some(_) => continue,
            None => panic!("the killed client was still in the roster 10 s after SIGKILL"),
        }
    }
}
