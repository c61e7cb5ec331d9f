//! The router relays only ciphertext in an E2E meeting: three real
//! `confer_client::session::Session`s meet through the real `confer-server`
//! on loopback while the test records, at each raw connection and before the
//! session parses it, every byte the router sends them and every byte they
//! send it. The union is everything the router relays and everything it was
//! given. Then the test takes the keys the clients actually used (each
//! epoch's MLS exporter output, which is the SFrame base key, through the
//! `test-secrets` accessor of `confer-client`), derives from them what the
//! AEAD ran with (RFC 9605 §4.4.2: `sframe_secret`, and `sframe_key` and
//! `sframe_salt` for every KID seen), and shows that
//!
//! - none of them appears in those bytes, in the server's log at `trace`,
//!   or anywhere in the server process's writable memory, raw, as hex,
//!   base64 or base64url; nor raw inside any base64 blob (MLS message) the
//!   router relayed;
//! - the router sent no `media_key`;
//! - no relayed media frame opens with any 32-byte window (stride 1) of
//!   the recorded bytes and decoded blobs used as its base key;
//! - media and chat still flow, the three security codes are equal, and
//!   after an expulsion the two who stay rotate and the expelled one fails
//!   to open what follows (counted in `decrypt_failures`);
//! - chat, to everyone and private, arrives sealed (`e2e: true`), the
//!   private one only at its recipient, and its text appears nowhere the
//!   key scans look (relayed bytes and blobs, the log, the router's
//!   memory); the router refuses plain `chat` in the E2E meeting.
//!
//! The same scans run over a standard meeting, where the router does make
//! and hand out the key, find it in the recorded bytes, in the router's
//! memory, and as a window that opens every frame: the detector works.
//! There chat still goes as plain text (`e2e: false`), and the scan finds
//! its text in the relayed bytes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use bytes::BytesMut;
use common::{Api, Received, STEP_TIMEOUT, Server, tls_client_config};
use confer_client::session::{
    Encryption, FrameCryptoError, Output, Session, SessionConfig, SessionError,
};
use confer_e2e::sframe::{KeyId, SframeReceiver};
use confer_wire::control::{ClientMessage, ErrorCode, ServerMessage};
use confer_wire::frame::{FrameKind, decode_frame, frame_bytes};
use confer_wire::host::HostAction;
use confer_wire::ids::{MeetingId, ParticipantId};
use confer_wire::rtp::RtpPacket;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PASSWORD: &str = "correct horse battery staple";

/// At most this many bytes of what the router held are tried, window by
/// window, as base keys, so the scan stays bounded.
const WINDOW_SCAN_LIMIT: usize = 300 * 1024;

/// Everything one connection carried, as the router saw it (inside TLS).
#[derive(Default)]
struct Recording {
    /// Every byte the router sent, framing included.
    from_router: Vec<u8>,
    /// Every byte the client sent the router, framing included.
    to_router: Vec<u8>,
    /// Control payloads from the router, one per frame.
    controls: Vec<Vec<u8>>,
    /// Media payloads (RTP packets) from the router.
    media: Vec<Vec<u8>>,
    /// Control payloads the client sent.
    sent_controls: Vec<Vec<u8>>,
}

/// A protocol connection that records what crosses it.
struct Tap {
    stream: tokio_rustls::client::TlsStream<TcpStream>,
    buf: BytesMut,
    rec: Recording,
}

impl Tap {
    async fn connect(server: &Server) -> Tap {
        let connector = tokio_rustls::TlsConnector::from(tls_client_config(
            &server.ca_pem(),
            confer_wire::ALPN,
        ));
        let tcp = TcpStream::connect(server.tls).await.expect("connect");
        let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
        let stream = connector.connect(name, tcp).await.expect("TLS handshake");
        Tap {
            stream,
            buf: BytesMut::new(),
            rec: Recording::default(),
        }
    }

