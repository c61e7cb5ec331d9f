//! OAuth API clients: client secrets, `private_key_jwt` assertions (RFC
//! 7523) with inline keys and with a `jwks_uri`, scopes, and every way an
//! assertion can be wrong.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::https_stub::{Stub, TestCa};
use common::{Api, assert_error, within_timeout};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A client key pair: the private half for signing, the public JWK.
struct ClientKey {
    alg: Algorithm,
    kid: String,
    private: EncodingKey,
    public: Value,
}

impl ClientKey {
    fn ec(kid: &str) -> ClientKey {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        Self::from_pem(Algorithm::ES256, kid, &pair.serialize_pem())
    }

    fn rsa(kid: &str) -> ClientKey {
        let pair =
            rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
                .unwrap();
        Self::from_pem(Algorithm::RS256, kid, &pair.serialize_pem())
    }

    fn from_pem(alg: Algorithm, kid: &str, pem: &str) -> ClientKey {
        let private = match alg {
            Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
            _ => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        };
        let mut jwk = Jwk::from_encoding_key(&private, alg).unwrap();
        jwk.common.key_id = Some(kid.to_owned());
        ClientKey {
            alg,
            kid: kid.to_owned(),
            private,
            public: serde_json::to_value(jwk).unwrap(),
        }
    }

    /// Signs `claims` with this key, naming `kid` in the header.
    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.private).unwrap()
    }
}

/// Good assertion claims for `client_id` at `issuer`, with a fresh jti.
fn claims(client_id: &str, issuer: &str) -> Value {
    let now = now();
    json!({
        "iss": client_id, "sub": client_id, "aud": issuer,
        "iat": now, "exp": now + 60,
        "jti": format!("{:x}", rand::random::<u128>()),
    })
}

