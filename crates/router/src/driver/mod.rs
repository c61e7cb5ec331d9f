//! The tokio driver: sockets, tasks and clocks around the sans-IO core.
//!
//! [`start`] binds a QUIC endpoint and a TLS-over-TCP listener and spawns
//! their accept loops. Each connection gets a reader (bytes in → frames →
//! core inputs) and a writer (a bounded outbound queue → bytes out); one
//! timer task calls the core's `handle_timeout`. The core sits behind one
//! mutex (`shared`), held only for the few microseconds an input takes,
//! and every output is dispatched without waiting: media to a full queue is
//! dropped, a client whose control queue overflows is disconnected, so a
//! slow client never holds up anyone else. The core's meeting events go
//! the same way to the optional sink in [`RouterConfig::events`]
//! (`try_send`; dropped and counted when it is full).

mod conn;
mod quic;
mod shared;
mod tcp;
mod timer;

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::core::{CoreConfig, RouterEvent};
use crate::{JoinTokenVerifier, RouterError, RouterStats};

use self::shared::Shared;

/// How long [`RouterHandle::shutdown`] waits for QUIC connections to finish
/// closing.
const SHUTDOWN_DRAIN: Duration = Duration::from_secs(2);

/// What [`start`] needs.
pub struct RouterConfig {
    /// UDP address for QUIC; port 0 picks a free port.
    pub quic_listen: SocketAddr,
    /// TCP address for TLS 1.3 over TCP; port 0 picks a free port.
    pub tls_listen: SocketAddr,
    /// The router's certificate chain, leaf first.
    pub cert_chain: Vec<CertificateDer<'static>>,
    /// The private key of the leaf certificate.
    pub private_key: PrivateKeyDer<'static>,
    /// Verifies join tokens; keep its keys current through
    /// [`RouterHandle::token_verifier`].
    pub token_verifier: JoinTokenVerifier,
    /// Where to send what happens in meetings ([`RouterEvent`]), for an
    /// audit trail or webhooks; `None` to not report them. The router never
    /// waits for this channel: when it is full, events are dropped and
    /// counted in [`RouterStats::events_dropped`], so size it for bursts.
    pub events: Option<mpsc::Sender<RouterEvent>>,
}

impl RouterConfig {
    /// A configuration with no event sink (`events: None`); set the field
    /// afterwards to observe meetings.
    pub fn new(
        quic_listen: SocketAddr,
        tls_listen: SocketAddr,
        cert_chain: Vec<CertificateDer<'static>>,
        private_key: PrivateKeyDer<'static>,
        token_verifier: JoinTokenVerifier,
    ) -> Self {
        Self {
            quic_listen,
            tls_listen,
            cert_chain,
            private_key,
            token_verifier,
            events: None,
        }
    }
}

impl fmt::Debug for RouterConfig {
    /// Everything but the private key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouterConfig")
            .field("quic_listen", &self.quic_listen)
            .field("tls_listen", &self.tls_listen)
            .field(
                "cert_chain",
                &format_args!("{} certificate(s)", self.cert_chain.len()),
            )
            .field("token_verifier", &self.token_verifier)
            .field("events", &self.events.is_some())
            .finish_non_exhaustive()
    }
}

/// A running router. Call [`RouterHandle::shutdown`] to stop it in order;
/// dropping the handle also stops it, abruptly (its tasks are aborted and
/// clients see their connections fail rather than close).
pub struct RouterHandle {
    /// The bound QUIC address.
    quic_addr: SocketAddr,
    /// The bound TLS address.
    tls_addr: SocketAddr,
    /// State shared with every task.
    shared: Arc<Shared>,
    /// The QUIC endpoint, to close it on shutdown.
    endpoint: quinn::Endpoint,
    /// The accept loops and the timer task.
    tasks: JoinSet<()>,
}

/// Binds the listeners and starts serving. Returns once both sockets are
/// bound, with their real addresses in the handle.
///
/// # Errors
///
/// [`RouterError::Tls`] / [`RouterError::QuicTls`] for an unusable
/// certificate or key; [`RouterError::Bind`] when an address is taken.
pub async fn start(config: RouterConfig) -> Result<RouterHandle, RouterError> {
    start_with(config, CoreConfig::default()).await
}

/// [`start`] with non-default core settings (timeouts, meeting size).
pub(crate) async fn start_with(
    config: RouterConfig,
    core: CoreConfig,
) -> Result<RouterHandle, RouterError> {
    let RouterConfig {
        quic_listen,
        tls_listen,
        cert_chain,
        private_key,
        token_verifier,
        events,
    } = config;
    let quic_config = crate::tls::quic_server_config(cert_chain.clone(), private_key.clone_key())?;
    let tls_config = Arc::new(crate::tls::server_config(
        cert_chain,
        private_key,
        &[confer_wire::ALPN],
    )?);

    let endpoint =
        quinn::Endpoint::server(quic_config, quic_listen).map_err(|source| RouterError::Bind {
            addr: quic_listen,
            source,
        })?;
    let quic_addr = endpoint.local_addr()?;
    let listener = tokio::net::TcpListener::bind(tls_listen)
        .await
        .map_err(|source| RouterError::Bind {
            addr: tls_listen,
            source,
        })?;
    let tls_addr = listener.local_addr()?;

    let shared = Shared::new(core, Arc::new(RwLock::new(token_verifier)), events);
    let mut tasks = JoinSet::new();
    tasks.spawn(timer::run(Arc::clone(&shared)));
    tasks.spawn(quic::accept_loop(Arc::clone(&shared), endpoint.clone()));
    tasks.spawn(tcp::accept_loop(Arc::clone(&shared), listener, tls_config));
    tracing::info!(%quic_addr, %tls_addr, "router listening");
    Ok(RouterHandle {
        quic_addr,
        tls_addr,
        shared,
        endpoint,
        tasks,
    })
}

impl RouterHandle {
    /// The address the QUIC endpoint is bound to.
    pub fn quic_addr(&self) -> SocketAddr {
        self.quic_addr
    }

    /// The address the TLS-over-TCP listener is bound to.
    pub fn tls_addr(&self) -> SocketAddr {
        self.tls_addr
    }

    /// A snapshot of the router's counters.
    pub fn stats(&self) -> RouterStats {
        self.shared.stats()
    }

    /// The join-token verifier the router uses, for adding or replacing keys
    /// while it runs (key rotation). Joins verified after the write lock is
    /// released see the new keys.
    pub fn token_verifier(&self) -> Arc<RwLock<JoinTokenVerifier>> {
        Arc::clone(&self.shared.verifier)
    }

    /// Stops accepting, closes every connection and waits for the router's
    /// tasks to end.
    pub async fn shutdown(mut self) {
        self.endpoint
            .close(quic::CLOSE_SHUTDOWN, b"router shutting down");
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
        self.shared.shutdown();
        // Let the close frames go out; bounded, as a vanished peer would
        // otherwise keep a connection draining for several round trips.
        let _ = tokio::time::timeout(SHUTDOWN_DRAIN, self.endpoint.wait_idle()).await;
    }
}

#[cfg(test)]
mod tests {
    /// The web service keeps the handle in shared state and moves the
    /// verifier between tasks.
    #[test]
    fn public_types_can_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<super::RouterHandle>();
        send_sync::<super::RouterConfig>();
        send_sync::<crate::JoinTokenVerifier>();
        send_sync::<crate::core::Router>();
    }
}
