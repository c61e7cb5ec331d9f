//! Single sign-on against a real OpenID provider: panva's `oidc-provider`
//! (npm), started from `tests/oidc-provider/` on loopback. The tests drive
//! the browser's part with reqwest, following the provider's own sign-in
//! and consent forms, and the app's part through `/sso/token`.
//!
//! Needs `node` (and `npm ci` in `tests/oidc-provider/`, which the test runs
//! itself if `node_modules` is missing). Without node the tests are skipped
//! with a message, unless `CONFER_REQUIRE_SSO=1` (CI), where they fail.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use base64::Engine as _;
use common::{Api, within_timeout};
use confer_wire::control::{ClientMessage, ServerMessage};
use confer_wire::frame::{FrameKind, frame_bytes};
use confer_wire::ids::MeetingId;
use reqwest::{StatusCode, Url};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// Our client id and secret at the test provider.
const CLIENT_ID: &str = "confer";
const CLIENT_SECRET: &str = "confer-test-secret-0123456789";
/// The (unlistened) loopback URI the "app" waits on.
const APP_REDIRECT: &str = "http://127.0.0.1:49999/sso-done";

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc-provider")
}

/// Whether the provider can run here. Without node: skip, or fail when
/// `CONFER_REQUIRE_SSO=1`.
async fn provider_available() -> bool {
    let required = std::env::var("CONFER_REQUIRE_SSO").is_ok_and(|v| v == "1");
    let node = tokio::process::Command::new("node")
        .arg("--version")
        .output()
        .await
        .is_ok_and(|o| o.status.success());
    if !node {
        assert!(!required, "CONFER_REQUIRE_SSO=1 but node is not installed");
        eprintln!("SKIPPED: node is not installed; the SSO tests need it (tests/oidc-provider)");
        return false;
    }
    if !provider_dir().join("node_modules/oidc-provider").exists() {
        let ok = tokio::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(provider_dir())
            .stdout(Stdio::null())
            .status()
            .await
            .is_ok_and(|s| s.success());
        assert!(ok, "npm ci in tests/oidc-provider failed");
    }
    true
}

/// A running `oidc-provider`, stopped when dropped.
struct Provider {
    issuer: String,
    _child: tokio::process::Child,
}

async fn start_provider(redirect_uri: &str) -> Provider {
    let mut child = tokio::process::Command::new("node")
        .arg("server.mjs")
        .args(["0", redirect_uri, CLIENT_ID, CLIENT_SECRET])
        .current_dir(provider_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let issuer = loop {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("oidc-provider exited before it was ready");
        if let Some(issuer) = line.strip_prefix("oidc-provider ready issuer=") {
            break issuer.to_owned();
        }
    };
    // Keep draining stdout: with the pipe closed, the provider's next
    // notice would kill it with EPIPE.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Provider {
        issuer,
        _child: child,
    }
}

/// The server, the provider, an admin of an organisation managing
/// `example.org`, and its SSO connection `acme`.
struct World {
    _dir: tempfile::TempDir,
    server: confer_server::RunningServer,
    _provider: Provider,
    api: Api,
    admin: String,
    org_id: String,
}

async fn world(mapping: Value) -> World {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(dir.path()).await;
    // The provider listens on http://127.0.0.1, which the SSRF guard
    // refuses by default.
    config.allow_loopback_outbound = true;
    let server = confer_server::start(config).await.unwrap();
    let api = Api::new(&server);
    let provider = start_provider(&format!("{}/sso/callback", server.api_url())).await;
    let (account, admin) = api
        .sign_up(json!({"email": "owner@example.org", "display_name": "Olive Owner"}))
        .await;
    let (status, body) = api
        .post(
            "/api/v1/org/domains",
            Some(&admin),
            json!({"domain": "example.org"}),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let mut connection = json!({
        "slug": "acme", "issuer": provider.issuer,
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
    });
    for (k, v) in mapping.as_object().unwrap() {
        connection[k] = v.clone();
    }
    let (status, body) = api
        .post("/api/v1/org/sso-connections", Some(&admin), connection)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["redirect_uri"],
        format!("{}/sso/callback", server.api_url())
    );
    assert!(body.get("client_secret").is_none(), "{body}");
    World {
        org_id: account["org_id"].as_str().unwrap().to_owned(),
        _dir: dir,
        server,
        _provider: provider,
        api,
        admin,
    }
}

