//! TLS settings shared by every transport the router (and the web service
//! beside it) offers: TLS 1.3 only, aws-lc-rs as the crypto provider, and
//! AES-256-GCM preferred (see `DESIGN.md`, principle 5).
//!
//! [`server_config`] builds the rustls configuration for TLS over TCP (and
//! for the web service's HTTPS, with ALPN `http/1.1`); [`quic_server_config`]
//! wraps the same settings for quinn.

use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::crypto::aws_lc_rs::{self, cipher_suite};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::RouterError;

/// How long a QUIC connection may stay silent before the transport closes
/// it: the protocol's silence timeout, so a vanished client is noticed by
/// QUIC and by the meeting core at the same time.
pub const QUIC_MAX_IDLE_TIMEOUT: Duration = Duration::from_secs(6);

/// The aws-lc-rs provider with its TLS 1.3 cipher suites in our order of
/// preference: AES-256-GCM first, then ChaCha20-Poly1305, then AES-128-GCM.
///
/// AES-128-GCM stays in the list because QUIC protects its initial packets
/// with it and quinn refuses a configuration without it.
pub fn crypto_provider() -> CryptoProvider {
    let mut provider = aws_lc_rs::default_provider();
    provider.cipher_suites = vec![
        cipher_suite::TLS13_AES_256_GCM_SHA384,
        cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        cipher_suite::TLS13_AES_128_GCM_SHA256,
    ];
    provider
}

/// Builds a TLS 1.3-only server configuration from a certificate chain and
/// its private key, advertising the given ALPN protocols (for example
/// [`confer_wire::ALPN`] for the router, `b"http/1.1"` for HTTPS).
///
/// The server's cipher suite order wins over the client's, so a client that
/// offers AES-256-GCM gets it.
///
/// # Errors
///
/// [`RouterError::Tls`] if the key does not match the certificate or is of
/// an unsupported type.
pub fn server_config(
    cert_chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    alpn: &[&[u8]],
) -> Result<rustls::ServerConfig, RouterError> {
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(crypto_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(cert_chain, key)?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config.ignore_client_order = true;
    Ok(config)
}

/// Builds the quinn server configuration for the router's QUIC listener:
/// the TLS settings of [`server_config`] with ALPN [`confer_wire::ALPN`],
/// datagrams enabled, an idle timeout of [`QUIC_MAX_IDLE_TIMEOUT`], and
/// room for exactly one client-opened bidirectional stream (the control
/// stream) and no unidirectional ones, so a client cannot make the router
/// hold state for streams nobody reads.
///
/// # Errors
///
/// [`RouterError::Tls`] as for [`server_config`]; [`RouterError::QuicTls`]
/// if the TLS settings cannot carry QUIC.
pub fn quic_server_config(
    cert_chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<quinn::ServerConfig, RouterError> {
    let tls = server_config(cert_chain, key, &[confer_wire::ALPN])?;
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls)
        .map_err(|e| RouterError::QuicTls(e.to_string()))?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    let mut transport = quinn::TransportConfig::default();
    let idle = quinn::IdleTimeout::try_from(QUIC_MAX_IDLE_TIMEOUT)
        .map_err(|e| RouterError::QuicTls(e.to_string()))?;
    transport
        .max_idle_timeout(Some(idle))
        .max_concurrent_bidi_streams(1u32.into())
        .max_concurrent_uni_streams(0u32.into())
        .datagram_receive_buffer_size(Some(1024 * 1024))
        .datagram_send_buffer_size(1024 * 1024);
    config.transport_config(Arc::new(transport));
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_aes_256_and_allows_only_tls13() {
        let provider = crypto_provider();
        assert_eq!(
            provider.cipher_suites[0].suite(),
            rustls::CipherSuite::TLS13_AES_256_GCM_SHA384
        );
        assert!(
            provider
                .cipher_suites
                .iter()
                .all(|s| s.version() == &rustls::version::TLS13)
        );
    }
}
