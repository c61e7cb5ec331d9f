//! The web API client (`docs/api.md`): accounts, login, meetings and join
//! tokens, over HTTPS.
//!
//! Every call returns a typed result or an [`ApiError`]; when the server
//! answered with its `{"error", "message"}` body, the error carries both.

use std::fmt;
use std::time::Duration;

use confer_e2e::chat::{ChatEnvelope, MessageId};
use confer_e2e::device::{DeviceId, DevicePublicKeys};
use confer_wire::ids::{MeetingId, Role};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::tls::{TlsError, parse_ca_pem};

/// How long one API request may take, connection included. The API answers
/// in milliseconds; this only keeps a dead server from hanging a client.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// How long establishing the HTTPS connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The most bytes of an unexpected response body kept in an error.
const MAX_ERROR_BODY: usize = 512;

/// Why an API call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The server URL could not be parsed or is not http(s).
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The CA certificate could not be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The HTTP client could not be set up.
    #[error("cannot set up the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// The request did not get a response (connection refused, TLS failure,
    /// timeout...).
    #[error("request to {url} failed: {source}")]
    Request {
        /// The URL requested.
        url: String,
        /// What failed.
        #[source]
        source: reqwest::Error,
    },
    /// The server refused the request with its standard error body.
    #[error("server said {status} {code}: {message}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The server's machine-readable code (`invalid_credentials`, ...).
        code: String,
        /// The server's explanation.
        message: String,
    },
    /// The server answered with an error status but no standard error body.
    #[error("server answered {status}: {body}")]
    UnexpectedStatus {
        /// HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// A success response whose body is not what the API promises.
    #[error("invalid response from {url}: {reason}")]
    InvalidResponse {
        /// The URL requested.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// The call needs an access token and the client has none (log in first).
    #[error("not logged in: this call needs an access token")]
    NotLoggedIn,
}

impl ApiError {
    /// The server's error code, when the server sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Server { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Server { status, .. } | ApiError::UnexpectedStatus { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }
}

/// Body of `POST /api/v1/accounts`.
#[derive(Clone, Serialize)]
pub struct NewAccount {
    /// The sign-in email address.
    pub email: String,
    /// The name shown to other participants.
    pub display_name: String,
    /// The password (sent once, over TLS; never logged).
    pub password: String,
}

impl fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewAccount")
            .field("email", &self.email)
            .field("display_name", &self.display_name)
            .finish_non_exhaustive()
    }
}

/// An account as the server describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The server's id for the user (opaque to the client).
    pub user_id: serde_json::Value,
    /// The sign-in email address.
    pub email: String,
    /// The display name.
    pub display_name: String,
}

/// The answer to a successful login.
#[derive(Clone, Deserialize)]
pub struct LoginResponse {
    /// The bearer token for authenticated calls.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

impl fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Tokens never appear in logs.
        f.debug_struct("LoginResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// Body of `POST /api/v1/meetings`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewMeeting {
    /// What the meeting is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// A passcode participants must give to get a join token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passcode: Option<String>,
    /// End-to-end encrypted (MLS keys among the participants; the router
    /// never holds one). Absent: the server's default (standard).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e2e: Option<bool>,
}

/// A meeting as the server describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    /// The number people type to join.
    pub meeting_id: MeetingId,
    /// What the meeting is about.
    #[serde(default)]
    pub topic: Option<String>,
    /// Whether a passcode is needed to join.
    #[serde(default)]
    pub has_passcode: bool,
    /// The owner (opaque to the client).
    #[serde(default)]
    pub host_user_id: serde_json::Value,
    /// End-to-end encrypted (absent from older servers: standard).
    #[serde(default)]
    pub e2e: bool,
}

/// Body of `POST /api/v1/meetings/{id}/join-token`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct JoinTokenRequest {
    /// The name to show; required for guests, optional when signed in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The meeting's passcode, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passcode: Option<String>,
}

/// Where the router for a meeting listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterAddresses {
    /// QUIC `HOST:PORT`, if the router offers QUIC.
    #[serde(default)]
    pub quic: Option<String>,
    /// TLS-over-TCP `HOST:PORT`, if the router offers it.
    #[serde(default)]
    pub tls: Option<String>,
    /// The name the router's certificate must carry.
    pub server_name: String,
}

