//! PKCE (RFC 7636) with S256, and the random secrets single sign-on and
//! the authorization code grant hand out (`state`, `nonce`, codes).
//!
//! Written here rather than taken from the `oauth2` crate: it is a hash and
//! a comparison, and the crate would bring its own HTTP client stack.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use sha2::{Digest, Sha256};

/// A fresh random secret: 256 bits, base64url without padding (43 chars).
/// Fit for `state`, `nonce`, PKCE verifiers and one-time codes.
pub(crate) fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The S256 challenge of a verifier: base64url(SHA-256(verifier)).
pub(crate) fn challenge_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// SHA-256 hex of a one-time code: what the store keeps instead of it.
pub(crate) fn code_hash(code: &str) -> String {
    Sha256::digest(code.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether a challenge is well formed: 43 base64url characters (a SHA-256).
pub(crate) fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `verifier` is well formed (RFC 7636 §4.1: 43 to 128 unreserved
/// characters) and its S256 challenge is `challenge`, compared in constant
/// time.
pub(crate) fn verify_s256(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    well_formed && constant_time_eq(challenge_s256(verifier).as_bytes(), challenge.as_bytes())
}

/// Byte-string equality whose time does not depend on where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(challenge_s256(verifier), challenge);
        assert!(is_s256_challenge(challenge));
        assert!(verify_s256(verifier, challenge));
        assert!(!verify_s256(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK",
            challenge
        ));
        assert!(!verify_s256("short", &challenge_s256("short")));
    }

    #[test]
    fn secrets_are_distinct_and_url_safe() {
        let a = random_secret();
        assert_eq!(a.len(), 43);
        assert!(verify_s256(&a, &challenge_s256(&a)));
        assert_ne!(a, random_secret());
    }
}
