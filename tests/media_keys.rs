//! Media keys through the real `confer-server` on loopback: in a standard
//! meeting the router hands every participant the meeting's key over TLS and
//! rotates it when someone leaves, so frames sealed afterwards open for
//! those who stayed and not for the one who left; in an E2E meeting the
//! router hands out no key at all, the participants form an MLS group
//! through it, show equal security codes, and rotate when one is expelled.
//!
//! The sealing and opening runs in real `confer_client::session::Session`s
//! fed with exactly what the router sent each raw connection, and the sealed
//! frames travel through the router as RTP packets; a `confer join` CLI
//! client beside them reports the key epochs it saw in its `--stats` file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Api, RawClient, Received, STEP_TIMEOUT, Server};
use confer_client::session::{
    Encryption, FrameCryptoError, Output, Session, SessionConfig, SessionError,
};
use confer_wire::control::{ClientMessage, ServerMessage};
use confer_wire::host::HostAction;
use confer_wire::ids::{MeetingId, ParticipantId};
use confer_wire::rtp::RtpPacket;
use serde_json::Value;

const PASSWORD: &str = "correct horse battery staple";

/// A raw connection to the router with a session mirroring what it was told.
struct Member {
    raw: RawClient,
    session: Session,
    id: ParticipantId,
}

impl Member {
    /// Joins `meeting` as a guest called `name` and waits until admitted.
    async fn join(server: &Server, api: &Api, meeting: u64, name: &str) -> Member {
        Self::join_as(server, api, None, meeting, name).await
    }

    /// Joins `meeting` as `name`, signed in with `bearer` if given.
    async fn join_as(
        server: &Server,
        api: &Api,
        bearer: Option<&str>,
        meeting: u64,
        name: &str,
    ) -> Member {
        let (status, body) = api
            .join_token(bearer, meeting, serde_json::json!({"display_name": name}))
            .await;
        assert_eq!(status, 200, "join token: {body}");
        let token = body["token"].as_str().expect("token").to_string();
        let mut raw = RawClient::connect(server.tls, &server.ca_pem()).await;
        raw.send(&ClientMessage::Join {
            version: confer_wire::PROTOCOL_VERSION,
            meeting_id: MeetingId(meeting),
            token: token.clone(),
        })
        .await;
        let mut session = Session::new(
            SessionConfig::new(MeetingId(meeting), token),
            Instant::now(),
        );
        while session.poll_output().is_some() {}
        let mut member = Member {
            raw,
            session,
            id: ParticipantId(0),
        };
        while member.session.participant_id().is_none() {
            member.next_control().await;
        }
        member.id = member.session.participant_id().expect("admitted");
        member
    }

    /// Reads one control message (skipping media) and feeds it to the session.
    async fn next_control(&mut self) -> ServerMessage {
        let message = self
            .raw
            .recv_control(STEP_TIMEOUT)
            .await
            .expect("the router closed the connection");
        self.feed(message.clone()).await;
        message
    }

    /// Hands `message` to the session and sends what it answers (MLS).
    async fn feed(&mut self, message: ServerMessage) {
        self.session.handle_message(Instant::now(), message);
        self.flush().await;
    }

    /// Sends the session's pending control messages.
    async fn flush(&mut self) {
        while let Some(output) = self.session.poll_output() {
            if let Output::Control(message) = output {
                self.raw.send(&message).await;
            }
        }
    }

    /// Feeds whatever arrives within `limit` (control only); false if the
    /// connection closed.
    async fn pump(&mut self, limit: Duration) -> bool {
        match self.raw.poll(limit).await {
            Some(Received::Control(message)) => {
                self.feed(message).await;
                true
            }
            Some(Received::Media(_)) | None => true,
            Some(Received::Closed) => false,
        }
    }

    /// Reads control messages until `name` is on the roster.
    async fn await_participant(&mut self, name: &str) {
        while !self.session.roster().iter().any(|e| e.name == name) {
            self.next_control().await;
        }
    }

    /// Reads control messages until a `media_key` of `epoch` arrived.
    async fn await_epoch(&mut self, epoch: u64) {
        while self.session.encryption_stats().current_epoch != Some(epoch) {
            if let ServerMessage::MediaKey(key) = self.next_control().await {
                assert!(key.epoch <= epoch, "skipped past epoch {epoch}: {key:?}");
            }
        }
    }

