//! Verifying a client assertion (RFC 7523 §3, as used for client
//! authentication by RFC 7521 §4.2): a JWT the client signs with its own
//! private key instead of sending a secret.
//!
//! What we require: a key from the client's registered set (by `kid`, or
//! the only key if there is no `kid`) whose type fits the `alg`; `iss` =
//! `sub` = the client id; `aud` exactly our issuer, as a single value; `exp`
//! in the future but at most [`MAX_ASSERTION_LIFETIME_SECS`] away; `iat`
//! not in the future; a `jti`. Whether the `jti` was seen before is the
//! store's job (it must survive restarts); this module is sans-IO and takes
//! `now` from the caller.

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// The `client_assertion_type` of a JWT client assertion.
pub(crate) const CLIENT_ASSERTION_TYPE: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The longest an assertion may live: it is a one-shot credential, and a
/// short life bounds how long its `jti` must be remembered.
pub(crate) const MAX_ASSERTION_LIFETIME_SECS: u64 = 5 * 60;
/// Clock skew tolerated between the client and us.
const LEEWAY_SECS: u64 = 30;

/// Why an assertion was refused. The token endpoint answers every one of
/// these with `invalid_client`; the variant goes to the log.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum AssertionError {
    /// Not a JWT, or its claims have the wrong types.
    #[error("malformed assertion")]
    Malformed,
    /// The `kid` names no registered key (or there is no `kid` and more than
    /// one key).
    #[error("unknown key id {0:?}")]
    UnknownKey(Option<String>),
    /// The `alg` is not one we accept or does not fit the key.
    #[error("algorithm not allowed for this key")]
    AlgorithmMismatch,
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// `iss` or `sub` is not the client id.
    #[error("iss and sub must both be the client id")]
    WrongIssuer,
    /// `aud` is not exactly our issuer.
    #[error("aud must be exactly the server's issuer")]
    WrongAudience,
    /// `exp` has passed.
    #[error("assertion expired")]
    Expired,
    /// `exp` is too far in the future.
    #[error("assertion lives longer than allowed")]
    TooLongLived,
    /// `iat` is in the future.
    #[error("assertion issued in the future")]
    IssuedInFuture,
}

/// The claims we read from an assertion.
#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: serde_json::Value,
    exp: u64,
    iat: u64,
    jti: String,
}

/// A verified assertion: what the caller needs for the replay check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VerifiedAssertion {
    /// The assertion's unique id.
    pub(crate) jti: String,
    /// Its expiry: the `jti` must be remembered until then.
    pub(crate) exp: u64,
}

/// The `iss` of an assertion, read without verifying anything: only to find
/// which client's keys to verify it with.
pub(crate) fn unverified_issuer(token: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Iss {
        iss: String,
    }
    jsonwebtoken::dangerous::insecure_decode::<Iss>(token)
        .ok()
        .map(|data| data.claims.iss)
}

/// The `kid` in an assertion's header, if it has one.
pub(crate) fn key_id(token: &str) -> Result<Option<String>, AssertionError> {
    jsonwebtoken::decode_header(token)
        .map(|h| h.kid)
        .map_err(|_| AssertionError::Malformed)
}

/// Whether `keys` holds the key an assertion with this `kid` needs.
pub(crate) fn has_key(keys: &JwkSet, kid: Option<&str>) -> bool {
    match kid {
        Some(kid) => keys.find(kid).is_some(),
        None => keys.keys.len() == 1,
    }
}

/// Verifies `token` as an assertion by `client_id`, with the client's
/// `keys`, for a server whose issuer is `issuer`, at `now` (Unix seconds).
pub(crate) fn verify(
    token: &str,
    client_id: &str,
    keys: &JwkSet,
    issuer: &str,
    now: u64,
) -> Result<VerifiedAssertion, AssertionError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| AssertionError::Malformed)?;
    let jwk = match &header.kid {
        Some(kid) => keys.find(kid),
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
    .ok_or_else(|| AssertionError::UnknownKey(header.kid.clone()))?;
    let fits = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => matches!(
            header.alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ),
        AlgorithmParameters::EllipticCurve(_) => header.alg == Algorithm::ES256,
        _ => false,
    };
    let declared_ok = jwk
        .common
        .key_algorithm
        .is_none_or(|a| format!("{a:?}") == format!("{:?}", header.alg));
    if !fits || !declared_ok {
        return Err(AssertionError::AlgorithmMismatch);
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|_| AssertionError::AlgorithmMismatch)?;
    let mut validation = Validation::new(header.alg);
    // Time and audience are checked below, against `now` and with the
    // single-value rule, which jsonwebtoken's checks do not express.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => AssertionError::BadSignature,
            _ => AssertionError::Malformed,
        })?
        .claims;
    if claims.iss != client_id || claims.sub != client_id {
        return Err(AssertionError::WrongIssuer);
    }
    let aud_ok = match &claims.aud {
        serde_json::Value::String(aud) => aud == issuer,
        serde_json::Value::Array(auds) => auds.len() == 1 && auds[0] == issuer,
        _ => false,
    };
    if !aud_ok {
        return Err(AssertionError::WrongAudience);
    }
    if claims.exp.saturating_add(LEEWAY_SECS) <= now {
        return Err(AssertionError::Expired);
    }
    if claims.exp > now + MAX_ASSERTION_LIFETIME_SECS + LEEWAY_SECS {
        return Err(AssertionError::TooLongLived);
    }
    if claims.iat > now + LEEWAY_SECS {
        return Err(AssertionError::IssuedInFuture);
    }
    if claims.jti.is_empty() {
        return Err(AssertionError::Malformed);
    }
    Ok(VerifiedAssertion {
        jti: claims.jti,
        exp: claims.exp,
    })
}
