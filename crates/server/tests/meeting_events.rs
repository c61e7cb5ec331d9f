//! What happens in a meeting reaches the web service: a join, an expulsion
//! by the host and a leave, all over the real router on a raw TLS
//! connection, show up in the organisation's audit trail (with the
//! meeting's start and end) and as webhooks, and the expulsion bars new
//! join tokens.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::https_stub::{Stub, TestCa};
use common::webhook_receiver::{events, receiver, wait_for};
use common::{Api, within_timeout};
use confer_wire::control::{ClientMessage, ServerMessage};
use confer_wire::frame::{FrameKind, frame_bytes};
use confer_wire::host::HostAction;
use confer_wire::ids::{MeetingId, ParticipantId};
use reqwest::StatusCode;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::client::TlsStream;

const SECRET: &str = "0123456789abcdef0123456789abcdef-shared";

/// A participant's raw TLS connection to the router.
struct Client {
    stream: TlsStream<tokio::net::TcpStream>,
}

impl Client {
    /// Connects to the router named in a join-token `grant`.
    async fn connect(ca_pem: &[u8], grant: &Value) -> Client {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(ca_pem).unwrap())
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
        let stream = tokio_rustls::TlsConnector::from(Arc::new(tls))
            .connect(server_name, tcp)
            .await
            .unwrap();
        Client { stream }
    }

    async fn send(&mut self, message: &ClientMessage) {
        self.stream
            .write_all(&frame_bytes(FrameKind::Control, &message.encode()).unwrap())
            .await
            .unwrap();
    }

    async fn read(&mut self) -> ServerMessage {
        let mut header = [0u8; 5];
        self.stream.read_exact(&mut header).await.unwrap();
        assert_eq!(header[0], FrameKind::Control as u8);
        let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        let mut payload = vec![0u8; len];
        self.stream.read_exact(&mut payload).await.unwrap();
        ServerMessage::decode(&payload).unwrap()
    }

    /// Sends `join` and reads until `joined` (or `waiting`); returns the
    /// participant id and whether the join is held.
    async fn join(&mut self, meeting: u64, grant: &Value) -> (ParticipantId, bool) {
        self.send(&ClientMessage::Join {
            version: confer_wire::PROTOCOL_VERSION,
            meeting_id: MeetingId(meeting),
            token: grant["token"].as_str().unwrap().to_owned(),
        })
        .await;
        loop {
            match self.read().await {
                ServerMessage::Joined { participant_id, .. } => return (participant_id, false),
                ServerMessage::Waiting { participant_id, .. } => return (participant_id, true),
                ServerMessage::Error { fatal: true, .. } => panic!("join refused"),
                _ => {}
            }
        }
    }

    /// Reads until `joined`.
    async fn until_joined(&mut self) {
        while !matches!(self.read().await, ServerMessage::Joined { .. }) {}
    }
}

