//! The public keys an API client registers, as one JWK or a JWKS
//! (RFC 7517), checked before they are stored.
//!
//! Accepted: RSA keys of at least 2048 bits and EC keys on P-256, for
//! signing. Refused: any key carrying private parts (`d`, `p`, `q`, `dp`,
//! `dq`, `qi`, `oth`) and symmetric keys (`k`): a client that sends us its
//! private key has leaked it, and we must not become a second place it is
//! stored.

use base64::Engine as _;
use jsonwebtoken::jwk::JwkSet;
use serde_json::Value;

/// Smallest RSA modulus accepted, in bits.
pub(crate) const MIN_RSA_BITS: usize = 2048;
/// Most keys one client may register (enough for rotation overlap).
const MAX_KEYS: usize = 10;
/// JWK members that only private or symmetric keys have.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Why a key set was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum KeyError {
    /// A key holds private (or symmetric) key material.
    #[error("key {0} contains private key material; register only the public key")]
    PrivateKey(usize),
    /// A key type other than RSA or EC.
    #[error("key {0}: only RSA and EC (P-256) keys are accepted")]
    UnsupportedKeyType(usize),
    /// An RSA key shorter than [`MIN_RSA_BITS`].
    #[error("key {index}: RSA key of {bits} bits; at least 2048 are required")]
    WeakRsaKey {
        /// Which key.
        index: usize,
        /// Its modulus length.
        bits: usize,
    },
    /// An EC key on a curve other than P-256.
    #[error("key {0}: only the P-256 curve is accepted")]
    UnsupportedCurve(usize),
    /// `use` other than `sig`, or an algorithm that does not fit the key.
    #[error("key {0}: not usable for signature verification (use/alg)")]
    NotForSignatures(usize),
    /// Not a JWK or JWKS, or a member is malformed.
    #[error("malformed key set: {0}")]
    Malformed(String),
    /// No keys, or more than [`MAX_KEYS`].
    #[error("a key set must hold 1 to 10 keys")]
    Count,
}

/// Checks a JWK (an object with `kty`) or a JWKS (an object with `keys`)
/// and returns it as a key set.
pub(crate) fn validate(value: &Value) -> Result<JwkSet, KeyError> {
    let keys: Vec<Value> = match value {
        Value::Object(map) if map.contains_key("keys") => match map.get("keys") {
            Some(Value::Array(keys)) => keys.clone(),
            _ => return Err(KeyError::Malformed("keys must be an array".into())),
        },
        Value::Object(map) if map.contains_key("kty") => vec![value.clone()],
        _ => return Err(KeyError::Malformed("expected a JWK or a JWKS".into())),
    };
    if keys.is_empty() || keys.len() > MAX_KEYS {
        return Err(KeyError::Count);
    }
    for (index, key) in keys.iter().enumerate() {
        check_key(index, key)?;
    }
    serde_json::from_value(serde_json::json!({ "keys": keys }))
        .map_err(|e| KeyError::Malformed(e.to_string()))
}

fn check_key(index: usize, key: &Value) -> Result<(), KeyError> {
    let Value::Object(map) = key else {
        return Err(KeyError::Malformed(format!("key {index} is not an object")));
    };
    // Checked first, whatever else is wrong: a leaked private key must be
    // reported as such.
    if PRIVATE_MEMBERS.iter().any(|m| map.contains_key(*m)) {
        return Err(KeyError::PrivateKey(index));
    }
    if map.get("use").is_some_and(|u| u != "sig") {
        return Err(KeyError::NotForSignatures(index));
    }
    let alg = map.get("alg").and_then(Value::as_str);
    match map.get("kty").and_then(Value::as_str) {
        Some("RSA") => {
            if alg.is_some_and(|a| {
                !matches!(a, "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512")
            }) {
                return Err(KeyError::NotForSignatures(index));
            }
            let n = map
                .get("n")
                .and_then(Value::as_str)
                .ok_or_else(|| KeyError::Malformed(format!("key {index}: missing n")))?;
            let modulus = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(n.trim_end_matches('='))
                .map_err(|_| KeyError::Malformed(format!("key {index}: n is not base64url")))?;
            let significant = modulus.iter().skip_while(|b| **b == 0).count();
            let bits = significant * 8;
            if bits < MIN_RSA_BITS {
                return Err(KeyError::WeakRsaKey { index, bits });
            }
            if !map.get("e").is_some_and(Value::is_string) {
                return Err(KeyError::Malformed(format!("key {index}: missing e")));
            }
        }
        Some("EC") => {
            if map.get("crv").and_then(Value::as_str) != Some("P-256") {
                return Err(KeyError::UnsupportedCurve(index));
            }
            if alg.is_some_and(|a| a != "ES256") {
                return Err(KeyError::NotForSignatures(index));
            }
            if !(map.get("x").is_some_and(Value::is_string)
                && map.get("y").is_some_and(Value::is_string))
            {
                return Err(KeyError::Malformed(format!("key {index}: missing x or y")));
            }
        }
        _ => return Err(KeyError::UnsupportedKeyType(index)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rsa_n(bytes: usize) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(vec![0xC5u8; bytes])
    }

    #[test]
    fn public_keys_pass_and_private_or_weak_ones_do_not() {
        let ec = json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA", "kid": "e1"});
        assert_eq!(validate(&ec).unwrap().keys.len(), 1);
        let rsa = json!({"kty": "RSA", "n": rsa_n(256), "e": "AQAB", "kid": "r1", "alg": "RS256"});
        assert_eq!(validate(&json!({"keys": [ec, rsa]})).unwrap().keys.len(), 2);

        let mut private = ec.clone();
        private["d"] = json!("secret");
        assert_eq!(validate(&private), Err(KeyError::PrivateKey(0)));
        let mut private_rsa = rsa.clone();
        private_rsa["p"] = json!("secret");
        assert_eq!(
            validate(&json!({"keys": [ec, private_rsa]})),
            Err(KeyError::PrivateKey(1))
        );
        assert_eq!(
            validate(&json!({"kty": "oct", "k": "c2VjcmV0"})),
            Err(KeyError::PrivateKey(0))
        );
        assert_eq!(
            validate(&json!({"kty": "RSA", "n": rsa_n(128), "e": "AQAB"})),
            Err(KeyError::WeakRsaKey {
                index: 0,
                bits: 1024
            })
        );
        assert_eq!(
            validate(&json!({"kty": "EC", "crv": "P-384", "x": "A", "y": "A"})),
            Err(KeyError::UnsupportedCurve(0))
        );
        assert_eq!(
            validate(&json!({"kty": "OKP", "crv": "Ed25519", "x": "A"})),
            Err(KeyError::UnsupportedKeyType(0))
        );
        assert_eq!(validate(&json!({"keys": []})), Err(KeyError::Count));
        assert!(matches!(validate(&json!([1])), Err(KeyError::Malformed(_))));
    }
}
