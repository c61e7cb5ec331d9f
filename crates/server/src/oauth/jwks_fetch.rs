//! Fetching a client's published keys from its `jwks_uri`.
//!
//! HTTPS only, no redirects (a redirect could lead anywhere), a short
//! timeout and a size cap, because the URL is the client's to choose and
//! the fetch happens while a token request waits.

use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;

use super::client_keys::{self, KeyError};

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
pub(crate) async fn fetch(
    http: &reqwest::Client,
    uri: &str,
) -> Result<(JwkSet, String), FetchError> {
    if !is_https_url(uri) {
        return Err(FetchError::NotHttps);
    }
    let mut response = http.get(uri).timeout(FETCH_TIMEOUT).send().await?;
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
