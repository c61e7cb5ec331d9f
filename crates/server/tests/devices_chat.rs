//! The device directory and the E2E chat mailbox over real HTTPS: devices
//! registered, listed, revoked and looked up; messages sealed with
//! `confer_e2e::chat::seal`, relayed, opened with `confer_e2e::chat::open`
//! and acknowledged; and the acceptance test that nothing the server holds
//! can decrypt the ciphertext it stores.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use common::{Api, assert_error, on_postgres, start, within_timeout};
use confer_e2e::chat::{self, ChatEnvelope, MessageId};
use confer_e2e::device::{DeviceId, DeviceIdentity, DevicePublicKeys};
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem, OpModeR, Serializable, aead::AesGcm256, kdf::HkdfSha256};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Ada and Bo share an organisation (engines.example); Eve has her own.
struct World {
    server: confer_server::RunningServer,
    api: Api,
    ada: String,
    bo: String,
    eve: String,
}

async fn world(dir: &Path) -> World {
    let server = start(dir).await;
    let api = Api::new(&server);
    let (_, ada) = api
        .sign_up(json!({"email": "ada@engines.example", "display_name": "Ada Lovelace"}))
        .await;
    let (status, body) = api
        .post(
            "/api/v1/org/domains",
            Some(&ada),
            json!({"domain": "engines.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, bo) = api
        .sign_up(json!({"email": "bo@engines.example", "display_name": "Bo"}))
        .await;
    let (_, eve) = api
        .sign_up(json!({"email": "eve@elsewhere.example", "display_name": "Eve"}))
        .await;
    World {
        server,
        api,
        ada,
        bo,
        eve,
    }
}

fn device() -> DeviceIdentity {
    DeviceIdentity::generate().unwrap()
}

async fn register(api: &Api, token: &str, keys: &DevicePublicKeys) -> (StatusCode, Value) {
    let mut body = serde_json::to_value(keys).unwrap();
    body["name"] = "laptop".into();
    api.post("/api/v1/devices", Some(token), body).await
}

async fn send(api: &Api, token: &str, envelopes: &[ChatEnvelope]) -> (StatusCode, Value) {
    api.post(
        "/api/v1/chat/messages",
        Some(token),
        json!({ "envelopes": envelopes }),
    )
    .await
}

async fn directory(api: &Api, token: &str, email: &str) -> Vec<DevicePublicKeys> {
    let (status, body) = api
        .get(
            &format!("/api/v1/directory/devices?email={email}"),
            Some(token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body["devices"].clone()).unwrap()
}

async fn inbox(api: &Api, token: &str, device: DeviceId) -> Value {
    let (status, body) = api
        .get(
            &format!("/api/v1/chat/inbox?device_id={device}"),
            Some(token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Opens every message in an inbox page as `device`; returns the plaintexts.
fn open_all(device: &DeviceIdentity, page: &Value) -> Vec<Vec<u8>> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let sender: DevicePublicKeys =
                serde_json::from_value(m["sender_keys"].clone()).unwrap();
            let envelope: ChatEnvelope = serde_json::from_value(m["envelope"].clone()).unwrap();
            chat::open(device, &sender, &envelope).unwrap().plaintext
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_are_registered_listed_revoked_and_looked_up() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let w = world(dir.path()).await;
        let api = &w.api;
        let laptop = device();
        let (status, record) = register(api, &w.ada, laptop.public_keys()).await;
        assert_eq!(status, StatusCode::CREATED, "{record}");
        assert_eq!(record["device_id"], laptop.device_id().to_string());
        assert_eq!(record["name"], "laptop");
        assert!(record["created_at"].as_u64().unwrap() > 0);
        assert!(record["revoked_at"].is_null());
        // Registering again is idempotent.
        let (status, again) = register(api, &w.ada, laptop.public_keys()).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again, record);
        // Someone else cannot claim the id.
        assert_error(
            register(api, &w.bo, laptop.public_keys()).await,
            StatusCode::CONFLICT,
            "device_taken",
        );
        // An id that is not the hash of the keys is refused.
        let mut swapped = device().public_keys().clone();
        swapped.device_id = laptop.device_id();
        assert_error(
            register(api, &w.ada, &swapped).await,
            StatusCode::BAD_REQUEST,
            "invalid_device",
        );
        assert_error(
            api.post(
                "/api/v1/devices",
                Some(&w.ada),
                json!({"device_id": "x", "ed25519": "y", "x25519": "z"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_device",
        );

        let phone = device();
        assert_eq!(
            register(api, &w.ada, phone.public_keys()).await.0,
            StatusCode::CREATED
        );
        let (status, list) = api.get("/api/v1/devices", Some(&w.ada)).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(list["devices"].as_array().unwrap().len(), 2);

        // Bo sees Ada's active devices; Eve (another organisation) sees
        // nothing, exactly as for an unknown email.
        let ada_devices = directory(api, &w.bo, "ada@engines.example").await;
        assert_eq!(ada_devices.len(), 2);
        assert!(ada_devices.contains(laptop.public_keys()));
        for email in ["ada@engines.example", "nobody@engines.example"] {
            assert_error(
                api.get(
                    &format!("/api/v1/directory/devices?email={email}"),
                    Some(&w.eve),
                )
                .await,
                StatusCode::NOT_FOUND,
                "not_found",
            );
        }

        // Only the owner may revoke.
        let path = format!("/api/v1/devices/{}", phone.device_id());
        assert_error(
            api.delete(&path, Some(&w.bo)).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        let (status, _) = api.delete(&path, Some(&w.ada)).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, list) = api.get("/api/v1/devices", Some(&w.ada)).await;
        let revoked = list["devices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["device_id"] == phone.device_id().to_string())
            .unwrap();
        assert!(revoked["revoked_at"].as_u64().is_some(), "{list}");
        assert_eq!(
            directory(api, &w.bo, "ada@engines.example").await,
            vec![laptop.public_keys().clone()]
        );
        // Revocation is permanent.
        assert_error(
            register(api, &w.ada, phone.public_keys()).await,
            StatusCode::CONFLICT,
            "device_revoked",
        );

        // The audit trail says so.
        let (_, audit) = api.get("/api/v1/org/audit", Some(&w.ada)).await;
        let actions: Vec<&str> = audit["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        assert!(actions.contains(&"device.registered"), "{actions:?}");
        assert!(actions.contains(&"device.revoked"), "{actions:?}");

        // Devices are people's: an API client's token is refused.
        let (status, client) = api
            .post(
                "/api/v1/org/oauth-clients",
                Some(&w.ada),
                json!({"name": "Bot", "scopes": ["meeting:read"], "auth_method": "client_secret"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{client}");
        let response = api
            .http
            .post(format!("{}/oauth/token", api.base))
            .basic_auth(
                client["client_id"].as_str().unwrap(),
                client["client_secret"].as_str(),
            )
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        let grant: Value = response.json().await.unwrap();
        let client_token = grant["access_token"].as_str().unwrap();
        for (status, body) in [
            api.get("/api/v1/devices", Some(client_token)).await,
            register(api, client_token, device().public_keys()).await,
            api.get(
                "/api/v1/directory/devices?email=ada@engines.example",
                Some(client_token),
            )
            .await,
            api.get(
                &format!("/api/v1/chat/inbox?device_id={}", laptop.device_id()),
                Some(client_token),
            )
            .await,
        ] {
            assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        }
        w.server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_sends_are_checked() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let w = world(dir.path()).await;
        let api = &w.api;
        let (ada1, ada2, bo1, eve1) = (device(), device(), device(), device());
        for (token, d) in [
            (&w.ada, &ada1),
            (&w.ada, &ada2),
            (&w.bo, &bo1),
            (&w.eve, &eve1),
        ] {
            assert_eq!(
                register(api, token, d.public_keys()).await.0,
                StatusCode::CREATED
            );
        }
        let seal = |from: &DeviceIdentity, to: &[&DeviceIdentity]| {
            let to: Vec<DevicePublicKeys> = to.iter().map(|d| d.public_keys().clone()).collect();
            chat::seal(from, &to, MessageId::random().unwrap(), b"hello").unwrap()
        };
        // Bo cannot send as Ada's device.
        assert_error(
            send(api, &w.bo, &seal(&ada1, &[&bo1])).await,
            StatusCode::FORBIDDEN,
            "device_not_yours",
        );
        // Nor to someone in another organisation.
        assert_error(
            send(api, &w.ada, &seal(&ada1, &[&bo1, &eve1])).await,
            StatusCode::BAD_REQUEST,
            "unknown_recipient",
        );
        // Nor to a device never registered.
        assert_error(
            send(api, &w.ada, &seal(&ada1, &[&device()])).await,
            StatusCode::BAD_REQUEST,
            "unknown_recipient",
        );
        // No envelopes, repeated recipients and mixed message ids are refused.
        assert_error(
            send(api, &w.ada, &[]).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
        let mut twice = seal(&ada1, &[&bo1]);
        twice.push(twice[0].clone());
        assert_error(
            send(api, &w.ada, &twice).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
        let mut mixed = seal(&ada1, &[&bo1]);
        mixed.extend(seal(&ada1, &[&ada2]));
        assert_error(
            send(api, &w.ada, &mixed).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
        // A message is stored once per recipient.
        let message = seal(&ada1, &[&bo1, &ada2]);
        let (status, body) = send(api, &w.ada, &message).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        assert_eq!(body["stored"], 2);
        assert_eq!(body["message_id"], message[0].message_id.to_string());
        assert_error(
            send(api, &w.ada, &message).await,
            StatusCode::CONFLICT,
            "duplicate_message",
        );
        // An oversized ciphertext is refused.
        let mut big = seal(&ada1, &[&bo1]);
        big[0].ciphertext = vec![0; 64 * 1024 + 17];
        assert_error(
            send(api, &w.ada, &big).await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        );
        // A revoked device can neither send nor read.
        let (status, _) = api
            .delete(
                &format!("/api/v1/devices/{}", ada2.device_id()),
                Some(&w.ada),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_error(
            send(api, &w.ada, &seal(&ada2, &[&bo1])).await,
            StatusCode::FORBIDDEN,
            "device_revoked",
        );
        assert_error(
            api.get(
                &format!("/api/v1/chat/inbox?device_id={}", ada2.device_id()),
                Some(&w.ada),
            )
            .await,
            StatusCode::FORBIDDEN,
            "device_revoked",
        );
        // Nobody reads another's inbox.
        assert_error(
            api.get(
                &format!("/api/v1/chat/inbox?device_id={}", bo1.device_id()),
                Some(&w.ada),
            )
            .await,
            StatusCode::FORBIDDEN,
            "device_not_yours",
        );
        w.server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_reach_every_device_and_are_deleted_once_acknowledged() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let w = world(dir.path()).await;
        let api = &w.api;
        let (ada1, ada2, bo1, bo2) = (device(), device(), device(), device());
        for (token, d) in [
            (&w.ada, &ada1),
            (&w.ada, &ada2),
            (&w.bo, &bo1),
            (&w.bo, &bo2),
        ] {
            assert_eq!(
                register(api, token, d.public_keys()).await.0,
                StatusCode::CREATED
            );
        }
        // Ada's first device addresses every device of Bo's and her own
        // other device, taken from the directory.
        let mut recipients = directory(api, &w.ada, "bo@engines.example").await;
        assert_eq!(recipients.len(), 2);
        recipients.extend(
            directory(api, &w.ada, "ada@engines.example")
                .await
                .into_iter()
                .filter(|d| d.device_id != ada1.device_id()),
        );
        let plaintext = b"Shall we meet at three?";
        let envelopes =
            chat::seal(&ada1, &recipients, MessageId::random().unwrap(), plaintext).unwrap();
        let (status, body) = send(api, &w.ada, &envelopes).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        assert_eq!(body["stored"], 3);

        for (token, d) in [(&w.bo, &bo1), (&w.bo, &bo2), (&w.ada, &ada2)] {
            let page = inbox(api, token, d.device_id()).await;
            assert_eq!(open_all(d, &page), vec![plaintext.to_vec()], "{page}");
            let message = &page["messages"][0];
            assert_eq!(message["sender_email"], "ada@engines.example");
            assert_eq!(
                message["sender_keys"]["device_id"],
                ada1.device_id().to_string()
            );
            assert_eq!(page["next_cursor"], message["cursor"]);
        }
        // The sender's own device has nothing.
        assert_eq!(
            inbox(api, &w.ada, ada1.device_id()).await["messages"],
            json!([])
        );

        // Acknowledging deletes; cursors keep growing afterwards.
        let page = inbox(api, &w.bo, bo1.device_id()).await;
        let cursor = page["next_cursor"].as_u64().unwrap();
        let (status, body) = api
            .post(
                "/api/v1/chat/inbox/ack",
                Some(&w.bo),
                json!({"device_id": bo1.device_id().to_string(), "up_to": cursor}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let after_ack = inbox(api, &w.bo, bo1.device_id()).await;
        assert_eq!(after_ack["messages"], json!([]));
        assert_eq!(after_ack["next_cursor"], 0);
        // Bo's second device still has its copy.
        assert_eq!(
            inbox(api, &w.bo, bo2.device_id()).await["messages"]
                .as_array()
                .unwrap()
                .len(),
            1
        );

        // Bo revokes his second device: it is out of the directory, its
        // waiting copy is gone and nobody can address it any more.
        let (status, _) = api
            .delete(&format!("/api/v1/devices/{}", bo2.device_id()), Some(&w.bo))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let bo_devices = directory(api, &w.ada, "bo@engines.example").await;
        assert_eq!(bo_devices, vec![bo1.public_keys().clone()]);
        let reply = chat::seal(
            &ada1,
            &[bo1.public_keys().clone(), bo2.public_keys().clone()],
            MessageId::random().unwrap(),
            b"again",
        )
        .unwrap();
        assert_error(
            send(api, &w.ada, &reply).await,
            StatusCode::BAD_REQUEST,
            "unknown_recipient",
        );
        let reply = chat::seal(&ada1, &bo_devices, MessageId::random().unwrap(), b"again").unwrap();
        assert_eq!(send(api, &w.ada, &reply).await.0, StatusCode::ACCEPTED);
        let page = inbox(api, &w.bo, bo1.device_id()).await;
        assert_eq!(open_all(&bo1, &page), vec![b"again".to_vec()]);
        assert!(page["messages"][0]["cursor"].as_u64().unwrap() > cursor);
        w.server.shutdown().await;
    })
    .await;
}

/// Every 32-byte string in `bytes` that could be a key: each raw window,
/// and each window of the bytes that runs of base64url text decode to (the
/// server stores binary values as base64url), at all four alignments.
fn candidate_keys(bytes: &[u8], out: &mut HashSet<[u8; 32]>) {
    for window in bytes.windows(32) {
        out.insert(window.try_into().unwrap());
    }
    let sextet = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut run_start = 0;
    for end in 0..=bytes.len() {
        if end < bytes.len() && sextet(bytes[end]).is_some() {
            continue;
        }
        let run = &bytes[run_start..end];
        run_start = end + 1;
        if run.len() < 43 {
            continue;
        }
        for shift in 0..4 {
            let mut decoded = Vec::with_capacity(run.len());
            let (mut acc, mut bits) = (0u32, 0);
            for &c in &run[shift..] {
                acc = (acc << 6) | sextet(c).unwrap_or(0);
                bits += 6;
                if bits >= 8 {
                    bits -= 8;
                    decoded.push((acc >> bits) as u8);
                    acc &= (1 << bits) - 1;
                }
            }
            for window in decoded.windows(32) {
                out.insert(window.try_into().unwrap());
            }
        }
    }
}

/// The HPKE open of `crates/e2e/src/chat/mod.rs`, with a raw X25519 secret.
fn hpke_open(secret: &[u8; 32], envelope: &ChatEnvelope) -> Option<Vec<u8>> {
    let private = <X25519HkdfSha256 as Kem>::PrivateKey::from_bytes(secret).ok()?;
    let enc = <X25519HkdfSha256 as Kem>::EncappedKey::from_bytes(&envelope.enc).ok()?;
    let mut aad = b"confer chat v1".to_vec();
    aad.extend_from_slice(envelope.sender.as_bytes());
    aad.extend_from_slice(envelope.recipient.as_bytes());
    aad.extend_from_slice(envelope.message_id.as_bytes());
    hpke::single_shot_open::<AesGcm256, HkdfSha256, X25519HkdfSha256>(
        &OpModeR::Base,
        &private,
        &enc,
        b"confer chat v1",
        &envelope.ciphertext,
        &aad,
    )
    .ok()
}

/// Tries every candidate as an X25519 secret key against `envelopes`;
/// returns the plaintexts it opened.
///
/// DHKEM's key schedule binds the recipient's public key (RFC 9180 §4.1,
/// `kem_context = enc || pkRm`, pkRm computed from the secret), so a secret
/// opens an envelope only if its public key is the envelope's recipient
/// key. Each candidate's public key is therefore computed once and the full
/// HPKE open is run against every envelope addressed to that key: the same
/// outcome as opening every envelope with every candidate, at one scalar
/// multiplication per candidate instead of one per pair.
fn try_to_open(
    candidates: &HashSet<[u8; 32]>,
    envelopes: &[(ChatEnvelope, [u8; 32])],
) -> Vec<Vec<u8>> {
    let mut by_key: HashMap<[u8; 32], Vec<&ChatEnvelope>> = HashMap::new();
    for (envelope, key) in envelopes {
        by_key.entry(*key).or_default().push(envelope);
    }
    let mut opened = Vec::new();
    for candidate in candidates {
        let Ok(private) = <X25519HkdfSha256 as Kem>::PrivateKey::from_bytes(candidate) else {
            continue;
        };
        let public: [u8; 32] = <X25519HkdfSha256 as Kem>::sk_to_pk(&private)
            .to_bytes()
            .as_slice()
            .try_into()
            .unwrap();
        for envelope in by_key.get(&public).into_iter().flatten() {
            opened.extend(hpke_open(candidate, envelope));
        }
    }
    opened
}

fn read_all_files(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            read_all_files(&path, out);
        } else {
            out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
}

/// Acceptance (issue #4): "Chat ciphertext stored by the server cannot be
/// decrypted with anything stored on the server."
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_chat_ciphertext_cannot_be_decrypted_with_anything_on_the_server() {
    within_timeout(async {
        if on_postgres() {
            eprintln!(
                "skipped on PostgreSQL: the byte scan reads the SQLite data directory; \
                 it runs in the SQLite test run"
            );
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let w = world(dir.path()).await;
        let api = &w.api;
        let (ada1, ada2, bo1, bo2) = (device(), device(), device(), device());
        // A recipient whose X25519 secret this test knows (DeviceIdentity
        // never shows its own), for the negative control.
        let (control_secret, control_public) =
            X25519HkdfSha256::derive_keypair(b"negative control device key material");
        let control_secret: [u8; 32] = control_secret.to_bytes().as_slice().try_into().unwrap();
        let control_x25519: [u8; 32] = control_public.to_bytes().as_slice().try_into().unwrap();
        let control_ed25519 = device().public_keys().ed25519;
        let control = DevicePublicKeys {
            device_id: DeviceId::from_public_keys(&control_ed25519, &control_x25519),
            ed25519: control_ed25519,
            x25519: control_x25519,
        };
        for (token, keys) in [
            (&w.ada, ada1.public_keys()),
            (&w.ada, ada2.public_keys()),
            (&w.bo, bo1.public_keys()),
            (&w.bo, bo2.public_keys()),
            (&w.bo, &control),
        ] {
            assert_eq!(register(api, token, keys).await.0, StatusCode::CREATED);
        }
        let plaintexts: [&[u8]; 2] = [
            b"PLAINTEXT-MARKER-7f3a: the launch code is 0000",
            b"PLAINTEXT-MARKER-9c1e: second message, other direction",
        ];
        let all = [ada1.public_keys(), ada2.public_keys(), bo1.public_keys(), bo2.public_keys(), &control];
        let to_a: Vec<DevicePublicKeys> = all.iter().filter(|k| k.device_id != ada1.device_id()).map(|k| (*k).clone()).collect();
        let to_b: Vec<DevicePublicKeys> = all.iter().filter(|k| k.device_id != bo1.device_id()).map(|k| (*k).clone()).collect();
        let first = chat::seal(&ada1, &to_a, MessageId::random().unwrap(), plaintexts[0]).unwrap();
        let second = chat::seal(&bo1, &to_b, MessageId::random().unwrap(), plaintexts[1]).unwrap();
        assert_eq!(send(api, &w.ada, &first).await.0, StatusCode::ACCEPTED);
        assert_eq!(send(api, &w.bo, &second).await.0, StatusCode::ACCEPTED);

        // What the server stores, fetched back through the API with the
        // recipient key each envelope is for.
        let mut stored: Vec<(ChatEnvelope, [u8; 32])> = Vec::new();
        for (token, keys) in [
            (&w.ada, ada1.public_keys()),
            (&w.ada, ada2.public_keys()),
            (&w.bo, bo1.public_keys()),
            (&w.bo, bo2.public_keys()),
            (&w.bo, &control),
        ] {
            let page = inbox(api, token, keys.device_id).await;
            for message in page["messages"].as_array().unwrap() {
                let envelope: ChatEnvelope = serde_json::from_value(message["envelope"].clone()).unwrap();
                stored.push((envelope, keys.x25519));
            }
        }
        assert_eq!(stored.len(), 8, "4 copies of each message");

        // Stop the server: connections close and SQLite checkpoints its WAL
        // into the database file, so what is on disk is everything it holds.
        w.server.shutdown().await;
        let mut files = Vec::new();
        read_all_files(dir.path(), &mut files);
        assert!(
            files.iter().any(|(name, _)| name.ends_with(confer_server::DATABASE_FILE)),
            "{:?}",
            files.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
        let mut candidates = HashSet::new();
        let mut total_bytes = 0;
        for (name, bytes) in &files {
            for plaintext in plaintexts {
                assert!(
                    !bytes.windows(plaintext.len()).any(|w| w == plaintext),
                    "plaintext found in {name}"
                );
            }
            total_bytes += bytes.len();
            candidate_keys(bytes, &mut candidates);
        }
        let opened = try_to_open(&candidates, &stored);
        eprintln!(
            "acceptance scan: {} files, {total_bytes} bytes, {} distinct 32-byte candidate keys \
             (raw windows and base64url-decoded windows) tried against {} stored envelopes: {} opened",
            files.len(),
            candidates.len(),
            stored.len(),
            opened.len()
        );
        assert!(opened.is_empty(), "a key on the server opened a message");

        // Negative control: the same scan finds the control device's secret
        // when it is among the bytes, raw or base64url, and opens both
        // messages with it, so the scan above could have failed.
        let (db_name, db) = files
            .iter()
            .find(|(name, _)| name.ends_with(confer_server::DATABASE_FILE))
            .unwrap();
        for spliced in [
            control_secret.to_vec(),
            base64_url(&control_secret).into_bytes(),
        ] {
            let mut bytes = db.clone();
            let middle = bytes.len() / 2;
            bytes.splice(middle..middle, spliced);
            let mut candidates = HashSet::new();
            candidate_keys(&bytes, &mut candidates);
            let mut opened = try_to_open(&candidates, &stored);
            opened.sort();
            assert_eq!(
                opened,
                vec![plaintexts[0].to_vec(), plaintexts[1].to_vec()],
                "the control secret spliced into {db_name} must open its copies"
            );
        }
    })
    .await;
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_is_rate_limited_per_user() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let w = world(dir.path()).await;
        let api = &w.api;
        let (ada1, bo1) = (device(), device());
        assert_eq!(
            register(api, &w.ada, ada1.public_keys()).await.0,
            StatusCode::CREATED
        );
        assert_eq!(
            register(api, &w.bo, bo1.public_keys()).await.0,
            StatusCode::CREATED
        );
        let to = [bo1.public_keys().clone()];
        for _ in 0..120 {
            let envelopes = chat::seal(&ada1, &to, MessageId::random().unwrap(), b"hi").unwrap();
            assert_eq!(send(api, &w.ada, &envelopes).await.0, StatusCode::ACCEPTED);
        }
        let envelopes = chat::seal(&ada1, &to, MessageId::random().unwrap(), b"hi").unwrap();
        assert_error(
            send(api, &w.ada, &envelopes).await,
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
        );
        // Others are not held up by Ada's sending.
        let reply = chat::seal(
            &bo1,
            &[ada1.public_keys().clone()],
            MessageId::random().unwrap(),
            b"ok",
        )
        .unwrap();
        assert_eq!(send(api, &w.bo, &reply).await.0, StatusCode::ACCEPTED);
        w.server.shutdown().await;
    })
    .await;
}
