//! Fresh random identifiers: user ids, meeting ids, session ids, token ids.
//!
//! All come from `rand`'s thread-local generator, a CSPRNG seeded from the
//! operating system, because several of them (session ids, token ids) must
//! be unguessable, and meeting ids should at least not be enumerable in order.

use rand::Rng;

/// The smallest and largest 10-digit meeting ids.
const MEETING_ID_RANGE: std::ops::RangeInclusive<u64> = 1_000_000_000..=9_999_999_999;

/// `n` random bytes as lowercase hex.
fn random_hex(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

/// A new user id: 128 random bits in hex.
pub(crate) fn new_user_id() -> String {
    random_hex(16)
}

/// A new organisation id: `o` and 128 random bits in hex.
pub(crate) fn new_org_id() -> String {
    format!("o{}", random_hex(16))
}

/// A new OAuth client id: `c` and 128 random bits in hex.
pub(crate) fn new_client_id() -> String {
    format!("c{}", random_hex(16))
}

/// A new OAuth client secret: 256 random bits in hex.
pub(crate) fn new_client_secret() -> String {
    random_hex(32)
}

/// A new webhook secret: 256 random bits in hex.
pub(crate) fn new_webhook_secret() -> String {
    random_hex(32)
}

/// A new session id for a join token: 128 random bits in hex.
pub(crate) fn new_session_id() -> String {
    random_hex(16)
}

/// A new JWT id (`jti`): 128 random bits in hex.
pub(crate) fn new_token_id() -> String {
    random_hex(16)
}

/// The subject of a guest's join token: `guest:` and 64 random bits.
pub(crate) fn new_guest_subject() -> String {
    format!("guest:{}", random_hex(8))
}

/// A new random 10-digit meeting id (the caller retries on a collision).
pub(crate) fn new_meeting_id() -> u64 {
    rand::rng().random_range(MEETING_ID_RANGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meeting_ids_have_ten_digits() {
        for _ in 0..1000 {
            assert_eq!(new_meeting_id().to_string().len(), 10);
        }
    }

    #[test]
    fn ids_are_hex_and_distinct() {
        let a = new_session_id();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, new_session_id());
        assert!(new_guest_subject().starts_with("guest:"));
    }
}
