//! Fetching a client's published keys from its `jwks_uri`.
//!
//! HTTPS only, no redirects (a redirect could lead anywhere), a short
//! timeout and a size cap, because the URL is the client's to choose and
//! the fetch happens while a token request waits. The URL may also not
//! lead to loopback or private addresses (`outbound_guard`).

use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;

use super::client_keys::{self, KeyError};
use super::outbound_guard::{self, GuardError, OutboundPolicy};

/// The HTTP client for URLs other people chose, with the policy its
/// resolver enforces: build it with [`GuardedHttp::new`].
#[derive(Debug, Clone)]
pub(crate) struct GuardedHttp {
    /// The client; its DNS resolver drops addresses the policy refuses.
    pub(crate) client: reqwest::Client,
    /// What may be reached.
    pub(crate) policy: OutboundPolicy,
}

impl GuardedHttp {
    /// A client with no redirects, [`FETCH_TIMEOUT`], the guarded resolver,
    /// and `extra_ca` trusted besides the system's roots.
    pub(crate) fn new(
        policy: OutboundPolicy,
        extra_ca: Option<reqwest::Certificate>,
    ) -> Result<GuardedHttp, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(FETCH_TIMEOUT)
            .dns_resolver(std::sync::Arc::new(outbound_guard::GuardedResolver {
                policy,
            }))
            .user_agent(concat!("confer-server/", env!("CARGO_PKG_VERSION")));
        if let Some(cert) = extra_ca {
            builder = builder.add_root_certificate(cert);
        }
        Ok(GuardedHttp {
            client: builder.build()?,
            policy,
        })
    }
}

/// Largest JWKS document accepted.
const MAX_JWKS_BYTES: usize = 64 * 1024;
/// How long one fetch may take.
pub(crate) const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why fetching a JWKS failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum FetchError {
    /// The URL is not `https://`.
    #[error("jwks_uri must be an https:// URL")]
    NotHttps,
    /// The URL leads to a loopback or private address (SSRF guard).
    #[error("jwks_uri must not lead to a loopback or private address")]
    Forbidden(#[from] GuardError),
    /// Connecting, TLS or reading failed.
    #[error("fetching the JWKS failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The server answered with a status other than 200.
    #[error("the JWKS URL answered {0}")]
    Status(u16),
    /// The document exceeds the size cap.
    #[error("the JWKS document is too large")]
    TooLarge,
    /// The document is not JSON.
    #[error("the JWKS document is not JSON")]
    NotJson,
    /// The keys are not acceptable.
    #[error(transparent)]
    Keys(#[from] KeyError),
}

/// True for an `https://` URL with a host.
pub(crate) fn is_https_url(uri: &str) -> bool {
    uri.len() <= 2048
        && uri
            .strip_prefix("https://")
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
        && !uri.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Fetches and checks the key set at `uri`; returns it and its JSON text.
pub(crate) async fn fetch(http: &GuardedHttp, uri: &str) -> Result<(JwkSet, String), FetchError> {
    if !is_https_url(uri) {
        return Err(FetchError::NotHttps);
    }
    let url = outbound_guard::check_url(uri, http.policy)?;
    let mut response = http.client.get(url).timeout(FETCH_TIMEOUT).send().await?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(FetchError::Status(response.status().as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_JWKS_BYTES {
            return Err(FetchError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    let value: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| FetchError::NotJson)?;
    let keys = client_keys::validate(&value)?;
    let text = serde_json::to_string(&keys).map_err(|_| FetchError::NotJson)?;
    Ok((keys, text))
}
