//! The device directory: each user's devices and their public keys (an
//! Ed25519 key that signs chat messages, an X25519 key messages are
//! encrypted to). Secret keys never reach the server.
//!
//! A device id belongs to the first user who registers it, for good: a
//! revoked id stays revoked (its row is kept), so a stolen device cannot be
//! quietly brought back under the same id.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, unix_from_db, unix_to_db};

/// A device as the directory holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Device {
    /// The device id (base64url of 16 bytes).
    pub(crate) device_id: String,
    /// The user it belongs to.
    pub(crate) user_id: String,
    /// Ed25519 verifying key, base64url.
    pub(crate) ed25519: String,
    /// X25519 public key, base64url.
    pub(crate) x25519: String,
    /// The user's name for it, if any.
    pub(crate) name: Option<String>,
    /// Unix seconds.
    pub(crate) created_at: u64,
    /// Unix seconds, once revoked.
    pub(crate) revoked_at: Option<u64>,
}

impl Device {
    /// True until the device is revoked.
    pub(crate) fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// What registering a device came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Registration {
    /// A new device, now in the directory.
    Created(Device),
    /// This user had already registered this device; nothing changed.
    Existing(Device),
    /// The id belongs to another user.
    Taken,
    /// The id was revoked.
    Revoked,
    /// The user already has the most active devices allowed.
    TooMany,
}

const DEVICE_COLUMNS: &str = "device_id, user_id, ed25519, x25519, name, created_at, revoked_at";

fn device_from_row(row: &AnyRow) -> Result<Device, sqlx::Error> {
    Ok(Device {
        device_id: row.try_get("device_id")?,
        user_id: row.try_get("user_id")?,
        ed25519: row.try_get("ed25519")?,
        x25519: row.try_get("x25519")?,
        name: row.try_get("name")?,
        created_at: unix_from_db(row.try_get("created_at")?),
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at")?
            .map(unix_from_db),
    })
}

impl Store {
    /// Registers `device` for its user, unless the user already has
    /// `max_active` active devices. Registering the same device again is
    /// not an error ([`Registration::Existing`]).
    pub(crate) async fn register_device(
        &self,
        device: &Device,
        max_active: usize,
    ) -> Result<Registration, StoreError> {
        if let Some(existing) = self.device(&device.device_id).await? {
            return Ok(judge_existing(existing, &device.user_id));
        }
        let active = self
            .devices_of_user(&device.user_id)
            .await?
            .iter()
            .filter(|d| d.is_active())
            .count();
        if active >= max_active {
            return Ok(Registration::TooMany);
        }
        // ON CONFLICT: two registrations of one id racing must not fail
        // with a database error; the loser reads what the winner stored.
        let inserted = sqlx::query(
            "INSERT INTO devices (device_id, user_id, ed25519, x25519, name, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (device_id) DO NOTHING",
        )
        .bind(&device.device_id)
        .bind(&device.user_id)
        .bind(&device.ed25519)
        .bind(&device.x25519)
        .bind(&device.name)
        .bind(unix_to_db(device.created_at))
        .execute(&self.pool)
        .await?;
        let stored = self
            .device(&device.device_id)
            .await?
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound))?;
        if inserted.rows_affected() == 1 {
            Ok(Registration::Created(stored))
        } else {
            Ok(judge_existing(stored, &device.user_id))
        }
    }

    /// One device by id, active or revoked.
    pub(crate) async fn device(&self, device_id: &str) -> Result<Option<Device>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE device_id = $1"
        ))
        .bind(device_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(device_from_row).transpose()?)
    }

    /// A user's devices, revoked ones included, oldest first.
    pub(crate) async fn devices_of_user(&self, user_id: &str) -> Result<Vec<Device>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE user_id = $1 \
             ORDER BY created_at, device_id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(device_from_row).collect::<Result<_, _>>()?)
    }

    /// The active device `device_id` if its user is in `org_id`.
    pub(crate) async fn active_device_in_org(
        &self,
        org_id: &str,
        device_id: &str,
    ) -> Result<Option<Device>, StoreError> {
        let row = sqlx::query(
            "SELECT d.device_id, d.user_id, d.ed25519, d.x25519, d.name, d.created_at, \
             d.revoked_at FROM devices d JOIN users u ON u.id = d.user_id \
             WHERE d.device_id = $1 AND u.org_id = $2 AND d.revoked_at IS NULL",
        )
        .bind(device_id)
        .bind(org_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(device_from_row).transpose()?)
    }

    /// Revokes `user_id`'s device `device_id` at `now` and deletes what
    /// waits in its mailbox (it will never fetch it). False if the device is
    /// not that user's; revoking twice keeps the first time.
    pub(crate) async fn revoke_device(
        &self,
        user_id: &str,
        device_id: &str,
        now: u64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The write comes first so SQLite takes the write lock at once
        // rather than upgrading a read lock (which can fail when busy).
        let updated = sqlx::query(
            "UPDATE devices SET revoked_at = COALESCE(revoked_at, $1) \
             WHERE device_id = $2 AND user_id = $3",
        )
        .bind(unix_to_db(now))
        .bind(device_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM chat_mailbox WHERE recipient_device = $1")
            .bind(device_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// What re-registering an id already in the directory means for `user_id`.
fn judge_existing(existing: Device, user_id: &str) -> Registration {
    if existing.user_id != user_id {
        Registration::Taken
    } else if !existing.is_active() {
        Registration::Revoked
    } else {
        Registration::Existing(existing)
    }
}
