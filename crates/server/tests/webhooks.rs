//! Webhooks against a receiver on 127.0.0.1: URL validation, signatures
//! checked by an independent implementation (Python's `hmac`), retries, and
//! redelivery after a restart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::https_stub::{Stub, TestCa};
use common::webhook_receiver::{events, python_hmac, receiver, wait_for};
use common::{Api, within_timeout};
use confer_server::ServerConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn server_config(dir: &std::path::Path, ca: &TestCa) -> ServerConfig {
    let mut config = common::config(dir).await;
    config.outbound_ca_file = Some(ca.cert_path.clone());
    config.webhook_retry_base = Duration::from_millis(100);
    config
}

/// Signs up an admin, makes a meeting and a guest's join token for it.
async fn meeting_with_guest(api: &Api) -> (String, u64, String) {
    let (_, admin) = api
        .sign_up(json!({"email": "ada@engines.example", "display_name": "Ada Lovelace"}))
        .await;
    let (_, meeting) = api
        .post(
            "/api/v1/meetings",
            Some(&admin),
            json!({"topic": "Standup"}),
        )
        .await;
    let id = meeting["meeting_id"].as_u64().unwrap();
    let (_, grant) = api
        .post(
            &format!("/api/v1/meetings/{id}/join-token"),
            None,
            json!({"display_name": "Gus"}),
        )
        .await;
    (admin, id, grant["token"].as_str().unwrap().to_owned())
}

/// Joins meeting `id` with `token` over the router's TLS port, as a client
/// would, and reads until admitted; dropping the stream disconnects. The
/// router reports the join and the leave, which become webhooks.
async fn join_over_tls(
    server: &confer_server::RunningServer,
    id: u64,
    token: &str,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use confer_wire::control::{ClientMessage, ServerMessage};
    use confer_wire::frame::{FrameKind, frame_bytes};
    use rustls_pki_types::pem::PemObject;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let ca_pem = std::fs::read(server.ca_path()).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls_pki_types::CertificateDer::from_pem_slice(&ca_pem).unwrap())
        .unwrap();
    let mut tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        confer_router::tls::crypto_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tls.alpn_protocols = vec![confer_wire::ALPN.to_vec()];
    let tcp = tokio::net::TcpStream::connect(server.tls_addr())
        .await
        .unwrap();
    let name = rustls_pki_types::ServerName::from(server.tls_addr().ip());
    let mut stream = tokio_rustls::TlsConnector::from(std::sync::Arc::new(tls))
        .connect(name, tcp)
        .await
        .unwrap();
    let join = ClientMessage::Join {
        version: confer_wire::PROTOCOL_VERSION,
        meeting_id: confer_wire::ids::MeetingId(id),
        token: token.to_owned(),
    };
    stream
        .write_all(&frame_bytes(FrameKind::Control, &join.encode()).unwrap())
        .await
        .unwrap();
    loop {
        let mut header = [0u8; 5];
        stream.read_exact(&mut header).await.unwrap();
        let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        let mut payload = vec![0u8; len];
        stream.read_exact(&mut payload).await.unwrap();
        if header[0] != FrameKind::Control as u8 {
            continue;
        }
        match ServerMessage::decode(&payload).unwrap() {
            ServerMessage::Joined { .. } => return stream,
            ServerMessage::Error { fatal: true, .. } => panic!("join refused"),
            _ => {}
        }
    }
}

