//! The E2E chat send limit (120 messages a minute per user) belongs to one
//! server, not to the process: two servers in one process over the same
//! database (as several API nodes share one) each count their own requests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Api, PASSWORD, assert_error, config, within_timeout};
use confer_e2e::chat::{self, ChatEnvelope, MessageId};
use confer_e2e::device::{DeviceIdentity, DevicePublicKeys};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The limit the server enforces (`routes/chat.rs`).
const SENDS_PER_MINUTE: usize = 120;

async fn register(api: &Api, token: &str, keys: &DevicePublicKeys) {
    let mut body = serde_json::to_value(keys).unwrap();
    body["name"] = "laptop".into();
    let (status, body) = api.post("/api/v1/devices", Some(token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn send(api: &Api, token: &str, envelopes: &[ChatEnvelope]) -> (StatusCode, Value) {
    api.post(
        "/api/v1/chat/messages",
        Some(token),
        json!({ "envelopes": envelopes }),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_in_one_process_each_enforce_their_own_send_limit() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        // One configuration (so one database, SQLite or PostgreSQL) for both.
        let config = config(dir.path()).await;
        let first = confer_server::start(config.clone()).await.unwrap();
        let api1 = Api::new(&first);
        let (_, ada) = api1
            .sign_up(json!({"email": "ada@engines.example", "display_name": "Ada"}))
            .await;
        let (status, body) = api1
            .post(
                "/api/v1/org/domains",
                Some(&ada),
                json!({"domain": "engines.example"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (_, bo) = api1
            .sign_up(json!({"email": "bo@engines.example", "display_name": "Bo"}))
            .await;
        let (ada1, bo1) = (
            DeviceIdentity::generate().unwrap(),
            DeviceIdentity::generate().unwrap(),
        );
        register(&api1, &ada, ada1.public_keys()).await;
        register(&api1, &bo, bo1.public_keys()).await;
        let to = [bo1.public_keys().clone()];
        let message = || chat::seal(&ada1, &to, MessageId::random().unwrap(), b"hi").unwrap();

        // Ada uses up her minute on the first server.
        for _ in 0..SENDS_PER_MINUTE {
            assert_eq!(send(&api1, &ada, &message()).await.0, StatusCode::ACCEPTED);
        }
        assert_error(
            send(&api1, &ada, &message()).await,
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
        );

        // A second server in the same process, over the same database: the
        // same user has a full minute there (a process-wide limiter would
        // refuse her at once), and it is enforced there too.
        let second = confer_server::start(config).await.unwrap();
        let api2 = Api::new(&second);
        let ada_on_2 = api2.login("ada@engines.example", PASSWORD).await;
        for _ in 0..SENDS_PER_MINUTE {
            assert_eq!(
                send(&api2, &ada_on_2, &message()).await.0,
                StatusCode::ACCEPTED
            );
        }
        assert_error(
            send(&api2, &ada_on_2, &message()).await,
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
        );
        // The first server still refuses her: each keeps its own count.
        assert_error(
            send(&api1, &ada, &message()).await,
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
        );
        second.shutdown().await;
        first.shutdown().await;
    })
    .await;
}