    /// Seals `frame` and sends it through the router as an RTP packet.
    async fn send_frame(&mut self, seq: u16, frame: &[u8]) {
        let packet = common::sealed_audio_packet(&mut self.session, self.id, seq, frame);
        self.raw.send_media(&packet).await;
        self.raw.send(&ClientMessage::Ping { nonce: 1 }).await;
    }

    /// The next media packet from `from`, as the router forwarded it.
    async fn recv_packet_from(&mut self, from: ParticipantId) -> Vec<u8> {
        loop {
            match self.raw.recv_within(STEP_TIMEOUT).await {
                Received::Media(packet) => {
                    let parsed = RtpPacket::parse(&packet).expect("RTP");
                    if parsed.header.ssrc >> 8 == from.0 {
                        return packet.to_vec();
                    }
                }
                Received::Control(message) => self.feed(message).await,
                Received::Closed => panic!("the router closed the connection"),
            }
        }
    }
}

/// Opens a forwarded RTP packet with `session`.
fn open(session: &mut Session, packet: &[u8]) -> Result<Vec<u8>, SessionError> {
    let parsed = RtpPacket::parse(packet).expect("RTP");
    let ssrc = parsed.header.ssrc;
    session.open_frame(
        ParticipantId(ssrc >> 8),
        &ssrc.to_be_bytes(),
        parsed.payload,
    )
}

/// Starts `confer join` for `meeting` as the CLI's logged-in user.
fn cli_join(cli: &common::Cli, meeting: u64, stay: &str, stats: &Path) -> Child {
    cli.command(&[
        "join",
        &meeting.to_string(),
        "--transport",
        "tls",
        "--for",
        stay,
    ])
    .arg("--stats")
    .arg(stats)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("spawn confer join")
}

/// Waits for `child`, keeping `members` alive with pings and feeding
/// their sessions (and sending what they answer) meanwhile.
async fn wait_pinging(child: &mut Child, members: &mut [&mut Member]) {
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "confer join exited with {status}");
            return;
        }
        assert!(Instant::now() < deadline, "confer join did not finish");
        for m in members.iter_mut() {
            m.raw.send(&ClientMessage::Ping { nonce: 2 }).await;
            let until = Instant::now() + Duration::from_millis(300);
            while Instant::now() < until {
                m.pump(Duration::from_millis(50)).await;
            }
        }
    }
}

