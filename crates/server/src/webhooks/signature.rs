//! Signing webhook requests and answering URL validation.
//!
//! The receiver recomputes `HMAC-SHA256(secret, "v0:" + timestamp + ":" +
//! body)` over the raw body bytes and the `x-confer-request-timestamp`
//! header, compares it with `x-confer-signature` (after `v0=`), and rejects
//! old timestamps to stop replays.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The timestamp header (Unix seconds).
pub(crate) const TIMESTAMP_HEADER: &str = "x-confer-request-timestamp";
/// The signature header.
pub(crate) const SIGNATURE_HEADER: &str = "x-confer-signature";
/// The delivery id header (for receivers to deduplicate redeliveries).
pub(crate) const DELIVERY_HEADER: &str = "x-confer-delivery-id";

/// HMAC-SHA256 of `message` under `secret`, as lowercase hex.
pub(crate) fn hmac_hex(secret: &[u8], message: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(message);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `x-confer-signature` value for `body` sent at `timestamp`.
pub(crate) fn sign(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let mut message = format!("v0:{timestamp}:").into_bytes();
    message.extend_from_slice(body);
    format!("v0={}", hmac_hex(secret.as_bytes(), &message))
}

/// The `encryptedToken` a receiver must return for `plain_token`.
pub(crate) fn validation_answer(secret: &str, plain_token: &str) -> String {
    hmac_hex(secret.as_bytes(), plain_token.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4231_test_case_2() {
        // HMAC-SHA256 with key "Jefe" and "what do ya want for nothing?".
        assert_eq!(
            hmac_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            sign("Jefe", 1, b"x"),
            format!("v0={}", hmac_hex(b"Jefe", b"v0:1:x"))
        );
    }
}
