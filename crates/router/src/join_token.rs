//! Join-token verification: the router's only source of who someone is and
//! what they may do.
//!
//! The web service signs join tokens (ES256 JWTs, see `docs/protocol.md`) and
//! publishes the public keys as a JWKS. A [`JoinTokenVerifier`] holds those
//! keys and turns a compact JWS into [`JoinClaims`], or a [`TokenError`] that
//! says whether the token was merely expired or not acceptable at all.
//!
//! Verification is pure: it takes the wall-clock time as an argument, so
//! tests can verify tokens "at" any moment. Remembering which session ids
//! were already used is the meeting core's job, not this module's.
//!
//! The verifier is a plain value; to rotate keys while the router runs, the
//! driver keeps it behind an `Arc<RwLock<_>>` (see
//! [`crate::RouterHandle::token_verifier`]) and callers add or replace keys
//! through the lock.

use std::collections::HashMap;
use std::fmt;

use confer_wire::control::ErrorCode;
use confer_wire::token::{JOIN_TOKEN_AUDIENCE, JoinClaims, MAX_JOIN_TOKEN_LIFETIME_SECS};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// Clock skew tolerated on `exp` (and on `iat` lying in the future).
pub const CLOCK_SKEW_LEEWAY_SECS: u64 = 30;

/// Why a join token (or a key set) was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token was valid once but its `exp` (plus the leeway) has passed.
    /// Answered with `token_expired`, so the client knows to fetch a new one.
    #[error("join token expired")]
    Expired,
    /// The token is malformed, forged, signed by an unknown key, or made out
    /// for another audience or issuer. The reason is for logs; it never
    /// contains the token itself.
    #[error("invalid join token: {0}")]
    Invalid(String),
    /// A JWKS document handed to [`JoinTokenVerifier::add_jwks`] could not be
    /// used; no key from it was added.
    #[error("unusable JWKS: {0}")]
    Jwks(String),
}

impl TokenError {
    /// The protocol error code a client is sent for this refusal.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            TokenError::Expired => ErrorCode::TokenExpired,
            TokenError::Invalid(_) | TokenError::Jwks(_) => ErrorCode::InvalidToken,
        }
    }
}

/// Verifies join tokens against the web service's published keys.
///
/// Built with the expected issuer, then fed one or more JWKS documents.
/// Keys are looked up by the token header's `kid`; a token naming a key the
/// verifier does not hold is invalid, never "tried against every key".
pub struct JoinTokenVerifier {
    /// The `iss` every accepted token must carry (the web service's base URL).
    issuer: String,
    /// Public keys by key id.
    keys: HashMap<String, DecodingKey>,
    /// Signature and algorithm checks for jsonwebtoken; every claim check is
    /// ours (see [`JoinTokenVerifier::verify`]) because jsonwebtoken reads the
    /// system clock and we take the time as an argument.
    validation: Validation,
}

impl fmt::Debug for JoinTokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kids: Vec<&str> = self.keys.keys().map(String::as_str).collect();
        kids.sort_unstable();
        f.debug_struct("JoinTokenVerifier")
            .field("issuer", &self.issuer)
            .field("kids", &kids)
            .finish()
    }
}

/// One key of a JWKS document, as far as we read it.
#[derive(Deserialize)]
struct Jwk {
    kty: String,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
}

/// A JWKS document (RFC 7517 §5).
#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

impl JoinTokenVerifier {
    /// A verifier with no keys yet, accepting tokens whose `iss` is `issuer`.
    pub fn new(issuer: impl Into<String>) -> Self {
        // jsonwebtoken picks its crypto backend process-wide; name aws-lc-rs
        // explicitly so a feature enabled by some other crate in the build
        // cannot leave it undecided (which would panic on first use). An
        // error only means a provider is already installed.
        let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
            &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
        );
        let mut validation = Validation::new(Algorithm::ES256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        Self {
            issuer: issuer.into(),
            keys: HashMap::new(),
            validation,
        }
    }

