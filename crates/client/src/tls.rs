//! TLS settings for router connections, shared by QUIC and TLS over TCP.
//!
//! Policy (see `docs/protocol.md`): TLS 1.3 only, preferring
//! TLS_AES_256_GCM_SHA384; ALPN `confer/1`; the router's certificate must
//! chain to the CA the user gave us (in development, the file the server
//! prints), and nothing else is trusted.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::crypto::aws_lc_rs;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The CA file is not PEM, or holds no certificate.
    #[error("invalid CA certificate: {0}")]
    InvalidCa(String),
    /// rustls refused the settings (should not happen with a valid CA).
    #[error("TLS configuration rejected: {0}")]
    Config(#[from] rustls::Error),
}

/// The certificates in a PEM file (one or more `CERTIFICATE` blocks).
pub fn parse_ca_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::InvalidCa(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::InvalidCa("no CERTIFICATE block found".into()));
    }
    Ok(certs)
}

/// The crypto provider: aws-lc-rs with TLS_AES_256_GCM_SHA384 first.
///
/// The AES-128 suite stays in the list because QUIC needs it for its initial
/// packets (RFC 9001 §5), and quinn refuses a configuration without it.
pub fn provider() -> Arc<CryptoProvider> {
    let mut provider = aws_lc_rs::default_provider();
    provider
        .cipher_suites
        .sort_by_key(|suite| match suite.suite() {
            rustls::CipherSuite::TLS13_AES_256_GCM_SHA384 => 0,
            rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256 => 1,
            rustls::CipherSuite::TLS13_AES_128_GCM_SHA256 => 2,
            _ => 3,
        });
    Arc::new(provider)
}

/// A client configuration for router connections that trusts only the
/// certificates in `ca_pem` and offers ALPN [`confer_wire::ALPN`].
pub fn router_client_config(ca_pem: &[u8]) -> Result<rustls::ClientConfig, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in parse_ca_pem(ca_pem)? {
        roots
            .add(cert)
            .map_err(|e| TlsError::InvalidCa(e.to_string()))?;
    }
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![confer_wire::ALPN.to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_files_that_hold_no_certificate() {
        assert!(matches!(parse_ca_pem(b""), Err(TlsError::InvalidCa(_))));
        assert!(matches!(
            parse_ca_pem(b"hello"),
            Err(TlsError::InvalidCa(_))
        ));
        let garbage = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(router_client_config(garbage).is_err());
    }

    #[test]
    fn prefers_aes_256() {
        let p = provider();
        assert_eq!(
            p.cipher_suites[0].suite(),
            rustls::CipherSuite::TLS13_AES_256_GCM_SHA384
        );
    }
}
