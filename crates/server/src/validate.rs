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

/// The plans an admin can assign.
pub(crate) const PLANS: [&str; 4] = ["basic", "pro", "business", "enterprise"];
/// Longest company name or phone number, in characters.
const MAX_PROFILE_FIELD_CHARS: usize = 100;
/// Longest picture URL, in bytes.
const MAX_URL_BYTES: usize = 2048;

/// A name part (first or last name): trimmed, at most 64 characters, no
/// control characters; `required` refuses an empty one.
pub(crate) fn name_part(field: &str, raw: &str, required: bool) -> Result<String, String> {
    let name = raw.trim();
    let chars = name.chars().count();
    if (required && chars == 0) || chars > MAX_DISPLAY_NAME_CHARS {
        let min = usize::from(required);
        return Err(format!(
            "{field} must be {min} to {MAX_DISPLAY_NAME_CHARS} characters"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(format!("{field} must not contain control characters"));
    }
    Ok(name.to_owned())
}

/// An optional free-text profile field (company): trimmed, at most 100
/// characters, no control characters; blank means none.
pub(crate) fn optional_text(field: &str, raw: Option<&str>) -> Result<Option<String>, String> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_PROFILE_FIELD_CHARS || text.chars().any(char::is_control) {
        return Err(format!(
            "{field} must be at most {MAX_PROFILE_FIELD_CHARS} characters without control characters"
        ));
    }
    Ok(Some(text.to_owned()))
}

/// An optional phone number: digits, spaces and `+-().`, at most 32.
pub(crate) fn phone(raw: Option<&str>) -> Result<Option<String>, String> {
    let Some(phone) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let ok = phone.len() <= 32
        && phone.chars().any(|c| c.is_ascii_digit())
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if ok {
        Ok(Some(phone.to_owned()))
    } else {
        Err("phone must be up to 32 digits, spaces and + - ( ) .".to_owned())
    }
}

/// An optional picture URL: `https://`, at most 2048 bytes, no whitespace.
pub(crate) fn picture_url(raw: Option<&str>) -> Result<Option<String>, String> {
    let Some(url) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if url.len() <= MAX_URL_BYTES
        && url.starts_with("https://")
        && url.len() > "https://".len()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        Ok(Some(url.to_owned()))
    } else {
        Err("picture_url must be an https:// URL of at most 2048 bytes".to_owned())
    }
}

/// An email domain (`example.org`), lower-cased: dot-separated labels of
/// letters, digits and hyphens, at least two labels.
pub(crate) fn domain(raw: &str) -> Result<String, String> {
    let domain = raw.trim().to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    let ok = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(domain)
    } else {
        Err(format!("{raw:?} is not a valid domain"))
    }
}

/// One of [`PLANS`].
pub(crate) fn plan(raw: &str) -> Result<String, String> {
    if PLANS.contains(&raw) {
        Ok(raw.to_owned())
    } else {
        Err(format!("plan must be one of {}", PLANS.join(", ")))
    }
}

/// The domain part of a normalised email.
pub(crate) fn email_domain(email: &str) -> &str {
    email.rsplit_once('@').map_or("", |(_, d)| d)
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

    #[test]
    fn profile_fields_and_domains() {
        assert_eq!(name_part("first_name", " Ada ", true).unwrap(), "Ada");
        assert!(name_part("first_name", "", true).is_err());
        assert_eq!(name_part("last_name", "", false).unwrap(), "");
        assert_eq!(
            phone(Some("+44 (20) 7946-0958")).unwrap().as_deref(),
            Some("+44 (20) 7946-0958")
        );
        assert!(phone(Some("call me")).is_err());
        assert!(picture_url(Some("http://x.org/a.png")).is_err());
        assert!(picture_url(Some("https://x.org/a.png")).is_ok());
        assert_eq!(domain("Example.ORG").unwrap(), "example.org");
        assert!(domain("localhost").is_err());
        assert!(plan("pro").is_ok());
        assert!(plan("platinum").is_err());
        assert_eq!(email_domain("a@b.org"), "b.org");
        assert!(optional_text("company", Some(&"c".repeat(101))).is_err());
    }
}
