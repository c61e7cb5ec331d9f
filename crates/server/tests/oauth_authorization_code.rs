//! The OAuth `authorization_code` grant for API clients (RFC 6749 §4.1 with
//! PKCE, RFC 7636): a signed-in user approves a client, the client
//! exchanges the code with `private_key_jwt` (RFC 7523) or its secret, and
//! every binding of the code (client, redirect URI, verifier, expiry,
//! single use) is enforced. Also the SSRF guard on `jwks_uri`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine as _;
use common::https_stub::{Stub, TestCa};
use common::{Api, assert_error, within_timeout};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{StatusCode, Url};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const REDIRECT: &str = "https://calendar.example/oauth/callback";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A client's ES256 key pair.
struct ClientKey {
    private: EncodingKey,
    public: Value,
}

impl ClientKey {
    fn new() -> ClientKey {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let private = EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap();
        let mut jwk = Jwk::from_encoding_key(&private, Algorithm::ES256).unwrap();
        jwk.common.key_id = Some("k1".into());
        ClientKey {
            private,
            public: serde_json::to_value(jwk).unwrap(),
        }
    }

    /// A fresh client assertion for `client_id` at `issuer`.
    fn assertion(&self, client_id: &str, issuer: &str) -> String {
        let now = now();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("k1".into());
        let claims = json!({
            "iss": client_id, "sub": client_id, "aud": issuer,
            "iat": now, "exp": now + 60,
            "jti": format!("{:x}", rand::random::<u128>()),
        });
        jsonwebtoken::encode(&header, &claims, &self.private).unwrap()
    }
}

