//! Password and passcode hashing with Argon2id.
//!
//! Parameters are OWASP's recommendation for Argon2id (19 MiB of memory, two
//! passes, one lane). Each hash costs tens of milliseconds of CPU and 19 MiB
//! of RAM, so it runs on the blocking pool, and a semaphore bounds how many
//! run at once: a burst of logins must not be able to exhaust memory.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;
use tokio::sync::Semaphore;

use crate::error::ServerError;

/// Memory cost in KiB (OWASP: 19 MiB).
const MEMORY_KIB: u32 = 19_456;
/// Time cost (passes).
const ITERATIONS: u32 = 2;
/// Parallelism (lanes).
const LANES: u32 = 1;

/// Hashes and verifies secrets off the async threads, a bounded number at a time.
#[derive(Clone)]
pub(crate) struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// A hash of a random secret, verified against when an email is unknown
    /// so that "no such account" takes as long as "wrong password".
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").finish_non_exhaustive()
    }
}

fn argon2() -> Result<Argon2<'static>, ServerError> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None)
        .map_err(|e| ServerError::PasswordHash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `secret` with a fresh random salt, synchronously (PHC string format).
fn hash_blocking(secret: &[u8]) -> Result<String, ServerError> {
    let salt_bytes: [u8; 16] = rand::rng().random();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| ServerError::PasswordHash(e.to_string()))?;
    argon2()?
        .hash_password(secret, &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ServerError::PasswordHash(e.to_string()))
}

/// Checks `secret` against a PHC string; a malformed stored hash is a mismatch.
fn verify_blocking(secret: &[u8], phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        tracing::error!("a stored password hash is malformed");
        return false;
    };
    // The parameters come from the stored hash, so hashes made with older
    // parameters still verify after the constants above change.
    Argon2::default().verify_password(secret, &parsed).is_ok()
}

impl PasswordHasher {
    /// A hasher allowing `max_concurrent` hashes at a time.
    pub(crate) async fn new(max_concurrent: usize) -> Result<Self, ServerError> {
        let dummy_secret: [u8; 32] = rand::rng().random();
        let dummy_hash =
            tokio::task::spawn_blocking(move || hash_blocking(&dummy_secret)).await??;
        Ok(PasswordHasher {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            dummy_hash: dummy_hash.into(),
        })
    }

    /// Hashes `secret` (a password or a meeting passcode) with Argon2id.
    pub(crate) async fn hash(&self, secret: String) -> Result<String, ServerError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| ServerError::PasswordHash(e.to_string()))?;
        tokio::task::spawn_blocking(move || hash_blocking(secret.as_bytes())).await?
    }

    /// Checks `secret` against a stored hash. With `None` (no such account)
    /// it still does the work of a verification, against a dummy hash, and
    /// returns false.
    pub(crate) async fn verify(
        &self,
        secret: String,
        phc: Option<String>,
    ) -> Result<bool, ServerError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| ServerError::PasswordHash(e.to_string()))?;
        let dummy = Arc::clone(&self.dummy_hash);
        let ok = tokio::task::spawn_blocking(move || match phc {
            Some(phc) => verify_blocking(secret.as_bytes(), &phc),
            None => {
                verify_blocking(secret.as_bytes(), &dummy);
                false
            }
        })
        .await?;
        Ok(ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let hasher = PasswordHasher::new(2).await.unwrap();
        let a = hasher.hash("correct horse".into()).await.unwrap();
        let b = hasher.hash("correct horse".into()).await.unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "salts must differ");
        assert!(
            hasher
                .verify("correct horse".into(), Some(a.clone()))
                .await
                .unwrap()
        );
        assert!(!hasher.verify("wrong horse".into(), Some(a)).await.unwrap());
        assert!(!hasher.verify("x".into(), None).await.unwrap());
        assert!(
            !hasher
                .verify("x".into(), Some("not a hash".into()))
                .await
                .unwrap()
        );
    }
}
