//! The claims inside a join token.
//!
//! A join token is a JWT (RFC 7519) signed by the web service with ES256; its
//! header names the signing key (`kid`), whose public half is published at
//! `/.well-known/jwks.json`. It admits one session of one person to one
//! meeting with one role, for at most [`MAX_JOIN_TOKEN_LIFETIME_SECS`].
//! Signing lives in `confer-server`, verification in `confer-router`; this
//! module only fixes what the token says.

use serde::{Deserialize, Serialize};

use crate::ids::{MeetingId, Role};

/// The `aud` every join token carries: it is good only at a router.
pub const JOIN_TOKEN_AUDIENCE: &str = "confer-router";

/// The longest a join token may live (2 hours).
pub const MAX_JOIN_TOKEN_LIFETIME_SECS: u64 = 2 * 60 * 60;

/// What a join token asserts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinClaims {
    /// Issuer: the web service's base URL.
    pub iss: String,
    /// Audience: always [`JOIN_TOKEN_AUDIENCE`].
    pub aud: String,
    /// Subject: the user id, or `guest:<random>` for someone not signed in.
    pub sub: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Issued at, seconds since the Unix epoch.
    pub iat: u64,
    /// Unique token id.
    pub jti: String,
    /// The one meeting this token admits to.
    pub mid: MeetingId,
    /// The session id: a router admits each session id once.
    pub sid: String,
    /// The role the server decided from the user's identity and the meeting.
    pub role: Role,
    /// The display name shown to the other participants.
    pub name: String,
    /// True when the holder is not signed in.
    #[serde(default)]
    pub guest: bool,
    /// The meeting's joining rules as the web service had them when it issued
    /// this token; the router enforces them for this joiner.
    #[serde(default)]
    pub policy: JoinPolicy,
}

/// Joining rules the web service writes into each join token from the
/// meeting's settings. Passcode and domain checks happen before a token is
/// issued, so they need no field here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JoinPolicy {
    /// Participants wait in a waiting room until a host admits them.
    pub waiting_room: bool,
    /// Participants may enter before any host has; a meeting running without
    /// a host then ends after 30 minutes.
    pub join_before_host: bool,
    /// The meeting is end-to-end encrypted: the router never holds its keys.
    pub e2e: bool,
    /// The holder's organisation (an id or domain the web service chooses),
    /// or none. The router marks participants whose `org` differs from the
    /// host's as external. It lives here rather than as a top-level claim so
    /// that adding it left [`JoinClaims`]' fields unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
}

impl Default for JoinPolicy {
    /// A meeting with no special rules: no waiting room, join before host allowed,
    /// standard (router-keyed) encryption.
    fn default() -> Self {
        JoinPolicy {
            waiting_room: false,
            join_before_host: true,
            e2e: false,
            org: None,
        }
    }
}
