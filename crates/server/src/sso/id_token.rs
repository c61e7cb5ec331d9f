//! Validating an OpenID Connect ID token (OIDC Core §3.1.3.7), sans-IO: the
//! caller supplies the provider's keys, what it expects and `now`.
//!
//! Checked: the signature with a key from the provider's JWKS (asymmetric
//! algorithms only, and the one the key is for), `iss` equal to the
//! provider's issuer, `aud` containing our client id (and `azp` being us
//! when there are several audiences), `exp` not passed, `iat` not in the
//! future, and `nonce` equal to the one we sent.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::pkce::constant_time_eq;

/// Clock skew tolerated between us and the provider.
const LEEWAY_SECS: u64 = 60;

/// What the token must say.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    /// The provider's issuer, exactly.
    pub(crate) issuer: &'a str,
    /// Our client id at the provider.
    pub(crate) client_id: &'a str,
    /// The nonce we sent with this sign-in.
    pub(crate) nonce: &'a str,
}

/// The claims of a validated token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IdClaims {
    /// The provider's stable id for the person.
    pub(crate) subject: String,
    /// Every claim, for mapping to an organisation and the profile.
    pub(crate) all: Map<String, Value>,
}

impl IdClaims {
    /// A string claim, if present and a string.
    pub(crate) fn string(&self, name: &str) -> Option<&str> {
        self.all.get(name).and_then(Value::as_str)
    }

    /// The email, only if the provider says it verified it.
    pub(crate) fn verified_email(&self) -> Option<&str> {
        let verified = match self.all.get("email_verified") {
            Some(Value::Bool(b)) => *b,
            // Some providers send the string "true".
            Some(Value::String(s)) => s == "true",
            _ => false,
        };
        self.string("email").filter(|_| verified)
    }
}

/// Why an ID token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum IdTokenError {
    /// Not a JWT, or its claims are not a JSON object.
    #[error("the ID token is malformed")]
    Malformed,
    /// No key in the provider's JWKS fits the token's `kid` and `alg`.
    #[error("no provider key fits the ID token")]
    UnknownKey,
    /// A symmetric or otherwise unacceptable algorithm.
    #[error("the ID token's algorithm is not accepted")]
    BadAlgorithm,
    /// The signature does not verify.
    #[error("the ID token's signature does not verify")]
    BadSignature,
    /// `iss` is not the provider.
    #[error("the ID token is from another issuer")]
    WrongIssuer,
    /// `aud` (or `azp`) is not us.
    #[error("the ID token is for another audience")]
    WrongAudience,
    /// `exp` has passed, or `iat` is in the future.
    #[error("the ID token has expired or is not yet valid")]
    Expired,
    /// `nonce` is missing or not ours.
    #[error("the ID token's nonce does not match")]
    WrongNonce,
    /// `sub` is missing or empty.
    #[error("the ID token has no subject")]
    NoSubject,
}

/// Validates `token` against the provider's `keys` at `now` (Unix seconds).
pub(crate) fn validate(
    token: &str,
    keys: &JwkSet,
    expected: Expected<'_>,
    now: u64,
) -> Result<IdClaims, IdTokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| IdTokenError::Malformed)?;
    if matches!(
        header.alg,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    ) {
        return Err(IdTokenError::BadAlgorithm);
    }
    let fits = |jwk: &&jsonwebtoken::jwk::Jwk| key_fits(jwk, header.alg);
    let jwk = match &header.kid {
        Some(kid) => keys
            .keys
            .iter()
            .filter(|k| k.common.key_id.as_deref() == Some(kid.as_str()))
            .find(fits),
        None => {
            let mut candidates = keys.keys.iter().filter(fits);
            match (candidates.next(), candidates.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            }
        }
    }
    .ok_or(IdTokenError::UnknownKey)?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| IdTokenError::UnknownKey)?;
    let mut validation = Validation::new(header.alg);
    // Time, audience and issuer are checked below against `now` and with
    // OIDC's rules (azp), which jsonwebtoken's checks do not express.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let all = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => IdTokenError::BadSignature,
            _ => IdTokenError::Malformed,
        })?
        .claims;

    if all.get("iss").and_then(Value::as_str) != Some(expected.issuer) {
        return Err(IdTokenError::WrongIssuer);
    }
    let audiences: Vec<&str> = match all.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&expected.client_id) {
        return Err(IdTokenError::WrongAudience);
    }
    let azp = all.get("azp").and_then(Value::as_str);
    if (audiences.len() > 1 || azp.is_some()) && azp != Some(expected.client_id) {
        return Err(IdTokenError::WrongAudience);
    }
    let exp = all
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or(IdTokenError::Malformed)?;
    if exp.saturating_add(LEEWAY_SECS) <= now {
        return Err(IdTokenError::Expired);
    }
    if let Some(iat) = all.get("iat").and_then(Value::as_u64)
        && iat > now + LEEWAY_SECS
    {
        return Err(IdTokenError::Expired);
    }
    let nonce_ok = all
        .get("nonce")
        .and_then(Value::as_str)
        .is_some_and(|n| constant_time_eq(n.as_bytes(), expected.nonce.as_bytes()));
    if !nonce_ok {
        return Err(IdTokenError::WrongNonce);
    }
    let subject = all
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(IdTokenError::NoSubject)?
        .to_owned();
    Ok(IdClaims { subject, all })
}