    async fn write(&mut self, frame: &[u8]) {
        self.rec.to_router.extend_from_slice(frame);
        self.stream.write_all(frame).await.expect("write");
        self.stream.flush().await.expect("flush");
    }

    async fn send(&mut self, msg: &ClientMessage) {
        let payload = msg.encode();
        let frame = frame_bytes(FrameKind::Control, &payload).expect("frame");
        self.rec.sent_controls.push(payload);
        self.write(&frame).await;
    }

    async fn send_media(&mut self, rtp: &[u8]) {
        let frame = frame_bytes(FrameKind::Media, rtp).expect("frame");
        self.write(&frame).await;
    }

    /// Next frame, `Closed`, or `None` after `limit`; records every byte.
    async fn poll(&mut self, limit: Duration) -> Option<Received> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match decode_frame(&mut self.buf) {
                Ok(Some(frame)) => {
                    return Some(match frame.kind {
                        FrameKind::Control => {
                            self.rec.controls.push(frame.payload.to_vec());
                            Received::Control(
                                ServerMessage::decode(&frame.payload)
                                    .expect("router sent valid JSON"),
                            )
                        }
                        FrameKind::Media => {
                            self.rec.media.push(frame.payload.to_vec());
                            Received::Media(frame.payload)
                        }
                    });
                }
                Ok(None) => {}
                Err(e) => panic!("router sent invalid framing: {e}"),
            }
            let before = self.buf.len();
            let Ok(read) =
                tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await
            else {
                return None;
            };
            match read {
                Ok(0) | Err(_) => return Some(Received::Closed),
                Ok(_) => self.rec.from_router.extend_from_slice(&self.buf[before..]),
            }
        }
    }
}

/// A recorded connection with a session mirroring what it was told.
struct Member {
    tap: Tap,
    session: Session,
    id: ParticipantId,
    /// Every base key this session held at any point.
    secrets: BTreeSet<Vec<u8>>,
}

