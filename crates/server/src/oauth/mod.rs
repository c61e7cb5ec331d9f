//! OAuth 2.0 for API clients (RFC 6749 `client_credentials`).
//!
//! A client authenticates with a secret or with a JWT signed by its own
//! private key (`private_key_jwt`, RFC 7523) and receives an access token
//! limited to the scopes it asked for. How the modules fit:
//!
//! - `scopes`: the scope names and which endpoint needs which.
//! - `client_keys`: checking the public keys a client registers (JWK, JWKS);
//!   private keys are refused.
//! - `client_assertion`: verifying a client assertion against those keys
//!   (sans-IO: the caller supplies keys and `now`; replay checks happen in
//!   the store).
//! - `jwks_fetch`: fetching a client's `jwks_uri` over HTTPS.
//! - `outbound_guard`: the SSRF guard for URLs others chose (`jwks_uri`,
//!   OpenID providers): public `https://` hosts only.
//!
//! The token endpoint and client registration are `routes/oauth.rs` and
//! `routes/oauth_clients.rs`.

pub(crate) mod client_assertion;
pub(crate) mod client_keys;
pub(crate) mod jwks_fetch;
pub(crate) mod outbound_guard;
pub(crate) mod scopes;

use sha2::{Digest, Sha256};

/// How a client secret is stored: SHA-256, hex.
///
/// Not Argon2 like passwords: a client secret is 256 random bits we
/// generated, so there is nothing to brute-force and a slow hash would only
/// slow every token request.
pub(crate) fn secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `secret` matches the stored hash, comparing in constant time.
pub(crate) fn secret_matches(secret: &str, stored_hash: &str) -> bool {
    let computed = secret_hash(secret);
    computed.len() == stored_hash.len()
        && computed
            .bytes()
            .zip(stored_hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}
