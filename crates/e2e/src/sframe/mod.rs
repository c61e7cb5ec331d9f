//! SFrame (RFC 9605) for media frames, cipher suite AES_256_GCM_SHA512_128.
//!
//! A frame is an opaque byte slice (one encoded Opus or H.264 frame). Sealing
//! it produces an SFrame ciphertext, `header | encrypted frame | 16-byte tag`
//! (§4.2), where the header (§4.3) carries the key id (KID) and a per-key
//! counter (CTR). The AEAD's associated data is that header followed by the
//! caller's *metadata* (§4.4.3) — e.g. the RTP header the frame travels
//! under — which is authenticated but not encrypted and not carried inside
//! the ciphertext: the caller sends it anyway.
//!
//! Keys: each KID has a base key (from the meeting key schedule or MLS
//! exporter); `sframe_key` and `sframe_salt` are derived from it with
//! HKDF-SHA512 (§4.4.2), and each frame's nonce is `sframe_salt XOR CTR`.
//! The (base key, KID, CTR) triple must never repeat, so a
//! [`SframeSender`] counts up from zero and refuses to wrap; a sender that
//! gets near the end of its counters (2⁶⁴ frames — never, in practice) or
//! changes membership calls [`SframeSender::rekey`] with a fresh KID.
//!
//! A [`SframeReceiver`] holds one key and one replay window per KID; keys are
//! added and removed as senders join and leave. [`SframeReceiver::open`]
//! screens the counter against the window *before* decrypting and records it
//! only *after* the tag verified (RFC 9605 §9.3), so forged frames cannot move
//! the window. Every rejected frame is a distinct [`SframeError`] variant and
//! is counted in [`ReceiverStats`].
//!
//! Built on the [`sframe`] crate — its RFC 9605 header codec,
//! HKDF labels, key types and replay window — with AES-256-GCM and
//! HKDF-SHA512 from RustCrypto (`aes-gcm`, `hkdf`, `sha2`) plugged in through
//! the crate's backend traits in `suite.rs` (which says why not the crate's
//! own `rust-crypto` backend). This module adds what a meeting needs on top:
//! counters that never wrap, a KID-keyed receiver with per-KID replay
//! windows, one error enum, and counts.

mod error;
mod receiver;
mod sender;
mod suite;

pub use error::SframeError;
pub use receiver::{OpenedFrame, ReceiverStats, SframeReceiver};
pub use sender::SframeSender;

/// The key id (KID) of an SFrame header: names the key a frame was sealed
/// with. In Confer one KID belongs to one sender's key in one epoch.
pub type KeyId = u64;

/// The frame counter (CTR) of an SFrame header: unique per frame under one
/// key, and the input to the nonce.
pub type Counter = u64;

/// The RFC 9605 cipher suite identifier of AES_256_GCM_SHA512_128, the only
/// suite Confer uses (IANA "SFrame Cipher Suites" registry). It is part of the
/// HKDF labels, so both ends must agree on it.
pub const CIPHER_SUITE_ID: u16 = 0x0005;

/// Length in bytes of the AES-GCM authentication tag appended to every frame.
pub const TAG_LEN: usize = 16;

/// Longest possible SFrame header: a config byte plus an 8-byte KID and an
/// 8-byte CTR.
pub const MAX_HEADER_LEN: usize = 17;

/// Most bytes sealing adds to a frame: the longest header plus the tag. Size
/// packet budgets with it.
pub const MAX_OVERHEAD: usize = MAX_HEADER_LEN + TAG_LEN;

/// The suite as the `sframe` crate names it.
const SUITE: ::sframe::CipherSuite = ::sframe::CipherSuite::AesGcm256Sha512;

// The crate's discriminant is the registry value that goes into the HKDF
// labels; if it ever changed, the RFC vectors test would fail too.
const _: () = assert!(SUITE as u16 == CIPHER_SUITE_ID);
