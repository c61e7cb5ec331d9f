//! Device identity: the long-lived keys one installation of Confer holds.
//!
//! On first use a device draws an Ed25519 signing key (it signs chat
//! messages and, later, MLS credentials) and an X25519 key (chat messages
//! are HPKE-encrypted to it). Both secret keys are kept in the OS keyring,
//! wrapped with AES-256-GCM under a key derived with HKDF-SHA256 from the
//! machine's unique id (layout in `wrap.rs`), so a keyring entry copied to
//! another machine does not open there ([`DeviceError::WrongMachine`]).
//!
//! The public half, [`DevicePublicKeys`], goes to the server's device
//! directory. Its [`DeviceId`] is a hash of both public keys, so a directory
//! record whose keys were swapped no longer matches its id
//! ([`DevicePublicKeys::check`]).
//!
//! The keyring is reached only through [`SecretStore`] ([`OsKeyring`] in
//! production, [`MemoryStore`] in tests) and the machine id only through
//! [`MachineIdSource`] ([`OsMachineId`] / [`FixedMachineId`]).
//!
//! ```
//! use confer_e2e::device::{DeviceIdentity, FixedMachineId, MemoryStore};
//!
//! let store = MemoryStore::new();
//! let machine = FixedMachineId::new("machine-a");
//! let device = DeviceIdentity::load_or_create(&store, &machine)?;
//! let again = DeviceIdentity::load(&store, &machine)?;
//! assert_eq!(device.public_keys(), again.public_keys());
//!
//! let signature = device.sign(b"hello");
//! again.public_keys().verify(b"hello", &signature)?;
//! # Ok::<(), confer_e2e::device::DeviceError>(())
//! ```

mod error;
mod machine;
mod store;
mod wrap;

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use x25519_dalek::{PublicKey as X25519Public, StaticSecret};
use zeroize::Zeroizing;

pub use error::DeviceError;
pub use machine::{FixedMachineId, MachineIdSource, OsMachineId};
pub use store::{MemoryStore, OsKeyring, SecretStore, StoreError};

use crate::base64url;

/// Length in bytes of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// The keyring entry name the device identity is stored under.
pub const KEYRING_ENTRY: &str = "device-identity";

/// A device's id: the first 16 bytes of
/// `SHA-256("confer device id v1" | ed25519 public key | x25519 public key)`.
/// Written as 22 characters of base64url.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct DeviceId([u8; DeviceId::LEN]);

impl DeviceId {
    /// Length of a device id in bytes.
    pub const LEN: usize = 16;

    /// The id belonging to these two public keys.
    pub fn from_public_keys(ed25519: &[u8; 32], x25519: &[u8; 32]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"confer device id v1")
            .chain_update(ed25519)
            .chain_update(x25519)
            .finalize();
        let mut id = [0u8; Self::LEN];
        id.copy_from_slice(&digest[..Self::LEN]);
        Self(id)
    }

    /// An id from its 16 bytes (as carried in an MLS credential). Check it
    /// against the keys with [`DevicePublicKeys::check`] before trusting it.
    pub fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(bytes)
    }

    /// The raw 16 bytes.
    pub fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&base64url::encode(&self.0))
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({self})")
    }
}

impl FromStr for DeviceId {
    type Err = DeviceError;

    fn from_str(text: &str) -> Result<Self, DeviceError> {
        base64url::decode_array(text)
            .map(Self)
            .ok_or(DeviceError::InvalidKey { what: "device id" })
    }
}

impl From<DeviceId> for String {
    fn from(id: DeviceId) -> String {
        id.to_string()
    }
}

impl TryFrom<String> for DeviceId {
    type Error = DeviceError;

    fn try_from(text: String) -> Result<Self, DeviceError> {
        text.parse()
    }
}

