//! Sealing and opening media frames (SFrame, RFC 9605) with the meeting's
//! current keys, and taking keys in from the router.
//!
//! The media pipeline calls [`Session::seal_frame`] on every encoded frame
//! before packetising it and [`Session::open_frame`] on every reassembled
//! frame before decoding it. `metadata` is authenticated but not encrypted;
//! sender and receiver must pass the same bytes (the pipeline uses the
//! sender's SSRC, big-endian).
//!
//! Until the first key is installed, [`Session::seal_frame`] fails with
//! [`super::FrameCryptoError::NoKey`] and the pipeline drops the frame: nothing is
//! ever sent in clear. Key ids, epochs and rotation are described in
//! `keys.rs` ([`super::keys::standard_key_id`]).

use confer_wire::ids::ParticipantId;
use confer_wire::keys::MediaKey;

use super::keys::{Encryption, EncryptionStats};
use super::{Session, SessionError};

impl Session {
    /// Seals one encoded frame of our track `track` for sending.
    ///
    /// # Errors
    /// [`SessionError::FrameCrypto`] with [`super::FrameCryptoError::NoKey`] before
    /// the first key arrived (drop the frame), or if the SFrame layer
    /// refuses (counters exhausted).
    pub fn seal_frame(
        &mut self,
        track: u8,
        metadata: &[u8],
        frame: &[u8],
    ) -> Result<Vec<u8>, SessionError> {
        // One sender (one KID, one counter) covers all our tracks; the
        // track is in the metadata the pipeline authenticates.
        let _ = track;
        Ok(self.frame_keys.seal(metadata, frame)?)
    }

    /// Opens one frame `sender` sealed; a frame that does not open is
    /// counted and refused.
    ///
    /// # Errors
    /// [`SessionError::FrameCrypto`]: tampered, unknown key id (for example
    /// a key we were never given), replayed, too old, malformed, or sealed
    /// under another participant's key id. Drop the frame.
    pub fn open_frame(
        &mut self,
        sender: ParticipantId,
        metadata: &[u8],
        sealed: &[u8],
    ) -> Result<Vec<u8>, SessionError> {
        Ok(self.frame_keys.open(sender, metadata, sealed)?)
    }

    /// What this session counted about its media keys: how the meeting is
    /// keyed, epochs seen, the security code and decrypt failures.
    pub fn encryption_stats(&self) -> EncryptionStats {
        self.frame_keys.stats()
    }

    /// A `media_key` from the router: a standard meeting's new epoch.
    pub(super) fn on_media_key(&mut self, key: MediaKey) {
        let Some(me) = self.participant_id() else {
            return self.violation("a media key before `joined`".into());
        };
        if self.frame_keys.stats().encryption == Encryption::E2e {
            // The router must never key an E2E meeting; taking its key
            // would let it read our media.
            return self.violation("a router media key in an E2E meeting".into());
        }
        match self
            .frame_keys
            .install_standard(key.epoch, key.key.as_bytes(), me)
        {
            Ok(()) => {}
            Err(error) => self.violation(error.to_string()),
        }
    }
}
