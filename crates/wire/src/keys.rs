//! Media key messages: how a participant gets the keys its media frames
//! are sealed with (SFrame, RFC 9605).
//!
//! In a **standard** meeting the router generates the key material and
//! hands it to each participant over the TLS-protected control channel
//! ([`MediaKey`]): the current epoch's key on admission, and a fresh
//! epoch's key to everyone remaining whenever someone leaves or is
//! expelled, so a removed participant cannot open what follows. In an
//! **E2E** meeting (the join token's `policy.e2e`) the router never sends
//! `media_key`; the participants form an MLS group and derive keys from it,
//! and the router only delivers their handshake messages
//! ([`MlsClientMessage`], [`MlsServerMessage`]) in order.
//!
//! The router handles key material only as opaque bytes ([`KeyBytes`]); it
//! never links the crypto that uses them (`scripts/check-deps.sh`).
//! `docs/protocol.md`, "Media keys", is the normative description.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::ParticipantId;

/// Length in bytes of a standard meeting's key material: the SFrame base
/// key of AES_256_GCM_SHA512_128 (`AEAD.Nk`).
pub const MEDIA_KEY_LEN: usize = 32;

/// `media_key` (router to client): the key material of one epoch of a
/// standard meeting. Epochs start at 1 and go up by one on every rotation;
/// a client seals with the newest epoch it holds and keeps the previous
/// one a little longer for frames still in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaKey {
    /// The epoch this key belongs to.
    pub epoch: u64,
    /// [`MEDIA_KEY_LEN`] bytes of key material, base64url without padding.
    pub key: KeyBytes,
}

/// `mls` (client to router, E2E meetings): an MLS (RFC 9420) handshake
/// message for the router to deliver. The router reads only the `mls` kind
/// and the ids; every byte field is opaque to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mls", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MlsClientMessage {
    /// Sent once admitted: our key package, and our device's public keys
    /// (the device directory record the key package must match).
    KeyPackage {
        /// The MLS key package (an `MLSMessage`).
        key_package: KeyBytes,
        /// The device's public keys (JSON), passed on with the key package.
        device: KeyBytes,
    },
    /// The commit answering the router's `add` or `remove` request, and for
    /// an `add` the welcome for the joiner.
    Commit {
        /// The MLS commit, for every other member.
        commit: KeyBytes,
        /// The MLS welcome, for the joiner (`add` only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        welcome: Option<KeyBytes>,
    },
    /// The router's request could not be carried out (for example a key
    /// package that does not match its device); it moves on.
    Failed {
        /// Why, for the log.
        reason: String,
    },
}

/// `mls` (router to client, E2E meetings): what the router, as the MLS
/// delivery service, asks of or relays to a participant. Handshake
/// messages reach every member in one order, and only one commit is
/// requested at a time, so members never race each other's commits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mls", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MlsServerMessage {
    /// Nobody holds the group: create it (you are its first member).
    Create {},
    /// Commit adding this joiner and send the welcome (you are the member
    /// with the lowest participant id).
    Add {
        /// The joiner.
        participant_id: ParticipantId,
        /// The joiner's key package.
        key_package: KeyBytes,
        /// The joiner's device's public keys.
        device: KeyBytes,
    },
    /// Commit removing this participant, who left or was expelled.
    Remove {
        /// Who went.
        participant_id: ParticipantId,
        /// Their device's public keys: the member to remove is the one with
        /// this device's credential.
        device: KeyBytes,
    },
    /// A commit from another member; apply it.
    Commit {
        /// Who made it.
        from: ParticipantId,
        /// The MLS commit.
        commit: KeyBytes,
    },
    /// Your welcome into the group.
    Welcome {
        /// Who added you.
        from: ParticipantId,
        /// The MLS welcome.
        welcome: KeyBytes,
    },
}

/// Secret or opaque bytes carried as unpadded base64url (RFC 4648 §5).
///
/// `Debug` shows only the length, so a message holding key material can be
/// logged without leaking it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KeyBytes(pub Vec<u8>);

impl KeyBytes {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for KeyBytes {
    fn from(bytes: Vec<u8>) -> Self {
        KeyBytes(bytes)
    }
}

impl fmt::Debug for KeyBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyBytes({} bytes)", self.0.len())
    }
}

impl Serialize for KeyBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&URL_SAFE_NO_PAD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for KeyBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        URL_SAFE_NO_PAD
            .decode(text.as_bytes())
            .map(KeyBytes)
            .map_err(|_| serde::de::Error::custom("invalid base64url"))
    }
}

#[cfg(test)]
mod tests {
    use crate::control::ServerMessage;

    use super::*;

    #[test]
    fn media_key_has_the_documented_json() {
        let m = ServerMessage::MediaKey(MediaKey {
            epoch: 3,
            key: KeyBytes(vec![0xfb, 0xff, 0x01]),
        });
        let json = String::from_utf8(m.encode()).unwrap();
        assert_eq!(json, r#"{"type":"media_key","epoch":3,"key":"-_8B"}"#);
        assert_eq!(ServerMessage::decode(json.as_bytes()).unwrap(), m);
    }

    #[test]
    fn rejects_keys_that_are_not_base64url() {
        for bad in [
            r#"{"type":"media_key","epoch":1,"key":"+/8B"}"#,
            r#"{"type":"media_key","epoch":1,"key":"-_8B="}"#,
            r#"{"type":"media_key","epoch":1,"key":7}"#,
            r#"{"type":"media_key","key":"AA"}"#,
        ] {
            assert!(ServerMessage::decode(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn mls_messages_have_the_documented_json() {
        use crate::control::ClientMessage;
        let up = ClientMessage::Mls(MlsClientMessage::Commit {
            commit: KeyBytes(vec![1]),
            welcome: None,
        });
        let json = String::from_utf8(up.encode()).unwrap();
        assert_eq!(json, r#"{"type":"mls","mls":"commit","commit":"AQ"}"#);
        assert_eq!(ClientMessage::decode(json.as_bytes()).unwrap(), up);
        let down = ServerMessage::Mls(MlsServerMessage::Create {});
        let json = String::from_utf8(down.encode()).unwrap();
        assert_eq!(json, r#"{"type":"mls","mls":"create"}"#);
        assert_eq!(ServerMessage::decode(json.as_bytes()).unwrap(), down);
        assert!(ClientMessage::decode(br#"{"type":"mls","mls":"welcome"}"#).is_err());
    }

    #[test]
    fn debug_hides_key_material() {
        let key = KeyBytes(vec![0x42; MEDIA_KEY_LEN]);
        let shown = format!("{:?}", MediaKey { epoch: 1, key });
        assert!(shown.contains("32 bytes"), "{shown}");
        assert!(!shown.contains("66"), "{shown}");
    }
}