    /// The issuer tokens must name.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// How many keys the verifier holds.
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Adds the ES256 keys of a JWKS document (`{"keys":[{"kty":"EC",
    /// "crv":"P-256","x":…,"y":…,"kid":…,"alg":"ES256"}]}`, coordinates in
    /// base64url). A key with an existing `kid` replaces the old one. Keys of
    /// other types, curves, algorithms or uses are skipped: a JWKS may list
    /// keys meant for something else.
    ///
    /// All or nothing: if any P-256 key is unusable (no `kid`, bad
    /// coordinates), nothing is added.
    ///
    /// # Errors
    ///
    /// [`TokenError::Jwks`] if the document is not a JWKS or holds a broken
    /// P-256 key.
    pub fn add_jwks(&mut self, jwks_json: &str) -> Result<(), TokenError> {
        let set: JwkSet = serde_json::from_str(jwks_json)
            .map_err(|e| TokenError::Jwks(format!("not a JWKS document: {e}")))?;
        let mut parsed = Vec::with_capacity(set.keys.len());
        for jwk in set.keys {
            let usable = jwk.kty == "EC"
                && jwk.crv.as_deref() == Some("P-256")
                && jwk.alg.as_deref().is_none_or(|a| a == "ES256")
                && jwk.use_.as_deref().is_none_or(|u| u == "sig");
            if !usable {
                tracing::debug!(kty = %jwk.kty, kid = ?jwk.kid, "skipping JWK that is not an ES256 signing key");
                continue;
            }
            let kid = jwk
                .kid
                .ok_or_else(|| TokenError::Jwks("P-256 key without kid".into()))?;
            let key = ec_key(&kid, jwk.x.as_deref(), jwk.y.as_deref())?;
            parsed.push((kid, key));
        }
        self.keys.extend(parsed);
        Ok(())
    }

    /// Replaces every key with those of `jwks_json` (key rotation that also
    /// retires old keys). On error the old keys stay.
    ///
    /// # Errors
    ///
    /// As for [`JoinTokenVerifier::add_jwks`].
    pub fn replace_jwks(&mut self, jwks_json: &str) -> Result<(), TokenError> {
        let mut fresh = Self::new(self.issuer.clone());
        fresh.add_jwks(jwks_json)?;
        self.keys = fresh.keys;
        Ok(())
    }

    /// Forgets the key named `kid`; returns whether it was held.
    pub fn remove_key(&mut self, kid: &str) -> bool {
        self.keys.remove(kid).is_some()
    }

    /// Verifies a compact JWS join token at wall-clock time `now_unix`
    /// (seconds since the Unix epoch) and returns its claims.
    ///
    /// Checks, in order: ES256 header naming a known `kid`; the signature;
    /// the claims' shape; `aud` = [`JOIN_TOKEN_AUDIENCE`]; `iss`; a lifetime
    /// (`exp - iat`) of at most [`MAX_JOIN_TOKEN_LIFETIME_SECS`]; `iat` not in
    /// the future and `exp` not in the past, each with
    /// [`CLOCK_SKEW_LEEWAY_SECS`] of slack. Expiry is checked last so that
    /// `token_expired` is only ever said about a token that was genuine.
    ///
    /// # Errors
    ///
    /// [`TokenError::Expired`] for a genuine but expired token,
    /// [`TokenError::Invalid`] for everything else.
    pub fn verify(&self, token: &str, now_unix: u64) -> Result<JoinClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| TokenError::Invalid(format!("header: {}", describe(e.kind()))))?;
        if header.alg != Algorithm::ES256 {
            return Err(TokenError::Invalid(format!(
                "algorithm {:?} is not ES256",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| TokenError::Invalid("header has no kid".into()))?;
        let key = self
            .keys
            .get(&kid)
            .ok_or_else(|| TokenError::Invalid(format!("unknown key id {kid:?}")))?;
        let data = jsonwebtoken::decode::<JoinClaims>(token, key, &self.validation)
            .map_err(|e| TokenError::Invalid(describe(e.kind())))?;
        let claims = data.claims;
        if claims.aud != JOIN_TOKEN_AUDIENCE {
            return Err(TokenError::Invalid(format!("audience {:?}", claims.aud)));
        }
        if claims.iss != self.issuer {
            return Err(TokenError::Invalid(format!("issuer {:?}", claims.iss)));
        }
        if claims.exp < claims.iat || claims.exp - claims.iat > MAX_JOIN_TOKEN_LIFETIME_SECS {
            return Err(TokenError::Invalid(format!(
                "lifetime of {} s exceeds {MAX_JOIN_TOKEN_LIFETIME_SECS} s",
                claims.exp.saturating_sub(claims.iat)
            )));
        }
        if claims.iat > now_unix.saturating_add(CLOCK_SKEW_LEEWAY_SECS) {
            return Err(TokenError::Invalid("issued in the future".into()));
        }
        if claims.exp.saturating_add(CLOCK_SKEW_LEEWAY_SECS) < now_unix {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

/// Builds a P-256 public key from base64url coordinates, checking their
/// length here because jsonwebtoken defers that to the first verification.
fn ec_key(kid: &str, x: Option<&str>, y: Option<&str>) -> Result<DecodingKey, TokenError> {
    let (Some(x), Some(y)) = (x, y) else {
        return Err(TokenError::Jwks(format!("key {kid:?} lacks x or y")));
    };
    // 32 bytes of coordinate are 43 base64url characters without padding.
    if x.len() != 43 || y.len() != 43 {
        return Err(TokenError::Jwks(format!(
            "key {kid:?}: coordinates are not 32 bytes"
        )));
    }
    DecodingKey::from_ec_components(x, y)
        .map_err(|e| TokenError::Jwks(format!("key {kid:?}: {}", describe(e.kind()))))
}

/// A short reason for logs. jsonwebtoken's messages never quote the token,
/// but we still keep to the error kind so nothing token-derived is logged.
fn describe(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::InvalidSignature => "bad signature".into(),
        ErrorKind::InvalidToken => "not a compact JWS".into(),
        ErrorKind::InvalidAlgorithm => "algorithm mismatch".into(),
        ErrorKind::InvalidEcdsaKey | ErrorKind::InvalidKeyFormat => "unusable key".into(),
        ErrorKind::Base64(_) => "bad base64url".into(),
        ErrorKind::Json(e) => format!("bad JSON: {e}"),
        ErrorKind::Utf8(_) => "bad UTF-8".into(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use confer_wire::ids::{MeetingId, Role};
    use jsonwebtoken::{EncodingKey, Header};

    use super::*;

    const ISSUER: &str = "https://confer.test";
    const NOW: u64 = 1_800_000_000;

    /// A P-256 signing key and its JWKS.
    struct Signer {
        kid: String,
        key: EncodingKey,
        jwks: String,
    }

    impl Signer {
        fn new(kid: &str) -> Self {
            let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
            let key = EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap();
            let raw = pair.public_key_raw();
            let (x, y) = (
                URL_SAFE_NO_PAD.encode(&raw[1..33]),
                URL_SAFE_NO_PAD.encode(&raw[33..65]),
            );
            let jwks = serde_json::json!({"keys": [
                {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "rsa"},
                {"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "alg": "ES256", "use": "sig"},
            ]})
            .to_string();
            Self {
                kid: kid.into(),
                key,
                jwks,
            }
        }

        fn sign(&self, claims: &JoinClaims) -> String {
            let mut header = Header::new(Algorithm::ES256);
            header.kid = Some(self.kid.clone());
            jsonwebtoken::encode(&header, claims, &self.key).unwrap()
        }
    }

    fn claims() -> JoinClaims {
        JoinClaims {
            iss: ISSUER.into(),
            aud: JOIN_TOKEN_AUDIENCE.into(),
            sub: "user-1".into(),
            exp: NOW + 600,
            iat: NOW,
            jti: "j".into(),
            mid: MeetingId(42),
            sid: "s".into(),
            role: Role::Host,
            name: "Ada".into(),
            guest: false,
            policy: Default::default(),
        }
    }

    fn verifier(signer: &Signer) -> JoinTokenVerifier {
        let mut v = JoinTokenVerifier::new(ISSUER);
        v.add_jwks(&signer.jwks).unwrap();
        v
    }

    #[test]
    fn accepts_a_genuine_token() {
        let signer = Signer::new("k1");
        let v = verifier(&signer);
        assert_eq!(v.key_count(), 1, "the RSA key is skipped");
        assert_eq!(v.verify(&signer.sign(&claims()), NOW + 10), Ok(claims()));
    }

    #[test]
    fn expiry_has_thirty_seconds_of_leeway() {
        let signer = Signer::new("k1");
        let v = verifier(&signer);
        let token = signer.sign(&claims());
        assert!(v.verify(&token, NOW + 600 + 30).is_ok());
        assert_eq!(v.verify(&token, NOW + 600 + 31), Err(TokenError::Expired));
        assert_eq!(TokenError::Expired.error_code(), ErrorCode::TokenExpired);
    }

    #[test]
    fn refuses_forged_unknown_key_and_wrong_claims() {
        let signer = Signer::new("k1");
        let v = verifier(&signer);
        // Same kid, another key: a forgery.
        let forger = Signer::new("k1");
        assert!(matches!(
            v.verify(&forger.sign(&claims()), NOW),
            Err(TokenError::Invalid(_))
        ));
        // A key the verifier does not hold.
        assert!(matches!(
            v.verify(&Signer::new("k2").sign(&claims()), NOW),
            Err(TokenError::Invalid(_))
        ));
        let bad = [
            JoinClaims {
                aud: "confer-api".into(),
                ..claims()
            },
            JoinClaims {
                iss: "https://evil.test".into(),
                ..claims()
            },
            JoinClaims {
                exp: NOW + MAX_JOIN_TOKEN_LIFETIME_SECS + 1,
                ..claims()
            },
            JoinClaims {
                iat: NOW + 3600,
                exp: NOW + 3700,
                ..claims()
            },
        ];
        for c in bad {
            let err = v.verify(&signer.sign(&c), NOW).unwrap_err();
            assert!(matches!(err, TokenError::Invalid(_)), "{c:?}: {err:?}");
            assert_eq!(err.error_code(), ErrorCode::InvalidToken);
        }
        // An expired forgery is invalid, not expired.
        assert!(matches!(
            v.verify(&forger.sign(&claims()), NOW + 10_000),
            Err(TokenError::Invalid(_))
        ));
    }

    #[test]
    fn refuses_garbage_and_other_algorithms() {
        let signer = Signer::new("k1");
        let v = verifier(&signer);
        for token in ["", "a.b", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "\u{0}..."] {
            assert!(
                matches!(v.verify(token, NOW), Err(TokenError::Invalid(_))),
                "{token:?}"
            );
        }
        // HS256 with the public coordinates as the secret: the classic confusion attack.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let hs = jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(b"x")).unwrap();
        assert!(matches!(v.verify(&hs, NOW), Err(TokenError::Invalid(_))));
    }

    #[test]
    fn keys_can_be_rotated() {
        let old = Signer::new("old");
        let new = Signer::new("new");
        let mut v = verifier(&old);
        v.add_jwks(&new.jwks).unwrap();
        assert!(v.verify(&old.sign(&claims()), NOW).is_ok());
        assert!(v.verify(&new.sign(&claims()), NOW).is_ok());
        v.replace_jwks(&new.jwks).unwrap();
        assert!(v.verify(&old.sign(&claims()), NOW).is_err());
        assert!(v.verify(&new.sign(&claims()), NOW).is_ok());
        assert!(v.remove_key("new"));
        assert_eq!(v.key_count(), 0);
    }

    #[test]
    fn refuses_broken_key_sets_without_adding_anything() {
        let mut v = JoinTokenVerifier::new(ISSUER);
        for jwks in [
            "not json",
            r#"{"nokeys":[]}"#,
            r#"{"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA","kid":"k"}]}"#,
            r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k"}]}"#,
        ] {
            assert!(
                matches!(v.add_jwks(jwks), Err(TokenError::Jwks(_))),
                "{jwks}"
            );
        }
        assert_eq!(v.key_count(), 0);
    }
}
