//! The HTTP API against a real server: 127.0.0.1, ports chosen by the OS, a
//! fresh data directory per test, a client that trusts only the server's CA.

// Test helpers outside #[test] functions fail loudly too; clippy.toml's
// allow-*-in-tests covers only the test functions themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use confer_router::JoinTokenVerifier;
use confer_server::RunningServer;

mod common;
use confer_wire::ids::{MeetingId, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// No test may take longer than this; a hang is a failure, not a stuck CI job.
const TEST_TIMEOUT: Duration = Duration::from_secs(60);

async fn within_timeout<F: Future<Output = ()>>(test: F) {
    tokio::time::timeout(TEST_TIMEOUT, test)
        .await
        .expect("test timed out");
}

use common::config;

async fn start(dir: &Path) -> RunningServer {
    confer_server::start(config(dir).await)
        .await
        .expect("server starts")
}

/// A client that trusts the server's CA and nothing else.
fn client(server: &RunningServer) -> reqwest::Client {
    let ca = std::fs::read(server.ca_path()).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A small API client for the tests.
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(server: &RunningServer) -> Self {
        Api {
            http: client(server),
            base: server.api_url(),
        }
    }

    async fn post(&self, path: &str, bearer: Option<&str>, body: Value) -> (StatusCode, Value) {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    async fn get(&self, path: &str, bearer: Option<&str>) -> (StatusCode, Value) {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    async fn sign_up(&self, email: &str, name: &str, password: &str) -> Value {
        let (status, body) = self
            .post(
                "/api/v1/accounts",
                None,
                json!({"email": email, "display_name": name, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    async fn login(&self, email: &str, password: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/login",
                None,
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Signs up and logs in; returns (user id, access token).
    async fn user(&self, email: &str, name: &str) -> (String, String) {
        let account = self.sign_up(email, name, "correct horse battery").await;
        let token = self.login(email, "correct horse battery").await;
        (account["user_id"].as_str().unwrap().to_owned(), token)
    }

    async fn create_meeting(&self, token: &str, body: Value) -> Value {
        let (status, meeting) = self.post("/api/v1/meetings", Some(token), body).await;
        assert_eq!(status, StatusCode::CREATED, "{meeting}");
        meeting
    }
}

fn assert_error(status: StatusCode, body: &Value, want_status: StatusCode, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"], want_code, "{body}");
    assert!(body["message"].is_string(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_jwks() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let api = Api::new(&server);
        assert_eq!(
            api.get("/healthz", None).await,
            (StatusCode::OK, json!({"status": "ok"}))
        );
        let (status, jwks) = api.get("/.well-known/jwks.json", None).await;
        assert_eq!(status, StatusCode::OK);
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1);
        let key = keys[0].as_object().unwrap();
        let mut fields: Vec<&str> = key.keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["alg", "crv", "kid", "kty", "use", "x", "y"]);
        assert_eq!(key["kty"], "EC");
        assert_eq!(key["crv"], "P-256");
        assert_eq!(key["alg"], "ES256");
        assert_eq!(key["use"], "sig");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_created_once_and_validated() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let api = Api::new(&server);

        let account = api.sign_up(" Ada@Example.ORG ", "Ada Lovelace", "correct horse").await;
        assert_eq!(account["email"], "ada@example.org");
        assert_eq!(account["display_name"], "Ada Lovelace");
        assert!(account["user_id"].as_str().is_some_and(|id| !id.is_empty()));

        let (status, body) = api
            .post(
                "/api/v1/accounts",
                None,
                json!({"email": "ADA@example.org", "display_name": "Imposter", "password": "whatever123"}),
            )
            .await;
        assert_error(status, &body, StatusCode::CONFLICT, "email_taken");

        for bad in [
            json!({"email": "not-an-email", "display_name": "Bo", "password": "long enough"}),
            json!({"email": "bo@example.org", "display_name": "Bo", "password": "short"}),
            json!({"email": "bo@example.org", "display_name": "  ", "password": "long enough"}),
            json!({"email": "bo@example.org", "display_name": "x".repeat(65), "password": "long enough"}),
            json!({"email": "bo@example.org", "password": "long enough"}),
            json!({"email": "bo@example.org", "display_name": 7, "password": "long enough"}),
        ] {
            let (status, body) = api.post("/api/v1/accounts", None, bad.clone()).await;
            assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
        }
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_accepts_only_the_right_password() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let api = Api::new(&server);
        api.sign_up("ada@example.org", "Ada", "correct horse").await;

        let (status, body) = api
            .post(
                "/api/v1/login",
                None,
                json!({"email": "ADA@example.org", "password": "correct horse"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        assert!(
            body["access_token"]
                .as_str()
                .is_some_and(|t| t.split('.').count() == 3)
        );

        let (status, body) = api
            .post(
                "/api/v1/login",
                None,
                json!({"email": "ada@example.org", "password": "wrong horse"}),
            )
            .await;
        assert_error(
            status,
            &body,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        );
        let (status, body) = api
            .post(
                "/api/v1/login",
                None,
                json!({"email": "nobody@example.org", "password": "correct horse"}),
            )
            .await;
        assert_error(
            status,
            &body,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meetings_need_a_signed_in_user() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let api = Api::new(&server);

        let (status, body) = api
            .post("/api/v1/meetings", None, json!({"topic": "x"}))
            .await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
        let (status, body) = api
            .post("/api/v1/meetings", Some("garbage"), json!({}))
            .await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");

        let (ada, token) = api.user("ada@example.org", "Ada").await;
        let meeting = api
            .create_meeting(&token, json!({"topic": "  Standup  "}))
            .await;
        let id = meeting["meeting_id"].as_u64().unwrap();
        assert_eq!(id.to_string().len(), 10);
        assert_eq!(meeting["topic"], "Standup");
        assert_eq!(meeting["has_passcode"], false);
        assert_eq!(meeting["host_user_id"], ada.as_str());

        let with_passcode = api
            .create_meeting(&token, json!({"passcode": "4711"}))
            .await;
        assert_eq!(with_passcode["has_passcode"], true);
        assert_eq!(with_passcode["topic"], Value::Null);
        assert_ne!(with_passcode["meeting_id"], meeting["meeting_id"]);

        let (status, body) = api
            .post(
                "/api/v1/meetings",
                Some(&token),
                json!({"topic": "t".repeat(201)}),
            )
            .await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");

        assert_eq!(
            api.get(&format!("/api/v1/meetings/{id}"), Some(&token))
                .await,
            (StatusCode::OK, meeting)
        );
        let (status, body) = api.get(&format!("/api/v1/meetings/{id}"), None).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
        for missing in ["1000000000", "abc", "99999999999999999999999"] {
            let (status, body) = api
                .get(&format!("/api/v1/meetings/{missing}"), Some(&token))
                .await;
            assert_error(status, &body, StatusCode::NOT_FOUND, "meeting_not_found");
        }
        server.shutdown().await;
    })
    .await;
}

/// Fetches the published keys and builds the router's verifier from them.
async fn verifier(api: &Api) -> JoinTokenVerifier {
    let (status, jwks) = api.get("/.well-known/jwks.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let mut verifier = JoinTokenVerifier::new(api.base.clone());
    verifier.add_jwks(&jwks.to_string()).unwrap();
    verifier
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_tokens_carry_the_servers_role_and_check_the_passcode() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let api = Api::new(&server);
        let (ada, ada_token) = api.user("ada@example.org", "Ada").await;
        let (bo, bo_token) = api.user("bo@example.org", "Bo").await;
        let meeting = api
            .create_meeting(&ada_token, json!({"topic": "Plans", "passcode": "4711"}))
            .await;
        let id = meeting["meeting_id"].as_u64().unwrap();
        let path = format!("/api/v1/meetings/{id}/join-token");

        for body in [
            json!({}),
            json!({"passcode": "0000"}),
            json!({"passcode": ""}),
        ] {
            let (status, body) = api.post(&path, Some(&bo_token), body).await;
            assert_error(status, &body, StatusCode::FORBIDDEN, "wrong_passcode");
        }

        // Asking to be host changes nothing: the role is the server's decision.
        let (status, bo_grant) = api
            .post(
                &path,
                Some(&bo_token),
                json!({"passcode": "4711", "role": "host"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{bo_grant}");
        assert_eq!(bo_grant["role"], "participant");

        let (status, ada_grant) = api
            .post(&path, Some(&ada_token), json!({"passcode": "4711"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{ada_grant}");
        assert_eq!(ada_grant["role"], "host");
        // The owner needs no passcode for their own meeting, nor any body at all.
        let response = api
            .http
            .post(format!("{}{path}", api.base))
            .bearer_auth(&ada_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.json::<Value>().await.unwrap()["role"], "host");

        let router = &ada_grant["router"];
        assert_eq!(
            router["quic"],
            format!("127.0.0.1:{}", server.quic_addr().port())
        );
        assert_eq!(
            router["tls"],
            format!("127.0.0.1:{}", server.tls_addr().port())
        );
        assert_eq!(router["server_name"], "127.0.0.1");

        // The tokens verify with the published keys, exactly as the router does.
        let verifier = verifier(&api).await;
        let ada_claims = verifier
            .verify(ada_grant["token"].as_str().unwrap(), now())
            .unwrap();
        assert_eq!(ada_claims.sub, ada);
        assert_eq!(ada_claims.role, Role::Host);
        assert_eq!(ada_claims.name, "Ada");
        assert!(!ada_claims.guest);
        assert_eq!(ada_claims.mid, MeetingId(id));
        assert_eq!(ada_claims.iss, server.api_url());
        assert_eq!(ada_claims.aud, confer_wire::token::JOIN_TOKEN_AUDIENCE);
        assert_eq!(ada_claims.exp - ada_claims.iat, 2 * 60 * 60);
        assert_eq!(ada_grant["session_id"], ada_claims.sid.as_str());
        assert_eq!(ada_grant["expires_at"], ada_claims.exp);

        let bo_claims = verifier
            .verify(bo_grant["token"].as_str().unwrap(), now())
            .unwrap();
        assert_eq!(bo_claims.sub, bo);
        assert_eq!(bo_claims.role, Role::Participant);
        assert_ne!(bo_claims.sid, ada_claims.sid);
        assert_ne!(bo_claims.jti, ada_claims.jti);

        // A signed-in user may choose the name shown in the meeting.
        let (status, grant) = api
            .post(
                &path,
                Some(&bo_token),
                json!({"passcode": "4711", "display_name": "Bo (phone)"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{grant}");
        let claims = verifier
            .verify(grant["token"].as_str().unwrap(), now())
            .unwrap();
        assert_eq!(claims.name, "Bo (phone)");

        let (status, body) = api
            .post(
                "/api/v1/meetings/1000000000/join-token",
                Some(&bo_token),
                json!({}),
            )
            .await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "meeting_not_found");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_join_with_a_name() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let api = Api::new(&server);
        let (_, ada_token) = api.user("ada@example.org", "Ada").await;
        let open = api.create_meeting(&ada_token, json!({})).await;
        let locked = api
            .create_meeting(&ada_token, json!({"passcode": "4711"}))
            .await;
        let open_path = format!("/api/v1/meetings/{}/join-token", open["meeting_id"]);
        let locked_path = format!("/api/v1/meetings/{}/join-token", locked["meeting_id"]);

        let (status, body) = api.post(&open_path, None, json!({})).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
        let (status, body) = api
            .post(&locked_path, None, json!({"display_name": "Cy"}))
            .await;
        assert_error(status, &body, StatusCode::FORBIDDEN, "wrong_passcode");
        // A broken bearer token is refused, not quietly downgraded to a guest.
        let (status, body) = api
            .post(&open_path, Some("garbage"), json!({"display_name": "Cy"}))
            .await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");

        let (status, grant) = api
            .post(
                &locked_path,
                None,
                json!({"display_name": "Cy", "passcode": "4711", "role": "host"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{grant}");
        assert_eq!(grant["role"], "participant");
        let claims = verifier(&api)
            .await
            .verify(grant["token"].as_str().unwrap(), now())
            .unwrap();
        assert!(claims.guest);
        assert!(claims.sub.starts_with("guest:"), "{}", claims.sub);
        assert_eq!(claims.name, "Cy");
        assert_eq!(claims.role, Role::Participant);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_forged_and_misdirected_tokens_are_refused() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let api = Api::new(&server);
        let (ada, ada_token) = api.user("ada@example.org", "Ada").await;
        let meeting = api.create_meeting(&ada_token, json!({})).await;
        let (status, _) = api.get("/api/v1/meetings/1000000000", Some(&ada_token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "a valid token gets past auth");

        let header = jsonwebtoken::decode_header(&ada_token).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
        let mut with_kid = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        with_kid.kid = header.kid.clone();
        let claims = |iat: u64, aud: &str| {
            json!({"iss": server.api_url(), "aud": aud, "sub": ada, "iat": iat, "exp": iat + 3600, "jti": "t"})
        };

        // Signed with the real key, but expired.
        let real_pem = std::fs::read(dir.path().join(confer_server::SIGNING_KEY_FILE)).unwrap();
        let real_key = jsonwebtoken::EncodingKey::from_ec_pem(&real_pem).unwrap();
        let expired = jsonwebtoken::encode(&with_kid, &claims(now() - 7200, "confer-api"), &real_key).unwrap();
        // Current, but signed by someone else's key under our kid.
        let other = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let other_key = jsonwebtoken::EncodingKey::from_ec_pem(other.serialize_pem().as_bytes()).unwrap();
        let forged = jsonwebtoken::encode(&with_kid, &claims(now(), "confer-api"), &other_key).unwrap();
        // Genuine, but meant for the router.
        let path = format!("/api/v1/meetings/{}/join-token", meeting["meeting_id"]);
        let (_, grant) = api.post(&path, Some(&ada_token), json!({})).await;
        let join_token = grant["token"].as_str().unwrap().to_owned();
        // Genuine signature but another audience.
        let wrong_aud = jsonwebtoken::encode(&with_kid, &claims(now(), "confer-router"), &real_key).unwrap();
        // Tampered payload: Ada's real token with the signature of another.
        let mut parts: Vec<&str> = ada_token.split('.').collect();
        let forged_sig = forged.split('.').nth(2).unwrap();
        parts[2] = forged_sig;
        let tampered = parts.join(".");

        for (what, token) in [
            ("expired", expired),
            ("forged", forged),
            ("join token", join_token),
            ("wrong audience", wrong_aud),
            ("tampered", tampered),
        ] {
            let (status, body) = api.post("/api/v1/meetings", Some(&token), json!({})).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
            assert_eq!(body["error"], "unauthorized", "{what}");
        }
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_holds_only_argon2id_hashes() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path()).await;
        let server = confer_server::start(config.clone()).await.unwrap();
        let api = Api::new(&server);
        let (_, token) = api.user("ada@example.org", "Ada").await;
        api.create_meeting(&token, json!({"passcode": "sesame-4711"}))
            .await;
        let db_path = server.database_path();
        if common::on_postgres() {
            assert_eq!(db_path, None);
        } else {
            assert_eq!(db_path, Some(dir.path().join("confer.db")));
        }
        server.shutdown().await;

        let pool = common::inspect(&config).await;
        let (hash,): (String,) = sqlx::query_as("SELECT password_hash FROM users")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(!hash.contains("correct horse"));
        let (passcode,): (String,) = sqlx::query_as("SELECT passcode_hash FROM meetings")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!(passcode.starts_with("$argon2id$"), "{passcode}");
        assert!(!passcode.contains("sesame"));
        pool.close().await;

        // And nothing on disk holds the secrets in clear (WAL included).
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains("correct horse battery") && !text.contains("sesame-4711"));
        }
    })
    .await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_keys_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let mut files = vec!["signing-key.pem", "ca-key.pem", "server-key.pem"];
        if !common::on_postgres() {
            files.push("confer.db");
        }
        for file in files {
            let mode = std::fs::metadata(dir.path().join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
        assert_eq!(server.ca_path(), dir.path().join(confer_server::CA_FILE));
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_keys_accounts_and_meetings() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let first = config(dir.path()).await;
        let server = confer_server::start(first.clone()).await.unwrap();
        let api = Api::new(&server);
        let (_, token) = api.user("ada@example.org", "Ada").await;
        let meeting = api.create_meeting(&token, json!({"topic": "Kept"})).await;
        let (_, jwks_before) = api.get("/.well-known/jwks.json", None).await;
        let ca_before = std::fs::read(server.ca_path()).unwrap();
        let http_port = url_port(&server.api_url());
        let first_client = client(&server);
        server.shutdown().await;

        // Same data directory and API port, so the issuer is the same too.
        let mut again = first;
        again.http_port = http_port;
        let server = confer_server::start(again).await.unwrap();
        assert_eq!(std::fs::read(server.ca_path()).unwrap(), ca_before);
        // A client configured before the restart still trusts the server.
        let api = Api {
            http: first_client,
            base: server.api_url(),
        };
        let (_, jwks_after) = api.get("/.well-known/jwks.json", None).await;
        assert_eq!(jwks_before, jwks_after);
        // The old access token is still good, and the account still logs in.
        let path = format!("/api/v1/meetings/{}", meeting["meeting_id"]);
        assert_eq!(
            api.get(&path, Some(&token)).await,
            (StatusCode::OK, meeting)
        );
        api.login("ada@example.org", "correct horse battery").await;
        server.shutdown().await;
    })
    .await;
}

fn url_port(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_json_errors() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let http = client(&server);
        let url = format!("{}/api/v1/accounts", server.api_url());
        let send = |body: Vec<u8>, content_type: &'static str| {
            let request = http
                .post(&url)
                .header("content-type", content_type)
                .body(body);
            async move {
                let response = request.send().await.unwrap();
                (response.status(), response.json::<Value>().await.unwrap())
            }
        };

        let (status, body) = send(b"{not json".to_vec(), "application/json").await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
        let (status, body) = send(b"[1, 2]".to_vec(), "application/json").await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
        let (status, body) = send(b"{}".to_vec(), "text/plain").await;
        assert_error(
            status,
            &body,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        );
        let mut huge = b"{\"email\":\"".to_vec();
        huge.extend(std::iter::repeat_n(b'a', 100 * 1024));
        huge.extend(b"\"}");
        let (status, body) = send(huge, "application/json").await;
        assert_error(
            status,
            &body,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        );

        let response = http
            .get(format!("{}/no/such/thing", server.api_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            response.json::<Value>().await.unwrap()["error"],
            "not_found"
        );
        let response = http.get(&url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(
            response.json::<Value>().await.unwrap()["error"],
            "method_not_allowed"
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_below_1_3_is_refused() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let ca = std::fs::read(server.ca_path()).unwrap();
        let old = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
            .tls_version_max(reqwest::tls::Version::TLS_1_2)
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        assert!(
            old.get(format!("{}/healthz", server.api_url()))
                .send()
                .await
                .is_err()
        );
        // And a client that does not trust our CA gets nowhere.
        let untrusting = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(
                rcgen::generate_simple_self_signed(vec!["localhost".into()])
                    .unwrap()
                    .cert
                    .pem()
                    .as_bytes(),
            )
            .unwrap()])
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        assert!(
            untrusting
                .get(format!("{}/healthz", server.api_url()))
                .send()
                .await
                .is_err()
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_database_urls_are_refused_clearly() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config(dir.path()).await;
        config.database_url = Some("mysql://confer:hunter2@db.example/confer".into());
        let err = confer_server::start(config).await.unwrap_err();
        let text = err.to_string();
        assert!(text.contains("only sqlite: and postgres://"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    })
    .await;
}
