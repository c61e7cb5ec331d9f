//! The Confer wire protocol, shared by the router, the clients and the tools
//! that test them. It does no I/O and keeps no clock: every transport (QUIC,
//! TLS over TCP, WebSocket) moves the same bytes this crate defines.
//!
//! - [`frame`]: length-prefixed framing used on every reliable stream, so a
//!   byte stream can carry control messages and media side by side.
//! - [`control`]: the control messages (join, roster, chat, leave, errors)
//!   and their single codec ([`control::encode`] / [`control::decode`]).
//! - [`host`]: host controls, meeting events and the permission rules
//!   they set (mute, expel, lock, waiting room, chat and share policies).
//! - [`rtp`]: the media packet layout, plain RTP (RFC 3550). The router reads
//!   only the header; the payload is opaque to it.
//! - [`simulcast`]: the layer descriptor on every video packet and the
//!   selector the router runs per (receiver, sender) to forward one layer.
//! - [`rtcp`]: the RTCP feedback (PLI, NACK) receivers send senders through
//!   the router, and telling it from RTP on the same path (RFC 5761).
//! - [`media_control`]: the `subscribe` message choosing a sender's layer.
//! - [`token`]: the claims of a join token, the ticket the web service signs
//!   and the router verifies before it admits anyone.
//! - [`ids`]: the identifiers those messages carry.
//! - [`keys`]: media key messages (standard meetings' router-distributed keys).
//!
//! `docs/protocol.md` at the repository root describes every message.

pub mod control;
pub mod frame;
pub mod host;
pub mod ids;
pub mod keys;
pub mod media_control;
pub mod rtcp;
pub mod rtp;
pub mod simulcast;
pub mod token;

/// The version of the control protocol this crate speaks. A `join` naming any
/// other version is refused with [`control::ErrorCode::UnsupportedVersion`].
pub const PROTOCOL_VERSION: u16 = 1;

/// The ALPN protocol id clients and the router negotiate on QUIC and TLS.
pub const ALPN: &[u8] = b"confer/1";
