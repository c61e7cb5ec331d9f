//! The seam between the media engine and end-to-end frame protection.
//!
//! Every encoded frame is sealed before it is packetised and opened after it
//! is reassembled (SFrame, RFC 9605). The keys live in the meeting
//! [`Session`]; the engine reaches them only through [`FrameCrypto`], so it
//! stays testable with a stand-in and never holds key material itself.

use confer_wire::ids::ParticipantId;

use crate::session::{Session, SessionError};

/// Seals our frames and opens other participants' frames.
pub trait FrameCrypto {
    /// Seals one encoded frame of our track `track`; `metadata` (the
    /// sender's SSRC, big-endian) is authenticated, not encrypted.
    fn seal(&mut self, track: u8, metadata: &[u8], frame: &[u8]) -> Result<Vec<u8>, SessionError>;

    /// Opens one reassembled frame `sender` sealed with the same `metadata`.
    fn open(
        &mut self,
        sender: ParticipantId,
        metadata: &[u8],
        sealed: &[u8],
    ) -> Result<Vec<u8>, SessionError>;
}

impl FrameCrypto for Session {
    fn seal(&mut self, track: u8, metadata: &[u8], frame: &[u8]) -> Result<Vec<u8>, SessionError> {
        self.seal_frame(track, metadata, frame)
    }

    fn open(
        &mut self,
        sender: ParticipantId,
        metadata: &[u8],
        sealed: &[u8],
    ) -> Result<Vec<u8>, SessionError> {
        self.open_frame(sender, metadata, sealed)
    }
}

/// Frames pass unchanged: for tests of the media path alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct PassThrough;

impl FrameCrypto for PassThrough {
    fn seal(&mut self, _: u8, _: &[u8], frame: &[u8]) -> Result<Vec<u8>, SessionError> {
        Ok(frame.to_vec())
    }

    fn open(&mut self, _: ParticipantId, _: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SessionError> {
        Ok(sealed.to_vec())
    }
}
