//! Join tokens: the ticket that admits one session of one person to one
//! meeting with one role.
//!
//! The claims are `confer_wire::token::JoinClaims`; this module only decides
//! their values. The role is an input computed by the caller from who is
//! asking and who owns the meeting, never from the request body.

use confer_wire::ids::{MeetingId, Role};
use confer_wire::token::{JOIN_TOKEN_AUDIENCE, JoinClaims, MAX_JOIN_TOKEN_LIFETIME_SECS};

use crate::ids::{new_session_id, new_token_id};
use crate::signing_key::SigningKey;

/// How long a join token lives: the protocol's maximum, 2 hours.
pub(crate) const JOIN_TOKEN_LIFETIME_SECS: u64 = MAX_JOIN_TOKEN_LIFETIME_SECS;

/// Who the token is for.
#[derive(Debug, Clone)]
pub(crate) struct Joiner {
    /// The user id, or `guest:…` for a guest.
    pub(crate) subject: String,
    /// The name the other participants see.
    pub(crate) name: String,
    /// The role decided by the server.
    pub(crate) role: Role,
    /// True when not signed in.
    pub(crate) guest: bool,
}

/// A signed join token with the claims it carries.
#[derive(Debug, Clone)]
pub(crate) struct SignedJoinToken {
    /// The compact JWS.
    pub(crate) token: String,
    /// What it says.
    pub(crate) claims: JoinClaims,
}

/// Signs a join token for `joiner` to `meeting`, with a fresh session id and
/// token id.
pub(crate) fn issue(
    key: &SigningKey,
    issuer: &str,
    meeting: MeetingId,
    joiner: Joiner,
    policy: confer_wire::token::JoinPolicy,
    now: u64,
) -> Result<SignedJoinToken, jsonwebtoken::errors::Error> {
    let claims = JoinClaims {
        iss: issuer.to_owned(),
        aud: JOIN_TOKEN_AUDIENCE.to_owned(),
        sub: joiner.subject,
        exp: now + JOIN_TOKEN_LIFETIME_SECS,
        iat: now,
        jti: new_token_id(),
        mid: meeting,
        sid: new_session_id(),
        role: joiner.role,
        name: joiner.name,
        guest: joiner.guest,
        policy,
    };
    let token = key.sign(&claims)?;
    Ok(SignedJoinToken { token, claims })
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{Algorithm, Validation};

    use super::*;
    use crate::clock::now_unix;

    #[test]
    fn claims_follow_the_protocol() {
        let key = SigningKey::load_or_create(tempfile::tempdir().unwrap().path()).unwrap();
        let joiner = Joiner {
            subject: "u1".into(),
            name: "Ada".into(),
            role: Role::Host,
            guest: false,
        };
        let a = issue(
            &key,
            "https://x",
            MeetingId(1234567890),
            joiner.clone(),
            confer_wire::token::JoinPolicy::default(),
            now_unix(),
        )
        .unwrap();
        let b = issue(
            &key,
            "https://x",
            MeetingId(1234567890),
            joiner,
            confer_wire::token::JoinPolicy::default(),
            now_unix(),
        )
        .unwrap();
        assert_ne!(a.claims.sid, b.claims.sid);
        assert_ne!(a.claims.jti, b.claims.jti);
        assert_eq!(a.claims.exp - a.claims.iat, MAX_JOIN_TOKEN_LIFETIME_SECS);

        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&[JOIN_TOKEN_AUDIENCE]);
        validation.set_issuer(&["https://x"]);
        let decoded = key.verify::<JoinClaims>(&a.token, &validation).unwrap();
        assert_eq!(decoded.claims, a.claims);
        assert_eq!(decoded.header.kid.as_deref(), Some(key.kid()));
    }
}
