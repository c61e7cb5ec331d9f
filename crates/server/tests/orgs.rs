//! Organisations, accounts, lockout and administration against a real
//! server (SQLite, or PostgreSQL with `CONFER_TEST_DATABASE_URL`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Api, PASSWORD, assert_error, start, within_timeout};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_makes_an_organisation_and_the_profile_is_minimal() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let api = Api::new(&server);
        let (ada, token) = api
            .sign_up(json!({
                "email": "ada@engines.example", "first_name": "Ada", "last_name": "Lovelace",
                "company": "Analytical Engines", "phone": "+44 20 7946 0958",
                "picture_url": "https://engines.example/ada.png",
            }))
            .await;
        assert_eq!(ada["display_name"], "Ada Lovelace");
        assert_eq!(ada["role"], "owner");
        assert_eq!(ada["plan"], "basic");
        let (status, me) = api.get("/api/v1/me", Some(&token)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me, ada);
        let mut fields: Vec<&str> = me.as_object().unwrap().keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "company", "display_name", "email", "first_name", "last_name", "org_id",
                "phone", "picture_url", "plan", "role", "user_id"
            ]
        );
        // A second sign-up at an unmanaged domain gets an organisation of its own.
        let (bob, _) = api
            .sign_up(json!({"email": "bob@engines.example", "display_name": "Bob Babbage"}))
            .await;
        assert_ne!(bob["org_id"], ada["org_id"]);
        assert_eq!(bob["first_name"], "Bob");
        assert_eq!(bob["last_name"], "Babbage");
        for bad in [
            json!({"email": "c@x.example", "first_name": "C", "phone": "call me", "password": PASSWORD}),
            json!({"email": "c@x.example", "first_name": "C", "picture_url": "http://x", "password": PASSWORD}),
            json!({"email": "c@x.example", "password": PASSWORD}),
        ] {
            assert_error(
                api.post("/api/v1/accounts", None, bad).await,
                StatusCode::BAD_REQUEST,
                "invalid_request",
            );
        }
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_wrong_passwords_lock_the_account_and_are_audited() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let api = Api::new(&server);
        let (_, token) = api
            .sign_up(json!({"email": "ada@engines.example", "display_name": "Ada Lovelace"}))
            .await;
        let wrong = json!({"email": "ada@engines.example", "password": "wrong password"});
        for _ in 0..4 {
            assert_error(
                api.post("/api/v1/login", None, wrong.clone()).await,
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
            );
        }
        let response = api
            .http
            .post(format!("{}/api/v1/login", api.base))
            .json(&wrong)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::LOCKED);
        assert!(response.headers().contains_key("retry-after"));
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "account_locked");
        assert!(
            body["message"].as_str().unwrap().contains("locked"),
            "{body}"
        );
        // Even the right password is refused while locked.
        assert_error(
            api.post(
                "/api/v1/login",
                None,
                json!({"email": "ada@engines.example", "password": PASSWORD}),
            )
            .await,
            StatusCode::LOCKED,
            "account_locked",
        );
        let (status, trail) = api.get("/api/v1/org/audit", Some(&token)).await;
        assert_eq!(status, StatusCode::OK);
        let actions: Vec<&str> = trail["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            [
                "account.created",
                "login.succeeded",
                "login.failed",
                "login.failed",
                "login.failed",
                "login.failed",
                "login.failed",
                "account.locked",
                "login.refused_locked"
            ]
        );
        let locked = &trail["events"][7]["sentence"];
        assert!(
            locked
                .as_str()
                .unwrap()
                .starts_with("Ada Lovelace was locked out after 5 failed logins at "),
            "{locked}"
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_attempts_are_rate_limited_per_email() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let api = Api::new(&server);
        let attempt = json!({"email": "nobody@engines.example", "password": "guess guess"});
        for _ in 0..10 {
            assert_error(
                api.post("/api/v1/login", None, attempt.clone()).await,
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
            );
        }
        assert_error(
            api.post("/api/v1/login", None, attempt).await,
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_domains_gather_sign_ups_and_cannot_be_hijacked() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let api = Api::new(&server);
        let (eve, eve_token) = api
            .sign_up(json!({"email": "eve@engines.example", "display_name": "Eve"}))
            .await;
        let (ada, ada_token) = api
            .sign_up(json!({"email": "ada@engines.example", "display_name": "Ada"}))
            .await;
        let (_, mallory_token) = api
            .sign_up(json!({"email": "mallory@evil.example", "display_name": "Mallory"}))
            .await;
        // Only one's own email domain can be claimed.
        assert_error(
            api.post(
                "/api/v1/org/domains",
                Some(&mallory_token),
                json!({"domain": "engines.example"}),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        assert_error(
            api.post(
                "/api/v1/org/domains",
                Some(&ada_token),
                json!({"domain": "gmail.com"}),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        let (status, body) = api
            .post(
                "/api/v1/org/domains",
                Some(&ada_token),
                json!({"domain": "Engines.Example"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        // First come, first served.
        assert_error(
            api.post(
                "/api/v1/org/domains",
                Some(&eve_token),
                json!({"domain": "engines.example"}),
            )
            .await,
            StatusCode::CONFLICT,
            "domain_taken",
        );
        let (charles, _) = api
            .sign_up(json!({"email": "charles@engines.example", "display_name": "Charles"}))
            .await;
        assert_eq!(charles["org_id"], ada["org_id"]);
        assert_eq!(charles["role"], "member");
        // Eve signed up before; she keeps her own organisation.
        let (_, me) = api.get("/api/v1/me", Some(&eve_token)).await;
        assert_eq!(me["org_id"], eve["org_id"]);

        let (status, org) = api.get("/api/v1/org", Some(&ada_token)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(org["managed_domains"], json!(["engines.example"]));
        let (status, _) = api
            .delete("/api/v1/org/domains/engines.example", Some(&mallory_token))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = api
            .delete("/api/v1/org/domains/engines.example", Some(&ada_token))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (dan, _) = api
            .sign_up(json!({"email": "dan@engines.example", "display_name": "Dan"}))
            .await;
        assert_ne!(dan["org_id"], ada["org_id"]);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_users_only_in_their_own_organisation() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let api = Api::new(&server);
        let (ada, ada_token) = api
            .sign_up(json!({"email": "ada@engines.example", "display_name": "Ada"}))
            .await;
        let (mallory, mallory_token) = api
            .sign_up(json!({"email": "mallory@evil.example", "display_name": "Mallory"}))
            .await;

        // Add an admin with a password, and a member.
        let (status, grace) = api
            .post(
                "/api/v1/org/users",
                Some(&ada_token),
                json!({"email": "grace@engines.example", "first_name": "Grace", "last_name": "Hopper",
                       "role": "admin", "plan": "pro", "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{grace}");
        assert_eq!(grace["org_id"], ada["org_id"]);
        assert_eq!(grace["role"], "admin");
        let grace_token = api.login("grace@engines.example", PASSWORD).await;
        let (status, users) = api.get("/api/v1/org/users", Some(&grace_token)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(users.as_array().unwrap().len(), 2);

        // Pre-provision a batch: one good, one duplicate, one invalid.
        let (status, results) = api
            .post(
                "/api/v1/org/users/provision",
                Some(&ada_token),
                json!({"users": [
                    {"email": "alan@engines.example", "display_name": "Alan Turing"},
                    {"email": "grace@engines.example", "display_name": "Grace again"},
                    {"email": "not an email", "display_name": "X"},
                ]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{results}");
        assert_eq!(results[0]["user"]["email"], "alan@engines.example");
        assert_eq!(results[1]["error"], "email_taken");
        assert_eq!(results[2]["error"], "invalid_request");
        let alan_id = results[0]["user"]["user_id"].as_str().unwrap().to_owned();
        // A pre-provisioned account cannot log in with any password.
        assert_error(
            api.post(
                "/api/v1/login",
                None,
                json!({"email": "alan@engines.example", "password": ""}),
            )
            .await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        );

        // Change a plan; the owner cannot be demoted or deleted.
        let (status, alan) = api
            .patch(
                &format!("/api/v1/org/users/{alan_id}"),
                Some(&grace_token),
                json!({"plan": "business"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{alan}");
        assert_eq!(alan["plan"], "business");
        let ada_id = ada["user_id"].as_str().unwrap();
        assert_error(
            api.patch(
                &format!("/api/v1/org/users/{ada_id}"),
                Some(&grace_token),
                json!({"role": "member"}),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        assert_error(
            api.delete(&format!("/api/v1/org/users/{ada_id}"), Some(&grace_token))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        assert_error(
            api.patch(
                &format!("/api/v1/org/users/{alan_id}"),
                Some(&grace_token),
                json!({"plan": "platinum"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );

        // Another organisation's admin sees and touches none of it.
        let (_, mallory_users) = api.get("/api/v1/org/users", Some(&mallory_token)).await;
        assert_eq!(mallory_users.as_array().unwrap().len(), 1);
        assert_eq!(mallory_users[0]["user_id"], mallory["user_id"]);
        for (status, body) in [
            api.patch(
                &format!("/api/v1/org/users/{alan_id}"),
                Some(&mallory_token),
                json!({"plan": "basic"}),
            )
            .await,
            api.delete(&format!("/api/v1/org/users/{alan_id}"), Some(&mallory_token))
                .await,
        ] {
            assert_error((status, body), StatusCode::NOT_FOUND, "user_not_found");
        }
        let (_, trail) = api.get("/api/v1/org/audit", Some(&mallory_token)).await;
        assert!(
            trail["events"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["actor"]["user_id"] == mallory["user_id"]),
            "{trail}"
        );

        // Delete a user.
        let (status, _) = api
            .delete(&format!("/api/v1/org/users/{alan_id}"), Some(&grace_token))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, users) = api.get("/api/v1/org/users", Some(&ada_token)).await;
        assert_eq!(users.as_array().unwrap().len(), 2);

        // A member is not an admin.
        api.post(
            "/api/v1/org/users",
            Some(&ada_token),
            json!({"email": "max@engines.example", "display_name": "Max", "password": PASSWORD}),
        )
        .await;
        let max_token = api.login("max@engines.example", PASSWORD).await;
        for (status, body) in [
            api.get("/api/v1/org/users", Some(&max_token)).await,
            api.get("/api/v1/org/audit", Some(&max_token)).await,
            api.post(
                "/api/v1/org/users",
                Some(&max_token),
                json!({"email": "x@engines.example", "display_name": "X"}),
            )
            .await,
        ] {
            assert_error((status, body), StatusCode::FORBIDDEN, "forbidden");
        }

        // The trail reads as sentences, in JSON and as text.
        let response = api
            .http
            .get(format!("{}/api/v1/org/audit?format=text", api.base))
            .bearer_auth(&ada_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let text = response.text().await.unwrap();
        assert!(text.contains("Ada added user grace@engines.example as admin at "), "{text}");
        assert!(
            text.contains("Grace Hopper changed user alan@engines.example to role member on plan business at "),
            "{text}"
        );
        assert!(text.contains("Grace Hopper deleted user alan@engines.example at "), "{text}");
        server.shutdown().await;
    })
    .await;
}
