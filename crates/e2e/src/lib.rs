//! Confer's end-to-end security: everything that keeps media and chat
//! readable only by the participants of a meeting, never by the router.
//!
//! Modules, and how they fit:
//!
//! - [`sframe`] — SFrame (RFC 9605) with AES_256_GCM_SHA512_128: a
//!   [`sframe::SframeSender`] seals every encoded audio, video and screen
//!   frame before it leaves the sender; a [`sframe::SframeReceiver`] opens
//!   them with one key per key id (KID), rejecting tampered, unknown-key,
//!   replayed and malformed frames and counting each kind. It only takes
//!   keys; it never decides which key is current.
//! - [`mls`] — MLS (RFC 9420) group state for E2E meetings:
//!   [`mls::MeetingGroup`] creates the group, adds and removes members
//!   (commit + welcome), processes the handshake messages the router
//!   relays, and turns each epoch into SFrame keys through the MLS exporter
//!   (RFC 9605 §5.2) and into a [`mls::SecurityCode`] participants compare.
//!   The router never sees a key.
//! - [`device`] — this installation's long-lived identity: an Ed25519
//!   signing key and an X25519 key, kept in the OS keyring behind the
//!   [`device::SecretStore`] seam, wrapped under a key bound to the
//!   machine's id; its public half ([`device::DevicePublicKeys`]) goes to
//!   the server's device directory.
//! - [`chat`] — E2E chat: a message is HPKE-encrypted (RFC 9180) to each
//!   recipient device's X25519 key and signed with the sender's Ed25519
//!   device key; the server stores and relays [`chat::ChatEnvelope`]s it
//!   cannot read.
//! - standard (non-E2E) meetings need nothing more from this crate: the
//!   router hands out one key per epoch over TLS and `confer-client`
//!   (`session/keys.rs`) seals each sender's frames under its own KID with
//!   [`sframe::SframeSender`], rotating when someone leaves.
//!
//! This crate does no network I/O and reads no clock: callers hand it bytes
//! and keys and get bytes and typed errors back. The one exception is the
//! keyring seam, [`device::SecretStore`], whose production implementation
//! [`device::OsKeyring`] talks to the OS keyring (and [`device::OsMachineId`]
//! reads the machine id); tests use [`device::MemoryStore`] and
//! [`device::FixedMachineId`]. (`openmls` itself checks key package
//! lifetimes against the system clock.) The dependency check in CI
//! (`scripts/check-deps.sh`) holds the rule that matters most:
//! `confer-router` never depends on this crate — the router cannot decrypt
//! what it cannot link.

mod base64url;
pub mod chat;
pub mod device;
pub mod mls;
pub mod sframe;
