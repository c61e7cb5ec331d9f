//! Talking to an OpenID provider: discovery, the code exchange at its token
//! endpoint, and its JWKS. Every URL goes through the SSRF guard, because
//! an organisation admin chose the issuer.
//!
//! Hand-written over our reqwest 0.13 client rather than the
//! `openidconnect` crate: that crate's HTTP adapters target reqwest 0.12
//! (a second HTTP and TLS stack in the binary) and it brings its own
//! RSA/ECDSA crates beside the aws-lc `jsonwebtoken` we already verify
//! tokens with. What remains is three GETs/POSTs and the ID token checks in
//! `id_token.rs`.

use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;

use super::SsoError;
use crate::oauth::jwks_fetch::GuardedHttp;
use crate::oauth::outbound_guard;

/// Largest document accepted from a provider.
const MAX_BODY_BYTES: usize = 256 * 1024;

/// The parts of the provider's discovery document (OIDC Discovery §3) we
/// use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct ProviderMetadata {
    /// Must equal the issuer we were configured with.
    pub(crate) issuer: String,
    /// Where the browser is sent to sign in.
    pub(crate) authorization_endpoint: String,
    /// Where we exchange the code.
    pub(crate) token_endpoint: String,
    /// The provider's signing keys.
    pub(crate) jwks_uri: String,
    /// PKCE methods offered; absent means the provider does not say.
    #[serde(default)]
    pub(crate) code_challenge_methods_supported: Option<Vec<String>>,
}

/// Reads a response body up to the size cap.
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, SsoError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(SsoError::http)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(SsoError::Provider("response too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn get_json<T: serde::de::DeserializeOwned>(
    http: &GuardedHttp,
    raw_url: &str,
) -> Result<T, SsoError> {
    let url = outbound_guard::check_url(raw_url, http.policy)?;
    let response = http.client.get(url).send().await.map_err(SsoError::http)?;
    if !response.status().is_success() {
        return Err(SsoError::Provider(format!(
            "{raw_url} answered {}",
            response.status().as_u16()
        )));
    }
    let body = read_capped(response).await?;
    serde_json::from_slice(&body)
        .map_err(|e| SsoError::Provider(format!("{raw_url} sent unreadable JSON: {e}")))
}

/// Fetches and checks the discovery document of `issuer`.
pub(crate) async fn discover(
    http: &GuardedHttp,
    issuer: &str,
) -> Result<ProviderMetadata, SsoError> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let metadata: ProviderMetadata = get_json(http, &url).await?;
    // OIDC Discovery §4.3: the document must be for exactly this issuer,
    // or a provider could speak for another.
    if metadata.issuer != issuer {
        return Err(SsoError::Provider(format!(
            "discovery names issuer {} instead of {issuer}",
            metadata.issuer
        )));
    }
    if let Some(methods) = &metadata.code_challenge_methods_supported
        && !methods.iter().any(|m| m == "S256")
    {
        return Err(SsoError::Provider(
            "the provider does not offer PKCE S256".into(),
        ));
    }
    for endpoint in [
        &metadata.authorization_endpoint,
        &metadata.token_endpoint,
        &metadata.jwks_uri,
    ] {
        outbound_guard::check_url(endpoint, http.policy)?;
    }
    Ok(metadata)
}

/// The provider's signing keys.
pub(crate) async fn keys(
    http: &GuardedHttp,
    metadata: &ProviderMetadata,
) -> Result<JwkSet, SsoError> {
    get_json(http, &metadata.jwks_uri).await
}

/// What we send to redeem a code.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CodeExchange<'a> {
    /// Our client id at the provider.
    pub(crate) client_id: &'a str,
    /// Our client secret there.
    pub(crate) client_secret: &'a str,
    /// The code from the callback.
    pub(crate) code: &'a str,
    /// Our callback URL, as sent in the authorization request.
    pub(crate) redirect_uri: &'a str,
    /// The PKCE verifier of this sign-in.
    pub(crate) code_verifier: &'a str,
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
}

/// Redeems the code at the token endpoint (client_secret_basic) and returns
/// the ID token, not yet validated.
pub(crate) async fn exchange_code(
    http: &GuardedHttp,
    metadata: &ProviderMetadata,
    exchange: CodeExchange<'_>,
) -> Result<String, SsoError> {
    let url = outbound_guard::check_url(&metadata.token_endpoint, http.policy)?;
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", exchange.code)
        .append_pair("redirect_uri", exchange.redirect_uri)
        .append_pair("code_verifier", exchange.code_verifier)
        .finish();
    // RFC 6749 §2.3.1: both parts form-urlencoded before Basic encoding.
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let response = http
        .client
        .post(url)
        .basic_auth(
            encode(exchange.client_id),
            Some(encode(exchange.client_secret)),
        )
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(reqwest::header::ACCEPT, "application/json")
        .body(body)
        .send()
        .await
        .map_err(SsoError::http)?;
    let status = response.status();
    let body = read_capped(response).await?;
    if !status.is_success() {
        #[derive(Deserialize)]
        struct ErrorBody {
            error: Option<String>,
        }
        let error = serde_json::from_slice::<ErrorBody>(&body)
            .ok()
            .and_then(|e| e.error)
            .unwrap_or_default();
        return Err(SsoError::Provider(format!(
            "the token endpoint refused the code ({} {error})",
            status.as_u16()
        )));
    }
    let tokens: TokenResponse = serde_json::from_slice(&body)
        .map_err(|e| SsoError::Provider(format!("unreadable token response: {e}")))?;
    tokens
        .id_token
        .ok_or_else(|| SsoError::Provider("the token response has no id_token".into()))
}