/// A join token and where to use it.
#[derive(Clone, Deserialize)]
pub struct JoinTicket {
    /// The join token (a compact JWS) to send in `join`.
    pub token: String,
    /// The session id the token is bound to.
    pub session_id: String,
    /// The role the server gave us.
    pub role: Role,
    /// When the token expires, as the server wrote it.
    #[serde(default)]
    pub expires_at: serde_json::Value,
    /// The router to connect to.
    pub router: RouterAddresses,
    /// Whether the meeting is end-to-end encrypted (older servers: false).
    #[serde(default)]
    pub e2e: bool,
}

impl fmt::Debug for JoinTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinTicket")
            .field("session_id", &self.session_id)
            .field("role", &self.role)
            .field("expires_at", &self.expires_at)
            .field("router", &self.router)
            .finish_non_exhaustive()
    }
}

/// One of the signed-in user's devices as the server's device directory
/// records it (`POST`/`GET /api/v1/devices`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRecord {
    /// The device's id and public keys.
    #[serde(flatten)]
    pub keys: DevicePublicKeys,
    /// The name given when it was registered (e.g. the host name).
    #[serde(default)]
    pub name: Option<String>,
    /// When it was registered, in Unix seconds.
    pub created_at: u64,
    /// When it was revoked, in Unix seconds; `None` while it is active.
    #[serde(default)]
    pub revoked_at: Option<u64>,
}

/// A user's active devices, from the organisation's device directory
/// (`GET /api/v1/directory/devices`).
///
/// This is the server's word: each record's id is checked against its keys
/// before anything is encrypted to it, but which devices belong to whom is
/// what the directory says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    /// The server's id for the user.
    pub user_id: String,
    /// The user's email address.
    pub email: String,
    /// The user's active devices.
    pub devices: Vec<DevicePublicKeys>,
}

/// The server's answer to `POST /api/v1/chat/messages`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChatStored {
    /// The message the envelopes belong to.
    pub message_id: MessageId,
    /// How many envelopes the server stored.
    pub stored: usize,
}

/// One envelope waiting in a device's inbox (`GET /api/v1/chat/inbox`).
///
/// The sender's keys and the envelope are kept as JSON and parsed by
/// [`sender_keys`](Self::sender_keys) and [`envelope`](Self::envelope): one
/// malformed entry must not make the whole page unreadable, or it could
/// never be acknowledged and would block the inbox for good.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InboxMessage {
    /// Its position in the inbox; acknowledge up to it once handled.
    pub cursor: u64,
    /// The server's id for the sending user.
    #[serde(default)]
    pub sender_user_id: String,
    /// The sending user's email address.
    #[serde(default)]
    pub sender_email: String,
    /// The sending device's public keys, from the directory.
    #[serde(default)]
    pub sender_keys: serde_json::Value,
    /// The sealed message.
    #[serde(default)]
    pub envelope: serde_json::Value,
    /// When the server stored it, in Unix seconds.
    #[serde(default)]
    pub stored_at: u64,
}

impl InboxMessage {
    /// The sending device's keys, as the server named them.
    ///
    /// # Errors
    /// When they are not a valid device record.
    pub fn sender_keys(&self) -> Result<DevicePublicKeys, serde_json::Error> {
        DevicePublicKeys::deserialize(&self.sender_keys)
    }

    /// The sealed message.
    ///
    /// # Errors
    /// When it is not a valid chat envelope.
    pub fn envelope(&self) -> Result<ChatEnvelope, serde_json::Error> {
        ChatEnvelope::deserialize(&self.envelope)
    }
}

/// One page of a device's inbox.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InboxPage {
    /// The waiting envelopes, in cursor order.
    pub messages: Vec<InboxMessage>,
    /// The cursor to ask for the next page with.
    pub next_cursor: u64,
}

