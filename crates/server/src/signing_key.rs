//! The ES256 (ECDSA P-256) key that signs access tokens and join tokens.
//!
//! It lives in `signing-key.pem` (PKCS#8, mode 0600) in the data directory,
//! created on first start and reused afterwards, so tokens issued before a
//! restart stay valid. Its public half is published as a JWK whose `kid` is
//! the RFC 7638 thumbprint of the key: stable across restarts, and a future
//! second key (rotation) gets a different one without bookkeeping.

use std::path::Path;

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, TokenData, Validation};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::data_dir::{Visibility, read_optional, write_file};
use crate::error::ServerError;

/// The signing key's file in the data directory.
pub(crate) const SIGNING_KEY_FILE: &str = "signing-key.pem";

/// The server's token-signing key pair.
pub(crate) struct SigningKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    /// The public JWK as published in `/.well-known/jwks.json`.
    public_jwk: serde_json::Value,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material, not even by accident in a log line.
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads the key from `data_dir`, generating and saving one on first start.
    pub(crate) fn load_or_create(data_dir: &Path) -> Result<Self, ServerError> {
        let path = data_dir.join(SIGNING_KEY_FILE);
        let pem = match read_optional(&path)? {
            Some(pem) => pem,
            None => {
                tracing::info!(path = %path.display(), "creating the token signing key");
                let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
                let pem = key.serialize_pem();
                write_file(&path, pem.as_bytes(), Visibility::Private)?;
                pem
            }
        };
        Self::from_pkcs8_pem(&pem).map_err(|e| ServerError::BadKeyFile {
            path: path.clone(),
            reason: e.to_string(),
        })
    }

    /// Builds the key pair from a PKCS#8 PEM private key.
    pub(crate) fn from_pkcs8_pem(pem: &str) -> Result<Self, jsonwebtoken::errors::Error> {
        let encoding = EncodingKey::from_ec_pem(pem.as_bytes())?;
        let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::ES256)?;
        let kid = jwk.thumbprint(ThumbprintHash::SHA256)?;
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        let decoding = DecodingKey::from_jwk(&jwk)?;
        let AlgorithmParameters::EllipticCurve(ec) = &jwk.algorithm else {
            return Err(jsonwebtoken::errors::ErrorKind::InvalidEcdsaKey.into());
        };
        // Written out rather than serialising `Jwk`, so the published shape is
        // exactly the one docs/api.md promises whatever the library adds.
        let public_jwk = serde_json::json!({
            "kty": "EC",
            "crv": "P-256",
            "x": ec.x,
            "y": ec.y,
            "kid": kid,
            "alg": "ES256",
            "use": "sig",
        });
        Ok(SigningKey {
            encoding,
            decoding,
            kid,
            public_jwk,
        })
    }

    /// The key id (`kid`) every token header carries.
    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWK Set document served at `/.well-known/jwks.json`.
    pub(crate) fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [self.public_jwk] })
    }

    /// Signs `claims` as a compact ES256 JWS with our `kid` in the header.
    pub(crate) fn sign<T: Serialize>(
        &self,
        claims: &T,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
    }

    /// Verifies a token we signed: ES256 only, our `kid` (when present), and
    /// whatever `validation` adds (audience, issuer, expiry).
    pub(crate) fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        validation: &Validation,
    ) -> Result<TokenData<T>, jsonwebtoken::errors::Error> {
        let header = jsonwebtoken::decode_header(token)?;
        if header.kid.as_deref().is_some_and(|kid| kid != self.kid) {
            return Err(jsonwebtoken::errors::ErrorKind::InvalidSignature.into());
        }
        let mut validation = validation.clone();
        validation.algorithms = vec![Algorithm::ES256];
        jsonwebtoken::decode(token, &self.decoding, &validation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_survives_reload_with_the_same_kid() {
        let dir = tempfile::tempdir().unwrap();
        let first = SigningKey::load_or_create(dir.path()).unwrap();
        let second = SigningKey::load_or_create(dir.path()).unwrap();
        assert_eq!(first.kid(), second.kid());
        assert_eq!(first.jwks(), second.jwks());
        let jwk = &first.jwks()["keys"][0];
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], "P-256");
        assert_eq!(jwk["alg"], "ES256");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["kid"], first.kid());
    }

    #[test]
    fn signs_and_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::load_or_create(dir.path()).unwrap();
        let exp = crate::clock::now_unix() + 60;
        let token = key
            .sign(&serde_json::json!({"sub": "u", "exp": exp, "aud": "x"}))
            .unwrap();
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&["x"]);
        let data: TokenData<serde_json::Value> = key.verify(&token, &validation).unwrap();
        assert_eq!(data.claims["sub"], "u");
        assert_eq!(data.header.kid.as_deref(), Some(key.kid()));

        let other = SigningKey::load_or_create(tempfile::tempdir().unwrap().path()).unwrap();
        assert!(
            other
                .verify::<serde_json::Value>(&token, &validation)
                .is_err()
        );
    }
}
