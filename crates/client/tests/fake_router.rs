//! The driver against a small fake router on loopback, over QUIC and TLS:
//! joining, chat, keep-alive, media both ways, leaving, refusal, fallback
//! from QUIC to TLS, and malformed input from the router.
//!
//! The fake router is written here, not taken from `confer-router`, so the
//! client's transport code is tested on its own and can misbehave on demand.

// Test helpers outside #[test] functions may panic too: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use confer_client::api::RouterAddresses;
use confer_client::driver::{self, Command, ConnectOptions, Transport, TransportKind};
use confer_client::session::{EndReason, Event, Session, SessionConfig};
use confer_wire::control::{ClientMessage, ErrorCode, RosterEntry, ServerMessage};
use confer_wire::frame::{FrameKind, decode_frame, frame_bytes};
use confer_wire::ids::{MeetingId, ParticipantId, Role, ssrc_for};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

const MEETING: MeetingId = MeetingId(77);
const ME: ParticipantId = ParticipantId(2);
const ADA: ParticipantId = ParticipantId(1);
const TEST_TIMEOUT: Duration = Duration::from_secs(20);

/// How the fake router behaves after the client's `join`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// Admit, echo chat (plus a reply from Ada), answer pings, reflect media
    /// as if Ada sent it, close on `leave`.
    Normal,
    /// Refuse the join with a fatal `invalid_token`.
    Refuse,
    /// Admit, then send a frame with an unknown kind.
    BadFrame,
}

struct Pki {
    ca_pem: Vec<u8>,
    server: rustls::ServerConfig,
}

fn pki() -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let mut server = rustls::ServerConfig::builder_with_provider(confer_client::tls::provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(leaf.der().to_vec())], key)
        .unwrap();
    server.alpn_protocols = vec![confer_wire::ALPN.to_vec()];
    Pki {
        ca_pem: ca_cert.pem().into_bytes(),
        server,
    }
}

fn joined() -> ServerMessage {
    let entry = |id, name: &str, role| RosterEntry {
        participant_id: id,
        name: name.into(),
        role,
        guest: false,
        ..RosterEntry::default()
    };
    ServerMessage::Joined {
        version: 1,
        participant_id: ME,
        meeting_id: MEETING,
        role: Role::Participant,
        roster: vec![
            entry(ADA, "Ada", Role::Host),
            entry(ME, "Bo", Role::Participant),
        ],
        keepalive_interval_ms: 200,
        silence_timeout_ms: 2000,
        settings: Default::default(),
    }
}

fn control(msg: &ServerMessage) -> Bytes {
    frame_bytes(FrameKind::Control, &msg.encode()).unwrap()
}

/// Rewrites an RTP packet's SSRC to Ada's, as if she had sent it.
fn as_from_ada(packet: &[u8]) -> Bytes {
    let mut p = packet.to_vec();
    if p.len() >= 12 {
        p[8..12].copy_from_slice(&ssrc_for(ADA, 0).to_be_bytes());
    }
    Bytes::from(p)
}

/// The router's side of one connection's control stream. Media frames
/// arriving on the stream are reflected on it; `datagrams` handles the rest.
async fn serve<R, W>(mut reader: R, mut writer: W, behaviour: Behaviour)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = BytesMut::new();
    let mut chat_id = 0;
    loop {
        let frame = loop {
            match decode_frame(&mut buf) {
                Ok(Some(f)) => break f,
                Ok(None) => {}
                Err(_) => return,
            }
            match reader.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        };
        if frame.kind == FrameKind::Media {
            let out = frame_bytes(FrameKind::Media, &as_from_ada(&frame.payload)).unwrap();
            let _ = writer.write_all(&out).await;
            continue;
        }
        let Ok(msg) = ClientMessage::decode(&frame.payload) else {
            return;
        };
        let replies: Vec<Bytes> = match msg {
            ClientMessage::Join {
                meeting_id, token, ..
            } => {
                assert_eq!(meeting_id, MEETING);
                assert_eq!(token, "join-token");
                match behaviour {
                    Behaviour::Refuse => vec![control(&ServerMessage::Error {
                        code: ErrorCode::InvalidToken,
                        message: "bad signature".into(),
                        fatal: true,
                    })],
                    Behaviour::BadFrame => {
                        vec![control(&joined()), Bytes::from_static(&[9, 0, 0, 0, 0])]
                    }
                    Behaviour::Normal => vec![control(&joined())],
                }
            }
            ClientMessage::Chat { text, .. } => {
                chat_id += 2;
                vec![
                    control(&ServerMessage::Chat {
                        id: chat_id - 1,
                        from: ME,
                        to: None,
                        text: text.clone(),
                    }),
                    control(&ServerMessage::Chat {
                        id: chat_id,
                        from: ADA,
                        to: None,
                        text: format!("re: {text}"),
                    }),
                ]
            }
            ClientMessage::Ping { nonce } => vec![control(&ServerMessage::Pong { nonce })],
            ClientMessage::Leave => {
                let _ = writer.shutdown().await;
                return;
            }
            _ => vec![],
        };
        for reply in replies {
            if writer.write_all(&reply).await.is_err() {
                return;
            }
        }
        if behaviour == Behaviour::Refuse {
            let _ = writer.shutdown().await;
            return;
        }
    }
}

