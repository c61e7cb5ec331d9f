//! What the driver tests (and the end-to-end benchmark) share: a signing key
//! and its JWKS, a self-signed certificate, a running router, and a small
//! client speaking the protocol over QUIC or TLS.

// Each test binary uses a different part of this module, and the
// end-to-end benchmark includes it too, outside any `#[test]`: a failure here
// is a broken test setup, which should stop the test loudly.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::{Bytes, BytesMut};
use confer_router::{JoinTokenVerifier, RouterConfig, RouterHandle};
use confer_wire::control::{ClientMessage, ErrorCode, ServerMessage};
use confer_wire::frame::{FrameKind, decode_frame, frame_bytes};
use confer_wire::ids::{MeetingId, ParticipantId, Role};
use confer_wire::token::{JOIN_TOKEN_AUDIENCE, JoinClaims};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The issuer the test router trusts.
pub(crate) const ISSUER: &str = "https://confer.test";

/// Upper bound on any single wait in a test, so nothing can hang.
pub(crate) const STEP: Duration = Duration::from_secs(10);

/// A P-256 signing key as the web service would hold it, with its JWKS.
pub(crate) struct Signer {
    kid: String,
    key: EncodingKey,
    /// The public half, as `/.well-known/jwks.json` serves it.
    pub(crate) jwks: String,
}

impl Signer {
    pub(crate) fn new(kid: &str) -> Self {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let key = EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap();
        let raw = pair.public_key_raw();
        let (x, y) = (
            URL_SAFE_NO_PAD.encode(&raw[1..33]),
            URL_SAFE_NO_PAD.encode(&raw[33..65]),
        );
        let jwks = serde_json::json!({"keys": [
            {"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "alg": "ES256", "use": "sig"},
        ]})
        .to_string();
        Self {
            kid: kid.into(),
            key,
            jwks,
        }
    }

    pub(crate) fn sign(&self, claims: &JoinClaims) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }

    /// A fresh token (new session id) for `meeting`, valid for ten minutes.
    pub(crate) fn token(&self, meeting: MeetingId, name: &str) -> String {
        self.sign(&claims(meeting, name, unix_now()))
    }
}

/// Claims for `name` in `meeting`, issued at `iat`, with a fresh session id.
pub(crate) fn claims(meeting: MeetingId, name: &str, iat: u64) -> JoinClaims {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    JoinClaims {
        iss: ISSUER.into(),
        aud: JOIN_TOKEN_AUDIENCE.into(),
        sub: format!("user-{name}"),
        exp: iat + 600,
        iat,
        jti: format!("jti-{n}"),
        mid: meeting,
        sid: format!("sid-{n}-{}", std::process::id()),
        role: Role::Participant,
        name: name.into(),
        guest: false,
        policy: Default::default(),
    }
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A router on loopback, the key its tokens are signed with, and what a
/// client needs to trust it.
pub(crate) struct TestRouter {
    pub(crate) handle: RouterHandle,
    pub(crate) signer: Signer,
    pub(crate) cert: CertificateDer<'static>,
}

impl TestRouter {
    pub(crate) async fn start() -> Self {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let cert = certified.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let signer = Signer::new("test-key");
        let mut token_verifier = JoinTokenVerifier::new(ISSUER);
        token_verifier.add_jwks(&signer.jwks).unwrap();
        let handle = confer_router::start(RouterConfig {
            quic_listen: "127.0.0.1:0".parse().unwrap(),
            tls_listen: "127.0.0.1:0".parse().unwrap(),
            cert_chain: vec![cert.clone()],
            private_key: key,
            token_verifier,
            events: None,
        })
        .await
        .unwrap();
        Self {
            handle,
            signer,
            cert,
        }
    }

    pub(crate) async fn connect(&self, transport: Transport) -> Client {
        match transport {
            Transport::Quic => Client::quic(self.handle.quic_addr(), &self.cert).await,
            Transport::Tls => Client::tls(self.handle.tls_addr(), &self.cert).await,
        }
    }

    /// Connects and joins `meeting`; returns the client and its id.
    pub(crate) async fn join(
        &self,
        transport: Transport,
        meeting: MeetingId,
        name: &str,
    ) -> (Client, ParticipantId) {
        let mut client = self.connect(transport).await;
        let token = self.signer.token(meeting, name);
        match client.join(meeting, &token).await {
            ServerMessage::Joined { participant_id, .. } => (client, participant_id),
            other => panic!("join refused: {other:?}"),
        }
    }

    /// Proves the router still serves: a fresh client joins a fresh meeting
    /// and gets a pong.
    pub(crate) async fn assert_serving(&self, transport: Transport) {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1_000_000);
        let meeting = MeetingId(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let (mut client, _) = self.join(transport, meeting, "Probe").await;
        client.send(&ClientMessage::Ping { nonce: 7 }).await;
        assert_eq!(
            client.next_control().await,
            Some(ServerMessage::Pong { nonce: 7 })
        );
    }
}

/// Which transport a test client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    /// QUIC: control stream plus datagrams.
    Quic,
    /// TLS 1.3 over TCP: frames only.
    Tls,
}

/// What a client read from the router.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Received {
    Control(ServerMessage),
    Media(Bytes),
    Closed,
}

/// A protocol client, enough for tests.
pub(crate) struct Client {
    send: Option<Box<dyn AsyncWrite + Unpin + Send>>,
    recv: Option<Box<dyn AsyncRead + Unpin + Send>>,
    /// The QUIC connection (media datagrams; the control stream opens lazily).
    pub(crate) quic: Option<quinn::Connection>,
    /// Keeps the client endpoint alive.
    endpoint: Option<quinn::Endpoint>,
    buf: BytesMut,
}

