//! The scheduling calls `confer-client`'s `ApiClient` does not have yet:
//! list, edit and delete meetings with all their security settings, look
//! up an invitation link, and check a stored token (`/api/v1/me`).
//!
//! Kept small and beside the shell until `confer-client` grows them; it
//! applies the same TLS policy as `ApiClient` (TLS 1.3, only the given CA).

use std::time::Duration;

use confer_client::api::ApiError;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::models::{MeetingSettings, ScheduledMeeting};

/// Limit on one call.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// A signed-in client of the meeting scheduling API.
#[derive(Clone)]
pub(crate) struct WebMeetings {
    http: reqwest::Client,
    base: String,
    token: String,
}

/// The server's list answer.
#[derive(Deserialize)]
struct MeetingList {
    meetings: Vec<ScheduledMeetingWire>,
}

/// A meeting as the server writes it (snake_case).
#[derive(Deserialize)]
struct ScheduledMeetingWire {
    meeting_id: u64,
    #[serde(default)]
    topic: Option<String>,
    #[serde(default)]
    has_passcode: bool,
    #[serde(default)]
    start_time: Option<u64>,
    #[serde(default)]
    duration_minutes: Option<u32>,
    #[serde(default)]
    waiting_room: bool,
    #[serde(default)]
    join_before_host: bool,
    #[serde(default)]
    e2e: bool,
    #[serde(default)]
    invite_url: Option<String>,
}

impl From<ScheduledMeetingWire> for ScheduledMeeting {
    fn from(m: ScheduledMeetingWire) -> Self {
        ScheduledMeeting {
            meeting_id: m.meeting_id,
            topic: m.topic,
            has_passcode: m.has_passcode,
            start_time: m.start_time,
            duration_minutes: m.duration_minutes,
            waiting_room: m.waiting_room,
            join_before_host: m.join_before_host,
            e2e: m.e2e,
            invite_url: m.invite_url,
        }
    }
}

/// The body of a create or edit: every setting, with the passcode only
/// when it changes (`null` removes it).
#[derive(Serialize)]
struct SettingsWire<'a> {
    topic: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    passcode: Option<Option<&'a str>>,
    start_time: Option<u64>,
    duration_minutes: Option<u32>,
    waiting_room: bool,
    join_before_host: bool,
    e2e: bool,
}

impl<'a> SettingsWire<'a> {
    fn new(s: &'a MeetingSettings) -> Self {
        SettingsWire {
            topic: s.topic.as_deref().map(str::trim).filter(|t| !t.is_empty()),
            passcode: s
                .passcode
                .as_deref()
                .map(|p| Some(p).filter(|p| !p.is_empty())),
            start_time: s.start_time,
            duration_minutes: s.duration_minutes,
            waiting_room: s.waiting_room,
            join_before_host: s.join_before_host,
            e2e: s.e2e,
        }
    }
}

/// The server's error body.
#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    message: String,
}

/// The meeting id behind an invitation link.
#[derive(Deserialize)]
struct Invitation {
    meeting_id: u64,
}

/// Who a token belongs to.
#[derive(Deserialize)]
pub(crate) struct Me {
    /// The account's email.
    pub(crate) email: String,
    /// The name others see (absent from servers that do not say).
    #[serde(default)]
    pub(crate) display_name: Option<String>,
}

