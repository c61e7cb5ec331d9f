//! Sealing and opening media frames (SFrame, RFC 9605) with the meeting's
//! current keys.
//!
//! The media pipeline calls [`Session::seal_frame`] on every encoded frame
//! before packetising it and [`Session::open_frame`] on every reassembled
//! frame before decoding it. `metadata` is authenticated but not encrypted;
//! sender and receiver must pass the same bytes (the pipeline uses the
//! sender's SSRC, big-endian).
//!
//! INTERIM (replaced by the key schedule in this session's E2E work): frames
//! pass through unchanged until the router's meeting keys and MLS are wired
//! in here.

use confer_wire::ids::ParticipantId;

use super::{Session, SessionError};

impl Session {
    /// Seals one encoded frame of our track `track` for sending.
    pub fn seal_frame(
        &mut self,
        track: u8,
        metadata: &[u8],
        frame: &[u8],
    ) -> Result<Vec<u8>, SessionError> {
        let _ = (track, metadata);
        Ok(frame.to_vec())
    }

    /// Opens one frame `sender` sealed; a frame that does not open is
    /// counted and refused.
    pub fn open_frame(
        &mut self,
        sender: ParticipantId,
        metadata: &[u8],
        sealed: &[u8],
    ) -> Result<Vec<u8>, SessionError> {
        let _ = (sender, metadata);
        Ok(sealed.to_vec())
    }
}