fn read_stats(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("stats file")).expect("stats JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_standard_meeting_rotates_its_key_when_someone_leaves() {
    let server = Server::start();
    let api = Api::new(&server);
    let home = tempfile::tempdir().unwrap();
    let ada = server.cli(home.path());
    ada.sign_up("ada@example.com", "Ada", PASSWORD);
    let meeting = ada.create_meeting(&["--topic", "Keys"]);
    let stats_path = home.path().join("stats.json");
    let mut ada_join = cli_join(&ada, meeting, "5s", &stats_path);

    let mut bo = Member::join(&server, &api, meeting, "Bo").await;
    // The CLI client is in before anyone leaves, so it sees the rotation.
    bo.await_participant("Ada").await;
    let mut cy = Member::join(&server, &api, meeting, "Cy").await;
    let mut dee = Member::join(&server, &api, meeting, "Dee").await;
    for m in [&mut bo, &mut cy, &mut dee] {
        m.await_epoch(1).await;
        assert_eq!(
            m.session.encryption_stats().encryption,
            Encryption::Standard
        );
    }

    // Epoch 1: everyone, Cy included, opens Bo's frames.
    bo.send_frame(1, b"before Cy left").await;
    let before = dee.recv_packet_from(bo.id).await;
    assert!(
        !before.windows(14).any(|w| w == b"before Cy left"),
        "the router forwards ciphertext"
    );
    assert_eq!(open(&mut dee.session, &before).unwrap(), b"before Cy left");
    let cy_copy = cy.recv_packet_from(bo.id).await;
    assert_eq!(open(&mut cy.session, &cy_copy).unwrap(), b"before Cy left");

    // Cy leaves: those remaining move to epoch 2; Cy hears nothing more.
    cy.raw.send(&ClientMessage::Leave).await;
    let cy_heard = cy.raw.drain_until_closed(STEP_TIMEOUT).await;
    assert!(
        !cy_heard
            .iter()
            .any(|m| matches!(m, ServerMessage::MediaKey(_))),
        "the leaver gets no new key: {cy_heard:?}"
    );
    bo.await_epoch(2).await;
    dee.await_epoch(2).await;

    bo.send_frame(2, b"after Cy left").await;
    let after = dee.recv_packet_from(bo.id).await;
    assert_eq!(open(&mut dee.session, &after).unwrap(), b"after Cy left");
    // What Cy could capture off the wire no longer opens with Cy's key.
    match open(&mut cy.session, &after) {
        Err(SessionError::FrameCrypto(FrameCryptoError::Sframe(e))) => {
            assert!(e.to_string().contains("no key"), "{e}");
        }
        other => panic!("Cy opened a frame of the new epoch: {other:?}"),
    }
    let cy_keys = cy.session.encryption_stats();
    assert_eq!(cy_keys.decrypt_failures, 1);
    assert_eq!(cy_keys.key_epochs_seen, 1);
    assert_eq!(dee.session.encryption_stats().decrypt_failures, 0);
    assert_eq!(dee.session.encryption_stats().key_epochs_seen, 2);

    // The CLI client saw both epochs.
    wait_pinging(&mut ada_join, &mut [&mut bo, &mut dee]).await;
    let stats = read_stats(&stats_path);
    assert_eq!(stats["left_reason"], "left", "{stats}");
    assert_eq!(stats["encryption"], "standard");
    assert_eq!(stats["key_epochs_seen"], 2, "{stats}");
    assert!(stats["security_code"].is_null());
    assert_eq!(stats["decrypt_failures"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_e2e_meeting_gets_no_key_from_the_router_and_the_cli_joins_its_group() {
    let server = Server::start();
    let api = Api::new(&server);
    let home = tempfile::tempdir().unwrap();
    let ada = server.cli(home.path());
    ada.sign_up("ada@example.com", "Ada", PASSWORD);
    let meeting = ada.create_meeting(&["--e2e"]);
    let shown: Value = serde_json::from_str(
        ada.ok(&["meeting", "show", &meeting.to_string(), "--json"], "")
            .trim(),
    )
    .unwrap();
    assert_eq!(shown["e2e"], true, "{shown}");
    let stats_path = home.path().join("stats.json");
    let mut ada_join = cli_join(&ada, meeting, "2s", &stats_path);

    let mut bo = Member::join(&server, &api, meeting, "Bo").await;
    assert_eq!(bo.session.encryption_stats().encryption, Encryption::E2e);
    wait_pinging(&mut ada_join, &mut [&mut bo]).await;
    // Keys came from the group instead: founded, Ada added, Ada removed.
    pump_until(&mut [&mut bo], "Bo removing Ada", |ms| {
        ms[0].session.encryption_stats().key_epochs_seen == 3
    })
    .await;
    bo.raw.send(&ClientMessage::Leave).await;
    let heard = bo.raw.drain_until_closed(STEP_TIMEOUT).await;
    assert!(
        !heard
            .iter()
            .any(|m| matches!(m, ServerMessage::MediaKey(_))),
        "{heard:?}"
    );
    let stats = read_stats(&stats_path);
    assert_eq!(stats["encryption"], "e2e", "{stats}");
    assert_eq!(stats["decrypt_failures"], 0);
    // Bo founded the group and added the CLI client: one epoch for it,
    // and a code to read aloud.
    assert_eq!(stats["key_epochs_seen"], 1, "{stats}");
    let code = stats["security_code"].as_str().expect("a security code");
    assert_eq!(
        code.chars().filter(char::is_ascii_digit).count(),
        12,
        "{code}"
    );
}

fn code(m: &Member) -> Option<String> {
    m.session.encryption_stats().security_code
}

/// Pumps every member's messages until `done` holds.
async fn pump_until(
    members: &mut [&mut Member],
    what: &str,
    done: impl Fn(&[&mut Member]) -> bool,
) {
    let deadline = Instant::now() + STEP_TIMEOUT;
    // These members are driven by hand, not by the session's timers: ping
    // so that a slow step (a loaded machine) is not taken for silence.
    let mut next_ping = Instant::now();
    while !done(members) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        if Instant::now() >= next_ping {
            for m in members.iter_mut() {
                m.raw.send(&ClientMessage::Ping { nonce: 3 }).await;
            }
            next_ping = Instant::now() + Duration::from_millis(500);
        }
        for m in members.iter_mut() {
            let open = m.pump(Duration::from_millis(20)).await;
            assert!(
                open,
                "closed while waiting for {what}: end {:?}, router errors {:?}, encryption {:?}",
                m.session.end_reason(),
                m.session.router_errors(),
                m.session.encryption_stats()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_e2e_meeting_agrees_on_keys_and_rotates_after_an_expulsion() {
    let server = Server::start();
    let api = Api::new(&server);
    let host = api.sign_up("ada@example.com", "Ada", PASSWORD).await;
    let (status, body) = api
        .post(
            "/api/v1/meetings",
            Some(&host),
            serde_json::json!({"topic": "Secret", "e2e": true}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let meeting = body["meeting_id"].as_u64().expect("meeting_id");

    let mut ada = Member::join_as(&server, &api, Some(&host), meeting, "Ada").await;
    ada.flush().await;
    let mut bo = Member::join(&server, &api, meeting, "Bo").await;
    bo.flush().await;
    let mut cy = Member::join(&server, &api, meeting, "Cy").await;
    cy.flush().await;
    for m in [&ada, &bo, &cy] {
        assert_eq!(m.session.encryption_stats().encryption, Encryption::E2e);
    }

    // Ada founds the group and adds Bo, then Cy: three members, one code.
    pump_until(
        &mut [&mut ada, &mut bo, &mut cy],
        "three equal security codes",
        |ms| {
            let codes: Vec<_> = ms.iter().map(|m| code(m)).collect();
            codes[0].is_some()
                && codes.iter().all(|c| *c == codes[0])
                && ms
                    .iter()
                    .all(|m| m.session.encryption_stats().key_epochs_seen >= 1)
                && ms[0].session.encryption_stats().key_epochs_seen == 3
        },
    )
    .await;
    let before = code(&ada).unwrap();
    assert_eq!(
        before.chars().filter(char::is_ascii_digit).count(),
        12,
        "{before}"
    );

    // Media flows, sealed under the group's keys.
    ada.send_frame(1, b"for the three of us").await;
    let at_bo = bo.recv_packet_from(ada.id).await;
    assert_eq!(
        open(&mut bo.session, &at_bo).unwrap(),
        b"for the three of us"
    );
    let at_cy = cy.recv_packet_from(ada.id).await;
    assert_eq!(
        open(&mut cy.session, &at_cy).unwrap(),
        b"for the three of us"
    );

    // Ada expels Cy: the router asks Ada (lowest id) to commit the removal.
    ada.raw
        .send(&ClientMessage::Host(HostAction::Expel {
            participant_id: Some(cy.id),
        }))
        .await;
    pump_until(&mut [&mut ada, &mut bo], "a new epoch without Cy", |ms| {
        let now = code(ms[0]);
        now.is_some() && now != Some(before.clone()) && now == code(ms[1])
    })
    .await;
    assert_eq!(ada.session.encryption_stats().key_epochs_seen, 4);

    ada.send_frame(2, b"just us two").await;
    let at_bo = bo.recv_packet_from(ada.id).await;
    assert_eq!(open(&mut bo.session, &at_bo).unwrap(), b"just us two");
    // Cy, handed the new frame anyway, cannot open it.
    match open(&mut cy.session, &at_bo) {
        Err(SessionError::FrameCrypto(FrameCryptoError::Sframe(_))) => {}
        other => panic!("the expelled participant opened a later frame: {other:?}"),
    }
    assert_eq!(cy.session.encryption_stats().decrypt_failures, 1);
    assert_eq!(bo.session.encryption_stats().decrypt_failures, 0);
}
