//! Message ids: 16 random bytes, the same in every device's copy.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ChatError;
use crate::base64url;

/// A chat message's id: 16 random bytes, written as 22 characters of
/// base64url. Signed into every envelope, so the server cannot move a
/// ciphertext under another id; receivers drop ids they have seen.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct MessageId([u8; MessageId::LEN]);

impl MessageId {
    /// Length of a message id in bytes.
    pub const LEN: usize = 16;

    /// A fresh random id.
    ///
    /// # Errors
    /// [`ChatError::Random`] if the OS random number generator fails.
    pub fn random() -> Result<Self, ChatError> {
        let mut id = [0u8; Self::LEN];
        getrandom::fill(&mut id).map_err(|_| ChatError::Random)?;
        Ok(Self(id))
    }

    /// An id from its 16 bytes.
    pub fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(bytes)
    }

    /// The raw 16 bytes.
    pub fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&base64url::encode(&self.0))
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({self})")
    }
}

impl FromStr for MessageId {
    type Err = ChatError;

    fn from_str(text: &str) -> Result<Self, ChatError> {
        base64url::decode_array(text)
            .map(Self)
            .ok_or(ChatError::Malformed {
                reason: "message id is not 16 bytes of base64url",
            })
    }
}

impl From<MessageId> for String {
    fn from(id: MessageId) -> String {
        id.to_string()
    }
}

impl TryFrom<String> for MessageId {
    type Error = ChatError;

    fn try_from(text: String) -> Result<Self, ChatError> {
        text.parse()
    }
}