/// The app's PKCE pair.
fn pkce() -> (String, String) {
    let verifier = format!("verifier-{:032x}-{:016x}", rand::random::<u128>(), 7u64);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// A browser: keeps cookies, does not follow redirects on its own, trusts
/// the server's CA.
fn browser(server: &confer_server::RunningServer) -> reqwest::Client {
    let ca = std::fs::read(server.ca_path()).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap()
}

/// The `action` and `prompt` of the provider's form on `html`.
fn form(html: &str) -> (String, String) {
    let after = |haystack: &str, marker: &str| -> String {
        let start = haystack
            .find(marker)
            .unwrap_or_else(|| panic!("no {marker} in {html}"))
            + marker.len();
        let end = haystack[start..].find('"').unwrap() + start;
        haystack[start..end].replace("&amp;", "&")
    };
    let form = &html[html
        .find("<form")
        .unwrap_or_else(|| panic!("no form in {html}"))..];
    (
        after(form, "action=\""),
        after(form, "name=\"prompt\" value=\""),
    )
}

/// Plays the browser from `start_url` through the provider's sign-in (as
/// `account`) and consent, until a redirect to the app; returns the app's
/// redirect URL.
async fn sign_in(browser: &reqwest::Client, start_url: &str, account: &str) -> Url {
    let mut url = Url::parse(start_url).unwrap();
    let mut pending_form: Option<(Url, Vec<(&str, String)>)> = None;
    for _ in 0..20 {
        let response = match pending_form.take() {
            Some((action, fields)) => browser.post(action).form(&fields).send().await.unwrap(),
            None => browser.get(url.clone()).send().await.unwrap(),
        };
        let status = response.status();
        if status.is_redirection() {
            let location = response.headers()[reqwest::header::LOCATION]
                .to_str()
                .unwrap()
                .to_owned();
            url = url.join(&location).unwrap();
            if url.as_str().starts_with(APP_REDIRECT) {
                return url;
            }
            continue;
        }
        let body = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{url}: {body}");
        let (action, prompt) = form(&body);
        let action = url.join(&action).unwrap();
        let fields = match prompt.as_str() {
            "login" => vec![
                ("prompt", prompt.clone()),
                ("login", account.to_owned()),
                ("password", "any password".to_owned()),
            ],
            _ => vec![("prompt", prompt.clone())],
        };
        pending_form = Some((action, fields));
    }
    panic!("the sign-in never came back to the app");
}

fn query(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn start_url(world: &World, challenge: &str, app_state: &str) -> String {
    let mut url = Url::parse(&format!("{}/sso/acme/start", world.server.api_url())).unwrap();
    url.query_pairs_mut()
        .append_pair("redirect_uri", APP_REDIRECT)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", app_state);
    url.into()
}

/// Signs `account` in through SSO and returns the app's redirect.
async fn app_sign_in(world: &World, account: &str) -> (Url, String) {
    let (verifier, challenge) = pkce();
    let browser = browser(&world.server);
    let back = sign_in(
        &browser,
        &start_url(world, &challenge, "app-state-1"),
        account,
    )
    .await;
    assert_eq!(query(&back, "state").as_deref(), Some("app-state-1"));
    (back, verifier)
}

async fn redeem(world: &World, code: &str, verifier: &str) -> (StatusCode, Value) {
    world
        .api
        .post(
            "/sso/token",
            None,
            json!({"code": code, "redirect_uri": APP_REDIRECT, "code_verifier": verifier}),
        )
        .await
}

/// Reads one control frame and decodes it.
async fn read_message<S: AsyncReadExt + Unpin>(stream: &mut S) -> ServerMessage {
    let mut header = [0u8; 5];
    stream.read_exact(&mut header).await.unwrap();
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).await.unwrap();
    ServerMessage::decode(&payload).unwrap()
}

/// Joins meeting `id` through the router with a join token's response;
/// returns the router's first answer.
async fn join(server: &confer_server::RunningServer, id: u64, grant: &Value) -> ServerMessage {
    let ca_pem = std::fs::read(server.ca_path()).unwrap();
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
    let name =
        ServerName::try_from(grant["router"]["server_name"].as_str().unwrap().to_owned()).unwrap();
    let tcp = tokio::net::TcpStream::connect(grant["router"]["tls"].as_str().unwrap())
        .await
        .unwrap();
    let mut stream = tokio_rustls::TlsConnector::from(Arc::new(tls))
        .connect(name, tcp)
        .await
        .unwrap();
    let hello = ClientMessage::Join {
        version: confer_wire::PROTOCOL_VERSION,
        meeting_id: MeetingId(id),
        token: grant["token"].as_str().unwrap().to_owned(),
    };
    stream
        .write_all(&frame_bytes(FrameKind::Control, &hello.encode()).unwrap())
        .await
        .unwrap();
    read_message(&mut stream).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_signs_in_is_provisioned_into_the_organisation_and_joins_a_meeting() {
    if !provider_available().await {
        return;
    }
    within_timeout(async {
        let world = world(json!({})).await;
        let (back, verifier) = app_sign_in(&world, "ada@example.org").await;
        assert_eq!(query(&back, "error"), None, "{back}");
        let code = query(&back, "code").unwrap();

        // The one-time code needs the app's verifier; a wrong one spends it.
        let (status, body) = redeem(&world, &code, &"x".repeat(43)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"], "invalid_grant");
        let (status, _) = redeem(&world, &code, &verifier).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "a spent code stays spent");

        // A fresh sign-in of the same person: the identity is now linked.
        let (back, verifier) = app_sign_in(&world, "ada@example.org").await;
        let code = query(&back, "code").unwrap();
        let (status, session) = redeem(&world, &code, &verifier).await;
        assert_eq!(status, StatusCode::OK, "{session}");
        let ada = session["access_token"].as_str().unwrap().to_owned();
        let (status, again) = redeem(&world, &code, &verifier).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "replayed code: {again}");

        let (_, me) = world.api.get("/api/v1/me", Some(&ada)).await;
        assert_eq!(me["email"], "ada@example.org");
        assert_eq!(
            me["org_id"],
            world.org_id.as_str(),
            "provisioned into the right organisation"
        );
        assert_eq!(me["role"], "member");
        assert_eq!(me["first_name"], "Ada");
        let (_, users) = world.api.get("/api/v1/org/users", Some(&world.admin)).await;
        let listed = users.to_string();
        assert_eq!(listed.matches("ada@example.org").count(), 1, "{users}");

        // The provisioned account cannot log in with a password.
        let (status, _) = world
            .api
            .post(
                "/api/v1/login",
                None,
                json!({"email": "ada@example.org", "password": ""}),
            )
            .await;
        assert!(status.is_client_error());

        // The owner schedules a meeting; Ada joins it through the router.
        let (status, meeting) = world
            .api
            .post(
                "/api/v1/meetings",
                Some(&world.admin),
                json!({"topic": "Stand-up"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{meeting}");
        let id = meeting["meeting_id"].as_u64().unwrap();
        let (status, grant) = world
            .api
            .post(
                &format!("/api/v1/meetings/{id}/join-token"),
                Some(&ada),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{grant}");
        match join(&world.server, id, &grant).await {
            ServerMessage::Joined { meeting_id, .. } => assert_eq!(meeting_id, MeetingId(id)),
            other => panic!("expected joined, got {other:?}"),
        }

        // The audit trail says who was provisioned, and how they signed in.
        let (_, audit) = world.api.get("/api/v1/org/audit", Some(&world.admin)).await;
        let audit = audit.to_string();
        assert!(audit.contains("sso.user_provisioned"), "{audit}");
        assert!(audit.contains("login.sso"), "{audit}");
        world.server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_for_no_organisation_and_bad_state_are_refused() {
    if !provider_available().await {
        return;
    }
    within_timeout(async {
        let world = world(json!({})).await;

        // An email at a domain no organisation here manages.
        let (back, _) = app_sign_in(&world, "eve@elsewhere.test").await;
        assert_eq!(query(&back, "code"), None);
        assert_eq!(
            query(&back, "error").as_deref(),
            Some("no_matching_organisation")
        );
        assert!(
            query(&back, "error_description")
                .unwrap()
                .contains("elsewhere.test")
        );
        // An unverified email at the right domain.
        let (back, _) = app_sign_in(&world, "unverified@example.org").await;
        assert_eq!(
            query(&back, "error").as_deref(),
            Some("access_denied"),
            "{back}"
        );
        let (_, users) = world.api.get("/api/v1/org/users", Some(&world.admin)).await;
        assert!(!users.to_string().contains("elsewhere.test"));
        assert!(!users.to_string().contains("unverified@"), "{users}");

        // A callback with a state we never issued, or one already used.
        let browser = browser(&world.server);
        let api = world.server.api_url();
        let forged = browser
            .get(format!("{api}/sso/callback?code=abc&state=forged"))
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
        let body: Value = forged.json().await.unwrap();
        assert_eq!(body["error"], "invalid_state");

        // Replay the provider's redirect to our callback: the state is spent.
        let (_, challenge) = pkce();
        let mut url = Url::parse(&start_url(&world, &challenge, "s")).unwrap();
        let mut callback = None;
        for _ in 0..20 {
            let response = browser.get(url.clone()).send().await.unwrap();
            if !response.status().is_redirection() {
                let html = response.text().await.unwrap();
                let (action, prompt) = form(&html);
                let mut fields = vec![("prompt", prompt.clone())];
                if prompt == "login" {
                    fields.push(("login", "bob@example.org".into()));
                    fields.push(("password", "pw".into()));
                }
                let r = browser
                    .post(url.join(&action).unwrap())
                    .form(&fields)
                    .send()
                    .await
                    .unwrap();
                url = url
                    .join(r.headers()[reqwest::header::LOCATION].to_str().unwrap())
                    .unwrap();
                continue;
            }
            let next = url
                .join(
                    response.headers()[reqwest::header::LOCATION]
                        .to_str()
                        .unwrap(),
                )
                .unwrap();
            if next.as_str().starts_with(&format!("{api}/sso/callback")) {
                callback = Some(next);
                break;
            }
            url = next;
        }
        let callback = callback.expect("the provider never redirected to our callback");
        let first = browser.get(callback.clone()).send().await.unwrap();
        assert_eq!(first.status(), StatusCode::SEE_OTHER);
        let replay = browser.get(callback).send().await.unwrap();
        assert_eq!(replay.status(), StatusCode::BAD_REQUEST);

        // Redirect URIs other than loopback or our own origin are refused.
        for bad in ["https://evil.example/cb", "http://localhost:5000/cb"] {
            let mut url = Url::parse(&format!("{api}/sso/acme/start")).unwrap();
            url.query_pairs_mut()
                .append_pair("redirect_uri", bad)
                .append_pair("code_challenge", &challenge)
                .append_pair("code_challenge_method", "S256");
            let response = browser.get(url).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        }
        // PKCE towards us is required.
        let mut url = Url::parse(&format!("{api}/sso/acme/start")).unwrap();
        url.query_pairs_mut()
            .append_pair("redirect_uri", APP_REDIRECT);
        assert_eq!(
            browser.get(url).send().await.unwrap().status(),
            StatusCode::BAD_REQUEST
        );
        world.server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_org_claim_maps_people_to_the_organisation() {
    if !provider_available().await {
        return;
    }
    within_timeout(async {
        let world =
            world(json!({"mapping": "claim", "claim_name": "org", "claim_value": "acme"})).await;
        // The provider's account `ORG:EMAIL` carries the claim org = ORG.
        let (back, verifier) = app_sign_in(&world, "acme:grace@contractor.test").await;
        let code = query(&back, "code").unwrap_or_else(|| panic!("{back}"));
        let (status, session) = redeem(&world, &code, &verifier).await;
        assert_eq!(status, StatusCode::OK, "{session}");
        assert_eq!(session["org_id"], world.org_id.as_str());

        let (back, _) = app_sign_in(&world, "globex:hal@contractor.test").await;
        assert_eq!(
            query(&back, "error").as_deref(),
            Some("no_matching_organisation")
        );

        // The right claim, but an address at a domain another organisation
        // manages: not provisioned here.
        let (_, globex) = world
            .api
            .sign_up(json!({"email": "gina@globex.test", "display_name": "Gina"}))
            .await;
        let (status, _) = world
            .api
            .post(
                "/api/v1/org/domains",
                Some(&globex),
                json!({"domain": "globex.test"}),
            )
            .await;
        assert!(status.is_success());
        let (back, _) = app_sign_in(&world, "acme:mallory@globex.test").await;
        assert_eq!(
            query(&back, "error").as_deref(),
            Some("no_matching_organisation"),
            "{back}"
        );
        world.server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_on_loopback_are_refused_without_the_test_setting() {
    if !provider_available().await {
        return;
    }
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = common::start(dir.path()).await;
        let api = Api::new(&server);
        let provider = start_provider(&format!("{}/sso/callback", server.api_url())).await;
        let (_, admin) = api
            .sign_up(json!({"email": "owner@example.org", "display_name": "Olive Owner"}))
            .await;
        let (status, body) = api
            .post(
                "/api/v1/org/sso-connections",
                Some(&admin),
                json!({"slug": "acme", "issuer": provider.issuer,
                       "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"], "invalid_issuer");
        server.shutdown().await;
    })
    .await;
}
