//! Deciding whether a person a provider vouched for belongs to the
//! connection's organisation, from their ID token claims. Sans-IO: the
//! caller supplies the organisation's managed domains.

use super::id_token::IdClaims;
use crate::store::OrgMapping;
use crate::validate;

/// Why a person was not mapped to the organisation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum MappingError {
    /// Every account needs an email the provider verified.
    #[error("the provider did not send a verified email")]
    NoVerifiedEmail,
    /// The claims name no organisation on this server that this connection
    /// serves.
    #[error("no organisation matches this account ({0})")]
    NoMatch(String),
}

/// The person's verified email (normalised), once the claims map to the
/// organisation. An account needs an email, so a verified one is required
/// whichever the mapping.
pub(crate) fn check(
    mapping: &OrgMapping,
    claims: &IdClaims,
    managed_domains: &[String],
) -> Result<String, MappingError> {
    let email = claims.verified_email().map(validate::normalise_email);
    match mapping {
        OrgMapping::EmailDomain => {
            let email = email.ok_or(MappingError::NoVerifiedEmail)?;
            let domain = validate::email_domain(&email);
            if managed_domains.iter().any(|d| d == domain) {
                Ok(email)
            } else {
                Err(MappingError::NoMatch(format!("email domain {domain}")))
            }
        }
        OrgMapping::Claim { name, value } => match claims.string(name) {
            Some(v) if v == value => email.ok_or(MappingError::NoVerifiedEmail),
            Some(v) => Err(MappingError::NoMatch(format!("{name} = {v}"))),
            None => Err(MappingError::NoMatch(format!("no {name} claim"))),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(v: serde_json::Value) -> IdClaims {
        IdClaims {
            subject: "s".into(),
            all: v.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn email_domain_mapping() {
        let domains = vec!["example.org".to_owned()];
        let ada = claims(json!({"email": "Ada@Example.org", "email_verified": true}));
        assert_eq!(
            check(&OrgMapping::EmailDomain, &ada, &domains).unwrap(),
            "ada@example.org"
        );
        let eve = claims(json!({"email": "eve@elsewhere.test", "email_verified": true}));
        assert!(matches!(
            check(&OrgMapping::EmailDomain, &eve, &domains),
            Err(MappingError::NoMatch(_))
        ));
        let unverified = claims(json!({"email": "mallory@example.org", "email_verified": false}));
        assert_eq!(
            check(&OrgMapping::EmailDomain, &unverified, &domains),
            Err(MappingError::NoVerifiedEmail)
        );
    }

    #[test]
    fn claim_mapping() {
        let mapping = OrgMapping::Claim {
            name: "org".into(),
            value: "acme".into(),
        };
        let ok = claims(json!({"org": "acme", "email": "a@x.test", "email_verified": true}));
        assert_eq!(check(&mapping, &ok, &[]).unwrap(), "a@x.test");
        let other = claims(json!({"org": "globex"}));
        assert!(matches!(
            check(&mapping, &other, &[]),
            Err(MappingError::NoMatch(_))
        ));
        assert!(matches!(
            check(&mapping, &claims(json!({})), &[]),
            Err(MappingError::NoMatch(_))
        ));
    }
}