/// What the server's device directory holds about a device: its id and
/// public keys, each in base64url when serialised
/// (`{"device_id": "…", "ed25519": "…", "x25519": "…"}`).
///
/// A record from the network is untrusted: [`check`](Self::check) that the
/// id matches the keys before using it (the chat functions do).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicePublicKeys {
    /// The device's id, derived from the two keys below.
    pub device_id: DeviceId,
    /// Ed25519 verifying key: checks the device's signatures.
    #[serde(with = "base64url::array")]
    pub ed25519: [u8; 32],
    /// X25519 public key: messages for the device are encrypted to it.
    #[serde(with = "base64url::array")]
    pub x25519: [u8; 32],
}

impl DevicePublicKeys {
    /// Checks that `device_id` is the id of the two keys and that the
    /// Ed25519 key is a valid point.
    ///
    /// # Errors
    /// [`DeviceError::DeviceIdMismatch`], or [`DeviceError::InvalidKey`].
    pub fn check(&self) -> Result<(), DeviceError> {
        if DeviceId::from_public_keys(&self.ed25519, &self.x25519) != self.device_id {
            return Err(DeviceError::DeviceIdMismatch);
        }
        self.verifying_key().map(|_| ())
    }

    /// Verifies an Ed25519 signature made by this device over `message`
    /// (strict verification: no malleable or small-order encodings).
    ///
    /// # Errors
    /// [`DeviceError::BadSignature`], or [`DeviceError::InvalidKey`] if the
    /// stored key is not a valid point.
    pub fn verify(
        &self,
        message: &[u8],
        signature: &[u8; SIGNATURE_LEN],
    ) -> Result<(), DeviceError> {
        self.verifying_key()?
            .verify_strict(message, &Signature::from_bytes(signature))
            .map_err(|_| DeviceError::BadSignature)
    }

    fn verifying_key(&self) -> Result<VerifyingKey, DeviceError> {
        VerifyingKey::from_bytes(&self.ed25519).map_err(|_| DeviceError::InvalidKey {
            what: "Ed25519 public key",
        })
    }
}

impl fmt::Debug for DevicePublicKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevicePublicKeys")
            .field("device_id", &self.device_id)
            .field("ed25519", &base64url::encode(&self.ed25519))
            .field("x25519", &base64url::encode(&self.x25519))
            .finish()
    }
}

/// This device's identity: both secret keys and the public record.
///
/// Secret keys are zeroed on drop and never printed: `Debug` shows only the
/// device id.
pub struct DeviceIdentity {
    signing: SigningKey,
    x25519: StaticSecret,
    public: DevicePublicKeys,
}

impl DeviceIdentity {
    /// Loads this device's identity from `store`, or on first use creates
    /// one and stores it, wrapped for this machine.
    ///
    /// # Errors
    /// As [`load`](Self::load) (except [`DeviceError::NotFound`], which
    /// leads to creation), plus [`DeviceError::Random`] and
    /// [`DeviceError::Store`] when creating.
    pub fn load_or_create(
        store: &dyn SecretStore,
        machine: &dyn MachineIdSource,
    ) -> Result<Self, DeviceError> {
        match Self::load(store, machine) {
            Err(DeviceError::NotFound) => {
                let identity = Self::generate()?;
                identity.save(store, machine)?;
                Ok(identity)
            }
            other => other,
        }
    }

    /// Loads the stored identity.
    ///
    /// # Errors
    /// [`DeviceError::NotFound`] if none is stored;
    /// [`DeviceError::WrongMachine`] if it was wrapped on another machine;
    /// [`DeviceError::CorruptEntry`] if the entry is damaged;
    /// [`DeviceError::MachineId`] and [`DeviceError::Store`] if the machine
    /// id or the keyring cannot be read.
    pub fn load(
        store: &dyn SecretStore,
        machine: &dyn MachineIdSource,
    ) -> Result<Self, DeviceError> {
        let entry = store.load(KEYRING_ENTRY)?.ok_or(DeviceError::NotFound)?;
        let machine_id = Zeroizing::new(machine.machine_id()?);
        let secrets = wrap::unwrap(&machine_id, &entry)?;
        let mut ed = Zeroizing::new([0u8; 32]);
        let mut x = Zeroizing::new([0u8; 32]);
        ed.copy_from_slice(&secrets[..32]);
        x.copy_from_slice(&secrets[32..]);
        Ok(Self::from_secrets(&ed, &x))
    }

