//! Confer's end-to-end security: everything that keeps media and chat
//! readable only by the participants of a meeting, never by the router.
//!
//! Planned modules, and how they fit:
//!
//! - [`sframe`] — SFrame (RFC 9605) with AES_256_GCM_SHA512_128: a
//!   [`sframe::SframeSender`] seals every encoded audio, video and screen
//!   frame before it leaves the sender; a [`sframe::SframeReceiver`] opens
//!   them with one key per key id (KID), rejecting tampered, unknown-key,
//!   replayed and malformed frames and counting each kind. It only takes
//!   keys; it never decides which key is current.
//! - the meeting key schedule (later) decides that: in a standard meeting it
//!   turns the key the router hands out over TLS into per-sender SFrame base
//!   keys and KIDs, and rotates them when someone leaves.
//! - MLS (RFC 9420) group state for E2E meetings (later) feeds the same key
//!   schedule from the MLS exporter, so the router never sees a key.
//! - device identity keys kept in the OS keyring, and E2E chat (later).
//!
//! This crate does no I/O and reads no clock: callers hand it bytes and keys
//! and get bytes and typed errors back. The dependency check in CI
//! (`scripts/check-deps.sh`) holds the rule that matters most:
//! `confer-router` never depends on this crate — the router cannot decrypt
//! what it cannot link.

pub mod sframe;