impl Member {
    async fn join(
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
        let mut tap = Tap::connect(server).await;
        tap.send(&ClientMessage::Join {
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
            tap,
            session,
            id: ParticipantId(0),
            secrets: BTreeSet::new(),
        };
        while member.session.participant_id().is_none() {
            assert!(member.pump(STEP_TIMEOUT).await, "closed before admission");
        }
        member.id = member.session.participant_id().expect("admitted");
        member
    }

    /// Hands `message` to the session, sends what it answers, and notes
    /// the keys it now holds.
    async fn feed(&mut self, message: ServerMessage) {
        self.session.handle_message(Instant::now(), message);
        self.flush().await;
    }

    /// Sends the session's pending control messages and notes the keys it
    /// now holds.
    async fn flush(&mut self) {
        while let Some(output) = self.session.poll_output() {
            if let Output::Control(message) = output {
                self.tap.send(&message).await;
            }
        }
        self.secrets.extend(self.session.test_media_base_keys());
    }

    /// Feeds what arrives within `limit`; false if the connection closed.
    async fn pump(&mut self, limit: Duration) -> bool {
        match self.tap.poll(limit).await {
            Some(Received::Control(message)) => {
                self.feed(message).await;
                true
            }
            Some(Received::Media(_)) | None => true,
            Some(Received::Closed) => false,
        }
    }

    async fn send_frame(&mut self, seq: u16, frame: &[u8]) {
        let packet = common::sealed_audio_packet(&mut self.session, self.id, seq, frame);
        self.tap.send_media(&packet).await;
        self.tap.send(&ClientMessage::Ping { nonce: 1 }).await;
    }

    async fn recv_packet_from(&mut self, from: ParticipantId) -> Vec<u8> {
        loop {
            match self
                .tap
                .poll(STEP_TIMEOUT)
                .await
                .expect("nothing from the router")
            {
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

    fn code(&self) -> Option<String> {
        self.session.encryption_stats().security_code
    }
}

fn open(session: &mut Session, packet: &[u8]) -> Result<Vec<u8>, SessionError> {
    let parsed = RtpPacket::parse(packet).expect("RTP");
    let ssrc = parsed.header.ssrc;
    session.open_frame(
        ParticipantId(ssrc >> 8),
        &ssrc.to_be_bytes(),
        parsed.payload,
    )
}

/// The `sealed_chat` messages (private ones or ones to all) the router
/// relayed to `m`; a plain `chat` fails the test.
fn sealed_chats(m: &Member, private: bool) -> usize {
    m.tap
        .rec
        .controls
        .iter()
        .filter_map(|p| ServerMessage::decode(p).ok())
        .filter(|msg| match msg {
            ServerMessage::SealedChat { to, .. } => to.is_some() == private,
            ServerMessage::Chat { .. } => panic!("plain chat relayed in an E2E meeting"),
            _ => false,
        })
        .count()
}

async fn pump_until(
    members: &mut [&mut Member],
    what: &str,
    done: impl Fn(&[&mut Member]) -> bool,
) {
    let deadline = Instant::now() + STEP_TIMEOUT;
    while !done(members) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        for m in members.iter_mut() {
            assert!(
                m.pump(Duration::from_millis(20)).await,
                "closed while waiting for {what}"
            );
        }
    }
}

/// What the router relayed to and received from every member.
struct RouterView {
    /// Raw bytes, both directions, all connections.
    raw: Vec<u8>,
    /// Every string in every control message that decodes as base64 or
    /// base64url (MLS messages, keys), decoded.
    blobs: Vec<Vec<u8>>,
    /// Every control message the router sent.
    sent: Vec<ServerMessage>,
    /// Every media packet the router relayed.
    media: Vec<Vec<u8>>,
}

impl RouterView {
    fn of(members: &[&Member]) -> RouterView {
        let mut view = RouterView {
            raw: Vec::new(),
            blobs: Vec::new(),
            sent: Vec::new(),
            media: Vec::new(),
        };
        for m in members {
            let rec = &m.tap.rec;
            view.raw.extend_from_slice(&rec.from_router);
            view.raw.extend_from_slice(&rec.to_router);
            for payload in rec.controls.iter().chain(&rec.sent_controls) {
                let json: serde_json::Value = serde_json::from_slice(payload).expect("JSON");
                collect_blobs(&json, &mut view.blobs);
            }
            for payload in &rec.controls {
                view.sent
                    .push(ServerMessage::decode(payload).expect("control"));
            }
            view.media.extend(rec.media.iter().cloned());
        }
        view
    }
}

fn collect_blobs(value: &serde_json::Value, into: &mut Vec<Vec<u8>>) {
    match value {
        serde_json::Value::String(s) if s.len() >= 16 => {
            for engine in [&URL_SAFE_NO_PAD, &URL_SAFE, &STANDARD, &STANDARD_NO_PAD] {
                if let Ok(bytes) = engine.decode(s) {
                    into.push(bytes);
                    break;
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_blobs(v, into)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_blobs(v, into)),
        _ => {}
    }
}

/// The ways a secret could be written down.
fn encodings(secret: &[u8]) -> Vec<Vec<u8>> {
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        secret.to_vec(),
        hex.clone().into_bytes(),
        hex.to_uppercase().into_bytes(),
        STANDARD.encode(secret).into_bytes(),
        STANDARD_NO_PAD.encode(secret).into_bytes(),
        URL_SAFE.encode(secret).into_bytes(),
        URL_SAFE_NO_PAD.encode(secret).into_bytes(),
    ]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// How many secrets are found, in any encoding, in `raw` or in a blob.
fn secrets_found(secrets: &BTreeSet<Vec<u8>>, raw: &[u8], blobs: &[Vec<u8>]) -> usize {
    secrets
        .iter()
        .filter(|secret| {
            encodings(secret).iter().any(|e| contains(raw, e))
                || blobs.iter().any(|b| contains(b, secret))
        })
        .count()
}

/// How many of `secrets` (raw, hex, base64, base64url) are anywhere in the
/// writable memory of process `pid` (heap, stacks, anonymous maps): what
/// the router holds right now. Regions that cannot be read are skipped.
fn secrets_in_memory(pid: u32, secrets: &BTreeSet<Vec<u8>>) -> (usize, usize) {
    use std::collections::HashMap;
    use std::io::{Read, Seek, SeekFrom};

    // Every encoding by its first 8 bytes, and a bitmap of first 2 bytes
    // to skip most offsets cheaply.
    let mut by_prefix: HashMap<[u8; 8], Vec<(usize, Vec<u8>)>> = HashMap::new();
    let mut first_two = vec![false; 1 << 16];
    for (i, secret) in secrets.iter().enumerate() {
        for e in encodings(secret) {
            let prefix: [u8; 8] = e[..8].try_into().unwrap();
            first_two[usize::from(u16::from_be_bytes([e[0], e[1]]))] = true;
            by_prefix.entry(prefix).or_default().push((i, e));
        }
    }
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("maps");
    let mut mem = std::fs::File::open(format!("/proc/{pid}/mem")).expect("mem");
    let mut found = BTreeSet::new();
    let mut scanned = 0;
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !perms.starts_with("rw") {
            continue;
        }
        let (start, end) = range.split_once('-').unwrap();
        let start = u64::from_str_radix(start, 16).unwrap();
        let end = u64::from_str_radix(end, 16).unwrap();
        let mut region = vec![0; usize::try_from(end - start).unwrap()];
        if mem.seek(SeekFrom::Start(start)).is_err() || mem.read_exact(&mut region).is_err() {
            continue;
        }
        scanned += region.len();
        for i in 0..region.len().saturating_sub(8) {
            if !first_two[usize::from(u16::from_be_bytes([region[i], region[i + 1]]))] {
                continue;
            }
            let prefix: [u8; 8] = region[i..i + 8].try_into().unwrap();
            for (secret, e) in by_prefix.get(&prefix).into_iter().flatten() {
                if region[i..].starts_with(e) {
                    found.insert(*secret);
                }
            }
        }
    }
    (found.len(), scanned)
}

/// The KID of an SFrame frame (RFC 9605 §4.3), if its header is whole.
fn sframe_key_id(frame: &[u8]) -> Option<KeyId> {
    let config = *frame.first()?;
    let k = (config >> 4) & 0x07;
    if config & 0x80 == 0 {
        return Some(u64::from(k));
    }
    let len = usize::from(k) + 1;
    let bytes = frame.get(1..1 + len)?;
    Some(bytes.iter().fold(0, |kid, b| kid << 8 | u64::from(*b)))
}

/// What RFC 9605 §4.4.2 derives from `base_key` for `kid` with
/// AES_256_GCM_SHA512_128: `sframe_secret`, `sframe_key`, `sframe_salt`.
/// Redone here (checked against the RFC's vector below) so the scan also
/// looks for the keys the AEAD actually ran with.
fn derived_keys(base_key: &[u8], kid: KeyId) -> [Vec<u8>; 3] {
    let (secret, hkdf) = hkdf::Hkdf::<sha2::Sha512>::extract(None, base_key);
    let label = |what: &str| {
        let mut label = format!("SFrame 1.0 Secret {what} ").into_bytes();
        label.extend_from_slice(&kid.to_be_bytes());
        label.extend_from_slice(&confer_e2e::sframe::CIPHER_SUITE_ID.to_be_bytes());
        label
    };
    let mut key = vec![0; 32];
    let mut salt = vec![0; 12];
    hkdf.expand(&label("key"), &mut key)
        .expect("32 bytes fit HKDF");
    hkdf.expand(&label("salt"), &mut salt)
        .expect("12 bytes fit HKDF");
    [secret.to_vec(), key, salt]
}

/// Distinct relayed frames, how many of them open with some 32-byte
/// window of what the router held used as a base key, and how many windows
/// were tried.
fn packets_opened_by_windows(view: &RouterView) -> (usize, usize, usize) {
    // The router sends one frame to several members: copies are one frame
    // (a second copy would be refused as a replay, not for its key).
    let packets: BTreeSet<(KeyId, Vec<u8>, Vec<u8>)> = view
        .media
        .iter()
        .map(|packet| {
            let parsed = RtpPacket::parse(packet).expect("RTP");
            let kid = sframe_key_id(parsed.payload).expect("SFrame header");
            let metadata = parsed.header.ssrc.to_be_bytes().to_vec();
            (kid, metadata, parsed.payload.to_vec())
        })
        .collect();
    let packets: Vec<_> = packets.into_iter().collect();
    let kids: BTreeSet<KeyId> = packets.iter().map(|p| p.0).collect();
    let mut corpus = view.raw.clone();
    for blob in &view.blobs {
        corpus.extend_from_slice(blob);
    }
    corpus.truncate(WINDOW_SCAN_LIMIT);
    let mut opened = BTreeSet::new();
    let mut tried = 0;
    for window in corpus.windows(32) {
        tried += 1;
        for &kid in &kids {
            // One key derivation per window and KID: the costly part.
            let mut receiver = SframeReceiver::new();
            receiver.add_key(kid, window).expect("a 32-byte key");
            for (i, (_, metadata, sealed)) in packets.iter().enumerate() {
                if packets[i].0 != kid || opened.contains(&i) {
                    continue;
                }
                let mut out = Vec::new();
                if receiver.open_into(metadata, sealed, &mut out).is_ok() {
                    opened.insert(i);
                } else {
                    // Frames under one KID share a key: if one does not
                    // open under this window, none will.
                    break;
                }
            }
        }
    }
    (packets.len(), opened.len(), tried)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_e2e_meeting_relays_only_ciphertext_through_the_router() {
    // The most verbose log the server writes.
    let server = Server::start_in_with(tempfile::tempdir().unwrap(), &["--log", "trace"]);
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

    let mut ada = Member::join(&server, &api, Some(&host), meeting, "Ada").await;
    let mut bo = Member::join(&server, &api, None, meeting, "Bo").await;
    let mut cy = Member::join(&server, &api, None, meeting, "Cy").await;
    for m in [&ada, &bo, &cy] {
        assert_eq!(m.session.encryption_stats().encryption, Encryption::E2e);
    }
    pump_until(
        &mut [&mut ada, &mut bo, &mut cy],
        "three equal security codes",
        |ms| {
            let codes: Vec<_> = ms.iter().map(|m| m.code()).collect();
            codes[0].is_some()
                && codes.iter().all(|c| *c == codes[0])
                && ms[0].session.encryption_stats().key_epochs_seen == 3
        },
    )
    .await;
    let before = ada.code().unwrap();

    // Media and chat flow.
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
    bo.send_frame(1, b"Bo speaking").await;
    let at_ada = ada.recv_packet_from(bo.id).await;
    assert_eq!(open(&mut ada.session, &at_ada).unwrap(), b"Bo speaking");
    ada.session.send_chat(None, CHAT_TO_ALL).unwrap();
    ada.session.send_chat(Some(bo.id), CHAT_TO_BO).unwrap();
    ada.flush().await;
    pump_until(
        &mut [&mut ada, &mut bo, &mut cy],
        "the chat messages, and their copies back to Ada",
        |ms| {
            let got = |m: &Member, text: &str| {
                m.session
                    .chat_received()
                    .iter()
                    .any(|c| c.text == text && c.e2e)
            };
            got(ms[1], CHAT_TO_ALL)
                && got(ms[2], CHAT_TO_ALL)
                && got(ms[1], CHAT_TO_BO)
                && sealed_chats(ms[0], false) >= 1
                && sealed_chats(ms[0], true) >= 1
        },
    )
    .await;
    let private = bo
        .session
        .chat_received()
        .iter()
        .find(|c| c.text == CHAT_TO_BO)
        .unwrap();
    assert_eq!((private.from, private.to), (ada.id, Some(bo.id)));
    // The router relayed only `sealed_chat`, the private one to Bo alone
    // (and back to Ada), never a plain `chat`.
    let sealed_to = sealed_chats;
    assert_eq!(
        [
            sealed_to(&ada, false),
            sealed_to(&bo, false),
            sealed_to(&cy, false)
        ],
        [1, 1, 1]
    );
    assert_eq!(
        [
            sealed_to(&ada, true),
            sealed_to(&bo, true),
            sealed_to(&cy, true)
        ],
        [1, 1, 0]
    );
    assert!(
        !cy.session
            .chat_received()
            .iter()
            .any(|c| c.text == CHAT_TO_BO)
    );
    assert_eq!(bo.session.encryption_stats().decrypt_failures, 0);
    // A client that does not seal is refused, and nobody gets its text
    // (done now: the scans below take longer than the router waits for a
    // silent connection).
    ada.tap
        .send(&ClientMessage::Chat {
            to: None,
            text: "unsealed probe".into(),
        })
        .await;
    pump_until(&mut [&mut ada], "the refusal of plain chat", |ms| {
        ms[0]
            .session
            .router_errors()
            .iter()
            .any(|(code, message)| *code == ErrorCode::NotAllowed && message.contains("sealed"))
    })
    .await;
    assert!(
        !bo.session
            .chat_received()
            .iter()
            .any(|c| c.text == "unsealed probe")
    );

    // Cy is expelled: Ada and Bo move to a new epoch without Cy.
    ada.tap
        .send(&ClientMessage::Host(HostAction::Expel {
            participant_id: Some(cy.id),
        }))
        .await;
    pump_until(&mut [&mut ada, &mut bo], "a new epoch without Cy", |ms| {
        let now = ms[0].code();
        now.is_some() && now != Some(before.clone()) && now == ms[1].code()
    })
    .await;
    while cy.pump(Duration::from_millis(200)).await {}
    ada.send_frame(2, b"just us two").await;
    let later = bo.recv_packet_from(ada.id).await;
    assert_eq!(open(&mut bo.session, &later).unwrap(), b"just us two");
    // Cy, handed the later frame anyway, cannot open it.
    match open(&mut cy.session, &later) {
        Err(SessionError::FrameCrypto(FrameCryptoError::Sframe(_))) => {}
        other => panic!("the expelled participant opened a later frame: {other:?}"),
    }
    assert_eq!(cy.session.encryption_stats().decrypt_failures, 1);
    assert_eq!(bo.session.encryption_stats().decrypt_failures, 0);

    // What the clients held: every epoch's exporter output (base key).
    let secrets: BTreeSet<Vec<u8>> = [&ada, &bo, &cy]
        .iter()
        .flat_map(|m| m.secrets.iter().cloned())
        .collect();
    // Founding, adding Bo, adding Cy, removing Cy: four epochs with keys.
    assert_eq!(secrets.len(), 4, "one exporter output per epoch");
    assert!(secrets.iter().all(|s| s.len() == 32));

    let view = RouterView::of(&[&ada, &bo, &cy]);
    assert!(!view.blobs.is_empty(), "MLS messages crossed the router");
    // And what the AEAD ran with: each epoch's keys for every KID seen.
    let kids: BTreeSet<KeyId> = view
        .media
        .iter()
        .map(|p| sframe_key_id(RtpPacket::parse(p).expect("RTP").payload).expect("SFrame"))
        .collect();
    assert!(
        kids.len() >= 3,
        "frames of several senders and epochs: {kids:?}"
    );
    let secrets: BTreeSet<Vec<u8>> = secrets
        .iter()
        .flat_map(|base| {
            let mut all = vec![base.clone()];
            for &kid in &kids {
                all.extend(derived_keys(base, kid));
            }
            all
        })
        .collect();
    assert_eq!(secrets.len(), 4 + 4 + 4 * kids.len() * 2, "all distinct");
    assert!(
        !view
            .sent
            .iter()
            .any(|m| matches!(m, ServerMessage::MediaKey(_))),
        "the router sent a media key in an E2E meeting"
    );
    assert_eq!(
        secrets_found(&secrets, &view.raw, &view.blobs),
        0,
        "a key crossed the router"
    );
    let started = Instant::now();
    let (in_memory, scanned) = secrets_in_memory(server.pid(), &secrets);
    eprintln!(
        "router memory: {scanned} writable bytes scanned in {:?}",
        started.elapsed()
    );
    assert!(scanned > 1 << 20, "read only {scanned} bytes of the router");
    assert_eq!(in_memory, 0, "a key is in the router's memory");
    let log = server.log();
    eprintln!("server log at trace: {} bytes", log.len());
    assert!(log.contains("TRACE"), "the server did not log at trace");
    assert_eq!(
        secrets_found(&secrets, log.as_bytes(), &[]),
        0,
        "a key is in the server log"
    );

    let started = Instant::now();
    let (distinct, opened, tried) = packets_opened_by_windows(&view);
    eprintln!(
        "window scan: {} KIDs, {tried} windows of {} raw + {} blob bytes, {} packets ({distinct} distinct), {:?}",
        kids.len(),
        view.raw.len(),
        view.blobs.iter().map(Vec::len).sum::<usize>(),
        view.media.len(),
        started.elapsed()
    );
    assert_eq!(distinct, 3, "Ada's two frames and Bo's");
    assert!(tried > 1000, "the scan tried {tried} windows");
    assert_eq!(
        opened, 0,
        "a relayed packet opened with bytes the router held"
    );

    // The chat texts, scanned for like keys: not in what the router
    // relayed or was given (nor inside any MLS blob), not in its log, not
    // in its memory.
    let texts: BTreeSet<Vec<u8>> = [CHAT_TO_ALL, CHAT_TO_BO]
        .iter()
        .map(|t| t.as_bytes().to_vec())
        .collect();
    assert_eq!(
        secrets_found(&texts, &view.raw, &view.blobs),
        0,
        "chat text crossed the router in clear"
    );
    assert_eq!(
        secrets_found(&texts, server.log().as_bytes(), &[]),
        0,
        "chat text is in the server log"
    );
    let (in_memory, _) = secrets_in_memory(server.pid(), &texts);
    assert_eq!(in_memory, 0, "chat text is in the router's memory");
}

/// Chat text the E2E test looks for where only ciphertext may be.
const CHAT_TO_ALL: &str = "hello both: the quarterly numbers are 7f3a-sealed";
/// A private message of the E2E test.
const CHAT_TO_BO: &str = "just for Bo: the door code is 2468-sealed";

#[test]
fn the_key_schedule_redone_here_matches_rfc_9605() {
    // RFC 9605 Appendix C.5, AES_256_GCM_SHA512_128.
    let [secret, key, salt] = derived_keys(&hex("000102030405060708090a0b0c0d0e0f"), 0x123);
    assert_eq!(
        secret,
        hex(concat!(
            "0fc3ea6de6aac97a35f194cf9bed94d4b5230f1cb45a785c9fe5dce9c188938a",
            "b6ba005bc4c0a19181599e9d1bcf7b74aca48b60bf5e254e546d809313e083a3"
        ))
    );
    assert_eq!(
        key,
        hex("d3e27b0d4a5ae9e55df01a70e6d4d28d969b246e2936f4b7a5d9b494da6b9633")
    );
    assert_eq!(salt, hex("84991c167b8cd23c93708ec7"));
}

#[test]
fn the_scan_finds_a_key_in_every_encoding_and_inside_a_blob() {
    let key: Vec<u8> = (0u8..32).map(|b| b.wrapping_mul(37) ^ 0x5a).collect();
    let secrets = BTreeSet::from([key.clone()]);
    for encoded in encodings(&key) {
        let mut text = b"noise before ".to_vec();
        text.extend_from_slice(&encoded);
        text.extend_from_slice(b" noise after");
        assert_eq!(secrets_found(&secrets, &text, &[]), 1, "{encoded:?}");
        // One byte changed is no longer the key.
        let at = 13 + encoded.len() / 2;
        text[at] = if text[at] == b'A' { b'B' } else { b'A' };
        assert_eq!(secrets_found(&secrets, &text, &[]), 0, "{encoded:?}");
    }
    // At an offset no base64 of the whole blob lines up with.
    let blob = [b"x".as_slice(), &key, b"yz"].concat();
    assert_eq!(secrets_found(&secrets, b"", &[blob]), 1);
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The detector's own negative test: in a standard meeting the router does
/// hand out the key, and the same scans find it.
#[tokio::test(flavor = "multi_thread")]
async fn the_same_scan_finds_the_key_a_standard_meetings_router_hands_out() {
    let server = Server::start();
    let api = Api::new(&server);
    let host = api.sign_up("ada@example.com", "Ada", PASSWORD).await;
    let meeting = api.create_meeting(&host, None).await;
    let mut ada = Member::join(&server, &api, Some(&host), meeting, "Ada").await;
    let mut bo = Member::join(&server, &api, None, meeting, "Bo").await;
    pump_until(&mut [&mut ada, &mut bo], "a media key", |ms| {
        ms.iter()
            .all(|m| m.session.encryption_stats().current_epoch.is_some())
    })
    .await;
    ada.send_frame(1, b"standard").await;
    let at_bo = bo.recv_packet_from(ada.id).await;
    assert_eq!(open(&mut bo.session, &at_bo).unwrap(), b"standard");
    bo.send_frame(1, b"also standard").await;
    let at_ada = ada.recv_packet_from(bo.id).await;
    assert_eq!(open(&mut ada.session, &at_ada).unwrap(), b"also standard");

    // Chat in a standard meeting works as before: plain `chat`, shown as
    // not end-to-end, and its text (which the scan finds) crosses the
    // router. (Before the slow scans: the router drops a silent client.)
    const PLAIN: &str = "standard meeting chat, readable by the router";
    ada.session.send_chat(None, PLAIN).unwrap();
    ada.flush().await;
    pump_until(&mut [&mut ada, &mut bo], "the plain chat message", |ms| {
        ms[1]
            .session
            .chat_received()
            .iter()
            .any(|c| c.text == PLAIN && !c.e2e && c.from == ms[0].id)
    })
    .await;
    let chat_view = RouterView::of(&[&ada, &bo]);
    assert!(
        chat_view
            .sent
            .iter()
            .any(|m| matches!(m, ServerMessage::Chat { text, .. } if text == PLAIN))
    );
    assert!(
        !chat_view
            .sent
            .iter()
            .any(|m| matches!(m, ServerMessage::SealedChat { .. }))
    );
    let texts = BTreeSet::from([PLAIN.as_bytes().to_vec()]);
    assert_eq!(secrets_found(&texts, &chat_view.raw, &chat_view.blobs), 1);

    let secrets: BTreeSet<Vec<u8>> = [&ada, &bo]
        .iter()
        .flat_map(|m| m.secrets.iter().cloned())
        .collect();
    assert!(!secrets.is_empty());
    let view = RouterView::of(&[&ada, &bo]);
    assert!(
        view.sent
            .iter()
            .any(|m| matches!(m, ServerMessage::MediaKey(_)))
    );
    assert_eq!(
        secrets_found(&secrets, &view.raw, &view.blobs),
        secrets.len(),
        "the scan misses a key the router handed out"
    );
    let (in_memory, _) = secrets_in_memory(server.pid(), &secrets);
    assert!(in_memory >= 1, "the memory scan misses the router's key");
    let (distinct, opened, _) = packets_opened_by_windows(&view);
    assert_eq!(distinct, 2, "one frame from each");
    assert_eq!(opened, distinct, "the window scan misses the router's key");
}
