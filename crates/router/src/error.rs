//! The router's error type for things that can go wrong when starting or
//! configuring it. Per-connection problems never surface here: a bad client
//! is answered on the wire and disconnected, and the router carries on.

use std::net::SocketAddr;

/// Why the router could not be configured or started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RouterError {
    /// rustls refused the certificate, key or protocol settings.
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// The TLS configuration cannot be used for QUIC (QUIC needs TLS 1.3 and
    /// an initial cipher suite).
    #[error("QUIC TLS configuration: {0}")]
    QuicTls(String),
    /// A listening socket could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address that was asked for.
        addr: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Any other I/O failure while setting up sockets.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}