/// Body of `POST /api/v1/org/users` (an organisation admin adds a user).
#[derive(Clone, Serialize)]
pub struct NewOrgUser {
    /// The new user's sign-in email address.
    pub email: String,
    /// The name shown to other participants.
    pub display_name: String,
    /// The password; without one the account is pre-provisioned and cannot
    /// log in with a password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

impl fmt::Debug for NewOrgUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewOrgUser")
            .field("email", &self.email)
            .field("display_name", &self.display_name)
            .finish_non_exhaustive()
    }
}

/// The server's error body.
#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    message: String,
}

/// A client of one Confer web service.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: Url,
    access_token: Option<String>,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("base", &self.base.as_str())
            .field("logged_in", &self.access_token.is_some())
            .finish()
    }
}

impl ApiClient {
    /// A client for the service at `base_url` (e.g. `https://127.0.0.1:8443`).
    ///
    /// With `ca_pem`, only certificates chaining to that CA are trusted (the
    /// system's roots are not); without it, the platform's trust store is used.
    /// TLS 1.3 only, as everywhere in Confer.
    pub fn new(base_url: &str, ca_pem: Option<&[u8]>) -> Result<Self, ApiError> {
        let invalid = |reason: String| ApiError::InvalidUrl {
            url: base_url.to_owned(),
            reason,
        };
        let mut base = Url::parse(base_url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(base.scheme(), "https" | "http") || base.host().is_none() {
            return Err(invalid("expected https://HOST[:PORT]".into()));
        }
        // Paths are joined relative to the base, which needs a trailing slash.
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let mut builder = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .tls_version_min(reqwest::tls::Version::TLS_1_3);
        if let Some(pem) = ca_pem {
            // Parse with our own parser first for a clear error message.
            parse_ca_pem(pem)?;
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| TlsError::InvalidCa(e.to_string()))?;
            builder = builder.tls_certs_only(certs);
        }
        let http = builder.build().map_err(ApiError::Client)?;
        Ok(ApiClient {
            http,
            base,
            access_token: None,
        })
    }

    /// The same client, sending `token` as the bearer on every call.
    pub fn with_access_token(mut self, token: impl Into<String>) -> Self {
        self.access_token = Some(token.into());
        self
    }

    /// Whether calls carry an access token.
    pub fn is_logged_in(&self) -> bool {
        self.access_token.is_some()
    }

    /// The service's base URL.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// Creates an account (`POST /api/v1/accounts`).
    pub async fn create_account(&self, account: &NewAccount) -> Result<Account, ApiError> {
        self.call(Method::POST, "api/v1/accounts", Some(account), false)
            .await
    }

