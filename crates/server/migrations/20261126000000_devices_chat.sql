-- The device directory and the E2E chat mailbox (docs/api-devices-chat.md).
-- Plain SQL that SQLite and PostgreSQL both accept.
--
-- Only public keys and ciphertext are kept: a device's secret keys never
-- leave it, so nothing here can decrypt a message.

CREATE TABLE devices (
    -- The device id: 16 bytes of SHA-256 over both public keys, base64url.
    device_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Ed25519 verifying key and X25519 public key, base64url (32 bytes each).
    ed25519 TEXT NOT NULL,
    x25519 TEXT NOT NULL,
    -- What the user calls it ("Ada's laptop"); optional.
    name TEXT,
    -- Unix seconds.
    created_at BIGINT NOT NULL,
    -- Unix seconds; NULL while active. Revocation is permanent for an id.
    revoked_at BIGINT,
    -- The last mailbox sequence number handed out for this device: mailbox
    -- cursors count per device and never go back, even after entries are
    -- acknowledged and deleted. Incremented in the sending transaction, so
    -- concurrent senders queue on the row and cursors follow commit order.
    last_seq BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX devices_user_id ON devices (user_id, created_at);

-- Undelivered envelopes, one row per recipient device. Deleted when the
-- recipient acknowledges them or the device is revoked.
CREATE TABLE chat_mailbox (
    recipient_device TEXT NOT NULL REFERENCES devices (device_id) ON DELETE CASCADE,
    -- The recipient device's cursor for this entry (devices.last_seq).
    seq BIGINT NOT NULL,
    -- The envelope exactly as the sender sealed it; binary fields base64url.
    message_id TEXT NOT NULL,
    sender_device TEXT NOT NULL REFERENCES devices (device_id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    enc TEXT NOT NULL,
    ciphertext TEXT NOT NULL,
    signature TEXT NOT NULL,
    -- Unix seconds.
    stored_at BIGINT NOT NULL,
    PRIMARY KEY (recipient_device, seq)
);

-- One copy of a message per device: a resent message is refused.
CREATE UNIQUE INDEX chat_mailbox_message ON chat_mailbox (message_id, recipient_device);
CREATE INDEX chat_mailbox_sender ON chat_mailbox (sender_device);