/// Whether `jwk` is a key for `alg`: its type fits and, if it declares an
/// algorithm or a use, they fit too.
fn key_fits(jwk: &jsonwebtoken::jwk::Jwk, alg: Algorithm) -> bool {
    let type_fits = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => matches!(
            alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ),
        AlgorithmParameters::EllipticCurve(ec) => matches!(
            (&ec.curve, alg),
            (EllipticCurve::P256, Algorithm::ES256) | (EllipticCurve::P384, Algorithm::ES384)
        ),
        AlgorithmParameters::OctetKeyPair(_) => alg == Algorithm::EdDSA,
        _ => false,
    };
    let declared_ok = jwk
        .common
        .key_algorithm
        .is_none_or(|a| format!("{a:?}") == format!("{alg:?}"));
    let use_ok = jwk
        .common
        .public_key_use
        .as_ref()
        .is_none_or(|u| *u == jsonwebtoken::jwk::PublicKeyUse::Signature);
    type_fits && declared_ok && use_ok
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    use super::*;

    const ISSUER: &str = "https://idp.example";
    const CLIENT: &str = "confer";
    const NONCE: &str = "n-0S6_WzA2Mj";
    const NOW: u64 = 1_800_000_000;

    struct Provider {
        key: EncodingKey,
        keys: JwkSet,
    }

    fn provider(kid: &str) -> Provider {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let key = EncodingKey::from_ec_der(&pair.serialize_der());
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap();
        jwk.common.key_id = Some(kid.to_owned());
        Provider {
            key,
            keys: JwkSet { keys: vec![jwk] },
        }
    }

    fn claims() -> Value {
        json!({
            "iss": ISSUER, "aud": CLIENT, "sub": "248289761001", "nonce": NONCE,
            "iat": NOW, "exp": NOW + 300,
            "email": "ada@example.org", "email_verified": true, "org": "acme",
        })
    }

    fn sign(p: &Provider, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &p.key).unwrap()
    }

    fn expected() -> Expected<'static> {
        Expected {
            issuer: ISSUER,
            client_id: CLIENT,
            nonce: NONCE,
        }
    }

    fn check(p: &Provider, claims: &Value) -> Result<IdClaims, IdTokenError> {
        validate(&sign(p, "k1", claims), &p.keys, expected(), NOW)
    }

    fn with(field: &str, value: Value) -> Value {
        let mut c = claims();
        c[field] = value;
        c
    }

    #[test]
    fn a_good_token_is_accepted() {
        let p = provider("k1");
        let claims = check(&p, &claims()).unwrap();
        assert_eq!(claims.subject, "248289761001");
        assert_eq!(claims.verified_email(), Some("ada@example.org"));
        assert_eq!(claims.string("org"), Some("acme"));
        let unverified = check(&p, &with("email_verified", json!(false))).unwrap();
        assert_eq!(unverified.verified_email(), None);
    }

    #[test]
    fn every_check_refuses() {
        let p = provider("k1");
        let cases = [
            (
                with("iss", json!("https://evil.example")),
                IdTokenError::WrongIssuer,
            ),
            (
                with("aud", json!("someone-else")),
                IdTokenError::WrongAudience,
            ),
            (
                with("aud", json!([CLIENT, "other"])),
                IdTokenError::WrongAudience,
            ),
            (with("azp", json!("other")), IdTokenError::WrongAudience),
            (with("exp", json!(NOW - 120)), IdTokenError::Expired),
            (with("iat", json!(NOW + 3600)), IdTokenError::Expired),
            (with("nonce", json!("replayed")), IdTokenError::WrongNonce),
            (with("sub", json!("")), IdTokenError::NoSubject),
        ];
        for (claims, error) in cases {
            assert_eq!(check(&p, &claims).unwrap_err(), error, "{claims}");
        }
        let mut no_nonce = claims();
        no_nonce.as_object_mut().unwrap().remove("nonce");
        assert_eq!(check(&p, &no_nonce).unwrap_err(), IdTokenError::WrongNonce);
        // Several audiences are fine when azp names us.
        let mut multi = with("aud", json!([CLIENT, "other"]));
        multi["azp"] = json!(CLIENT);
        assert!(check(&p, &multi).is_ok());
    }

    #[test]
    fn tampered_or_foreign_tokens_are_refused() {
        let p = provider("k1");
        let token = sign(&p, "k1", &claims());
        let (head, rest) = token.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        use base64::Engine as _;
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(with("sub", json!("admin")).to_string());
        let tampered = format!("{head}.{forged}.{sig}");
        assert_eq!(
            validate(&tampered, &p.keys, expected(), NOW).unwrap_err(),
            IdTokenError::BadSignature
        );
        // Signed by someone else under the same kid.
        let other = provider("k1");
        assert_eq!(
            validate(&sign(&other, "k1", &claims()), &p.keys, expected(), NOW).unwrap_err(),
            IdTokenError::BadSignature
        );
        // An unknown kid.
        assert_eq!(
            validate(&sign(&p, "k2", &claims()), &p.keys, expected(), NOW).unwrap_err(),
            IdTokenError::UnknownKey
        );
        // HMAC with the public key as secret (algorithm confusion).
        let hs = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(),
            &EncodingKey::from_secret(b"public"),
        )
        .unwrap();
        assert_eq!(
            validate(&hs, &p.keys, expected(), NOW).unwrap_err(),
            IdTokenError::BadAlgorithm
        );
        assert_eq!(
            validate("not.a.jwt", &p.keys, expected(), NOW).unwrap_err(),
            IdTokenError::Malformed
        );
    }
}
