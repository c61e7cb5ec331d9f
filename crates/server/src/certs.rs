//! The development certificate authority and the server certificate it signs.
//!
//! On first start the server creates a CA (`ca.pem`, key `ca-key.pem`) and a
//! certificate for itself (`server.pem`, key `server-key.pem`) valid for
//! `localhost`, `127.0.0.1`, `::1` and the listen host. Clients trust
//! `ca.pem` (`--ca`) and so trust both the API and the router, which share
//! the server certificate. Later starts reuse all of it; the server
//! certificate alone is reissued by the same CA when the names it must cover
//! change or it nears expiry, so clients never need a new `ca.pem`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};

use crate::clock::{civil_date, now_unix};
use crate::data_dir::{Visibility, read_optional, write_file};
use crate::error::ServerError;

/// The CA certificate clients pass as `--ca`.
pub(crate) const CA_CERT_FILE: &str = "ca.pem";
const CA_KEY_FILE: &str = "ca-key.pem";
const SERVER_CERT_FILE: &str = "server.pem";
const SERVER_KEY_FILE: &str = "server-key.pem";
/// What the current server certificate was issued for, so a later start can
/// tell whether it still fits without parsing X.509.
const SERVER_META_FILE: &str = "server-cert.json";

const DAY: u64 = 86_400;
const CA_LIFETIME: u64 = 10 * 365 * DAY;
/// 397 days: the longest lifetime mainstream TLS clients accept for a leaf.
const SERVER_LIFETIME: u64 = 397 * DAY;
/// Reissue the server certificate when it has less than this left.
const SERVER_RENEW_BEFORE: u64 = 30 * DAY;
/// Backdate `notBefore` so a client whose clock is a little slow accepts it.
const BACKDATE: u64 = DAY;

/// The server's TLS identity, shared by the API and the router.
#[derive(Debug)]
pub(crate) struct ServerIdentity {
    /// The server certificate (the CA is a trust anchor, not sent).
    pub(crate) cert_chain: Vec<CertificateDer<'static>>,
    /// The server certificate's private key.
    pub(crate) key: PrivateKeyDer<'static>,
    /// Where the CA certificate is, for clients.
    pub(crate) ca_path: PathBuf,
}

/// Record of what the server certificate on disk covers.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct ServerCertMeta {
    names: Vec<String>,
    not_after_unix: u64,
}

/// The names the server certificate must cover for `listen_host`.
pub(crate) fn server_names(listen_host: &str) -> Vec<String> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    // An unspecified address (0.0.0.0, ::) is not a name anyone connects to.
    let unspecified = listen_host
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_unspecified());
    let host = listen_host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    if !unspecified && !host.is_empty() && !names.contains(&host) {
        names.push(host);
    }
    names
}

/// Loads the CA and server certificate from `data_dir`, creating whatever is
/// missing, and returns the identity the listeners use.
pub(crate) fn load_or_create(
    data_dir: &Path,
    names: &[String],
) -> Result<ServerIdentity, ServerError> {
    let now = now_unix();
    let (ca_key, ca_created) = load_or_create_ca(data_dir, now)?;
    let issuer = Issuer::new(ca_params(now)?, ca_key);

    let meta_path = data_dir.join(SERVER_META_FILE);
    let meta: Option<ServerCertMeta> =
        read_optional(&meta_path)?.and_then(|text| serde_json::from_str(&text).ok());
    let cert_pem = read_optional(&data_dir.join(SERVER_CERT_FILE))?;
    let key_pem = read_optional(&data_dir.join(SERVER_KEY_FILE))?;

    let reusable = match (&meta, &cert_pem, &key_pem) {
        (Some(meta), Some(_), Some(_)) => {
            !ca_created
                && meta.names == names
                && meta.not_after_unix > now.saturating_add(SERVER_RENEW_BEFORE)
        }
        _ => false,
    };
    let (cert_pem, key_pem) = match (reusable, cert_pem, key_pem) {
        (true, Some(cert), Some(key)) => (cert, key),
        _ => {
            tracing::info!(?names, "issuing a new server certificate");
            issue_server_cert(data_dir, &issuer, names, now)?
        }
    };

    let cert_path = data_dir.join(SERVER_CERT_FILE);
    let cert =
        CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|e| bad_file(&cert_path, e))?;
    let key_path = data_dir.join(SERVER_KEY_FILE);
    let key =
        PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| bad_file(&key_path, e))?;
    Ok(ServerIdentity {
        cert_chain: vec![cert],
        key,
        ca_path: data_dir.join(CA_CERT_FILE),
    })
}