async fn tls_router(pki: &Pki, behaviour: Behaviour) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(pki.server.clone()));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    let (r, w) = tokio::io::split(tls);
                    serve(r, w, behaviour).await;
                }
            });
        }
    });
    addr
}

async fn quic_router(pki: &Pki, behaviour: Behaviour) -> SocketAddr {
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(pki.server.clone()).unwrap();
    let config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    let endpoint = quinn::Endpoint::server(config, "127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = endpoint.local_addr().unwrap();
    tokio::spawn(async move {
        while let Some(incoming) = endpoint.accept().await {
            tokio::spawn(async move {
                let Ok(conn) = incoming.await else { return };
                let reflect = conn.clone();
                tokio::spawn(async move {
                    while let Ok(d) = reflect.read_datagram().await {
                        let _ = reflect.send_datagram(as_from_ada(&d));
                    }
                });
                if let Ok((send, recv)) = conn.accept_bi().await {
                    serve(recv, send, behaviour).await;
                    // Give the client time to read what was sent, then close.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    conn.close(0u32.into(), b"bye");
                }
            });
        }
    });
    addr
}

fn addresses(quic: Option<SocketAddr>, tls: Option<SocketAddr>) -> RouterAddresses {
    RouterAddresses {
        quic: quic.map(|a| a.to_string()),
        tls: tls.map(|a| a.to_string()),
        server_name: "localhost".into(),
    }
}

/// Connects, chats once joined, stays `stay`, leaves; returns the transport,
/// the events and the finished session.
async fn meet(
    router: RouterAddresses,
    options: ConnectOptions,
    stay: Duration,
) -> (TransportKind, Vec<Event>, Session) {
    let connection = driver::connect(&router, &options).await.unwrap();
    let kind = connection.transport();
    let mut config = SessionConfig::new(MEETING, "join-token");
    config.synthetic_media = true;
    let session = Session::new(config, std::time::Instant::now());
    let (commands, command_rx) = mpsc::channel(8);
    let (event_tx, mut event_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(driver::run(connection, session, command_rx, event_tx));
    let mut events = Vec::new();
    let mut leave_at = None;
    loop {
        let sleep = async {
            match leave_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            event = event_rx.recv() => {
                let Some(event) = event else { break };
                if matches!(event, Event::Joined { .. }) {
                    commands.send(Command::Chat { to: None, text: "hello".into() }).await.unwrap();
                    leave_at = Some(tokio::time::Instant::now() + stay);
                }
                events.push(event);
            }
            () = sleep => {
                leave_at = None;
                let _ = commands.send(Command::Leave).await;
            }
        }
    }
    (kind, events, task.await.unwrap())
}

fn assert_full_meeting(events: &[Event], session: &Session) {
    assert_eq!(session.end_reason(), Some(&EndReason::Left), "{events:?}");
    assert_eq!(session.participant_id(), Some(ME));
    assert_eq!(session.chat_received().len(), 1);
    assert_eq!(session.chat_received()[0].from, ADA);
    assert_eq!(session.chat_received()[0].text, "re: hello");
    let sent = session.media().sent_packets;
    assert!(sent >= 20, "sent {sent}");
    let from_ada = &session.media().received[&ADA];
    assert!(
        from_ada.packets >= sent / 2,
        "received {} of {sent}",
        from_ada.packets
    );
    assert_eq!(from_ada.synthetic_corrupt, 0);
    assert!(session.rtt().is_some(), "no pong measured");
}

#[tokio::test]
async fn meets_over_quic() {
    let pki = pki();
    let quic = quic_router(&pki, Behaviour::Normal).await;
    let mut options = ConnectOptions::new(pki.ca_pem.clone());
    options.transport = Transport::Quic;
    let (kind, events, session) = tokio::time::timeout(
        TEST_TIMEOUT,
        meet(
            addresses(Some(quic), None),
            options,
            Duration::from_millis(700),
        ),
    )
    .await
    .unwrap();
    assert_eq!(kind, TransportKind::Quic);
    assert_full_meeting(&events, &session);
}

#[tokio::test]
async fn meets_over_tls() {
    let pki = pki();
    let tls = tls_router(&pki, Behaviour::Normal).await;
    let mut options = ConnectOptions::new(pki.ca_pem.clone());
    options.transport = Transport::Tls;
    let (kind, events, session) = tokio::time::timeout(
        TEST_TIMEOUT,
        meet(
            addresses(None, Some(tls)),
            options,
            Duration::from_millis(700),
        ),
    )
    .await
    .unwrap();
    assert_eq!(kind, TransportKind::Tls);
    assert_full_meeting(&events, &session);
}

#[tokio::test]
async fn falls_back_to_tls_when_quic_does_not_answer() {
    let pki = pki();
    let tls = tls_router(&pki, Behaviour::Normal).await;
    // A UDP socket that never answers stands in for a network dropping QUIC.
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut options = ConnectOptions::new(pki.ca_pem.clone());
    options.quic_timeout = Duration::from_millis(300);
    let router = addresses(Some(silent.local_addr().unwrap()), Some(tls));
    let (kind, _, session) = tokio::time::timeout(
        TEST_TIMEOUT,
        meet(router, options, Duration::from_millis(100)),
    )
    .await
    .unwrap();
    assert_eq!(kind, TransportKind::Tls);
    assert_eq!(session.end_reason(), Some(&EndReason::Left));
}

#[tokio::test]
async fn reports_every_failed_attempt() {
    let pki = pki();
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    // A TCP port that refuses connections: bind, note the port, close.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let mut options = ConnectOptions::new(pki.ca_pem.clone());
    options.quic_timeout = Duration::from_millis(300);
    let router = addresses(Some(silent.local_addr().unwrap()), Some(closed));
    let err = tokio::time::timeout(TEST_TIMEOUT, driver::connect(&router, &options))
        .await
        .unwrap()
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("quic") && text.contains("tls"), "{text}");
}

#[tokio::test]
async fn rejects_a_router_certificate_from_another_ca() {
    let router_pki = pki();
    let other_ca = pki().ca_pem;
    let tls = tls_router(&router_pki, Behaviour::Normal).await;
    let mut options = ConnectOptions::new(other_ca);
    options.transport = Transport::Tls;
    let err = driver::connect(&addresses(None, Some(tls)), &options)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("certificate"), "{err}");
}