    /// Logs in (`POST /api/v1/login`); use the token with
    /// [`Self::with_access_token`].
    pub async fn login(&self, email: &str, password: &str) -> Result<LoginResponse, ApiError> {
        #[derive(Serialize)]
        struct Login<'a> {
            email: &'a str,
            password: &'a str,
        }
        self.call(
            Method::POST,
            "api/v1/login",
            Some(&Login { email, password }),
            false,
        )
        .await
    }

    /// Creates a meeting hosted by the logged-in user (`POST /api/v1/meetings`).
    pub async fn create_meeting(&self, meeting: &NewMeeting) -> Result<Meeting, ApiError> {
        self.call(Method::POST, "api/v1/meetings", Some(meeting), true)
            .await
    }

    /// Describes a meeting (`GET /api/v1/meetings/{id}`).
    pub async fn get_meeting(&self, id: MeetingId) -> Result<Meeting, ApiError> {
        self.call::<(), _>(Method::GET, &format!("api/v1/meetings/{id}"), None, true)
            .await
    }

    /// Gets a join token for a meeting (`POST /api/v1/meetings/{id}/join-token`),
    /// as the logged-in user if there is one, else as a guest.
    pub async fn join_token(
        &self,
        id: MeetingId,
        request: &JoinTokenRequest,
    ) -> Result<JoinTicket, ApiError> {
        let path = format!("api/v1/meetings/{id}/join-token");
        self.call(Method::POST, &path, Some(request), false).await
    }

    /// Checks the service is up (`GET /healthz`).
    pub async fn health(&self) -> Result<(), ApiError> {
        let _: serde_json::Value = self
            .call::<(), _>(Method::GET, "healthz", None, false)
            .await?;
        Ok(())
    }

    /// Adds a user to the signed-in admin's organisation
    /// (`POST /api/v1/org/users`).
    pub async fn add_org_user(&self, user: &NewOrgUser) -> Result<Account, ApiError> {
        self.call(Method::POST, "api/v1/org/users", Some(user), true)
            .await
    }

    /// Registers this device's public keys for the signed-in user
    /// (`POST /api/v1/devices`). Registering the same device again is
    /// harmless and returns the same record.
    pub async fn register_device(
        &self,
        keys: &DevicePublicKeys,
        name: Option<&str>,
    ) -> Result<DeviceRecord, ApiError> {
        #[derive(Serialize)]
        struct Register<'a> {
            #[serde(flatten)]
            keys: &'a DevicePublicKeys,
            #[serde(skip_serializing_if = "Option::is_none")]
            name: Option<&'a str>,
        }
        self.call(
            Method::POST,
            "api/v1/devices",
            Some(&Register { keys, name }),
            true,
        )
        .await
    }

    /// The signed-in user's devices, revoked ones included, oldest first
    /// (`GET /api/v1/devices`).
    pub async fn list_devices(&self) -> Result<Vec<DeviceRecord>, ApiError> {
        #[derive(Deserialize)]
        struct Devices {
            devices: Vec<DeviceRecord>,
        }
        let list: Devices = self
            .call::<(), _>(Method::GET, "api/v1/devices", None, true)
            .await?;
        Ok(list.devices)
    }

    /// Revokes one of the signed-in user's devices for good
    /// (`DELETE /api/v1/devices/{device_id}`).
    pub async fn revoke_device(&self, device_id: DeviceId) -> Result<(), ApiError> {
        let path = format!("api/v1/devices/{device_id}");
        self.call::<(), ()>(Method::DELETE, &path, None, true).await
    }

    /// The active devices of the user with `email` in the signed-in user's
    /// organisation (`GET /api/v1/directory/devices`); the server answers
    /// 404 `not_found` for unknown users and users of other organisations.
    pub async fn directory_devices(&self, email: &str) -> Result<DirectoryEntry, ApiError> {
        let url = self.endpoint("api/v1/directory/devices", &[("email", email)])?;
        self.call_url::<(), _>(Method::GET, url, None, true).await
    }

    /// Posts the envelopes of one message, one per recipient device
    /// (`POST /api/v1/chat/messages`; 1 to 64, all with the same message id
    /// and sender).
    pub async fn send_chat_envelopes(
        &self,
        envelopes: &[ChatEnvelope],
    ) -> Result<ChatStored, ApiError> {
        #[derive(Serialize)]
        struct Post<'a> {
            envelopes: &'a [ChatEnvelope],
        }
        self.call(
            Method::POST,
            "api/v1/chat/messages",
            Some(&Post { envelopes }),
            true,
        )
        .await
    }

    /// One page of the envelopes waiting for `device_id` after `after`
    /// (`GET /api/v1/chat/inbox`; the server's default page size without
    /// `limit`).
    pub async fn chat_inbox(
        &self,
        device_id: DeviceId,
        after: u64,
        limit: Option<u32>,
    ) -> Result<InboxPage, ApiError> {
        let device = device_id.to_string();
        let after = after.to_string();
        let limit = limit.map(|l| l.to_string());
        let mut query = vec![("device_id", device.as_str()), ("after", after.as_str())];
        if let Some(limit) = &limit {
            query.push(("limit", limit));
        }
        let url = self.endpoint("api/v1/chat/inbox", &query)?;
        self.call_url::<(), _>(Method::GET, url, None, true).await
    }

    /// Tells the server the envelopes for `device_id` up to and including
    /// cursor `up_to` were handled, so it deletes them
    /// (`POST /api/v1/chat/inbox/ack`).
    pub async fn ack_chat_inbox(&self, device_id: DeviceId, up_to: u64) -> Result<(), ApiError> {
        #[derive(Serialize)]
        struct Ack {
            device_id: DeviceId,
            up_to: u64,
        }
        self.call::<_, ()>(
            Method::POST,
            "api/v1/chat/inbox/ack",
            Some(&Ack { device_id, up_to }),
            true,
        )
        .await
    }

    /// The absolute URL of `path` under the base, with `query` appended
    /// (form-encoded, so emails with `+` survive).
    fn endpoint(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, ApiError> {
        let mut url = self.base.join(path).map_err(|e| ApiError::InvalidUrl {
            url: format!("{}{path}", self.base),
            reason: e.to_string(),
        })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// `POST /sso/token`: redeems the one-time code an SSO sign-in brought
    /// back to the app's loopback redirect (RFC 8252), with the PKCE
    /// verifier; the answer is a password login's.
    pub async fn redeem_sso_code(
        &self,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<LoginResponse, ApiError> {
        let body = serde_json::json!({
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        });
        self.call(Method::POST, "sso/token", Some(&body), false)
            .await
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        needs_auth: bool,
    ) -> Result<T, ApiError> {
        let url = self.endpoint(path, &[])?;
        self.call_url(method, url, body, needs_auth).await
    }

    async fn call_url<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
        needs_auth: bool,
    ) -> Result<T, ApiError> {
        let mut request = self.http.request(method, url.clone());
        match &self.access_token {
            Some(token) => request = request.bearer_auth(token),
            None if needs_auth => return Err(ApiError::NotLoggedIn),
            None => {}
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let failed = |source| ApiError::Request {
            url: url.to_string(),
            source,
        };
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(failed)?;
        decode_response(status, &bytes).map_err(|e| match e {
            DecodeFailure::Api(e) => e,
            DecodeFailure::Body(reason) => ApiError::InvalidResponse {
                url: url.to_string(),
                reason,
            },
        })
    }
}

/// Why a response could not be turned into a result.
enum DecodeFailure {
    Api(ApiError),
    Body(String),
}

/// Turns a status and body into the typed result or error (no I/O, so it is
/// tested directly).
fn decode_response<T: DeserializeOwned>(
    status: StatusCode,
    body: &[u8],
) -> Result<T, DecodeFailure> {
    if status.is_success() {
        // A 204 has no body: read it as JSON `null`, which is what `()`
        // deserialises from (and anything else rightly refuses).
        let body: &[u8] = if body.is_empty() { b"null" } else { body };
        return serde_json::from_slice(body).map_err(|e| DecodeFailure::Body(e.to_string()));
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => Err(DecodeFailure::Api(ApiError::Server {
            status: status.as_u16(),
            code: e.error,
            message: e.message,
        })),
        Err(_) => {
            let text =
                String::from_utf8_lossy(&body[..body.len().min(MAX_ERROR_BODY)]).into_owned();
            Err(DecodeFailure::Api(ApiError::UnexpectedStatus {
                status: status.as_u16(),
                body: text,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, ApiError> {
        decode_response(StatusCode::from_u16(status).unwrap(), body.as_bytes()).map_err(|e| match e
        {
            DecodeFailure::Api(e) => e,
            DecodeFailure::Body(reason) => ApiError::InvalidResponse {
                url: "u".into(),
                reason,
            },
        })
    }

    #[test]
    fn decodes_a_join_ticket() {
        let t: JoinTicket = decode(
            200,
            r#"{"token":"eyJ","session_id":"s1","role":"host","expires_at":1700000000,
                "router":{"quic":"127.0.0.1:8801","tls":"127.0.0.1:8802","server_name":"localhost"}}"#,
        )
        .unwrap();
        assert_eq!(t.role, Role::Host);
        assert_eq!(t.router.quic.as_deref(), Some("127.0.0.1:8801"));
        assert!(
            !format!("{t:?}").contains("eyJ"),
            "token must not be in Debug output"
        );
    }

    #[test]
    fn carries_the_servers_error_body() {
        let e = decode::<Meeting>(403, r#"{"error":"wrong_passcode","message":"no"}"#).unwrap_err();
        assert_eq!(e.code(), Some("wrong_passcode"));
        assert_eq!(e.status(), Some(403));
        assert_eq!(e.to_string(), "server said 403 wrong_passcode: no");
    }

    #[test]
    fn tells_apart_odd_error_bodies_and_bad_success_bodies() {
        let e = decode::<Meeting>(502, "<html>bad gateway</html>").unwrap_err();
        assert!(matches!(e, ApiError::UnexpectedStatus { status: 502, .. }));
        let e = decode::<Meeting>(200, r#"{"meeting_id":"not a number"}"#).unwrap_err();
        assert!(matches!(e, ApiError::InvalidResponse { .. }));
    }

    #[test]
    fn validates_the_base_url_and_ca() {
        assert!(matches!(
            ApiClient::new("ftp://x", None),
            Err(ApiError::InvalidUrl { .. })
        ));
        assert!(matches!(
            ApiClient::new("not a url", None),
            Err(ApiError::InvalidUrl { .. })
        ));
        assert!(matches!(
            ApiClient::new("https://h:1", Some(b"nope")),
            Err(ApiError::Tls(_))
        ));
        let c = ApiClient::new("https://127.0.0.1:8443/confer", None).unwrap();
        assert_eq!(c.base_url().as_str(), "https://127.0.0.1:8443/confer/");
        assert!(!c.is_logged_in());
        let c = c.with_access_token("secret");
        assert!(!format!("{c:?}").contains("secret"));
    }

    #[test]
    fn an_empty_success_body_is_unit() {
        decode::<()>(204, "").unwrap();
        assert!(matches!(
            decode::<Meeting>(204, ""),
            Err(ApiError::InvalidResponse { .. })
        ));
    }

    #[test]
    fn decodes_device_records_and_directory_entries() {
        let keys = r#""device_id":"AAAAAAAAAAAAAAAAAAAAAA","ed25519":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","x25519":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA""#;
        let r: DeviceRecord = decode(
            200,
            &format!(r#"{{{keys},"name":"laptop","created_at":1700000000,"revoked_at":null}}"#),
        )
        .unwrap();
        assert_eq!(r.name.as_deref(), Some("laptop"));
        assert_eq!(r.revoked_at, None);
        assert_eq!(r.keys.device_id.to_string(), "AAAAAAAAAAAAAAAAAAAAAA");
        let d: DirectoryEntry = decode(
            200,
            &format!(r#"{{"user_id":"u1","email":"bo@x","devices":[{{{keys}}}]}}"#),
        )
        .unwrap();
        assert_eq!(d.devices.len(), 1);
        // A bad key in a record is a bad response, not a panic.
        let e = decode::<DirectoryEntry>(
            200,
            r#"{"user_id":"u1","email":"bo@x","devices":[{"device_id":"short","ed25519":"","x25519":""}]}"#,
        )
        .unwrap_err();
        assert!(matches!(e, ApiError::InvalidResponse { .. }));
    }

    #[test]
    fn one_malformed_inbox_entry_does_not_spoil_the_page() {
        let page: InboxPage = decode(
            200,
            r#"{"messages":[{"cursor":7,"sender_user_id":"u","sender_email":"a@x",
                "sender_keys":{"nonsense":1},"envelope":"garbage","stored_at":1}],"next_cursor":7}"#,
        )
        .unwrap();
        assert_eq!(page.messages[0].cursor, 7);
        assert!(page.messages[0].envelope().is_err());
        assert!(page.messages[0].sender_keys().is_err());
    }

    #[test]
    fn query_values_are_form_encoded() {
        let c = ApiClient::new("https://127.0.0.1:8443/confer", None).unwrap();
        let url = c
            .endpoint(
                "api/v1/directory/devices",
                &[("email", "bo+chat@x.example")],
            )
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://127.0.0.1:8443/confer/api/v1/directory/devices?email=bo%2Bchat%40x.example"
        );
    }

    #[tokio::test]
    async fn authenticated_calls_need_a_token() {
        let c = ApiClient::new("https://127.0.0.1:1", None).unwrap();
        assert!(matches!(
            c.get_meeting(MeetingId(1)).await,
            Err(ApiError::NotLoggedIn)
        ));
    }
}
