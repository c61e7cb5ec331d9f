//! Single sign-on with OpenID Connect: the authorization code flow with
//! PKCE, for organisations that sign their people in through their own
//! identity provider.
//!
//! The flow (routes in `routes/sso.rs`): the desktop app or CLI opens
//! `/sso/{slug}/start` in the system browser with a loopback redirect URI
//! (RFC 8252) and its own PKCE challenge; we send the browser to the
//! provider with our PKCE challenge, `state` and `nonce`, all kept
//! server-side for a few minutes and usable once; the provider sends it back
//! to `/sso/callback`, where we redeem the code, validate the ID token,
//! provision the account on first sign-in into the organisation its claims
//! map to, and redirect to the app's loopback URI with a one-time code; the
//! app exchanges that code (and its PKCE verifier) at `POST /sso/token` for
//! a normal access token, so the token never appears in a URL.
//!
//! How the modules fit:
//!
//! - `pkce`: S256 challenges and the random secrets of the flow.
//! - `loopback_redirect`: which app redirect URIs are allowed.
//! - `provider`: discovery, code exchange and JWKS over the SSRF-guarded
//!   client (I/O).
//! - `id_token`: ID token validation (sans-IO).
//! - `org_mapping`: whether the claims belong to the organisation (sans-IO).
//! - `provisioning`: the account for a sign-in, created on the first.

pub(crate) mod id_token;
pub(crate) mod loopback_redirect;
pub(crate) mod org_mapping;
pub(crate) mod pkce;
pub(crate) mod provider;
pub(crate) mod provisioning;

use crate::oauth::outbound_guard::GuardError;

/// How long a sign-in may stay at the provider (10 minutes).
pub(crate) const LOGIN_LIFETIME_SECS: u64 = 10 * 60;
/// How long the app has to redeem its one-time code (1 minute).
pub(crate) const HANDOFF_LIFETIME_SECS: u64 = 60;

/// Why talking to the provider failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum SsoError {
    /// A provider URL is refused by the SSRF guard.
    #[error("provider URL refused: {0}")]
    Guard(#[from] GuardError),
    /// Connecting, TLS or reading failed.
    #[error("could not reach the provider: {0}")]
    Http(String),
    /// The provider answered something we cannot use.
    #[error("the provider's answer is unusable: {0}")]
    Provider(String),
}

impl SsoError {
    fn http(e: reqwest::Error) -> SsoError {
        // Without the URL's query: it may carry a code.
        SsoError::Http(e.without_url().to_string())
    }
}
