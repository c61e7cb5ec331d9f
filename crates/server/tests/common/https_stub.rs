//! A test certificate authority and a tiny HTTPS server on 127.0.0.1 that
//! answers every request with whatever body the test set, and records what
//! it was sent: a stand-in for an API client's `jwks_uri`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A CA whose certificate is written to a file the server can be told to trust.
pub(crate) struct TestCa {
    /// The CA certificate's PEM file.
    pub(crate) cert_path: PathBuf,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    pub(crate) fn new(dir: &Path) -> TestCa {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "Confer test outbound CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        let cert_path = dir.join("outbound-ca.pem");
        std::fs::write(&cert_path, cert.pem()).unwrap();
        TestCa {
            cert_path,
            issuer: Issuer::new(params, key),
        }
    }

    /// A certificate and key for 127.0.0.1 signed by this CA.
    fn leaf(&self) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = vec![SanType::IpAddress("127.0.0.1".parse().unwrap())];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (
            cert.der().clone(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
    }
}

/// One request the stub received.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    /// The request line and headers, as text.
    pub(crate) head: String,
    /// The body bytes.
    pub(crate) body: Vec<u8>,
}

impl Recorded {
    /// A header's value (case-insensitive name).
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
}

/// Turns a request into (status, body).
pub(crate) type Handler = Box<dyn Fn(&Recorded) -> (u16, String) + Send>;

/// The stub server.
pub(crate) struct Stub {
    pub(crate) addr: SocketAddr,
    /// How it answers a request: (status, body).
    pub(crate) handler: Arc<Mutex<Handler>>,
    /// Every request so far.
    pub(crate) requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Stub {
    /// Starts a stub on 127.0.0.1 (port 0, or `port` to come back on the
    /// same address) with a certificate from `ca`.
    pub(crate) async fn start(ca: &TestCa, port: u16) -> Stub {
        let (cert, key) = ca.leaf();
        let tls = confer_router::tls::server_config(vec![cert], key, &[b"http/1.1"]).unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handler: Arc<Mutex<Handler>> =
            Arc::new(Mutex::new(Box::new(|_: &Recorded| (200, "{}".to_owned()))));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (reply2, requests2) = (handler.clone(), requests.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let (reply, requests) = (reply2.clone(), requests2.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let head_end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        match tls.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                    let mut record = Recorded {
                        head,
                        body: Vec::new(),
                    };
                    let length: usize = record
                        .header("content-length")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    while buf.len() < head_end + length {
                        match tls.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    record.body = buf[head_end..head_end + length].to_vec();
                    let (status, body) = (reply.lock().unwrap())(&record);
                    requests.lock().unwrap().push(record);
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(response.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        Stub {
            addr,
            handler,
            requests,
            task,
        }
    }

    /// `https://127.0.0.1:PORT/path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// Makes the stub answer every request with `status` and `body`.
    pub(crate) fn set_reply(&self, status: u16, body: &str) {
        let body = body.to_owned();
        self.set_handler(move |_| (status, body.clone()));
    }

    /// Makes the stub answer with `handler`.
    pub(crate) fn set_handler(
        &self,
        handler: impl Fn(&Recorded) -> (u16, String) + Send + 'static,
    ) {
        *self.handler.lock().unwrap() = Box::new(handler);
    }

    /// How many requests arrived so far.
    pub(crate) fn hits(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}
