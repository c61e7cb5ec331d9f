//! [`TokenIssuer`]: the server's token signing without the HTTP layer, for
//! benchmarks and tools that need real tokens (the same key file, claims
//! and algorithm the API uses).

use std::path::Path;

use confer_wire::ids::{MeetingId, Role};
use confer_wire::token::JoinPolicy;

use crate::error::ServerError;
use crate::join_token::{self, Joiner};
use crate::signing_key::SigningKey;
use crate::{access_token, clock, ids};

/// Signs access and join tokens with the key in a data directory.
#[derive(Debug)]
pub struct TokenIssuer {
    key: SigningKey,
    issuer: String,
}

impl TokenIssuer {
    /// Loads (or creates) the signing key in `data_dir`; tokens name
    /// `issuer` as their `iss`.
    ///
    /// # Errors
    ///
    /// The key file cannot be read, written or parsed.
    pub fn load_or_create(data_dir: &Path, issuer: &str) -> Result<Self, ServerError> {
        Ok(TokenIssuer {
            key: SigningKey::load_or_create(data_dir)?,
            issuer: issuer.to_owned(),
        })
    }

    /// The public keys as the JWKS document `/.well-known/jwks.json` serves.
    pub fn jwks(&self) -> String {
        self.key.jwks().to_string()
    }

    /// An API access token for `user_id` in `org_id`, valid for an hour.
    ///
    /// # Errors
    ///
    /// Signing failed (it does not with a loaded key).
    pub fn access_token(&self, user_id: &str, org_id: &str) -> Result<String, ServerError> {
        Ok(access_token::issue(
            &self.key,
            &self.issuer,
            user_id,
            org_id,
            clock::now_unix(),
        )?)
    }

    /// A participant's join token for `meeting`, valid for two hours.
    ///
    /// # Errors
    ///
    /// Signing failed (it does not with a loaded key).
    pub fn join_token(&self, meeting: u64, name: &str) -> Result<String, ServerError> {
        let joiner = Joiner {
            subject: ids::new_guest_subject(),
            name: name.to_owned(),
            role: Role::Participant,
            guest: true,
        };
        Ok(join_token::issue(
            &self.key,
            &self.issuer,
            MeetingId(meeting),
            joiner,
            JoinPolicy::default(),
            clock::now_unix(),
        )?
        .token)
    }
}
