//! End-to-end encrypted chat between devices.
//!
//! A message goes to every device of every recipient, and to the sender's
//! other devices, as one [`ChatEnvelope`] per recipient device. The server
//! stores and relays envelopes by `recipient`; it holds only public keys and
//! can read none of them.
//!
//! Each envelope is:
//!
//! - **encrypted** to the recipient device's X25519 key with HPKE (RFC 9180)
//!   in base mode, suite DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
//!   AES-256-GCM, with `info = "confer chat v1"` and associated data
//!   `"confer chat v1" | sender id (16) | recipient id (16) | message id (16)`,
//!   so a ciphertext only decrypts under the ids it was made for;
//! - **signed** by the sender device's Ed25519 key over the canonical
//!   encoding
//!
//!   ```text
//!   "confer chat signature v1" (24 bytes)
//!   | version (1) | sender device id (16) | recipient device id (16)
//!   | message id (16) | HPKE enc (32) | ciphertext length (u64 big-endian)
//!   | ciphertext (incl. the 16-byte AES-GCM tag)
//!   ```
//!
//!   Every field is fixed-length except the last, which is length-prefixed,
//!   so no two different envelopes share an encoding.
//!
//! [`open`] checks, in order: version and sizes, that the envelope is
//! addressed to this device, that the sender keys match the envelope's
//! sender and their own id, the signature, and only then decrypts.
//! A verified signature shows which *device* sent the message; that the
//! device belongs to the claimed user is the device directory's word.
//!
//! Replays (the same envelope delivered twice) are the caller's to drop by
//! [`MessageId`]; this module keeps no state.

mod error;
mod message_id;

use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem, OpModeR, OpModeS, Serializable, aead::AesGcm256, kdf::HkdfSha256};
use serde::{Deserialize, Serialize};

pub use error::ChatError;
pub use message_id::MessageId;

use crate::base64url;
use crate::device::{DeviceId, DeviceIdentity, DevicePublicKeys, SIGNATURE_LEN};

type ChatKem = X25519HkdfSha256;

/// Largest message plaintext, in bytes (64 KiB: chat, not file transfer).
pub const MAX_MESSAGE_LEN: usize = 64 * 1024;

/// Envelope format version written by this code.
pub const ENVELOPE_VERSION: u8 = 1;

const HPKE_INFO: &[u8] = b"confer chat v1";
const SIGNATURE_CONTEXT: &[u8] = b"confer chat signature v1";
const AEAD_TAG_LEN: usize = 16;
const ENC_LEN: usize = 32;

/// One message sealed for one recipient device: what the server stores and
/// relays. Binary fields are base64url in JSON.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatEnvelope {
    /// Format version; [`ENVELOPE_VERSION`].
    pub version: u8,
    /// The message's id, the same in every copy of one message.
    pub message_id: MessageId,
    /// The device that sent it.
    pub sender: DeviceId,
    /// The device it is for; the server routes by this.
    pub recipient: DeviceId,
    /// HPKE encapsulated key (32 bytes).
    #[serde(with = "base64url::array")]
    pub enc: [u8; ENC_LEN],
    /// HPKE ciphertext of the message, with its 16-byte tag.
    #[serde(with = "base64url::bytes")]
    pub ciphertext: Vec<u8>,
    /// The sender's Ed25519 signature over the canonical encoding (module
    /// docs).
    #[serde(with = "base64url::array")]
    pub signature: [u8; SIGNATURE_LEN],
}

impl std::fmt::Debug for ChatEnvelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatEnvelope")
            .field("version", &self.version)
            .field("message_id", &self.message_id)
            .field("sender", &self.sender)
            .field("recipient", &self.recipient)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// A message that [`open`] verified and decrypted.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenedMessage {
    /// The message's id (for de-duplication across devices and replays).
    pub message_id: MessageId,
    /// The device that signed it.
    pub sender: DeviceId,
    /// The plaintext.
    pub plaintext: Vec<u8>,
}

impl std::fmt::Debug for OpenedMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedMessage")
            .field("message_id", &self.message_id)
            .field("sender", &self.sender)
            .field("len", &self.plaintext.len())
            .finish()
    }
}

/// Seals `plaintext` for each device in `recipients`: one envelope per
/// device, in the same order. Pass every device of every recipient user
/// (and the sender's own other devices).
///
/// # Errors
/// [`ChatError::TooLarge`]; [`ChatError::Device`] if a recipient record is
/// inconsistent (id does not match its keys) or holds an invalid key;
/// [`ChatError::SealFailed`] if HPKE refuses a recipient key.
pub fn seal(
    sender: &DeviceIdentity,
    recipients: &[DevicePublicKeys],
    message_id: MessageId,
    plaintext: &[u8],
) -> Result<Vec<ChatEnvelope>, ChatError> {
    if plaintext.len() > MAX_MESSAGE_LEN {
        return Err(ChatError::TooLarge {
            len: plaintext.len(),
            max: MAX_MESSAGE_LEN,
        });
    }
    recipients
        .iter()
        .map(|recipient| seal_one(sender, recipient, message_id, plaintext))
        .collect()
}

