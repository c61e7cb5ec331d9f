//! Serving the API over HTTPS: a TCP accept loop, a TLS 1.3 handshake per
//! connection, then HTTP/1.1 through hyper into the axum router.
//!
//! Written out rather than using `axum::serve` because that has no TLS, and
//! doing the handshake in a spawned task per connection keeps one slow
//! client from stalling everyone else's `accept`.
//!
//! Every connection the server ends after its handshake ends with a TLS
//! `close_notify`, however hyper finished with it: idle past the header
//! timeout (which is also the keep-alive idle limit), a malformed request,
//! or shutdown. Without it a client cannot tell our close from a truncation
//! attack and reports an unexpected EOF.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// Sending `close_notify` may take at most this: a client that stopped
/// reading must not hold its connection's task open.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// The HTTPS server's timers. [`Default`] is what `confer-server` uses;
/// tests shorten them so they need not wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HttpsTimeouts {
    /// A client must finish the TLS handshake within this.
    pub(crate) handshake: Duration,
    /// …and send a request's headers within this (slowloris protection).
    /// hyper starts the clock when it waits for the next request, so this
    /// is also how long a keep-alive connection may sit idle.
    pub(crate) header_read: Duration,
    /// On shutdown, in-flight requests get this long to finish.
    pub(crate) drain: Duration,
}

impl Default for HttpsTimeouts {
    fn default() -> Self {
        HttpsTimeouts {
            handshake: Duration::from_secs(10),
            header_read: Duration::from_secs(10),
            drain: Duration::from_secs(5),
        }
    }
}

/// A running HTTPS server; [`HttpsServer::shutdown`] stops it.
#[derive(Debug)]
pub(crate) struct HttpsServer {
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl HttpsServer {
    /// Starts serving `app` on `listener` with `tls` and the default timers.
    pub(crate) fn start(
        listener: TcpListener,
        tls: Arc<rustls::ServerConfig>,
        app: axum::Router,
    ) -> HttpsServer {
        Self::start_with(listener, tls, app, HttpsTimeouts::default())
    }

    /// Starts serving `app` on `listener` with `tls` and `timeouts`.
    pub(crate) fn start_with(
        listener: TcpListener,
        tls: Arc<rustls::ServerConfig>,
        app: axum::Router,
        timeouts: HttpsTimeouts,
    ) -> HttpsServer {
        let (shutdown, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(
            listener,
            TlsAcceptor::from(tls),
            app,
            timeouts,
            shutdown_rx,
        ));
        HttpsServer { shutdown, task }
    }

    /// Stops accepting, lets requests in flight finish (up to a few seconds),
    /// then closes every connection.
    pub(crate) async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "HTTPS accept loop failed");
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    app: axum::Router,
    timeouts: HttpsTimeouts,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            // Reap finished connection tasks so the set does not grow forever.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let conn = serve_connection(tcp, peer, acceptor.clone(), app.clone(), timeouts, shutdown.clone());
                    connections.spawn(conn);
                }
                Err(e) => {
                    // Usually EMFILE: back off instead of spinning on it.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(timeouts.drain, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "closing connections still busy at shutdown"
        );
        connections.shutdown().await;
    }
}

