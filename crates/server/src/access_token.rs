//! Access tokens: what `POST /api/v1/login` hands out and every
//! authenticated call presents as `Authorization: Bearer …`.
//!
//! An access token is an ES256 JWT with `aud` = `confer-api`, valid for one
//! hour. The distinct audience is what stops a join token (audience
//! `confer-router`) from being used against the API, and the reverse.

use jsonwebtoken::Validation;
use serde::{Deserialize, Serialize};

use crate::ids::new_token_id;
use crate::signing_key::SigningKey;

/// The `aud` of every access token.
pub(crate) const ACCESS_TOKEN_AUDIENCE: &str = "confer-api";
/// How long an access token lives (1 hour).
pub(crate) const ACCESS_TOKEN_LIFETIME_SECS: u64 = 60 * 60;
/// Clock skew tolerated when checking expiry, the same as the router's.
const LEEWAY_SECS: u64 = 30;

/// What an access token asserts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AccessClaims {
    /// Issuer: the API's base URL.
    pub(crate) iss: String,
    /// Audience: always [`ACCESS_TOKEN_AUDIENCE`].
    pub(crate) aud: String,
    /// The user id.
    pub(crate) sub: String,
    /// The user's organisation. Every organisation-scoped query uses the
    /// organisation of the verified token's account, and the account's
    /// organisation must match this claim, so a token minted before a user
    /// moved cannot reach the old organisation's data.
    #[serde(default)]
    pub(crate) org: String,
    /// Issued at, seconds since the Unix epoch.
    pub(crate) iat: u64,
    /// Expiry, seconds since the Unix epoch.
    pub(crate) exp: u64,
    /// Unique token id.
    pub(crate) jti: String,
    /// For an API client's token, the client id; absent for a user's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) client_id: Option<String>,
    /// For an API client's token, the granted scopes (space-separated);
    /// absent for a user's, which may do whatever the user may.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) scope: Option<String>,
}

/// Signs a new access token for `user_id` of organisation `org_id`.
pub(crate) fn issue(
    key: &SigningKey,
    issuer: &str,
    user_id: &str,
    org_id: &str,
    now: u64,
) -> Result<String, jsonwebtoken::errors::Error> {
    key.sign(&AccessClaims {
        iss: issuer.to_owned(),
        aud: ACCESS_TOKEN_AUDIENCE.to_owned(),
        sub: user_id.to_owned(),
        org: org_id.to_owned(),
        iat: now,
        exp: now + ACCESS_TOKEN_LIFETIME_SECS,
        jti: new_token_id(),
        client_id: None,
        scope: None,
    })
}

/// Signs an access token for API client `client_id`, acting as `user_id`
/// in `org_id`, limited to `scopes`.
pub(crate) fn issue_for_client(
    key: &SigningKey,
    issuer: &str,
    user_id: &str,
    org_id: &str,
    client_id: &str,
    scopes: &[String],
    now: u64,
) -> Result<String, jsonwebtoken::errors::Error> {
    key.sign(&AccessClaims {
        iss: issuer.to_owned(),
        aud: ACCESS_TOKEN_AUDIENCE.to_owned(),
        sub: user_id.to_owned(),
        org: org_id.to_owned(),
        iat: now,
        exp: now + ACCESS_TOKEN_LIFETIME_SECS,
        jti: new_token_id(),
        client_id: Some(client_id.to_owned()),
        scope: Some(scopes.join(" ")),
    })
}

/// Checks signature, audience, issuer and expiry, and returns the claims.
pub(crate) fn verify(
    key: &SigningKey,
    issuer: &str,
    token: &str,
) -> Result<AccessClaims, jsonwebtoken::errors::Error> {
    let mut validation = Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&[ACCESS_TOKEN_AUDIENCE]);
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    validation.leeway = LEEWAY_SECS;
    Ok(key.verify::<AccessClaims>(token, &validation)?.claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::now_unix;

    fn key() -> SigningKey {
        SigningKey::load_or_create(tempfile::tempdir().unwrap().path()).unwrap()
    }

    #[test]
    fn round_trip() {
        let key = key();
        let token = issue(&key, "https://a", "u1", "o1", now_unix()).unwrap();
        let claims = verify(&key, "https://a", &token).unwrap();
        assert_eq!(claims.sub, "u1");
        assert_eq!(claims.exp - claims.iat, ACCESS_TOKEN_LIFETIME_SECS);
    }

    #[test]
    fn refuses_expired_wrong_issuer_and_join_tokens() {
        let key = key();
        let old = issue(
            &key,
            "https://a",
            "u1",
            "o1",
            now_unix() - 2 * ACCESS_TOKEN_LIFETIME_SECS,
        )
        .unwrap();
        assert!(verify(&key, "https://a", &old).is_err());
        let token = issue(&key, "https://a", "u1", "o1", now_unix()).unwrap();
        assert!(verify(&key, "https://b", &token).is_err());
        let join = key
            .sign(&serde_json::json!({
                "iss": "https://a", "aud": "confer-router", "sub": "u1",
                "exp": now_unix() + 60,
            }))
            .unwrap();
        assert!(verify(&key, "https://a", &join).is_err());
    }
}
