//! What the API accepts as an email, a display name, a password, a meeting
//! topic and a passcode. Each check returns the cleaned value or the message
//! for a 400 `invalid_request`.

/// Longest display name, in characters.
pub(crate) const MAX_DISPLAY_NAME_CHARS: usize = 64;
/// Shortest password, in characters.
pub(crate) const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password, in bytes: long enough for any passphrase, short enough
/// that nobody makes us hash megabytes.
pub(crate) const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest meeting topic, in characters.
pub(crate) const MAX_TOPIC_CHARS: usize = 200;
/// Longest meeting passcode, in characters.
pub(crate) const MAX_PASSCODE_CHARS: usize = 64;
/// RFC 5321's limit on a forward path.
const MAX_EMAIL_BYTES: usize = 254;
const MAX_EMAIL_LOCAL_BYTES: usize = 64;

/// Normalises an email (trimmed, lower case) for storage and lookup,
/// without judging it. Login uses this so a badly formed address simply
/// matches no account.
pub(crate) fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A plausible address: `local@domain`, the domain made of dot-separated
/// labels of letters, digits and hyphens. We do not try to accept every
/// RFC 5322 oddity; we do refuse what could never receive mail.
pub(crate) fn email(raw: &str) -> Result<String, String> {
    let email = normalise_email(raw);
    let invalid = || Err(format!("{raw:?} is not a valid email address"));
    if email.is_empty() || email.len() > MAX_EMAIL_BYTES {
        return invalid();
    }
    let Some((local, domain)) = email.split_once('@') else {
        return invalid();
    };
    let local_ok = !local.is_empty()
        && local.len() <= MAX_EMAIL_LOCAL_BYTES
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok {
        Ok(email)
    } else {
        invalid()
    }
}

/// A display name: trimmed, 1 to 64 characters, no control characters.
pub(crate) fn display_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_DISPLAY_NAME_CHARS {
        return Err(format!(
            "display_name must be 1 to {MAX_DISPLAY_NAME_CHARS} characters"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("display_name must not contain control characters".to_owned());
    }
    Ok(name.to_owned())
}

/// A new password: at least 8 characters (taken as given, never trimmed).
pub(crate) fn password(raw: &str) -> Result<(), String> {
    if raw.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "password must be at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if raw.len() > MAX_PASSWORD_BYTES {
        return Err(format!(
            "password must be at most {MAX_PASSWORD_BYTES} bytes"
        ));
    }
    Ok(())
}

/// An optional topic: trimmed, at most 200 characters; blank means none.
pub(crate) fn topic(raw: Option<&str>) -> Result<Option<String>, String> {
    let Some(topic) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if topic.chars().count() > MAX_TOPIC_CHARS {
        return Err(format!(
            "topic must be at most {MAX_TOPIC_CHARS} characters"
        ));
    }
    if topic.chars().any(char::is_control) {
        return Err("topic must not contain control characters".to_owned());
    }
    Ok(Some(topic.to_owned()))
}

/// A new meeting passcode: 1 to 64 characters, taken as given.
pub(crate) fn passcode(raw: &str) -> Result<(), String> {
    let chars = raw.chars().count();
    if chars == 0 || chars > MAX_PASSCODE_CHARS {
        return Err(format!(
            "passcode must be 1 to {MAX_PASSCODE_CHARS} characters"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(email("  Ada@Example.ORG ").unwrap(), "ada@example.org");
        assert_eq!(
            email("a.b+tag@mail.example.co.uk").unwrap(),
            "a.b+tag@mail.example.co.uk"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "ada@@example.org",
            "ada@exa mple.org",
            "a..b@example.org",
            "ada@-example.org",
            "ada@example..org",
        ] {
            assert!(email(bad).is_err(), "{bad:?} accepted");
        }
        assert!(email(&format!("{}@example.org", "a".repeat(65))).is_err());
    }

    #[test]
    fn names_passwords_topics_passcodes() {
        assert_eq!(display_name("  Ada ").unwrap(), "Ada");
        assert!(display_name("   ").is_err());
        assert!(display_name(&"é".repeat(64)).is_ok());
        assert!(display_name(&"é".repeat(65)).is_err());
        assert!(display_name("a\u{7}b").is_err());
        assert!(password("1234567").is_err());
        assert!(password("12345678").is_ok());
        assert!(password(&"x".repeat(2000)).is_err());
        assert_eq!(topic(Some("  ")).unwrap(), None);
        assert_eq!(topic(None).unwrap(), None);
        assert!(topic(Some(&"t".repeat(201))).is_err());
        assert_eq!(
            topic(Some(" standup ")).unwrap().as_deref(),
            Some("standup")
        );
        assert!(passcode("").is_err());
        assert!(passcode("4711").is_ok());
    }
}