/// A PKCE verifier and its S256 challenge.
fn pkce() -> (String, String) {
    let verifier = format!(
        "{:032x}{:032x}",
        rand::random::<u128>(),
        rand::random::<u128>()
    );
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// An API client that does not follow redirects (to read `Location`).
fn no_redirects(server: &confer_server::RunningServer) -> reqwest::Client {
    let ca = std::fs::read(server.ca_path()).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

struct World {
    _dir: tempfile::TempDir,
    server: confer_server::RunningServer,
    api: Api,
    http: reqwest::Client,
    /// The owner (admin) of the organisation.
    owner: String,
    /// A member, who approves clients.
    bob: String,
    bob_id: String,
    /// A `private_key_jwt` client with meeting:read and meeting:write.
    client_id: String,
    key: ClientKey,
    /// The test's PostgreSQL database, or `None` for SQLite.
    database_url: Option<String>,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(dir.path()).await;
    let database_url = config.database_url.clone();
    let server = confer_server::start(config).await.unwrap();
    let api = Api::new(&server);
    let (_, owner) = api
        .sign_up(json!({"email": "ada@engines.example", "display_name": "Ada Lovelace"}))
        .await;
    let (status, _) = api
        .post(
            "/api/v1/org/domains",
            Some(&owner),
            json!({"domain": "engines.example"}),
        )
        .await;
    assert!(status.is_success());
    let (bob_account, bob) = api
        .sign_up(json!({"email": "bob@engines.example", "display_name": "Bob Babbage"}))
        .await;
    let key = ClientKey::new();
    let (status, client) = api
        .post(
            "/api/v1/org/oauth-clients",
            Some(&owner),
            json!({"name": "Calendar", "scopes": ["meeting:read", "meeting:write"],
                   "auth_method": "private_key_jwt", "jwk": key.public}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    let client_id = client["client_id"].as_str().unwrap().to_owned();
    let (status, body) = api
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/org/oauth-clients/{client_id}/redirect-uris"),
            Some(&owner),
            Some(json!({"redirect_uris": [REDIRECT]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    World {
        database_url,
        http: no_redirects(&server),
        _dir: dir,
        server,
        api,
        owner,
        bob,
        bob_id: bob_account["user_id"].as_str().unwrap().to_owned(),
        client_id,
        key,
    }
}

fn authorize_request(client_id: &str, challenge: &str, scope: &str) -> Value {
    json!({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
        "scope": scope, "state": "xyz-42",
        "code_challenge": challenge, "code_challenge_method": "S256",
    })
}

/// `POST /oauth/authorize` as `user`; returns the status and `Location`.
async fn decide(world: &World, user: &str, body: Value) -> (StatusCode, Option<Url>) {
    let response = world
        .http
        .post(format!("{}/oauth/authorize", world.api.base))
        .bearer_auth(user)
        .json(&body)
        .send()
        .await
        .unwrap();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|l| Url::parse(l.to_str().unwrap()).unwrap());
    (response.status(), location)
}

fn param(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Bob approves `scope`; returns the code and its verifier.
async fn approved_code(world: &World, scope: &str) -> (String, String) {
    let (verifier, challenge) = pkce();
    let mut body = authorize_request(&world.client_id, &challenge, scope);
    body["approve"] = json!(true);
    let (status, location) = decide(world, &world.bob, body).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    assert!(location.as_str().starts_with(REDIRECT), "{location}");
    assert_eq!(param(&location, "state").as_deref(), Some("xyz-42"));
    (param(&location, "code").unwrap(), verifier)
}

async fn token_request(
    api: &Api,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut request = api
        .http
        .post(format!("{}/oauth/token", api.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// Exchanges `code` as the `private_key_jwt` client.
async fn exchange(
    world: &World,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> (StatusCode, Value) {
    let assertion = world
        .key
        .assertion(&world.client_id, &world.server.api_url());
    token_request(
        &world.api,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion),
        ],
    )
    .await
}

fn assert_oauth_error((status, body): (StatusCode, Value), want: StatusCode, error: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string(), "{body}");
}

/// The claims of one of our access tokens (already verified by the server
/// whenever it is used; read here only to look).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_approves_a_client_which_then_acts_for_them_with_the_approved_scopes() {
    within_timeout(async {
        let world = world().await;
        let (_, challenge) = pkce();

        // The consent screen's question.
        let mut url = Url::parse(&format!("{}/oauth/authorize", world.api.base)).unwrap();
        for (k, v) in authorize_request(&world.client_id, &challenge, "meeting:read")
            .as_object()
            .unwrap()
        {
            url.query_pairs_mut().append_pair(k, v.as_str().unwrap());
        }
        let response = world
            .api
            .http
            .get(url)
            .bearer_auth(&world.bob)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let consent: Value = response.json().await.unwrap();
        assert_eq!(consent["client_name"], "Calendar");
        assert_eq!(consent["scopes"], json!(["meeting:read"]));

        let (code, verifier) = approved_code(&world, "meeting:read").await;
        let (status, token) = exchange(&world, &code, REDIRECT, &verifier).await;
        assert_eq!(status, StatusCode::OK, "{token}");
        assert_eq!(token["scope"], "meeting:read");
        assert_eq!(token["token_type"], "Bearer");
        let access = token["access_token"].as_str().unwrap().to_owned();
        let claims = claims(&access);
        assert_eq!(
            claims["sub"],
            world.bob_id.as_str(),
            "the token carries the user"
        );
        assert_eq!(claims["client_id"], world.client_id.as_str());
        assert_eq!(claims["scope"], "meeting:read");

        // It may read meetings, but not write them: only what Bob approved.
        let (status, _) = world.api.get("/api/v1/meetings", Some(&access)).await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = world
            .api
            .post("/api/v1/meetings", Some(&access), json!({"topic": "x"}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["error"], "insufficient_scope");

        // A replayed code is refused; the token already issued still works.
        assert_oauth_error(
            exchange(&world, &code, REDIRECT, &verifier).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        );
        let (status, _) = world.api.get("/api/v1/meetings", Some(&access)).await;
        assert_eq!(status, StatusCode::OK);

        // The audit trail records the approval.
        let (_, audit) = world.api.get("/api/v1/org/audit", Some(&world.owner)).await;
        assert!(
            audit.to_string().contains("oauth.client_authorized"),
            "{audit}"
        );
        world.server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_are_bound_to_client_redirect_uri_verifier_and_time() {
    within_timeout(async {
        let world = world().await;

        // Wrong verifier: refused, and the code is spent.
        let (code, verifier) = approved_code(&world, "").await;
        let (wrong, _) = pkce();
        assert_oauth_error(
            exchange(&world, &code, REDIRECT, &wrong).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        );
        assert_oauth_error(
            exchange(&world, &code, REDIRECT, &verifier).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        );

        // Another redirect URI than the request's.
        let (code, verifier) = approved_code(&world, "").await;
        assert_oauth_error(
            exchange(&world, &code, "https://calendar.example/other", &verifier).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        );

        // A missing verifier is a malformed request and spends nothing.
        let (code, verifier) = approved_code(&world, "").await;
        let assertion = world.key.assertion(&world.client_id, &world.server.api_url());
        assert_oauth_error(
            token_request(
                &world.api,
                None,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("client_assertion_type", ASSERTION_TYPE),
                    ("client_assertion", &assertion),
                ],
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );
        let (status, body) = exchange(&world, &code, REDIRECT, &verifier).await;
        assert_eq!(status, StatusCode::OK, "the malformed request spent nothing: {body}");

        // Another client (with a secret) cannot redeem Bob's code for the first.
        let (code, verifier) = approved_code(&world, "").await;
        let (status, other) = world
            .api
            .post(
                "/api/v1/org/oauth-clients",
                Some(&world.owner),
                json!({"name": "Other", "scopes": ["meeting:read"], "auth_method": "client_secret"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let other_id = other["client_id"].as_str().unwrap().to_owned();
        let other_secret = other["client_secret"].as_str().unwrap().to_owned();
        assert_oauth_error(
            token_request(
                &world.api,
                Some((&other_id, &other_secret)),
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", &verifier),
                ],
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        );
        // Wrong client authentication is invalid_client, before any code check.
        assert_oauth_error(
            token_request(
                &world.api,
                Some((&other_id, "wrong")),
                &[
                    ("grant_type", "authorization_code"),
                    ("code", "whatever"),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", &verifier),
                ],
            )
            .await,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        );

        // An expired code: written straight into the store, a minute old.
        let (expired_verifier, challenge) = pkce();
        let expired_code = "expired-code-for-the-test";
        let hash: String = Sha256::digest(expired_code.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let pool = writable_pool(&world).await;
        sqlx::query(
            "INSERT INTO oauth_authorization_codes (code_hash, client_id, user_id, redirect_uri, \
             scopes, code_challenge, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&hash)
        .bind(&world.client_id)
        .bind(&world.bob_id)
        .bind(REDIRECT)
        .bind("meeting:read")
        .bind(&challenge)
        .bind(i64::try_from(now()).unwrap() - 1)
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        assert_oauth_error(
            exchange(&world, expired_code, REDIRECT, &expired_verifier).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        );
        world.server.shutdown().await;
    })
    .await;
}

/// A read-write pool on the server's database.
async fn writable_pool(world: &World) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let url = match &world.database_url {
        Some(url) => url.clone(),
        None => format!(
            "sqlite://{}",
            world.server.database_path().unwrap().display()
        ),
    };
    sqlx::AnyPool::connect(&url).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authorize_endpoint_checks_the_request() {
    within_timeout(async {
        let world = world().await;
        let (_, challenge) = pkce();

        // Unknown redirect URI or client: an error page, never a redirect.
        let mut body = authorize_request(&world.client_id, &challenge, "");
        body["redirect_uri"] = json!("https://calendar.example/oauth/callback/extra");
        body["approve"] = json!(true);
        let (status, location) = decide(&world, &world.bob, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(location.is_none());
        let mut body = authorize_request("c-unknown", &challenge, "");
        body["approve"] = json!(true);
        assert_error(
            world
                .api
                .post("/oauth/authorize", Some(&world.bob), body)
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_client",
        );

        // Other errors go back to the client, with its state.
        let cases = [
            (json!({"code_challenge_method": "plain"}), "invalid_request"),
            (json!({"code_challenge": null}), "invalid_request"),
            (json!({"scope": "audit:read"}), "invalid_scope"),
            (
                json!({"response_type": "token"}),
                "unsupported_response_type",
            ),
            (json!({"approve": false}), "access_denied"),
        ];
        for (change, error) in cases {
            let mut body = authorize_request(&world.client_id, &challenge, "");
            body["approve"] = json!(true);
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            let (status, location) = decide(&world, &world.bob, body).await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{error}");
            let location = location.unwrap();
            assert_eq!(
                param(&location, "error").as_deref(),
                Some(error),
                "{location}"
            );
            assert_eq!(param(&location, "state").as_deref(), Some("xyz-42"));
            assert_eq!(param(&location, "code"), None);
        }

        // Signed in is required, and a user of another organisation cannot
        // approve this organisation's client.
        let mut body = authorize_request(&world.client_id, &challenge, "");
        body["approve"] = json!(true);
        assert_error(
            world.api.post("/oauth/authorize", None, body.clone()).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        );
        let (_, stranger) = world
            .api
            .sign_up(json!({"email": "eve@elsewhere.example", "display_name": "Eve"}))
            .await;
        assert_error(
            world
                .api
                .post("/oauth/authorize", Some(&stranger), body)
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_client",
        );

        // Only https (or loopback http) redirect URIs can be registered.
        let (status, _) = world
            .api
            .call(
                reqwest::Method::PUT,
                &format!(
                    "/api/v1/org/oauth-clients/{}/redirect-uris",
                    world.client_id
                ),
                Some(&world.owner),
                Some(json!({"redirect_uris": ["http://calendar.example/cb"]})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        world.server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_uri_on_loopback_is_refused_by_default() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new(dir.path());
        let stub = Stub::start(&ca, 0).await;
        stub.set_reply(200, &json!({"keys": [ClientKey::new().public]}).to_string());
        let mut config = common::config(dir.path()).await;
        config.outbound_ca_file = Some(ca.cert_path.clone());
        let server = confer_server::start(config).await.unwrap();
        let api = Api::new(&server);
        let (_, owner) = api
            .sign_up(json!({"email": "ada@engines.example", "display_name": "Ada"}))
            .await;
        let (status, body) = api
            .post(
                "/api/v1/org/oauth-clients",
                Some(&owner),
                json!({"name": "Bot", "scopes": ["meeting:read"], "auth_method": "private_key_jwt",
                       "jwks_uri": stub.url("/jwks.json")}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"], "invalid_jwks_uri");
        assert_eq!(stub.hits(), 0, "the guard refuses before connecting");
        server.shutdown().await;
    })
    .await;
}