async fn serve_connection(
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    app: axum::Router,
    timeouts: HttpsTimeouts,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    let mut tls = match tokio::time::timeout(timeouts.handshake, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            return;
        }
    };
    // Handlers that rate-limit by caller (passcode attempts by guests) read
    // the peer address as axum's `ConnectInfo`.
    let app = app.layer(axum::Extension(axum::extract::ConnectInfo(peer)));
    let service = TowerToHyperService::new(app);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read);
    // hyper gets the stream by reference so it is still ours afterwards:
    // hyper shuts the stream down (sending `close_notify`) only when a
    // connection ends cleanly, and on an error (the header timeout closing
    // an idle keep-alive connection among them) it would drop it unclosed.
    let result = {
        let conn = builder.serve_connection(TokioIo::new(&mut tls), service);
        tokio::pin!(conn);
        tokio::select! {
            result = conn.as_mut() => result,
            _ = shutdown.changed() => {
                // Finish the request in progress, then close.
                conn.as_mut().graceful_shutdown();
                conn.await
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "HTTP connection ended with an error");
    }
    // A no-op if hyper already sent `close_notify`; errors only mean the
    // client is gone, and there is nobody left to tell.
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, tls.shutdown()).await;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::io;

    use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpStream;
    use tokio_rustls::TlsConnector;
    use tokio_rustls::client::TlsStream;

    use super::*;

    /// Longest any read in these tests waits: a hang is a failure.
    const WAIT: Duration = Duration::from_secs(20);

    /// A server on loopback answering `GET /` with `ok`, and a client
    /// configuration trusting its self-signed certificate.
    async fn serve(timeouts: HttpsTimeouts) -> (HttpsServer, SocketAddr, TlsConnector) {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let der = CertificateDer::from(cert.cert.der().to_vec());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
        let tls =
            confer_router::tls::server_config(vec![der.clone()], key, &[b"http/1.1"]).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let server = HttpsServer::start_with(listener, Arc::new(tls), app, timeouts);
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der).unwrap();
        let client = rustls::ClientConfig::builder_with_provider(Arc::new(
            confer_router::tls::crypto_provider(),
        ))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        (server, addr, TlsConnector::from(Arc::new(client)))
    }

    async fn connect(addr: SocketAddr, connector: &TlsConnector) -> TlsStream<TcpStream> {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        connector.connect(name, tcp).await.unwrap()
    }

    /// Reads until the server closes: everything it sent, and how the
    /// stream ended (`Ok` only for a clean TLS close).
    async fn read_until_closed(tls: &mut TlsStream<TcpStream>) -> (String, io::Result<()>) {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let end = tokio::time::timeout(WAIT, async {
            loop {
                match tls.read(&mut buf).await {
                    Ok(0) => return Ok(()),
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) => return Err(e),
                }
            }
        })
        .await
        .expect("the server never closed the connection");
        (String::from_utf8_lossy(&got).into_owned(), end)
    }

    const GET: &[u8] = b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n";

    #[tokio::test]
    async fn an_idle_keep_alive_connection_is_closed_with_close_notify() {
        let timeouts = HttpsTimeouts {
            header_read: Duration::from_millis(200),
            ..HttpsTimeouts::default()
        };
        let (server, addr, connector) = serve(timeouts).await;
        let mut tls = connect(addr, &connector).await;
        tls.write_all(GET).await.unwrap();
        // Keep-alive: the server answers, then closes once we stay idle.
        let (got, end) = read_until_closed(&mut tls).await;
        assert!(got.starts_with("HTTP/1.1 200"), "{got}");
        assert!(got.ends_with("ok"), "{got}");
        end.expect("a clean TLS close, not a truncation");
        server.shutdown().await;
    }

    #[tokio::test]
    async fn shutdown_closes_idle_connections_with_close_notify() {
        let timeouts = HttpsTimeouts {
            header_read: Duration::from_secs(600),
            ..HttpsTimeouts::default()
        };
        let (server, addr, connector) = serve(timeouts).await;
        let mut tls = connect(addr, &connector).await;
        tls.write_all(GET).await.unwrap();
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout(WAIT, tls.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        let stopping = tokio::spawn(server.shutdown());
        let (_, end) = read_until_closed(&mut tls).await;
        end.expect("a clean TLS close, not a truncation");
        tokio::time::timeout(WAIT, stopping).await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_malformed_request_is_answered_and_closed_with_close_notify() {
        let (server, addr, connector) = serve(HttpsTimeouts::default()).await;
        let mut tls = connect(addr, &connector).await;
        tls.write_all(b"NOT HTTP AT ALL\r\n\r\n").await.unwrap();
        let (got, end) = read_until_closed(&mut tls).await;
        assert!(got.starts_with("HTTP/1.1 400"), "{got}");
        end.expect("a clean TLS close, not a truncation");
        server.shutdown().await;
    }
}
