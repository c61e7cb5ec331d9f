//! Everything the router and the web service must refuse, through the real
//! server on loopback: each refusal is clear, specific, and leaves the server
//! serving everyone else.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Api, RawClient, STEP_TIMEOUT, Server};
use confer_wire::control::{ClientMessage, ErrorCode, ServerMessage};
use confer_wire::ids::{MeetingId, Role};
use confer_wire::token::{JOIN_TOKEN_AUDIENCE, JoinClaims};

const PASSWORD: &str = "correct horse battery staple";

/// A server with a host account and a meeting.
struct Fixture {
    server: Server,
    api: Api,
    host: String,
    meeting: u64,
}

async fn fixture() -> Fixture {
    let server = Server::start();
    let api = Api::new(&server);
    let host = api.sign_up("host@example.com", "Host", PASSWORD).await;
    let meeting = api.create_meeting(&host, None).await;
    Fixture {
        server,
        api,
        host,
        meeting,
    }
}

impl Fixture {
    /// A guest join token for `meeting`.
    async fn guest_token(&self, meeting: u64, name: &str) -> String {
        let (status, body) = self
            .api
            .join_token(None, meeting, serde_json::json!({"display_name": name}))
            .await;
        assert_eq!(status, 200, "join token: {body}");
        body["token"].as_str().expect("token").to_string()
    }

    /// Connects and sends `join` for `meeting` with `token`; returns the client and the answer.
    async fn join(&self, meeting: u64, token: &str) -> (RawClient, Option<ServerMessage>) {
        let mut client = RawClient::connect(self.server.tls, &self.server.ca_pem()).await;
        client
            .send(&ClientMessage::Join {
                version: confer_wire::PROTOCOL_VERSION,
                meeting_id: MeetingId(meeting),
                token: token.to_string(),
            })
            .await;
        let answer = client.recv_control(STEP_TIMEOUT).await;
        (client, answer)
    }

    /// The server is alive and still admits a well-behaved client.
    async fn still_serves(&mut self) {
        assert!(
            self.server.is_running(),
            "server died; log:\n{}",
            self.server.log()
        );
        let token = self.guest_token(self.meeting, "Latecomer").await;
        let (_client, answer) = self.join(self.meeting, &token).await;
        assert!(
            matches!(answer, Some(ServerMessage::Joined { .. })),
            "a good client is no longer admitted: {answer:?}"
        );
    }

    /// The server's published signing key id.
    async fn kid(&self) -> String {
        let http = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&self.server.ca_pem()).unwrap()])
            .build()
            .unwrap();
        let jwks: serde_json::Value = http
            .get(format!("{}/.well-known/jwks.json", self.server.api))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        jwks["keys"][0]["kid"].as_str().expect("kid").to_string()
    }
}

