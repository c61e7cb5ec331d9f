//! Scheduling, editing and deleting meetings, their joining rules, the
//! policy in join tokens, invitation links, attendance reports and the
//! audit trail they leave (SQLite, or PostgreSQL with
//! `CONFER_TEST_DATABASE_URL`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Api, assert_error, start, within_timeout};
use confer_wire::token::JoinClaims;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The claims of a join token, read without verifying it (the tests in
/// api.rs verify signatures; here only the content matters).
fn claims(token: &str) -> JoinClaims {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn ada(api: &Api) -> (Value, String) {
    api.sign_up(json!({
        "email": "ada@engines.example", "first_name": "Ada", "last_name": "Lovelace",
        "company": "Analytical Engines",
    }))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meetings_are_scheduled_edited_and_deleted() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let api = Api::new(&server);
        let (ada, token) = ada(&api).await;
        let (status, meeting) = api
            .post(
                "/api/v1/meetings",
                Some(&token),
                json!({
                    "topic": "Standup", "start_time": 1_900_000_000u64, "duration_minutes": 15,
                    "recurrence": {"frequency": "weekly", "interval": 1, "count": 10},
                    "waiting_room": true, "join_before_host": false, "e2e": true,
                    "passcode": "4711",
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{meeting}");
        assert_eq!(meeting["host_user_id"], ada["user_id"]);
        assert_eq!(meeting["recurrence"]["frequency"], "weekly");
        assert_eq!(meeting["waiting_room"], true);
        assert_eq!(meeting["join_before_host"], false);
        assert_eq!(meeting["e2e"], true);
        assert_eq!(meeting["has_passcode"], true);
        assert!(meeting.get("passcode").is_none());
        let id = meeting["meeting_id"].as_u64().unwrap();
        let path = format!("/api/v1/meetings/{id}");
        assert_eq!(
            api.get(&path, Some(&token)).await,
            (StatusCode::OK, meeting.clone())
        );

        let (status, list) = api.get("/api/v1/meetings", Some(&token)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list["meetings"], json!([meeting]));

        // Edit: change some settings, clear the passcode and recurrence.
        let (status, edited) = api
            .patch(
                &path,
                Some(&token),
                json!({"topic": "Daily standup", "passcode": null, "recurrence": null,
                       "waiting_room": false}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{edited}");
        assert_eq!(edited["topic"], "Daily standup");
        assert_eq!(edited["has_passcode"], false);
        assert_eq!(edited["recurrence"], Value::Null);
        assert_eq!(edited["waiting_room"], false);
        assert_eq!(edited["e2e"], true, "untouched fields stay");
        assert_eq!(api.get(&path, Some(&token)).await.1, edited);

        for bad in [
            json!({"duration_minutes": 0}),
            json!({"recurrence": {"frequency": "hourly"}}),
            json!({"recurrence": {"frequency": "daily", "interval": 0}}),
            json!({"allowed_domains": ["not a domain"]}),
            json!({"no_such_field": 1}),
        ] {
            assert_error(
                api.patch(&path, Some(&token), bad).await,
                StatusCode::BAD_REQUEST,
                "invalid_request",
            );
        }
        assert_error(
            api.post(
                "/api/v1/meetings",
                Some(&token),
                json!({"recurrence": {"frequency": "daily"}}),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        );

        let (status, _) = api.delete(&path, Some(&token)).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_error(
            api.get(&path, Some(&token)).await,
            StatusCode::NOT_FOUND,
            "meeting_not_found",
        );

        // The audit trail tells the story in sentences.
        let (_, trail) = api.get("/api/v1/org/audit", Some(&token)).await;
        let sentences: Vec<&str> = trail["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["sentence"].as_str().unwrap())
            .collect();
        for want in [
            "Ada Lovelace (Analytical Engines) created meeting 'Standup' at ",
            "Ada Lovelace (Analytical Engines) edited meeting 'Daily standup' at ",
            "Ada Lovelace (Analytical Engines) deleted meeting 'Daily standup' at ",
        ] {
            assert!(
                sentences
                    .iter()
                    .any(|s| s.starts_with(want) && s.contains(" UTC on 20")),
                "{want} in {sentences:?}"
            );
        }
        let created = trail["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "meeting.created")
            .unwrap();
        assert_eq!(created["target"]["kind"], "meeting");
        assert_eq!(created["target"]["id"], id.to_string());
        assert_eq!(created["actor"]["name"], "Ada Lovelace");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organisation_cannot_see_or_change_a_meeting() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let api = Api::new(&server);
        let (_, ada_token) = ada(&api).await;
        let (mallory, mallory_token) = api
            .sign_up(json!({"email": "mallory@evil.example", "display_name": "Mallory"}))
            .await;
        let (_, meeting) = api
            .post("/api/v1/meetings", Some(&ada_token), json!({"topic": "Secret plans"}))
            .await;
        let path = format!("/api/v1/meetings/{}", meeting["meeting_id"]);
        for response in [
            api.get(&path, Some(&mallory_token)).await,
            api.patch(&path, Some(&mallory_token), json!({"topic": "Mine now"})).await,
            api.delete(&path, Some(&mallory_token)).await,
            api.get(&format!("{path}/report"), Some(&mallory_token)).await,
        ] {
            assert_error(response, StatusCode::NOT_FOUND, "meeting_not_found");
        }
        let (_, list) = api.get("/api/v1/meetings", Some(&mallory_token)).await;
        assert_eq!(list["meetings"], json!([]));
        assert_eq!(api.get(&path, Some(&ada_token)).await.1, meeting);

        // Joining is the one door open to outsiders: as a participant,
        // marked with their own organisation.
        let (status, grant) = api
            .post(&format!("{path}/join-token"), Some(&mallory_token), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{grant}");
        let joined = claims(grant["token"].as_str().unwrap());
        assert_eq!(joined.role.to_string(), "participant");
        assert_eq!(joined.policy.org.as_deref(), mallory["org_id"].as_str());

        // A member who is neither host nor admin cannot edit.
        api.post(
            "/api/v1/org/users",
            Some(&ada_token),
            json!({"email": "max@engines.example", "display_name": "Max", "password": common::PASSWORD}),
        )
        .await;
        let max_token = api.login("max@engines.example", common::PASSWORD).await;
        assert_eq!(api.get(&path, Some(&max_token)).await.0, StatusCode::OK);
        assert_error(
            api.patch(&path, Some(&max_token), json!({"topic": "x"})).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_tokens_carry_the_meetings_policy_and_rules_are_enforced() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let api = Api::new(&server);
        let (ada, ada_token) = ada(&api).await;
        let (_, bob_token) = api
            .sign_up(json!({"email": "bob@partner.example", "display_name": "Bob"}))
            .await;
        let (_, eve_token) = api
            .sign_up(json!({"email": "eve@elsewhere.example", "display_name": "Eve"}))
            .await;
        let (_, meeting) = api
            .post(
                "/api/v1/meetings",
                Some(&ada_token),
                json!({"topic": "Board", "waiting_room": true, "join_before_host": false,
                       "e2e": true, "allowed_domains": ["partner.example"]}),
            )
            .await;
        let join = format!("/api/v1/meetings/{}/join-token", meeting["meeting_id"]);

        let (status, grant) = api.post(&join, Some(&ada_token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{grant}");
        let host = claims(grant["token"].as_str().unwrap());
        assert_eq!(host.role.to_string(), "host");
        assert!(host.policy.waiting_room && !host.policy.join_before_host && host.policy.e2e);
        assert_eq!(host.policy.org.as_deref(), ada["org_id"].as_str());

        let (status, grant) = api.post(&join, Some(&bob_token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{grant}");
        assert!(claims(grant["token"].as_str().unwrap()).policy.waiting_room);
        assert_error(
            api.post(&join, Some(&eve_token), json!({})).await,
            StatusCode::FORBIDDEN,
            "domain_not_allowed",
        );
        assert_error(
            api.post(&join, None, json!({"display_name": "Guest"}))
                .await,
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
        );

        // Signed-in only, any domain.
        let (_, open) = api
            .post(
                "/api/v1/meetings",
                Some(&ada_token),
                json!({"signed_in_only": true}),
            )
            .await;
        let join_open = format!("/api/v1/meetings/{}/join-token", open["meeting_id"]);
        assert_eq!(
            api.post(&join_open, Some(&eve_token), json!({})).await.0,
            StatusCode::OK
        );
        assert_error(
            api.post(&join_open, None, json!({"display_name": "Guest"}))
                .await,
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
        );
        // Default policy for a plain meeting; a guest has no organisation.
        let (_, plain) = api
            .post("/api/v1/meetings", Some(&ada_token), json!({}))
            .await;
        let (_, grant) = api
            .post(
                &format!("/api/v1/meetings/{}/join-token", plain["meeting_id"]),
                None,
                json!({"display_name": "Guest"}),
            )
            .await;
        let guest = claims(grant["token"].as_str().unwrap());
        assert!(!guest.policy.waiting_room && guest.policy.join_before_host && !guest.policy.e2e);
        assert_eq!(guest.policy.org, None);

        let (_, trail) = api
            .get("/api/v1/org/audit?format=json", Some(&ada_token))
            .await;
        let text = trail.to_string();
        assert!(
            text.contains("was issued a join token for meeting 'Board' as host"),
            "{text}"
        );
        assert!(
            text.contains("Bob was issued a join token for meeting 'Board' as participant"),
            "{text}"
        );
        assert!(
            text.contains("Eve was refused entry to meeting 'Board' (domain_not_allowed)"),
            "{text}"
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passcodes_are_rate_limited() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let api = Api::new(&server);
        let (_, ada_token) = ada(&api).await;
        let (_, bob_token) = api
            .sign_up(json!({"email": "bob@partner.example", "display_name": "Bob"}))
            .await;
        let (_, meeting) = api
            .post(
                "/api/v1/meetings",
                Some(&ada_token),
                json!({"passcode": "sesame"}),
            )
            .await;
        let join = format!("/api/v1/meetings/{}/join-token", meeting["meeting_id"]);
        for _ in 0..5 {
            assert_error(
                api.post(
                    &join,
                    None,
                    json!({"display_name": "G", "passcode": "guess"}),
                )
                .await,
                StatusCode::FORBIDDEN,
                "wrong_passcode",
            );
        }
        // Now even the right passcode must wait…
        assert_error(
            api.post(
                &join,
                None,
                json!({"display_name": "G", "passcode": "sesame"}),
            )
            .await,
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
        );
        // …but only this caller: a signed-in user is counted separately.
        assert_eq!(
            api.post(&join, Some(&bob_token), json!({"passcode": "sesame"}))
                .await
                .0,
            StatusCode::OK
        );
        let (_, trail) = api.get("/api/v1/org/audit", Some(&ada_token)).await;
        let wrong = trail["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "join.wrong_passcode")
            .count();
        assert_eq!(wrong, 5);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitation_links_and_attendance_reports() {
    within_timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await;
        let api = Api::new(&server);
        let (_, ada_token) = ada(&api).await;
        let (_, meeting) = api
            .post(
                "/api/v1/meetings",
                Some(&ada_token),
                json!({"topic": "Review", "passcode": "p"}),
            )
            .await;
        let invite = meeting["invite_url"].as_str().unwrap();
        let invite_path = invite.strip_prefix(&api.base).unwrap();
        let (status, card) = api.get(invite_path, None).await;
        assert_eq!(status, StatusCode::OK, "{card}");
        assert_eq!(card["meeting_id"], meeting["meeting_id"]);
        assert_eq!(card["topic"], "Review");
        assert_eq!(card["has_passcode"], true);
        assert_error(
            api.get("/api/v1/invitations/nope", None).await,
            StatusCode::NOT_FOUND,
            "meeting_not_found",
        );

        let id = meeting["meeting_id"].as_u64().unwrap();
        let (_, grant) = api
            .post(
                &format!("/api/v1/meetings/{id}/join-token"),
                None,
                json!({"display_name": "Guest Gus", "passcode": "p"}),
            )
            .await;
        let token = grant["token"].as_str().unwrap();
        let events = format!("/api/v1/meetings/{id}/events");
        for event in ["joined", "left"] {
            let (status, body) = api
                .post(&events, None, json!({"token": token, "event": event}))
                .await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        }
        assert_error(
            api.post(
                &events,
                None,
                json!({"token": "forged.token.here", "event": "joined"}),
            )
            .await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        );
        let (_, other) = api
            .post("/api/v1/meetings", Some(&ada_token), json!({}))
            .await;
        assert_error(
            api.post(
                &format!("/api/v1/meetings/{}/events", other["meeting_id"]),
                None,
                json!({"token": token, "event": "joined"}),
            )
            .await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        );
        let (status, report) = api
            .get(&format!("/api/v1/meetings/{id}/report"), Some(&ada_token))
            .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        let people = report["participants"].as_array().unwrap();
        assert_eq!(people.len(), 1);
        assert_eq!(people[0]["name"], "Guest Gus");
        assert!(people[0]["joined_at"].is_u64() && people[0]["left_at"].is_u64());
        assert!(people[0]["duration_secs"].is_u64());
        server.shutdown().await;
    })
    .await;
}
