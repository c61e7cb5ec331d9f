//! What the "join" box accepts: a meeting id however it is spaced, an
//! invitation link, or a `confer://join/ID` deep link.

use crate::error::Error;

/// What a join box's text names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MeetingRef {
    /// A meeting id.
    Id(u64),
    /// An invitation code, to look up on the server.
    Invitation(String),
}

/// Fewest and most digits in a meeting id (as the start screen says).
const ID_DIGITS: std::ops::RangeInclusive<usize> = 9..=11;

/// Reads what the user typed or pasted.
pub(crate) fn parse_meeting_ref(text: &str) -> Result<MeetingRef, Error> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("confer://join/") {
        return parse_id(rest.trim_end_matches('/'));
    }
    if let Some((_, code)) = text.split_once("/invitations/") {
        let code = code.split(['?', '#', '/']).next().unwrap_or_default();
        if !code.is_empty()
            && code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Ok(MeetingRef::Invitation(code.to_owned()));
        }
        return Err(Error::InvalidInput(
            "that invitation link is incomplete".into(),
        ));
    }
    parse_id(text)
}

fn parse_id(text: &str) -> Result<MeetingRef, Error> {
    let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || !ID_DIGITS.contains(&digits.len()) {
        return Err(Error::InvalidInput(
            "a meeting id is 9 to 11 digits, or paste the invitation link".into(),
        ));
    }
    digits
        .parse()
        .map(MeetingRef::Id)
        .map_err(|_| Error::InvalidInput("that meeting id is too long".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ids_links_and_deep_links() {
        assert_eq!(
            parse_meeting_ref(" 482 193-7650 ").unwrap(),
            MeetingRef::Id(4821937650)
        );
        assert_eq!(
            parse_meeting_ref("confer://join/482193765").unwrap(),
            MeetingRef::Id(482193765)
        );
        assert_eq!(
            parse_meeting_ref("https://h:1/api/v1/invitations/abC-9_x?x=1").unwrap(),
            MeetingRef::Invitation("abC-9_x".into())
        );
    }

    #[test]
    fn refuses_what_is_not_a_meeting() {
        for bad in [
            "",
            "12345",
            "48219376501234",
            "drop table",
            "https://h/api/v1/invitations/../x",
        ] {
            assert!(parse_meeting_ref(bad).is_err(), "{bad:?} accepted");
        }
    }
}