fn seal_one(
    sender: &DeviceIdentity,
    recipient: &DevicePublicKeys,
    message_id: MessageId,
    plaintext: &[u8],
) -> Result<ChatEnvelope, ChatError> {
    recipient.check()?;
    let sender_id = sender.device_id();
    let recipient_id = recipient.device_id;
    let public = <ChatKem as Kem>::PublicKey::from_bytes(&recipient.x25519).map_err(|_| {
        ChatError::SealFailed {
            device_id: recipient_id,
        }
    })?;
    let aad = associated_data(sender_id, recipient_id, message_id);
    let (enc, ciphertext) = hpke::single_shot_seal::<AesGcm256, HkdfSha256, ChatKem>(
        &OpModeS::Base,
        &public,
        HPKE_INFO,
        plaintext,
        &aad,
    )
    .map_err(|_| ChatError::SealFailed {
        device_id: recipient_id,
    })?;
    let enc: [u8; ENC_LEN] =
        enc.to_bytes()
            .as_slice()
            .try_into()
            .map_err(|_| ChatError::SealFailed {
                device_id: recipient_id,
            })?;
    let mut envelope = ChatEnvelope {
        version: ENVELOPE_VERSION,
        message_id,
        sender: sender_id,
        recipient: recipient_id,
        enc,
        ciphertext,
        signature: [0; SIGNATURE_LEN],
    };
    envelope.signature = sender.sign(&signed_bytes(&envelope));
    Ok(envelope)
}

/// Verifies and decrypts an envelope addressed to `recipient`, sent by the
/// device whose directory record is `sender` (look it up by
/// `envelope.sender`).
///
/// # Errors
/// In the order checked: [`ChatError::Malformed`] / [`ChatError::TooLarge`],
/// [`ChatError::WrongRecipient`], [`ChatError::SenderMismatch`],
/// [`ChatError::Device`] (sender record inconsistent),
/// [`ChatError::BadSignature`], [`ChatError::Tampered`].
pub fn open(
    recipient: &DeviceIdentity,
    sender: &DevicePublicKeys,
    envelope: &ChatEnvelope,
) -> Result<OpenedMessage, ChatError> {
    if envelope.version != ENVELOPE_VERSION {
        return Err(ChatError::Malformed {
            reason: "unknown envelope version",
        });
    }
    if envelope.ciphertext.len() < AEAD_TAG_LEN {
        return Err(ChatError::Malformed {
            reason: "ciphertext shorter than its tag",
        });
    }
    if envelope.ciphertext.len() > MAX_MESSAGE_LEN + AEAD_TAG_LEN {
        return Err(ChatError::TooLarge {
            len: envelope.ciphertext.len(),
            max: MAX_MESSAGE_LEN + AEAD_TAG_LEN,
        });
    }
    if envelope.recipient != recipient.device_id() {
        return Err(ChatError::WrongRecipient {
            addressed_to: envelope.recipient,
            this_device: recipient.device_id(),
        });
    }
    if envelope.sender != sender.device_id {
        return Err(ChatError::SenderMismatch {
            claimed: envelope.sender,
            given: sender.device_id,
        });
    }
    sender.check()?;
    sender
        .verify(&signed_bytes(envelope), &envelope.signature)
        .map_err(|_| ChatError::BadSignature)?;

    let secret = recipient.x25519_secret();
    let private = <ChatKem as Kem>::PrivateKey::from_bytes(secret.as_ref())
        .map_err(|_| ChatError::Tampered)?;
    let enc = <ChatKem as Kem>::EncappedKey::from_bytes(&envelope.enc)
        .map_err(|_| ChatError::Tampered)?;
    let aad = associated_data(envelope.sender, envelope.recipient, envelope.message_id);
    let plaintext = hpke::single_shot_open::<AesGcm256, HkdfSha256, ChatKem>(
        &OpModeR::Base,
        &private,
        &enc,
        HPKE_INFO,
        &envelope.ciphertext,
        &aad,
    )
    .map_err(|_| ChatError::Tampered)?;
    Ok(OpenedMessage {
        message_id: envelope.message_id,
        sender: envelope.sender,
        plaintext,
    })
}

/// The HPKE associated data: binds the ciphertext to its ids.
fn associated_data(sender: DeviceId, recipient: DeviceId, message_id: MessageId) -> Vec<u8> {
    let mut aad = Vec::with_capacity(HPKE_INFO.len() + 3 * DeviceId::LEN);
    aad.extend_from_slice(HPKE_INFO);
    aad.extend_from_slice(sender.as_bytes());
    aad.extend_from_slice(recipient.as_bytes());
    aad.extend_from_slice(message_id.as_bytes());
    aad
}

/// The canonical encoding the sender signs (module docs).
fn signed_bytes(envelope: &ChatEnvelope) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(
        SIGNATURE_CONTEXT.len() + 1 + 3 * DeviceId::LEN + ENC_LEN + 8 + envelope.ciphertext.len(),
    );
    bytes.extend_from_slice(SIGNATURE_CONTEXT);
    bytes.push(envelope.version);
    bytes.extend_from_slice(envelope.sender.as_bytes());
    bytes.extend_from_slice(envelope.recipient.as_bytes());
    bytes.extend_from_slice(envelope.message_id.as_bytes());
    bytes.extend_from_slice(&envelope.enc);
    // usize → u64 is lossless on every supported target.
    bytes.extend_from_slice(&(envelope.ciphertext.len() as u64).to_be_bytes());
    bytes.extend_from_slice(&envelope.ciphertext);
    bytes
}