pub(crate) fn client_tls(cert: &CertificateDer<'static>) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![confer_wire::ALPN.to_vec()];
    config
}

impl Client {
    pub(crate) async fn quic(addr: SocketAddr, cert: &CertificateDer<'static>) -> Self {
        let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(client_tls(cert)).unwrap();
        let mut config = quinn::ClientConfig::new(Arc::new(crypto));
        let mut transport = quinn::TransportConfig::default();
        transport.datagram_receive_buffer_size(Some(4 * 1024 * 1024));
        config.transport_config(Arc::new(transport));
        let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
        endpoint.set_default_client_config(config);
        let connection = tokio::time::timeout(STEP, endpoint.connect(addr, "localhost").unwrap())
            .await
            .unwrap()
            .unwrap();
        Self {
            send: None,
            recv: None,
            quic: Some(connection),
            endpoint: Some(endpoint),
            buf: BytesMut::new(),
        }
    }

    pub(crate) async fn tls(addr: SocketAddr, cert: &CertificateDer<'static>) -> Self {
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client_tls(cert)));
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.set_nodelay(true).unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let stream = tokio::time::timeout(STEP, connector.connect(name, tcp))
            .await
            .unwrap()
            .unwrap();
        let (recv, send) = tokio::io::split(stream);
        Self {
            send: Some(Box::new(send)),
            recv: Some(Box::new(recv)),
            quic: None,
            endpoint: None,
            buf: BytesMut::new(),
        }
    }

    /// Opens the QUIC control stream on first use.
    async fn ensure_stream(&mut self) {
        if self.send.is_none()
            && let Some(quic) = &self.quic
        {
            let (send, recv) = quic.open_bi().await.unwrap();
            self.send = Some(Box::new(send));
            self.recv = Some(Box::new(recv));
        }
    }

    /// Writes raw bytes on the control stream.
    pub(crate) async fn send_raw(&mut self, bytes: &[u8]) {
        self.ensure_stream().await;
        let send = self.send.as_mut().unwrap();
        // The router may already have closed; tests look at what comes back.
        let _ = send.write_all(bytes).await;
        let _ = send.flush().await;
    }

    pub(crate) async fn send(&mut self, message: &ClientMessage) {
        let frame = frame_bytes(FrameKind::Control, &message.encode()).unwrap();
        self.send_raw(&frame).await;
    }

    /// Sends a media packet: a datagram on QUIC, a media frame on TLS.
    pub(crate) async fn send_media(&mut self, packet: &[u8]) {
        match &self.quic {
            Some(quic) => quic.send_datagram(Bytes::copy_from_slice(packet)).unwrap(),
            None => {
                self.send_raw(&frame_bytes(FrameKind::Media, packet).unwrap())
                    .await
            }
        }
    }

    /// Sends `join` and returns the router's answer.
    pub(crate) async fn join(&mut self, meeting: MeetingId, token: &str) -> ServerMessage {
        self.send(&ClientMessage::Join {
            version: confer_wire::PROTOCOL_VERSION,
            meeting_id: meeting,
            token: token.into(),
        })
        .await;
        self.next_control().await.expect("an answer to join")
    }

    /// The next thing on the control stream (media frames included).
    pub(crate) async fn next(&mut self) -> Received {
        tokio::time::timeout(STEP, self.next_inner())
            .await
            .expect("router answered in time")
    }

    async fn next_inner(&mut self) -> Received {
        self.ensure_stream().await;
        loop {
            match decode_frame(&mut self.buf) {
                Ok(Some(frame)) => {
                    return match frame.kind {
                        FrameKind::Control => {
                            Received::Control(ServerMessage::decode(&frame.payload).unwrap())
                        }
                        FrameKind::Media => Received::Media(frame.payload),
                    };
                }
                Ok(None) => {}
                Err(e) => panic!("router sent bad framing: {e}"),
            }
            let recv = self.recv.as_mut().unwrap();
            match recv.read_buf(&mut self.buf).await {
                Ok(0) | Err(_) => return Received::Closed,
                Ok(_) => {}
            }
        }
    }

    /// The next control message, skipping media; `None` once closed.
    pub(crate) async fn next_control(&mut self) -> Option<ServerMessage> {
        loop {
            match self.next().await {
                // Media keys follow every admission and departure; these
                // tests are about the transport, and the core's own tests
                // check the keys.
                Received::Control(ServerMessage::MediaKey { .. }) => {}
                Received::Control(m) => return Some(m),
                Received::Media(_) => {}
                Received::Closed => return None,
            }
        }
    }

    /// The next media packet: a datagram on QUIC, a media frame on TLS.
    pub(crate) async fn next_media(&mut self) -> Bytes {
        match &self.quic {
            Some(quic) => tokio::time::timeout(STEP, quic.read_datagram())
                .await
                .unwrap()
                .unwrap(),
            None => loop {
                match self.next().await {
                    Received::Media(p) => return p,
                    Received::Control(_) => {}
                    Received::Closed => panic!("closed while waiting for media"),
                }
            },
        }
    }

    /// Asserts that the router sends a fatal error with `code` and then closes.
    pub(crate) async fn expect_fatal(&mut self, code: ErrorCode) {
        match self.next_control().await {
            Some(ServerMessage::Error {
                code: c,
                fatal: true,
                ..
            }) if c == code => {}
            other => panic!("expected fatal {code:?}, got {other:?}"),
        }
        self.expect_closed().await;
    }

    /// Asserts that the router closes the connection.
    pub(crate) async fn expect_closed(&mut self) {
        assert_eq!(self.next_control().await, None);
        if let Some(quic) = &self.quic {
            tokio::time::timeout(STEP, quic.closed())
                .await
                .expect("QUIC connection closed in time");
        }
    }
}