/// The delivered webhook bodies, in order.
fn bodies(stub: &Stub) -> Vec<Value> {
    events(stub)
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_an_expulsion_and_a_leave_are_audited_and_sent_as_webhooks() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new(dir.path());
        let stub = Stub::start(&ca, 0).await;
        receiver(&stub, SECRET, 200);
        let mut config = common::config(dir.path()).await;
        config.outbound_ca_file = Some(ca.cert_path.clone());
        let server = confer_server::start(config).await.unwrap();
        let api = Api::new(&server);
        let ca_pem = std::fs::read(server.ca_path()).unwrap();

        let (_, admin) = api
            .sign_up(
                json!({"email": "ada@engines.example", "display_name": "Ada Lovelace",
                            "company": "Analytical Engines"}),
            )
            .await;
        let (status, hook) = api
            .post(
                "/api/v1/org/webhooks",
                Some(&admin),
                json!({"url": stub.url("/hook"), "secret": SECRET,
                       "events": ["meeting.started", "meeting.participant_joined",
                                  "meeting.participant_expelled", "meeting.ended"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{hook}");
        assert_eq!(hook["validated"], true, "{hook}");
        let (_, meeting) = api
            .post(
                "/api/v1/meetings",
                Some(&admin),
                json!({"topic": "Standup"}),
            )
            .await;
        let id = meeting["meeting_id"].as_u64().unwrap();
        let join_token = format!("/api/v1/meetings/{id}/join-token");
        let (_, host_grant) = api.post(&join_token, Some(&admin), json!({})).await;
        let (_, guest_grant) = api
            .post(&join_token, None, json!({"display_name": "Bo"}))
            .await;

        let mut host = Client::connect(&ca_pem, &host_grant).await;
        host.join(id, &host_grant).await;
        let mut guest = Client::connect(&ca_pem, &guest_grant).await;
        let (bo, held) = guest.join(id, &guest_grant).await;
        if held {
            let admit = HostAction::Admit {
                participant_id: Some(bo),
            };
            host.send(&ClientMessage::Host(admit)).await;
            guest.until_joined().await;
        }
        let expel = HostAction::Expel {
            participant_id: Some(bo),
        };
        host.send(&ClientMessage::Host(expel)).await;
        loop {
            if let ServerMessage::Removed { .. } = guest.read().await {
                break;
            }
        }
        host.send(&ClientMessage::Leave).await;

        wait_for("the meeting.ended webhook", || {
            bodies(&stub).iter().any(|b| b["event"] == "meeting.ended")
        })
        .await;
        let delivered = bodies(&stub);
        let named: Vec<&str> = delivered
            .iter()
            .map(|b| b["event"].as_str().unwrap())
            .collect();
        for event in [
            "meeting.started",
            "meeting.participant_joined",
            "meeting.participant_expelled",
            "meeting.ended",
        ] {
            assert!(named.contains(&event), "{event} missing from {named:?}");
        }
        let joined: Vec<&Value> = delivered
            .iter()
            .filter(|b| b["event"] == "meeting.participant_joined")
            .collect();
        assert_eq!(joined.len(), 2, "{joined:?}");
        assert!(
            joined
                .iter()
                .any(|b| b["payload"]["object"]["participant"]["user_name"] == "Bo")
        );
        let expelled = delivered
            .iter()
            .find(|b| b["event"] == "meeting.participant_expelled")
            .unwrap();
        let object = &expelled["payload"]["object"];
        assert_eq!(object["id"], id);
        assert_eq!(object["participant"]["user_name"], "Bo");
        assert_eq!(object["participant"]["guest"], true);
        assert_eq!(object["expelled_by"]["user_name"], "Ada Lovelace");

        let (status, trail) = api.get("/api/v1/org/audit", Some(&admin)).await;
        assert_eq!(status, StatusCode::OK, "{trail}");
        let sentences: Vec<&str> = trail["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["sentence"].as_str().unwrap())
            .collect();
        for wanted in [
            format!("Ada Lovelace (Analytical Engines) joined meeting {id} as host at "),
            format!("Bo joined meeting {id} as participant at "),
            format!("Ada Lovelace (Analytical Engines) expelled Bo from meeting {id} at "),
            format!("Bo left meeting {id} (expelled) at "),
            format!("Ada Lovelace (Analytical Engines) left meeting {id} at "),
            format!("Ada Lovelace (Analytical Engines) started meeting {id} at "),
            format!("Meeting {id} ended (everyone left) at "),
        ] {
            assert!(
                sentences.iter().any(|s| s.starts_with(&wanted)),
                "no '{wanted}…' in {sentences:#?}"
            );
        }

        // The expulsion was recorded (the router reported it before the
        // meeting's end): no guest gets a token until a host allows Bo back,
        // since a guest is a new random user with every token. The owner
        // still does.
        let (status, refusal) = api
            .post(&join_token, None, json!({"display_name": "Not Bo"}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{refusal}");
        assert_eq!(refusal["error"], "guests_expelled");
        let (status, grant) = api.post(&join_token, Some(&admin), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{grant}");
        server.shutdown().await;
    })
    .await;
}
