//! The router started beside the API admits the join tokens the API signs:
//! a client connects over TLS to the `router.tls` address it was given,
//! verifies the certificate against the same CA with `router.server_name`,
//! and joins with its token.

// Test helpers outside #[test] functions fail loudly too; clippy.toml's
// allow-*-in-tests covers only the test functions themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

mod common;
use confer_wire::control::{ClientMessage, ServerMessage};
use confer_wire::frame::{FrameKind, frame_bytes};
use confer_wire::ids::{MeetingId, Role};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn post(http: &reqwest::Client, url: String, bearer: Option<&str>, body: Value) -> Value {
    let mut request = http.post(url).json(&body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap()
}

/// Reads one control frame and decodes it.
async fn read_message<S: AsyncReadExt + Unpin>(stream: &mut S) -> ServerMessage {
    let mut header = [0u8; 5];
    stream.read_exact(&mut header).await.unwrap();
    assert_eq!(header[0], FrameKind::Control as u8);
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).await.unwrap();
    ServerMessage::decode(&payload).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_admits_a_token_from_the_api() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let dir = tempfile::tempdir().unwrap();
        let config = common::config(dir.path()).await;
        let server = confer_server::start(config).await.unwrap();
        let ca_pem = std::fs::read(server.ca_path()).unwrap();
        let http = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca_pem).unwrap()])
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let api = server.api_url();

        let creds =
            json!({"email": "ada@example.org", "display_name": "Ada", "password": "correct horse"});
        post(&http, format!("{api}/api/v1/accounts"), None, creds.clone()).await;
        let login = post(&http, format!("{api}/api/v1/login"), None, creds).await;
        let token = login["access_token"].as_str().unwrap();
        let meeting = post(
            &http,
            format!("{api}/api/v1/meetings"),
            Some(token),
            json!({}),
        )
        .await;
        let id = meeting["meeting_id"].as_u64().unwrap();
        let grant = post(
            &http,
            format!("{api}/api/v1/meetings/{id}/join-token"),
            Some(token),
            json!({}),
        )
        .await;

        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(&ca_pem).unwrap())
            .unwrap();
        let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            confer_router::tls::crypto_provider(),
        ))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        tls.alpn_protocols = vec![confer_wire::ALPN.to_vec()];
        let server_name =
            ServerName::try_from(grant["router"]["server_name"].as_str().unwrap().to_owned())
                .unwrap();
        let tcp = tokio::net::TcpStream::connect(grant["router"]["tls"].as_str().unwrap())
            .await
            .unwrap();
        let mut stream = tokio_rustls::TlsConnector::from(Arc::new(tls))
            .connect(server_name, tcp)
            .await
            .unwrap();

        let join = ClientMessage::Join {
            version: confer_wire::PROTOCOL_VERSION,
            meeting_id: MeetingId(id),
            token: grant["token"].as_str().unwrap().to_owned(),
        };
        stream
            .write_all(&frame_bytes(FrameKind::Control, &join.encode()).unwrap())
            .await
            .unwrap();
        match read_message(&mut stream).await {
            ServerMessage::Joined {
                role,
                meeting_id,
                roster,
                ..
            } => {
                assert_eq!(role, Role::Host);
                assert_eq!(meeting_id, MeetingId(id));
                assert_eq!(roster.len(), 1);
            }
            other => panic!("expected joined, got {other:?}"),
        }
        drop(stream);
        server.shutdown().await;
    })
    .await
    .expect("test timed out");
}
