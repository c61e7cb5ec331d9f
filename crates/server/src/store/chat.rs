//! The E2E chat mailbox: envelopes waiting for their recipient device.
//!
//! Each envelope is stored exactly as the sender sealed it (ciphertext,
//! HPKE encapsulated key, signature, all base64url) under its recipient
//! device and a per-device cursor, and deleted once the device acknowledges
//! it: the server keeps no message longer than delivery needs.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, unix_from_db, unix_to_db};

/// One envelope to store, fields as the sender sent them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewEnvelope {
    /// The message id (base64url), the same in every copy.
    pub(crate) message_id: String,
    /// The sending device.
    pub(crate) sender: String,
    /// The device it is for.
    pub(crate) recipient: String,
    /// Envelope format version.
    pub(crate) version: u8,
    /// HPKE encapsulated key, base64url.
    pub(crate) enc: String,
    /// HPKE ciphertext with its tag, base64url.
    pub(crate) ciphertext: String,
    /// The sender's Ed25519 signature, base64url.
    pub(crate) signature: String,
}

/// A stored envelope as a recipient fetches it, with what the directory
/// says about its sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MailboxEntry {
    /// The recipient device's cursor for this entry.
    pub(crate) cursor: u64,
    /// The envelope.
    pub(crate) envelope: NewEnvelope,
    /// Unix seconds.
    pub(crate) stored_at: u64,
    /// The sender device's user.
    pub(crate) sender_user_id: String,
    /// That user's email.
    pub(crate) sender_email: String,
    /// The sender device's Ed25519 key, base64url.
    pub(crate) sender_ed25519: String,
    /// The sender device's X25519 key, base64url.
    pub(crate) sender_x25519: String,
}

/// Why envelopes were not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The recipient device was revoked (or removed) meanwhile.
    RecipientGone(String),
    /// This recipient already has a copy of this message.
    Duplicate(String),
}

fn entry_from_row(row: &AnyRow) -> Result<MailboxEntry, sqlx::Error> {
    let version: i64 = row.try_get("version")?;
    Ok(MailboxEntry {
        cursor: unix_from_db(row.try_get("seq")?),
        envelope: NewEnvelope {
            message_id: row.try_get("message_id")?,
            sender: row.try_get("sender_device")?,
            recipient: row.try_get("recipient_device")?,
            // Only u8 versions are ever written.
            version: u8::try_from(version).unwrap_or(u8::MAX),
            enc: row.try_get("enc")?,
            ciphertext: row.try_get("ciphertext")?,
            signature: row.try_get("signature")?,
        },
        stored_at: unix_from_db(row.try_get("stored_at")?),
        sender_user_id: row.try_get("user_id")?,
        sender_email: row.try_get("email")?,
        sender_ed25519: row.try_get("ed25519")?,
        sender_x25519: row.try_get("x25519")?,
    })
}

impl Store {
    /// Stores every envelope or none. Recipients are taken in id order so
    /// two concurrent sends lock the device rows in the same order.
    pub(crate) async fn store_envelopes(
        &self,
        envelopes: &[NewEnvelope],
        now: u64,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let mut sorted: Vec<&NewEnvelope> = envelopes.iter().collect();
        sorted.sort_by(|a, b| a.recipient.cmp(&b.recipient));
        let mut tx = self.pool.begin().await?;
        for envelope in sorted {
            let seq = sqlx::query(
                "UPDATE devices SET last_seq = last_seq + 1 \
                 WHERE device_id = $1 AND revoked_at IS NULL RETURNING last_seq",
            )
            .bind(&envelope.recipient)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(seq) = seq else {
                return Ok(Err(Refusal::RecipientGone(envelope.recipient.clone())));
            };
            let seq: i64 = seq.try_get("last_seq")?;
            let inserted = sqlx::query(
                "INSERT INTO chat_mailbox (recipient_device, seq, message_id, sender_device, \
                 version, enc, ciphertext, signature, stored_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&envelope.recipient)
            .bind(seq)
            .bind(&envelope.message_id)
            .bind(&envelope.sender)
            .bind(i64::from(envelope.version))
            .bind(&envelope.enc)
            .bind(&envelope.ciphertext)
            .bind(&envelope.signature)
            .bind(unix_to_db(now))
            .execute(&mut *tx)
            .await;
            match inserted {
                Ok(_) => {}
                // Dropping `tx` rolls everything back.
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    return Ok(Err(Refusal::Duplicate(envelope.recipient.clone())));
                }
                Err(e) => return Err(e.into()),
            }
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Up to `limit` entries for `device_id` after cursor `after`, in
    /// cursor order.
    pub(crate) async fn mailbox(
        &self,
        device_id: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<MailboxEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.seq, m.message_id, m.sender_device, m.recipient_device, m.version, \
             m.enc, m.ciphertext, m.signature, m.stored_at, \
             d.user_id, d.ed25519, d.x25519, u.email \
             FROM chat_mailbox m \
             JOIN devices d ON d.device_id = m.sender_device \
             JOIN users u ON u.id = d.user_id \
             WHERE m.recipient_device = $1 AND m.seq > $2 \
             ORDER BY m.seq LIMIT $3",
        )
        .bind(device_id)
        .bind(unix_to_db(after))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(entry_from_row).collect::<Result<_, _>>()?)
    }

    /// Deletes `device_id`'s entries up to and including cursor `up_to`;
    /// returns how many.
    pub(crate) async fn acknowledge(&self, device_id: &str, up_to: u64) -> Result<u64, StoreError> {
        let done =
            sqlx::query("DELETE FROM chat_mailbox WHERE recipient_device = $1 AND seq <= $2")
                .bind(device_id)
                .bind(unix_to_db(up_to))
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected())
    }
}