/// Asserts the router refused with `code`, said it was fatal, and closed the connection.
async fn assert_fatal(client: &mut RawClient, answer: Option<ServerMessage>, code: ErrorCode) {
    match answer {
        Some(ServerMessage::Error {
            code: got,
            fatal,
            message,
        }) => {
            assert_eq!(got, code, "refused for the wrong reason: {message}");
            assert!(fatal, "{code:?} must close the connection");
            assert!(!message.is_empty(), "a refusal explains itself");
        }
        other => panic!("expected error {code:?}, got {other:?}"),
    }
    let rest = client.drain_until_closed(Duration::from_secs(10)).await;
    assert!(
        rest.is_empty(),
        "nothing may follow a fatal error: {rest:?}"
    );
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(meeting: u64, iat: u64, exp: u64) -> JoinClaims {
    JoinClaims {
        iss: String::new(),
        aud: JOIN_TOKEN_AUDIENCE.into(),
        sub: "guest:forger".into(),
        exp,
        iat,
        jti: format!("jti-{iat}-{exp}"),
        mid: MeetingId(meeting),
        sid: format!("sid-{iat}-{exp}"),
        role: Role::Host,
        name: "Mallory".into(),
        guest: true,
        policy: Default::default(),
    }
}

fn sign(claims: &JoinClaims, kid: &str, key_pem: &[u8]) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(kid.to_string());
    let key = jsonwebtoken::EncodingKey::from_ec_pem(key_pem).expect("EC key");
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_token_is_refused() {
    let mut f = fixture().await;
    // Signed with a key of our own under the server's key id: the signature cannot verify.
    let forger_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut c = claims(f.meeting, now(), now() + 600);
    c.iss = f.api.base.clone();
    let token = sign(&c, &f.kid().await, forger_key.serialize_pem().as_bytes());
    let (mut client, answer) = f.join(f.meeting, &token).await;
    assert_fatal(&mut client, answer, ErrorCode::InvalidToken).await;

    // Garbage that is not a JWT at all.
    let (mut client, answer) = f.join(f.meeting, "not.a.token").await;
    assert_fatal(&mut client, answer, ErrorCode::InvalidToken).await;
    f.still_serves().await;
}

/// The server's token-signing key, read from its data directory (the test plays an
/// attacker who somehow holds the key but whose token has run out).
fn signing_key_pem(server: &Server) -> Vec<u8> {
    let data = server.dir.path().join("data");
    for entry in std::fs::read_dir(&data).expect("data dir") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.contains("sign") && name.ends_with(".pem") {
            return std::fs::read(&path).expect("read signing key");
        }
    }
    panic!("no signing key file in {}", data.display());
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_token_is_refused() {
    let mut f = fixture().await;
    let key = signing_key_pem(&f.server);
    let issued = now() - 3 * 3600;
    let mut c = claims(f.meeting, issued, issued + 3600);
    c.iss = f.api.base.clone();
    let token = sign(&c, &f.kid().await, &key);
    let (mut client, answer) = f.join(f.meeting, &token).await;
    assert_fatal(&mut client, answer, ErrorCode::TokenExpired).await;

    // The same key and claims, but not expired, are admitted: the refusal was the expiry.
    let mut fresh = claims(f.meeting, now(), now() + 600);
    fresh.iss = f.api.base.clone();
    let token = sign(&fresh, &f.kid().await, &key);
    let (_client, answer) = f.join(f.meeting, &token).await;
    assert!(
        matches!(answer, Some(ServerMessage::Joined { .. })),
        "fresh token: {answer:?}"
    );
    f.still_serves().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn token_for_another_meeting_is_refused() {
    let mut f = fixture().await;
    let other = f.api.create_meeting(&f.host, None).await;
    let token = f.guest_token(other, "Wanderer").await;
    let (mut client, answer) = f.join(f.meeting, &token).await;
    assert_fatal(&mut client, answer, ErrorCode::WrongMeeting).await;
    f.still_serves().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reused_session_id_is_refused() {
    let mut f = fixture().await;
    let token = f.guest_token(f.meeting, "Once").await;
    let (mut first, answer) = f.join(f.meeting, &token).await;
    assert!(
        matches!(answer, Some(ServerMessage::Joined { .. })),
        "first use: {answer:?}"
    );

    let (mut second, answer) = f.join(f.meeting, &token).await;
    assert_fatal(&mut second, answer, ErrorCode::SessionReused).await;

    // Still refused after the first holder has left.
    first.send(&ClientMessage::Leave).await;
    first.drain_until_closed(Duration::from_secs(10)).await;
    let (mut third, answer) = f.join(f.meeting, &token).await;
    assert_fatal(&mut third, answer, ErrorCode::SessionReused).await;
    f.still_serves().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_passcode_gets_no_token() {
    let f = fixture().await;
    let locked = f.api.create_meeting(&f.host, Some("424242")).await;
    for body in [
        serde_json::json!({"display_name": "Guest", "passcode": "000000"}),
        serde_json::json!({"display_name": "Guest"}),
    ] {
        let (status, answer) = f.api.join_token(None, locked, body).await;
        assert_eq!(status, 403, "{answer}");
        assert_eq!(answer["error"], "wrong_passcode", "{answer}");
        assert!(answer.get("token").is_none());
    }
    let (status, answer) = f
        .api
        .join_token(
            None,
            locked,
            serde_json::json!({"display_name": "Guest", "passcode": "424242"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");

    // Through the CLI: a refused join exits non-zero, says why, and records it.
    let home = tempfile::tempdir().unwrap();
    let stats = home.path().join("stats.json");
    let out = f.server.cli(home.path()).run(
        &[
            "join",
            &locked.to_string(),
            "--name",
            "Guest",
            "--passcode",
            "000000",
            "--for",
            "2s",
            "--stats",
            stats.to_str().unwrap(),
        ],
        "",
    );
    assert!(!out.status.success(), "a refused join must exit non-zero");
    assert!(
        out.stderr.to_lowercase().contains("passcode"),
        "stderr says why: {}",
        out.stderr
    );
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
    assert_eq!(s["left_reason"], "refused", "{s}");
    assert!(
        s["error"]
            .as_str()
            .unwrap_or("")
            .to_lowercase()
            .contains("passcode"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_frames_are_refused() {
    let mut f = fixture().await;

    // An unknown frame kind.
    let mut client = RawClient::connect(f.server.tls, &f.server.ca_pem()).await;
    client.send_raw(&[0x07, 0, 0, 0, 1, 0]).await;
    let answer = client.recv_control(STEP_TIMEOUT).await;
    assert_fatal(&mut client, answer, ErrorCode::MalformedMessage).await;

    // A control frame that is not a control message.
    let mut client = RawClient::connect(f.server.tls, &f.server.ca_pem()).await;
    client.send_json(r#"{"type":"join","version":"one"}"#).await;
    let answer = client.recv_control(STEP_TIMEOUT).await;
    assert_fatal(&mut client, answer, ErrorCode::MalformedMessage).await;

    // Invalid UTF-8 / not JSON.
    let mut client = RawClient::connect(f.server.tls, &f.server.ca_pem()).await;
    client.send_raw(&[0x01, 0, 0, 0, 3, 0xff, 0xfe, 0xfd]).await;
    let answer = client.recv_control(STEP_TIMEOUT).await;
    assert_fatal(&mut client, answer, ErrorCode::MalformedMessage).await;
    f.still_serves().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_frames_are_refused() {
    let mut f = fixture().await;
    // A control frame announcing 2 GiB: refused from the header, nothing buffered.
    let mut client = RawClient::connect(f.server.tls, &f.server.ca_pem()).await;
    client.send_raw(&[0x01, 0x7f, 0xff, 0xff, 0xff]).await;
    let answer = client.recv_control(STEP_TIMEOUT).await;
    assert_fatal(&mut client, answer, ErrorCode::FrameTooLarge).await;

    // A media frame just over the limit from a joined participant.
    let token = f.guest_token(f.meeting, "Big").await;
    let (mut client, answer) = f.join(f.meeting, &token).await;
    assert!(
        matches!(answer, Some(ServerMessage::Joined { .. })),
        "{answer:?}"
    );
    let mut frame = vec![0x02];
    frame.extend_from_slice(&((confer_wire::frame::MAX_MEDIA_LEN + 1) as u32).to_be_bytes());
    frame.extend(std::iter::repeat_n(
        0x80,
        confer_wire::frame::MAX_MEDIA_LEN + 1,
    ));
    client.send_raw(&frame).await;
    // A joined participant is sent the meeting's media key first.
    let answer = loop {
        match client.recv_control(STEP_TIMEOUT).await {
            Some(ServerMessage::MediaKey(_)) => continue,
            other => break other,
        }
    };
    assert_fatal(&mut client, answer, ErrorCode::FrameTooLarge).await;
    f.still_serves().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn silent_connection_is_dropped_after_the_join_timeout() {
    let mut f = fixture().await;
    let mut client = RawClient::connect(f.server.tls, &f.server.ca_pem()).await;
    let started = std::time::Instant::now();
    let answer = client.recv_control(Duration::from_secs(20)).await;
    assert_fatal(&mut client, answer, ErrorCode::JoinTimeout).await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(4),
        "dropped too early, after {waited:?}"
    );
    println!("silent connection dropped after {waited:?}");
    f.still_serves().await;
}

/// Reads control messages until one matches `want`, or fails.
async fn until(client: &mut RawClient, what: &str, want: impl Fn(&ServerMessage) -> bool) {
    loop {
        match client.recv_control(STEP_TIMEOUT).await {
            Some(m) if want(&m) => return,
            Some(_) => continue,
            None => panic!("closed while waiting for {what}"),
        }
    }
}

fn refused_with(code: ErrorCode) -> impl Fn(&ServerMessage) -> bool {
    move |m| matches!(m, ServerMessage::Error { code: c, fatal: false, .. } if *c == code)
}

/// Reactions outside the set and sealed chat in a standard meeting are
/// refused, clearly and without closing; a good reaction is relayed. (The
/// reaction rate limit is tested on the router core's virtual clock.)
#[tokio::test]
async fn bad_reactions_and_misplaced_sealed_chat_are_refused_not_fatal() {
    let mut f = fixture().await;
    let token = f.guest_token(f.meeting, "Bo").await;
    let (mut bo, answer) = f.join(f.meeting, &token).await;
    assert!(
        matches!(answer, Some(ServerMessage::Joined { .. })),
        "{answer:?}"
    );
    bo.send(&ClientMessage::React {
        emoji: "👎".into()
    })
    .await;
    until(
        &mut bo,
        "invalid_reaction",
        refused_with(ErrorCode::InvalidReaction),
    )
    .await;
    bo.send(&ClientMessage::SealedChat {
        to: None,
        ciphertext: confer_wire::keys::KeyBytes(vec![1, 2, 3]),
    })
    .await;
    until(&mut bo, "not_allowed", refused_with(ErrorCode::NotAllowed)).await;
    bo.send(&ClientMessage::React {
        emoji: "✋".into()
    })
    .await;
    until(
        &mut bo,
        "the reaction",
        |m| matches!(m, ServerMessage::Reaction { emoji, .. } if emoji == "✋"),
    )
    .await;
    f.still_serves().await;
}