impl WebMeetings {
    /// A client for `base` trusting `ca_pem` (or the system roots), sending
    /// `token` as the bearer.
    pub(crate) fn new(base: &str, ca_pem: Option<&[u8]>, token: &str) -> Result<Self, ApiError> {
        let mut builder = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .tls_version_min(reqwest::tls::Version::TLS_1_3);
        if let Some(pem) = ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(ApiError::Client)?;
            builder = builder.tls_certs_only(certs);
        }
        Ok(WebMeetings {
            http: builder.build().map_err(ApiError::Client)?,
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        })
    }

    /// `GET /api/v1/me`: who the token belongs to (fails once it expired).
    pub(crate) async fn me(&self) -> Result<Me, ApiError> {
        self.call::<(), _>(Method::GET, "api/v1/me", None).await
    }

    /// `GET /api/v1/meetings`: the meetings the user may see.
    pub(crate) async fn list(&self) -> Result<Vec<ScheduledMeeting>, ApiError> {
        let list: MeetingList = self
            .call::<(), _>(Method::GET, "api/v1/meetings", None)
            .await?;
        Ok(list.meetings.into_iter().map(Into::into).collect())
    }

    /// `POST /api/v1/meetings`.
    pub(crate) async fn create(&self, s: &MeetingSettings) -> Result<ScheduledMeeting, ApiError> {
        let m: ScheduledMeetingWire = self
            .call(Method::POST, "api/v1/meetings", Some(&SettingsWire::new(s)))
            .await?;
        Ok(m.into())
    }

    /// `PATCH /api/v1/meetings/{id}`.
    pub(crate) async fn edit(
        &self,
        id: u64,
        s: &MeetingSettings,
    ) -> Result<ScheduledMeeting, ApiError> {
        let path = format!("api/v1/meetings/{id}");
        let m: ScheduledMeetingWire = self
            .call(Method::PATCH, &path, Some(&SettingsWire::new(s)))
            .await?;
        Ok(m.into())
    }

    /// `DELETE /api/v1/meetings/{id}`.
    pub(crate) async fn delete(&self, id: u64) -> Result<(), ApiError> {
        let path = format!("api/v1/meetings/{id}");
        let _: serde_json::Value = self.call::<(), _>(Method::DELETE, &path, None).await?;
        Ok(())
    }

    /// `GET /api/v1/invitations/{code}`: the meeting an invitation names.
    pub(crate) async fn invitation(&self, code: &str) -> Result<u64, ApiError> {
        let path = format!("api/v1/invitations/{code}");
        let inv: Invitation = self.call::<(), _>(Method::GET, &path, None).await?;
        Ok(inv.meeting_id)
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ApiError> {
        let url = format!("{}/{path}", self.base);
        let mut request = self.http.request(method, &url).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let failed = |source| ApiError::Request {
            url: url.clone(),
            source,
        };
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(failed)?;
        decode(status, &bytes).map_err(|reason| match reason {
            Decoded::Api(e) => e,
            Decoded::Body(reason) => ApiError::InvalidResponse { url, reason },
        })
    }
}

/// Why a response is not the answer.
enum Decoded {
    Api(ApiError),
    Body(String),
}

/// Turns a status and body into the answer or the server's error.
fn decode<T: DeserializeOwned>(status: StatusCode, body: &[u8]) -> Result<T, Decoded> {
    if status.is_success() {
        // 204 No Content decodes as `null`.
        let body = if body.is_empty() {
            b"null".as_slice()
        } else {
            body
        };
        return serde_json::from_slice(body).map_err(|e| Decoded::Body(e.to_string()));
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => Err(Decoded::Api(ApiError::Server {
            status: status.as_u16(),
            code: e.error,
            message: e.message,
        })),
        Err(_) => Err(Decoded::Api(ApiError::UnexpectedStatus {
            status: status.as_u16(),
            body: String::from_utf8_lossy(&body[..body.len().min(256)]).into_owned(),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_body_becomes_a_server_error() {
        let body = br#"{"error":"not_found","message":"no such meeting"}"#;
        let Err(Decoded::Api(e)) = decode::<serde_json::Value>(StatusCode::NOT_FOUND, body) else {
            panic!("not an API error");
        };
        assert_eq!(e.status(), Some(404));
        assert_eq!(e.code(), Some("not_found"));
    }

    #[test]
    fn no_content_is_a_success() {
        assert!(decode::<serde_json::Value>(StatusCode::NO_CONTENT, b"").is_ok());
    }

    #[test]
    fn an_empty_passcode_removes_it_and_none_keeps_it() {
        let mut s = MeetingSettings {
            passcode: Some(String::new()),
            ..MeetingSettings::default()
        };
        let json = serde_json::to_value(SettingsWire::new(&s)).unwrap();
        assert_eq!(json["passcode"], serde_json::Value::Null);
        assert!(json.as_object().unwrap().contains_key("passcode"));
        s.passcode = None;
        let json = serde_json::to_value(SettingsWire::new(&s)).unwrap();
        assert!(!json.as_object().unwrap().contains_key("passcode"));
    }
}
