//! The Confer router: admits participants to meetings on the strength of a
//! join token, relays their control messages and forwards their sealed
//! media to each other. It stores nothing and cannot decrypt media (it
//! never sees a media key), but it is the authority on who is in a meeting
//! and in what role.
//!
//! The crate is a sans-IO core with a thin tokio driver around it:
//!
//! - [`core`]: the meeting state machine ([`core::Router`]): joins, rosters,
//!   chat, liveness timers and the media forwarding table. Inputs are
//!   `handle_*` calls stamped with `now`, outputs come from `poll_output` and
//!   `poll_timeout`. All protocol decisions live here and are tested with a
//!   virtual clock.
//! - [`join_token`]: verifies the web service's ES256 join tokens against
//!   its published keys (JWKS) and yields the claims the core trusts.
//! - [`tls`]: TLS 1.3-only rustls and quinn configurations (aws-lc-rs,
//!   AES-256-GCM preferred), also used by the web service for HTTPS.
//! - `driver`: the tokio shell. [`start`] binds a QUIC endpoint (control on
//!   a stream, media as datagrams) and a TLS-over-TCP listener (frames
//!   both ways), moves bytes between them and the core, and returns a
//!   [`RouterHandle`].
//!
//! The protocol itself is written down in `docs/protocol.md`; its types are
//! in `confer-wire`.
//!
//! ```no_run
//! # async fn run(cert_chain: Vec<rustls_pki_types::CertificateDer<'static>>,
//! #              private_key: rustls_pki_types::PrivateKeyDer<'static>, jwks: &str)
//! #              -> Result<(), Box<dyn std::error::Error>> {
//! use confer_router::{JoinTokenVerifier, RouterConfig};
//!
//! let mut token_verifier = JoinTokenVerifier::new("https://confer.example");
//! token_verifier.add_jwks(jwks)?;
//! let router = confer_router::start(RouterConfig {
//!     quic_listen: "0.0.0.0:8801".parse()?,
//!     tls_listen: "0.0.0.0:8802".parse()?,
//!     cert_chain,
//!     private_key,
//!     token_verifier,
//!     events: None,
//! })
//! .await?;
//! println!("QUIC on {}, TLS on {}", router.quic_addr(), router.tls_addr());
//! router.shutdown().await;
//! # Ok(()) }
//! ```

pub mod core;
mod driver;
mod error;
pub mod join_token;
pub mod tls;

pub use crate::core::{RouterEvent, RouterStats};
pub use driver::{RouterConfig, RouterHandle, start};
pub use error::RouterError;
pub use join_token::{JoinTokenVerifier, TokenError};
