//! The Confer client: everything a front end (the desktop app, the `confer`
//! command line) needs to take part in a meeting.
//!
//! - [`api`]: the web API (accounts, login, meetings, join tokens, the
//!   device directory and the E2E chat mailbox) over HTTPS.
//! - [`device_keys`]: this installation's device identity in the OS
//!   keyring.
//! - [`direct_chat`]: end-to-end encrypted messages between users outside
//!   meetings, sealed per device and relayed by the web service.
//! - [`session`]: the meeting session as a sans-IO state machine. All the
//!   decisions live here: joining, the roster, keep-alives, chat, media
//!   counters, how and why the session ended.
//! - [`media`]: the media engine (sans-IO): our encoded, sealed outgoing
//!   tracks and every remote participant's received audio and video, with
//!   sinks for playout, rendering and saving.
//! - [`driver`]: the thin tokio shell that connects to the router (QUIC
//!   first, then TLS over TCP), moves bytes between the connection and a
//!   [`session::Session`], and hands events to the front end.
//! - [`tls`]: the one TLS policy (TLS 1.3 only, trust only the given CA,
//!   ALPN `confer/1`) used for every router connection.
//! - [`sso`]: signing in with the organisation's single sign-on through the
//!   system browser and a loopback redirect (RFC 8252).
//!
//! A typical client asks [`api::ApiClient::join_token`] for a ticket, calls
//! [`driver::connect`] with the router addresses it names, and runs
//! [`driver::run`] until the session ends.

pub mod api;
pub mod device_keys;
pub mod direct_chat;
pub mod driver;
pub mod media;
pub mod session;
pub mod sso;
pub mod tls;
