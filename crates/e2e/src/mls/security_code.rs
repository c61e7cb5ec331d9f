//! The human-comparable security code of an MLS epoch.

use std::fmt;

use sha2::{Digest as _, Sha256};

/// A 12-digit code all members of one epoch compute identically, shown as
/// three groups of four (`"0421 9930 1877"`) for participants to compare
/// out of band (read aloud on the call). Equal codes mean everyone is in
/// the same group state with the same members; a mismatch means someone
/// sees a different group (a malicious server splitting the meeting, or a
/// bug).
///
/// Derivation: `n = u64_be(SHA-256("confer security code v1" |
/// epoch_authenticator)[0..8]) mod 10^12`, written with leading zeros. The
/// epoch authenticator (RFC 9420 §8.7) is secret to the group, so the code
/// leaks nothing to the server. 12 digits (~40 bits) is what humans can
/// compare; an attacker would need ~2^39 tries on average to hit a given
/// code, each try a full MLS epoch the victims would notice.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecurityCode(u64);

impl SecurityCode {
    /// Number of decimal digits.
    pub const DIGITS: usize = 12;

    pub(super) fn from_epoch_authenticator(authenticator: &[u8]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"confer security code v1")
            .chain_update(authenticator)
            .finalize();
        let mut head = [0u8; 8];
        head.copy_from_slice(&digest[..8]);
        Self(u64::from_be_bytes(head) % 1_000_000_000_000)
    }

    /// The code as one number below 10^12.
    pub fn value(&self) -> u64 {
        self.0
    }
}

impl fmt::Display for SecurityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = format!("{:012}", self.0);
        let (a, rest) = digits.split_at(4);
        let (b, c) = rest.split_at(4);
        write!(f, "{a} {b} {c}")
    }
}

impl fmt::Debug for SecurityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecurityCode({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_twelve_digits_in_groups() {
        let code = SecurityCode(4_219_930_187);
        assert_eq!(code.to_string(), "0042 1993 0187");
        let code = SecurityCode::from_epoch_authenticator(&[7; 32]);
        assert!(code.value() < 1_000_000_000_000);
        assert_eq!(code.to_string().len(), 14);
    }
}
