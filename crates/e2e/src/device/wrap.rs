//! Wrapping the device's secret keys for the keyring, bound to the machine.
//!
//! Entry layout (version 1), all lengths fixed:
//!
//! ```text
//! "CDI1" | salt (16) | check (16) | nonce (12) | AES-256-GCM(secrets (64)) | tag (16)
//! ```
//!
//! - `secrets` is the Ed25519 secret key (32 bytes) then the X25519 secret
//!   key (32 bytes).
//! - `wrap_key = HKDF-SHA256(salt, machine_id, "confer device wrap v1")`, 32
//!   bytes; `check = HKDF-SHA256(salt, machine_id, "confer device check v1")`,
//!   16 bytes. A different machine gives a different `check`, which is what
//!   tells [`DeviceError::WrongMachine`] apart from a corrupt entry
//!   ([`DeviceError::CorruptEntry`]: right machine, tag fails). The check
//!   value reveals nothing the GCM tag does not already let an attacker test.
//! - The associated data is the first 48 bytes (magic, salt, check), so none
//!   of them can be swapped.

use aes_gcm::{
    Aes256Gcm, KeyInit,
    aead::{AeadInOut, Nonce, Tag},
};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::DeviceError;

const MAGIC: &[u8; 4] = b"CDI1";
const SALT_LEN: usize = 16;
const CHECK_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Length of the wrapped secrets: Ed25519 then X25519 secret key.
pub(super) const SECRETS_LEN: usize = 64;
const HEADER_LEN: usize = MAGIC.len() + SALT_LEN + CHECK_LEN;
/// Length of a version-1 entry.
pub(super) const ENTRY_LEN: usize = HEADER_LEN + NONCE_LEN + SECRETS_LEN + TAG_LEN;

const WRAP_INFO: &[u8] = b"confer device wrap v1";
const CHECK_INFO: &[u8] = b"confer device check v1";

/// Derives the wrapping key and the check value from the machine id.
fn derive(
    machine_id: &[u8],
    salt: &[u8],
) -> Result<(Zeroizing<[u8; 32]>, [u8; CHECK_LEN]), DeviceError> {
    let hkdf = Hkdf::<Sha256>::new(Some(salt), machine_id);
    let mut key = Zeroizing::new([0u8; 32]);
    let mut check = [0u8; CHECK_LEN];
    hkdf.expand(WRAP_INFO, key.as_mut())
        .and_then(|()| hkdf.expand(CHECK_INFO, &mut check))
        .map_err(|_| DeviceError::Internal {
            what: "HKDF expand",
        })?;
    Ok((key, check))
}

/// Wraps `secrets` for this machine. `salt` and `nonce` must be fresh random
/// bytes (the caller draws them, so this stays deterministic under test).
pub(super) fn wrap(
    machine_id: &[u8],
    secrets: &[u8; SECRETS_LEN],
    salt: &[u8; SALT_LEN],
    nonce: &[u8; NONCE_LEN],
) -> Result<Vec<u8>, DeviceError> {
    let (key, check) = derive(machine_id, salt)?;
    let mut entry = Vec::with_capacity(ENTRY_LEN);
    entry.extend_from_slice(MAGIC);
    entry.extend_from_slice(salt);
    entry.extend_from_slice(&check);
    entry.extend_from_slice(nonce);
    let mut body = Zeroizing::new(*secrets);
    let cipher = Aes256Gcm::new_from_slice(key.as_slice()).map_err(|_| DeviceError::Internal {
        what: "AES-GCM key",
    })?;
    let tag = cipher
        .encrypt_inout_detached(
            &Nonce::<Aes256Gcm>::from(*nonce),
            &entry[..HEADER_LEN],
            body.as_mut_slice().into(),
        )
        .map_err(|_| DeviceError::Internal {
            what: "AES-GCM seal",
        })?;
    entry.extend_from_slice(body.as_ref());
    entry.extend_from_slice(&tag);
    Ok(entry)
}

/// Unwraps an entry made by [`wrap`] on a machine with `machine_id`.
pub(super) fn unwrap(
    machine_id: &[u8],
    entry: &[u8],
) -> Result<Zeroizing<[u8; SECRETS_LEN]>, DeviceError> {
    if entry.len() != ENTRY_LEN {
        return Err(DeviceError::CorruptEntry {
            reason: "wrong length",
        });
    }
    let (header, rest) = entry.split_at(HEADER_LEN);
    if &header[..MAGIC.len()] != MAGIC {
        return Err(DeviceError::CorruptEntry {
            reason: "unknown format tag",
        });
    }
    let salt = &header[MAGIC.len()..MAGIC.len() + SALT_LEN];
    let stored_check = &header[MAGIC.len() + SALT_LEN..];
    let (key, check) = derive(machine_id, salt)?;
    // Not secret-dependent in a way that matters: the check value is a
    // public function of the machine id, which the OS shows to every user.
    if stored_check != check {
        return Err(DeviceError::WrongMachine);
    }
    let (nonce, rest) = rest.split_at(NONCE_LEN);
    let (body, tag) = rest.split_at(SECRETS_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| DeviceError::Internal {
        what: "nonce length",
    })?;
    let tag: [u8; TAG_LEN] = tag
        .try_into()
        .map_err(|_| DeviceError::Internal { what: "tag length" })?;
    let mut secrets = Zeroizing::new([0u8; SECRETS_LEN]);
    secrets.copy_from_slice(body);
    let cipher = Aes256Gcm::new_from_slice(key.as_slice()).map_err(|_| DeviceError::Internal {
        what: "AES-GCM key",
    })?;
    cipher
        .decrypt_inout_detached(
            &Nonce::<Aes256Gcm>::from(nonce),
            header,
            secrets.as_mut_slice().into(),
            &Tag::<Aes256Gcm>::from(tag),
        )
        .map_err(|_| DeviceError::CorruptEntry {
            reason: "authentication tag does not verify",
        })?;
    Ok(secrets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_unwrap_round_trip_and_binding() -> Result<(), DeviceError> {
        let secrets = [9u8; SECRETS_LEN];
        let entry = wrap(b"machine-a", &secrets, &[1; SALT_LEN], &[2; NONCE_LEN])?;
        assert_eq!(entry.len(), ENTRY_LEN);
        assert_eq!(*unwrap(b"machine-a", &entry)?, secrets);
        assert!(matches!(
            unwrap(b"machine-b", &entry),
            Err(DeviceError::WrongMachine)
        ));
        let mut bad = entry.clone();
        bad[ENTRY_LEN - 20] ^= 1;
        assert!(matches!(
            unwrap(b"machine-a", &bad),
            Err(DeviceError::CorruptEntry { .. })
        ));
        assert!(matches!(
            unwrap(b"machine-a", &entry[..10]),
            Err(DeviceError::CorruptEntry { .. })
        ));
        Ok(())
    }
}