async fn token_request(api: &Api, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = api
        .http
        .post(format!("{}/oauth/token", api.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_encode(form))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn form_encode(form: &[(&str, &str)]) -> String {
    form.iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

async fn assertion_token(api: &Api, assertion: &str) -> (StatusCode, Value) {
    token_request(
        api,
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ],
    )
    .await
}

fn assert_oauth_error((status, body): (StatusCode, Value), want: StatusCode, error: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["error"], error, "{body}");
}

async fn admin(api: &Api) -> String {
    api.sign_up(json!({"email": "ada@engines.example", "display_name": "Ada Lovelace"}))
        .await
        .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_secrets_get_scoped_tokens() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = common::start(dir.path()).await;
        let api = Api::new(&server);
        let ada = admin(&api).await;
        let (status, client) = api
            .post(
                "/api/v1/org/oauth-clients",
                Some(&ada),
                json!({"name": "Calendar sync", "scopes": ["meeting:read"], "auth_method": "client_secret"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{client}");
        let id = client["client_id"].as_str().unwrap().to_owned();
        let secret = client["client_secret"].as_str().unwrap().to_owned();
        assert_eq!(secret.len(), 64);
        // Shown once: never listed again.
        let (_, list) = api.get("/api/v1/org/oauth-clients", Some(&ada)).await;
        assert_eq!(list[0]["client_id"], id.as_str());
        assert!(list[0].get("client_secret").is_none(), "{list}");
        assert!(!list.to_string().contains(&secret));

        let (status, grant) = token_request(
            &api,
            &[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", &secret)],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{grant}");
        assert_eq!(grant["token_type"], "Bearer");
        assert_eq!(grant["scope"], "meeting:read");
        assert_eq!(grant["expires_in"], 3600);
        let token = grant["access_token"].as_str().unwrap().to_owned();

        // HTTP Basic works too.
        let response = api
            .http
            .post(format!("{}/oauth/token", api.base))
            .basic_auth(&id, Some(&secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);

        // The scope is enforced.
        assert_eq!(api.get("/api/v1/meetings", Some(&token)).await.0, StatusCode::OK);
        for response in [
            api.post("/api/v1/meetings", Some(&token), json!({"topic": "x"})).await,
            api.get("/api/v1/org/users", Some(&token)).await,
            api.get("/api/v1/org/audit", Some(&token)).await,
            api.get("/api/v1/org/oauth-clients", Some(&token)).await,
        ] {
            assert_error(response, StatusCode::FORBIDDEN, "insufficient_scope");
        }

        // Failures.
        assert_oauth_error(
            token_request(
                &api,
                &[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", "wrong")],
            )
            .await,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        );
        assert_oauth_error(
            token_request(
                &api,
                &[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", &secret),
                  ("scope", "meeting:write")],
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        );
        assert_oauth_error(
            token_request(&api, &[("grant_type", "password"), ("client_id", &id)]).await,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        );

        // Deleting the client kills its tokens.
        let (status, _) = api
            .delete(&format!("/api/v1/org/oauth-clients/{id}"), Some(&ada))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_error(
            api.get("/api/v1/meetings", Some(&token)).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_key_jwt_assertions_are_checked_strictly() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = common::start(dir.path()).await;
        let api = Api::new(&server);
        let ada = admin(&api).await;
        let issuer = server.api_url();
        let ec = ClientKey::ec("ec-1");
        let rsa = ClientKey::rsa("rsa-1");

        // A private key in the JWK is refused.
        let mut leaked = ec.public.clone();
        leaked["d"] = json!("bm90IHJlYWxseSBhIGtleQ");
        assert_error(
            api.post(
                "/api/v1/org/oauth-clients",
                Some(&ada),
                json!({"name": "Leaky", "scopes": ["meeting:read"], "auth_method": "private_key_jwt", "jwk": leaked}),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "private_key_refused",
        );

        let (status, client) = api
            .post(
                "/api/v1/org/oauth-clients",
                Some(&ada),
                json!({"name": "Bot", "scopes": ["meeting:read", "meeting:write"],
                       "auth_method": "private_key_jwt",
                       "jwks": {"keys": [ec.public, rsa.public]}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{client}");
        assert!(client.get("client_secret").is_none());
        assert_eq!(client["key_ids"], json!(["ec-1", "rsa-1"]));
        let id = client["client_id"].as_str().unwrap().to_owned();

        // Good assertions with either key.
        for key in [&ec, &rsa] {
            let (status, grant) = assertion_token(&api, &key.sign(&claims(&id, &issuer))).await;
            assert_eq!(status, StatusCode::OK, "{grant}");
            let token = grant["access_token"].as_str().unwrap();
            assert_eq!(
                api.post("/api/v1/meetings", Some(token), json!({"topic": "Bot meeting"})).await.0,
                StatusCode::CREATED
            );
        }

        // Replayed jti.
        let once = ec.sign(&claims(&id, &issuer));
        assert_eq!(assertion_token(&api, &once).await.0, StatusCode::OK);
        assert_oauth_error(assertion_token(&api, &once).await, StatusCode::UNAUTHORIZED, "invalid_client");

        let now = now();
        let mut bad_cases: Vec<(&str, String)> = Vec::new();
        let mut expired = claims(&id, &issuer);
        expired["iat"] = json!(now - 600);
        expired["exp"] = json!(now - 300);
        bad_cases.push(("expired", ec.sign(&expired)));
        let mut far = claims(&id, &issuer);
        far["exp"] = json!(now + 3600);
        bad_cases.push(("exp too far", ec.sign(&far)));
        let mut future = claims(&id, &issuer);
        future["iat"] = json!(now + 600);
        bad_cases.push(("iat in the future", ec.sign(&future)));
        let mut endpoint_aud = claims(&id, &issuer);
        endpoint_aud["aud"] = json!(format!("{issuer}/oauth/token"));
        bad_cases.push(("wrong audience", ec.sign(&endpoint_aud)));
        let mut two_auds = claims(&id, &issuer);
        two_auds["aud"] = json!([issuer, "https://elsewhere.example"]);
        bad_cases.push(("several audiences", ec.sign(&two_auds)));
        let mut other_sub = claims(&id, &issuer);
        other_sub["sub"] = json!("someone-else");
        bad_cases.push(("sub is not the client", ec.sign(&other_sub)));
        let mut no_jti = claims(&id, &issuer);
        no_jti.as_object_mut().unwrap().remove("jti");
        bad_cases.push(("no jti", ec.sign(&no_jti)));
        // Forged: signed by a key the client never registered, under its kid.
        let impostor = ClientKey::ec("ec-1");
        bad_cases.push(("forged", impostor.sign(&claims(&id, &issuer))));
        let unknown = ClientKey::ec("ec-unknown");
        bad_cases.push(("unknown kid", unknown.sign(&claims(&id, &issuer))));
        bad_cases.push(("not a JWT", "not.a.jwt".to_owned()));
        for (what, assertion) in bad_cases {
            let (status, body) = assertion_token(&api, &assertion).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
            assert_eq!(body["error"], "invalid_client", "{what}: {body}");
        }

        // Rotation of inline keys: the new key works, the old one stops.
        let ec2 = ClientKey::ec("ec-2");
        let (status, rotated) = api
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/org/oauth-clients/{id}/jwks"),
                Some(&ada),
                Some(ec2.public.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{rotated}");
        assert_eq!(assertion_token(&api, &ec2.sign(&claims(&id, &issuer))).await.0, StatusCode::OK);
        assert_eq!(
            assertion_token(&api, &ec.sign(&claims(&id, &issuer))).await.0,
            StatusCode::UNAUTHORIZED
        );

        let (_, trail) = api.get("/api/v1/org/audit", Some(&ada)).await;
        let failures = trail["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "oauth.client_auth_failed")
            .count();
        assert!(failures >= 10, "{trail}");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_uri_is_fetched_cached_and_refreshed_on_an_unknown_kid() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new(dir.path());
        let stub = Stub::start(&ca, 0).await;
        let old = ClientKey::ec("2026-01");
        stub.set_reply(200, &json!({"keys": [old.public]}).to_string());

        let mut config = common::config(dir.path()).await;
        config.outbound_ca_file = Some(ca.cert_path.clone());
        // The stub is on 127.0.0.1, which the SSRF guard refuses by default.
        config.allow_loopback_outbound = true;
        let server = confer_server::start(config).await.unwrap();
        let api = Api::new(&server);
        let issuer = server.api_url();
        let ada = admin(&api).await;

        // Plain http:// is refused.
        assert_error(
            api.post(
                "/api/v1/org/oauth-clients",
                Some(&ada),
                json!({"name": "Bot", "scopes": ["meeting:read"], "auth_method": "private_key_jwt",
                       "jwks_uri": format!("http://{}/jwks.json", stub.addr)}),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_jwks_uri",
        );
        let (status, client) = api
            .post(
                "/api/v1/org/oauth-clients",
                Some(&ada),
                json!({"name": "Bot", "scopes": ["meeting:read"], "auth_method": "private_key_jwt",
                       "jwks_uri": stub.url("/jwks.json")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{client}");
        let id = client["client_id"].as_str().unwrap().to_owned();
        assert_eq!(stub.hits(), 1, "fetched once at registration");

        // Known kid: served from the cache, no fetch.
        assert_eq!(
            assertion_token(&api, &old.sign(&claims(&id, &issuer)))
                .await
                .0,
            StatusCode::OK
        );
        assert_eq!(stub.hits(), 1);

        // The client signs with a new key before publishing it: refused
        // after one refetch.
        let new = ClientKey::ec("2026-02");
        assert_eq!(
            assertion_token(&api, &new.sign(&claims(&id, &issuer)))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(stub.hits(), 2);
        // Published: the unknown kid triggers a refetch and is accepted.
        stub.set_reply(200, &json!({"keys": [old.public, new.public]}).to_string());
        let (status, grant) = assertion_token(&api, &new.sign(&claims(&id, &issuer))).await;
        assert_eq!(status, StatusCode::OK, "{grant}");
        assert_eq!(stub.hits(), 3);
        assert_eq!(
            assertion_token(&api, &new.sign(&claims(&id, &issuer)))
                .await
                .0,
            StatusCode::OK
        );
        assert_eq!(stub.hits(), 3, "cached again");

        // A flood of unknown kids cannot make us hammer the URL.
        for i in 0..10 {
            let stranger = ClientKey::ec(&format!("x-{i}"));
            assert_eq!(
                assertion_token(&api, &stranger.sign(&claims(&id, &issuer)))
                    .await
                    .0,
                StatusCode::UNAUTHORIZED
            );
        }
        assert!(stub.hits() <= 4, "{} fetches", stub.hits());
        server.shutdown().await;
    })
    .await;
}