const SECRET: &str = "0123456789abcdef0123456789abcdef-shared";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_signed_and_the_signature_verifies_independently() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new(dir.path());
        let stub = Stub::start(&ca, 0).await;
        receiver(&stub, SECRET, 200);
        let server = confer_server::start(server_config(dir.path(), &ca).await)
            .await
            .unwrap();
        let api = Api::new(&server);
        let (admin, id, guest_token) = meeting_with_guest(&api).await;

        // Plain http and unknown events are refused.
        for bad in [
            json!({"url": format!("http://{}/hook", stub.addr), "events": ["meeting.started"]}),
            json!({"url": stub.url("/hook"), "events": ["meeting.exploded"]}),
            json!({"url": stub.url("/hook"), "events": ["meeting.started"], "secret": "short"}),
        ] {
            let (status, body) = api.post("/api/v1/org/webhooks", Some(&admin), bad).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        }

        // A generated secret: the receiver cannot answer the challenge yet.
        let (status, hook) = api
            .post(
                "/api/v1/org/webhooks",
                Some(&admin),
                json!({"url": stub.url("/late"), "events": ["meeting.ended"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{hook}");
        assert_eq!(hook["validated"], false);
        assert!(hook["validation_error"].is_string());
        let generated = hook["secret"].as_str().unwrap().to_owned();
        receiver(&stub, &generated, 200);
        let (status, again) = api
            .post(
                &format!(
                    "/api/v1/org/webhooks/{}/validate",
                    hook["webhook_id"].as_str().unwrap()
                ),
                Some(&admin),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["validated"], true);

        // A chosen secret: validated at registration.
        receiver(&stub, SECRET, 200);
        let (status, hook) = api
            .post(
                "/api/v1/org/webhooks",
                Some(&admin),
                json!({"url": stub.url("/hook"), "secret": SECRET,
                       "events": ["meeting.participant_joined", "meeting.participant_left"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{hook}");
        assert_eq!(hook["validated"], true, "{hook}");
        let (_, list) = api.get("/api/v1/org/webhooks", Some(&admin)).await;
        assert!(!list.to_string().contains(SECRET) && !list.to_string().contains(&generated));

        // A participant joins: the router reports it, the receiver hears it.
        let _gus = join_over_tls(&server, id, &guest_token).await;
        wait_for("the joined event", || !events(&stub).is_empty()).await;
        let delivered = events(&stub).remove(0);
        let body: Value = serde_json::from_slice(&delivered.body).unwrap();
        assert_eq!(body["event"], "meeting.participant_joined");
        assert_eq!(body["payload"]["object"]["id"], id);
        assert_eq!(body["payload"]["object"]["participant"]["user_name"], "Gus");
        assert!(delivered.head.starts_with("POST /hook "));

        let timestamp = delivered.header("x-confer-request-timestamp").unwrap();
        let signature = delivered.header("x-confer-signature").unwrap();
        let mut message = format!("v0:{timestamp}:").into_bytes();
        message.extend_from_slice(&delivered.body);
        assert_eq!(signature, format!("v0={}", python_hmac(SECRET, &message)));
        let age = (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs())
        .abs_diff(timestamp.parse().unwrap());
        assert!(age < 60);

        // Attendance reported by a client queues no webhook (the router
        // already reported the join: a second one would duplicate it), and
        // a meeting's start or end can no longer be reported at all.
        let deliveries = format!(
            "/api/v1/org/webhooks/{}/deliveries",
            hook["webhook_id"].as_str().unwrap()
        );
        let (_, before) = api.get(&deliveries, Some(&admin)).await;
        let (status, body) = api
            .post(
                &format!("/api/v1/meetings/{id}/events"),
                None,
                json!({"token": guest_token, "event": "joined"}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (_, after) = api.get(&deliveries, Some(&admin)).await;
        assert_eq!(before["deliveries"], after["deliveries"]);
        let (status, _) = api
            .post(
                &format!("/api/v1/meetings/{id}/events"),
                None,
                json!({"token": guest_token, "event": "ended"}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_deliveries_are_retried_and_survive_a_restart() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new(dir.path());
        let stub = Stub::start(&ca, 0).await;
        receiver(&stub, SECRET, 503);
        let config = server_config(dir.path(), &ca).await;
        let server = confer_server::start(config.clone()).await.unwrap();
        let api = Api::new(&server);
        let (admin, id, guest_token) = meeting_with_guest(&api).await;
        let (_, hook) = api
            .post(
                "/api/v1/org/webhooks",
                Some(&admin),
                json!({"url": stub.url("/hook"), "secret": SECRET, "events": ["meeting.participant_left"]}),
            )
            .await;
        assert_eq!(hook["validated"], true, "{hook}");
        let hook_id = hook["webhook_id"].as_str().unwrap().to_owned();
        // A participant joins and goes: the router reports the leave.
        drop(join_over_tls(&server, id, &guest_token).await);
        // Refused twice: retried with backoff (100 ms, then 200 ms).
        wait_for("two attempts", || events(&stub).len() >= 2).await;
        let port = server.api_url().rsplit(':').next().unwrap().parse().unwrap();
        server.shutdown().await;
        let attempts_before = events(&stub).len();

        // The receiver recovers while we are down; after the restart the
        // queue in the database delivers the same event.
        receiver(&stub, SECRET, 200);
        let mut again = config;
        again.http_port = port;
        let server = confer_server::start(again).await.unwrap();
        let api = Api::new(&server);
        wait_for("the redelivery", || events(&stub).len() > attempts_before).await;
        let all = events(&stub);
        let ids: Vec<String> = all
            .iter()
            .map(|r| r.header("x-confer-delivery-id").unwrap())
            .collect();
        assert!(ids.iter().all(|i| *i == ids[0]), "one delivery, retried: {ids:?}");
        let bodies: Vec<&[u8]> = all.iter().map(|r| r.body.as_slice()).collect();
        assert!(bodies.iter().all(|b| *b == bodies[0]), "the same body every time");

        let admin = api.login("ada@engines.example", common::PASSWORD).await;
        let mut record = Value::Null;
        for _ in 0..100 {
            let (_, list) = api
                .get(&format!("/api/v1/org/webhooks/{hook_id}/deliveries"), Some(&admin))
                .await;
            record = list["deliveries"][0].clone();
            if record["status"] == "delivered" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(record["status"], "delivered", "{record}");
        assert!(record["attempts"].as_i64().unwrap() >= 3, "{record}");
        server.shutdown().await;
    })
    .await;
}