async fn one_session(router: RouterAddresses, transport: Transport, ca_pem: Vec<u8>) -> Session {
    let mut options = ConnectOptions::new(ca_pem);
    options.transport = transport;
    let connection = driver::connect(&router, &options).await.unwrap();
    let session = Session::new(
        SessionConfig::new(MEETING, "join-token"),
        std::time::Instant::now(),
    );
    let (_commands, command_rx) = mpsc::channel(8);
    let (event_tx, _events) = mpsc::unbounded_channel();
    tokio::time::timeout(
        TEST_TIMEOUT,
        driver::run(connection, session, command_rx, event_tx),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_refusal_is_reported_as_refused_on_both_transports() {
    let pki = pki();
    let tls = tls_router(&pki, Behaviour::Refuse).await;
    let quic = quic_router(&pki, Behaviour::Refuse).await;
    for (transport, router) in [
        (Transport::Tls, addresses(None, Some(tls))),
        (Transport::Quic, addresses(Some(quic), None)),
    ] {
        let session = one_session(router, transport, pki.ca_pem.clone()).await;
        assert_eq!(
            session.end_reason(),
            Some(&EndReason::Refused {
                code: ErrorCode::InvalidToken,
                message: "bad signature".into()
            }),
            "{transport:?}"
        );
    }
}

#[tokio::test]
async fn a_malformed_frame_ends_the_session_with_a_clear_error() {
    let pki = pki();
    let tls = tls_router(&pki, Behaviour::BadFrame).await;
    let session = one_session(
        addresses(None, Some(tls)),
        Transport::Tls,
        pki.ca_pem.clone(),
    )
    .await;
    let reason = session.end_reason().unwrap();
    assert_eq!(reason.as_str(), "error");
    let text = reason.error_text().unwrap();
    assert!(
        text.contains("malformed frame") && text.contains("0x09"),
        "{text}"
    );
}