/// The CA's parameters. They are a pure function of nothing that changes
/// between starts (apart from validity, which an issuer does not use), so
/// the issuer can be rebuilt from the saved key alone.
fn ca_params(now: u64) -> Result<CertificateParams, ServerError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Confer");
    dn.push(DnType::CommonName, "Confer development CA");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    set_validity(&mut params, now, CA_LIFETIME);
    Ok(params)
}

fn set_validity(params: &mut CertificateParams, now: u64, lifetime: u64) {
    let (y, m, d) = civil_date(now.saturating_sub(BACKDATE));
    params.not_before = rcgen::date_time_ymd(y, m, d);
    let (y, m, d) = civil_date(now.saturating_add(lifetime));
    params.not_after = rcgen::date_time_ymd(y, m, d);
}

/// Loads the CA key, or creates the CA if neither file exists. Returns the key
/// and whether the CA is new.
fn load_or_create_ca(data_dir: &Path, now: u64) -> Result<(KeyPair, bool), ServerError> {
    let key_path = data_dir.join(CA_KEY_FILE);
    let cert_path = data_dir.join(CA_CERT_FILE);
    match (read_optional(&key_path)?, cert_path.exists()) {
        (Some(pem), true) => {
            let key = KeyPair::from_pem(&pem).map_err(|e| bad_file(&key_path, e))?;
            Ok((key, false))
        }
        (None, false) => {
            tracing::info!(path = %cert_path.display(), "creating a development CA");
            let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
            let cert = ca_params(now)?.self_signed(&key)?;
            write_file(
                &key_path,
                key.serialize_pem().as_bytes(),
                Visibility::Private,
            )?;
            write_file(&cert_path, cert.pem().as_bytes(), Visibility::Public)?;
            Ok((key, true))
        }
        // Half a CA: regenerating would silently invalidate the `ca.pem`
        // clients already trust, so make the operator decide.
        (Some(_), false) => Err(bad_file(&cert_path, "missing, but the CA key exists")),
        (None, true) => Err(bad_file(
            &key_path,
            "missing, but the CA certificate exists",
        )),
    }
}

/// Issues and saves a fresh server key and certificate; returns their PEMs.
fn issue_server_cert(
    data_dir: &Path,
    issuer: &Issuer<'_, KeyPair>,
    names: &[String],
    now: u64,
) -> Result<(String, String), ServerError> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::new(names.to_vec())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Confer");
    dn.push(
        DnType::CommonName,
        names.first().map_or("localhost", String::as_str),
    );
    params.distinguished_name = dn;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, now, SERVER_LIFETIME);
    let cert = params.signed_by(&key, issuer)?;

    let cert_pem = cert.pem();
    let key_pem = key.serialize_pem();
    write_file(
        &data_dir.join(SERVER_KEY_FILE),
        key_pem.as_bytes(),
        Visibility::Private,
    )?;
    write_file(
        &data_dir.join(SERVER_CERT_FILE),
        cert_pem.as_bytes(),
        Visibility::Public,
    )?;
    let meta = ServerCertMeta {
        names: names.to_vec(),
        not_after_unix: now.saturating_add(SERVER_LIFETIME) - DAY,
    };
    let meta_json = serde_json::to_vec_pretty(&meta)
        .map_err(|e| bad_file(&data_dir.join(SERVER_META_FILE), e))?;
    write_file(
        &data_dir.join(SERVER_META_FILE),
        &meta_json,
        Visibility::Public,
    )?;
    Ok((cert_pem, key_pem))
}

fn bad_file(path: &Path, reason: impl std::fmt::Display) -> ServerError {
    ServerError::BadKeyFile {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cover_loopback_and_listen_host() {
        assert_eq!(server_names("127.0.0.1"), ["localhost", "127.0.0.1", "::1"]);
        assert_eq!(server_names("0.0.0.0"), ["localhost", "127.0.0.1", "::1"]);
        assert_eq!(
            server_names("Meet.Example.org"),
            ["localhost", "127.0.0.1", "::1", "meet.example.org"]
        );
    }

    #[test]
    fn second_load_reuses_everything_and_new_names_reissue_the_leaf_only() {
        let dir = tempfile::tempdir().unwrap();
        let names = server_names("127.0.0.1");
        let first = load_or_create(dir.path(), &names).unwrap();
        let ca = std::fs::read(dir.path().join(CA_CERT_FILE)).unwrap();
        let second = load_or_create(dir.path(), &names).unwrap();
        assert_eq!(first.cert_chain, second.cert_chain);

        let third = load_or_create(dir.path(), &server_names("meet.example.org")).unwrap();
        assert_ne!(first.cert_chain, third.cert_chain);
        assert_eq!(ca, std::fs::read(dir.path().join(CA_CERT_FILE)).unwrap());
    }
}
