//! Control input as the meeting core takes it: already decoded, with the
//! join token already checked.
//!
//! Token verification needs the signing keys and the wall-clock time, and
//! costs a signature check; the driver does it before taking the core's
//! lock, so the core stays pure and fast and its tests need no keys.

use confer_wire::control::{ClientMessage, DecodeError};
use confer_wire::ids::MeetingId;
use confer_wire::token::JoinClaims;

use crate::join_token::TokenError;

/// One control message from a client, ready for
/// [`crate::core::Router::handle_control`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlInput {
    /// A `join`, with the outcome of verifying its token.
    Join {
        /// The protocol version the client speaks.
        version: u16,
        /// The meeting the client asked for.
        meeting_id: MeetingId,
        /// The token's claims, or why the token was refused.
        claims: Result<JoinClaims, TokenError>,
        /// The wall-clock time (Unix seconds) at which the token was checked;
        /// with the token's `exp` it tells the core how long to remember the
        /// session id.
        verified_at_unix: u64,
    },
    /// Any other message.
    Message(ClientMessage),
    /// Bytes that are not a control message.
    Malformed(DecodeError),
}

impl ControlInput {
    /// Decodes a control frame's payload. For a `join`, `verify` is called
    /// with the token and `now_unix`; it is not called for anything else.
    pub fn decode(
        payload: &[u8],
        now_unix: u64,
        verify: impl FnOnce(&str, u64) -> Result<JoinClaims, TokenError>,
    ) -> Self {
        match ClientMessage::decode(payload) {
            Ok(ClientMessage::Join {
                version,
                meeting_id,
                token,
            }) => ControlInput::Join {
                version,
                meeting_id,
                claims: verify(&token, now_unix),
                verified_at_unix: now_unix,
            },
            Ok(message) => ControlInput::Message(message),
            Err(error) => ControlInput::Malformed(error),
        }
    }
}