    /// Deletes the stored identity from `store`; returns whether there was
    /// one. Revoking the device at the server is a separate step.
    ///
    /// # Errors
    /// [`DeviceError::Store`] if the keyring cannot be written.
    pub fn delete(store: &dyn SecretStore) -> Result<bool, DeviceError> {
        Ok(store.delete(KEYRING_ENTRY)?)
    }

    /// A fresh identity in memory only (not stored): for bots and tests.
    ///
    /// # Errors
    /// [`DeviceError::Random`] if the OS random number generator fails.
    pub fn generate() -> Result<Self, DeviceError> {
        let mut ed = Zeroizing::new([0u8; 32]);
        let mut x = Zeroizing::new([0u8; 32]);
        getrandom::fill(ed.as_mut()).map_err(|_| DeviceError::Random)?;
        getrandom::fill(x.as_mut()).map_err(|_| DeviceError::Random)?;
        Ok(Self::from_secrets(&ed, &x))
    }

    /// Wraps the identity for this machine and writes it to `store`,
    /// replacing any earlier one.
    ///
    /// # Errors
    /// [`DeviceError::MachineId`], [`DeviceError::Random`],
    /// [`DeviceError::Store`].
    pub fn save(
        &self,
        store: &dyn SecretStore,
        machine: &dyn MachineIdSource,
    ) -> Result<(), DeviceError> {
        let machine_id = Zeroizing::new(machine.machine_id()?);
        let mut secrets = Zeroizing::new([0u8; wrap::SECRETS_LEN]);
        secrets[..32].copy_from_slice(self.signing.as_bytes());
        secrets[32..].copy_from_slice(self.x25519.as_bytes());
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut salt).map_err(|_| DeviceError::Random)?;
        getrandom::fill(&mut nonce).map_err(|_| DeviceError::Random)?;
        let entry = wrap::wrap(&machine_id, &secrets, &salt, &nonce)?;
        store.save(KEYRING_ENTRY, &entry)?;
        Ok(())
    }

    fn from_secrets(ed25519: &[u8; 32], x25519: &[u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(ed25519);
        let x25519 = StaticSecret::from(*x25519);
        let ed_public = signing.verifying_key().to_bytes();
        let x_public = X25519Public::from(&x25519).to_bytes();
        let public = DevicePublicKeys {
            device_id: DeviceId::from_public_keys(&ed_public, &x_public),
            ed25519: ed_public,
            x25519: x_public,
        };
        Self {
            signing,
            x25519,
            public,
        }
    }

    /// This device's id.
    pub fn device_id(&self) -> DeviceId {
        self.public.device_id
    }

    /// The public record to publish in the server's device directory.
    pub fn public_keys(&self) -> &DevicePublicKeys {
        &self.public
    }

    /// Signs `message` with the device's Ed25519 key. Callers put a context
    /// string of their own at the start of `message` so a signature made for
    /// one purpose cannot be replayed as another.
    pub fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.signing.sign(message).to_bytes()
    }

    /// A copy of the Ed25519 signing key, for the MLS signer within this
    /// crate (zeroed on drop like the original).
    pub(crate) fn signing_key(&self) -> SigningKey {
        self.signing.clone()
    }

    /// The X25519 secret key, for HPKE decryption within this crate.
    pub(crate) fn x25519_secret(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.x25519.to_bytes())
    }
}

impl fmt::Debug for DeviceIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceIdentity")
            .field("device_id", &self.public.device_id)
            .finish_non_exhaustive()
    }
}
