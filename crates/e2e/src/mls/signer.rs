//! The device's Ed25519 key as the MLS signer.
//!
//! Signing MLS messages with the device identity key makes a member's MLS
//! signature key *be* its device key, so members check each other against
//! the server's device directory ([`DevicePublicKeys`](crate::device::DevicePublicKeys))
//! instead of trusting a name in a credential.
//!
//! Reusing the key across MLS and chat is safe because the signed encodings
//! cannot collide: MLS signs `SignContent { label<V>, content<V> }`, which
//! starts with the one-byte varint length of `"MLS 1.0 " + label` (below
//! 0x40), while chat signatures start with the ASCII `"confer chat
//! signature v1"` (first byte 0x63).

use ed25519_dalek::{Signer as _, SigningKey};
use openmls_traits::signatures::{Signer, SignerError};
use openmls_traits::types::SignatureScheme;

/// A device's Ed25519 signing key, signing for openmls (pure Ed25519 over
/// the payload openmls builds, as RFC 9420 §5.1.2 requires).
pub(super) struct DeviceSigner(pub(super) SigningKey);

impl Signer for DeviceSigner {
    fn sign(&self, payload: &[u8]) -> Result<Vec<u8>, SignerError> {
        Ok(self.0.sign(payload).to_bytes().to_vec())
    }

    fn signature_scheme(&self) -> SignatureScheme {
        SignatureScheme::ED25519
    }
}
