//! Scopes: what an API client's access token may do.
//!
//! User access tokens carry no scope and may do whatever the user may.
//! Client tokens carry the scopes granted, and each endpoint needs the one
//! named in [`required_scope`]; endpoints not listed there (OAuth client
//! management, profile changes) are for people only.

use axum::http::Method;

/// Every scope there is.
pub(crate) const ALL_SCOPES: [&str; 7] = [
    "meeting:read",
    "meeting:write",
    "meeting:join",
    "report:read",
    "user:read",
    "user:write",
    "audit:read",
];

/// The scope a client token needs for `method` on the route template
/// `path` (axum's matched path, such as `/api/v1/meetings/{id}`); `None` if
/// clients may not call it at all.
pub(crate) fn required_scope(method: &Method, path: &str) -> Option<&'static str> {
    let read = method == Method::GET;
    Some(match path {
        "/api/v1/meetings" | "/api/v1/meetings/{id}" if read => "meeting:read",
        "/api/v1/meetings" | "/api/v1/meetings/{id}" => "meeting:write",
        "/api/v1/meetings/{id}/join-token" => "meeting:join",
        "/api/v1/meetings/{id}/report" => "report:read",
        "/api/v1/me" | "/api/v1/org" | "/api/v1/org/users" | "/api/v1/org/domains" if read => {
            "user:read"
        }
        "/api/v1/org/users"
        | "/api/v1/org/users/provision"
        | "/api/v1/org/users/{id}"
        | "/api/v1/org/domains"
        | "/api/v1/org/domains/{domain}" => "user:write",
        "/api/v1/org/audit" => "audit:read",
        _ => return None,
    })
}

/// Parses a space-separated scope list (RFC 6749 §3.3), refusing unknown
/// scopes; duplicates are dropped and the order fixed.
pub(crate) fn parse(raw: &str) -> Result<Vec<String>, String> {
    let mut scopes = Vec::new();
    for scope in raw.split(' ').filter(|s| !s.is_empty()) {
        if !ALL_SCOPES.contains(&scope) {
            return Err(format!("unknown scope {scope:?}"));
        }
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    }
    scopes.sort();
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_map_to_endpoints() {
        assert_eq!(
            required_scope(&Method::GET, "/api/v1/meetings/{id}"),
            Some("meeting:read")
        );
        assert_eq!(
            required_scope(&Method::PATCH, "/api/v1/meetings/{id}"),
            Some("meeting:write")
        );
        assert_eq!(
            required_scope(&Method::POST, "/api/v1/org/oauth-clients"),
            None
        );
        assert_eq!(
            parse("user:read meeting:read user:read").unwrap(),
            ["meeting:read", "user:read"]
        );
        assert!(parse("admin:everything").is_err());
    }
}
