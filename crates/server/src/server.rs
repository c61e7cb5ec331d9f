//! Putting it together: [`start`] loads or creates the data directory's
//! state, starts the router and the HTTPS API, and returns a
//! [`RunningServer`] that says where everything listens.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use confer_router::{JoinTokenVerifier, RouterConfig, RouterHandle};
use tokio::net::TcpListener;

use crate::addresses::{advertised_host, host_port, resolve};
use crate::certs;
use crate::config::ServerConfig;
use crate::data_dir::ensure_dir;
use crate::error::ServerError;
use crate::https::HttpsServer;
use crate::meeting_events;
use crate::password::PasswordHasher;
use crate::rate_limit::{FailureLimiter, RateLimiter};
use crate::routes::{self, AppState, RouterInfo};
use crate::signing_key::SigningKey;
use crate::store::Store;
use crate::webhooks::queue::Worker;

/// Failed logins allowed per email per minute: enough for a person
/// mistyping, far too few for guessing. Successful logins are not limited
/// (bots and tests log in often).
const FAILED_LOGINS_PER_MINUTE: u32 = 10;
/// Wrong passcodes allowed per caller and meeting per window.
const WRONG_PASSCODES_PER_WINDOW: u32 = 5;
/// The passcode window (5 minutes).
const PASSCODE_WINDOW_SECS: u64 = 5 * 60;

/// Refetches of one API client's `jwks_uri` per minute, triggered by
/// assertions with unknown key ids: enough for a rotation, too few for a
/// client (or someone posing as one) to make us hammer a URL.
const JWKS_REFRESHES_PER_MINUTE: u32 = 3;

/// How long shutdown waits for the meeting-events task to record what the
/// router reported last.
const EVENTS_DRAIN: Duration = Duration::from_secs(2);

/// The ALPN protocol of the HTTPS API.
const HTTP_ALPN: &[u8] = b"http/1.1";

/// A started server: the API and the router, both listening.
///
/// Call [`RunningServer::shutdown`] to stop it; dropping it leaves the
/// listeners running until the tokio runtime ends.
pub struct RunningServer {
    api_url: String,
    advertised_host: String,
    ca_path: PathBuf,
    database_path: Option<PathBuf>,
    https: HttpsServer,
    router: RouterHandle,
    store: Store,
    webhook_worker: Worker,
    /// Turns the router's meeting events into audit records and webhooks.
    meeting_events: tokio::task::JoinHandle<()>,
}

/// Starts the web service and the router in this process.
///
/// On first start this creates the data directory, the token signing key,
/// the development CA, the server certificate and the database; later
/// starts reuse them. Ports given as 0 are chosen by the operating system;
/// [`RunningServer`] reports the real ones.
///
/// # Errors
///
/// Any [`ServerError`]: unreadable or unwritable data directory, unusable
/// key files, database or migration failure, a port already in use.
pub async fn start(config: ServerConfig) -> Result<RunningServer, ServerError> {
    ensure_dir(&config.data_dir)?;
    let ip = resolve(&config.listen_host).await?;
    let host = advertised_host(&config.listen_host);

    let identity =
        certs::load_or_create(&config.data_dir, &certs::server_names(&config.listen_host))?;
    let signing_key = Arc::new(SigningKey::load_or_create(&config.data_dir)?);
    let store = Store::open(
        config.database_url.as_deref(),
        &ServerConfig::default_database_path(&config.data_dir),
    )
    .await?;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let hasher = PasswordHasher::new(cores).await?;

    // Bind the API first: with port 0 its URL, which is the `iss` of every
    // token and what the router checks, is known only after binding.
    let http_addr = SocketAddr::new(ip, config.http_port);
    let listener = TcpListener::bind(http_addr)
        .await
        .map_err(|source| ServerError::Bind {
            addr: http_addr,
            source,
        })?;
    let http_port = listener
        .local_addr()
        .map_err(|source| ServerError::Bind {
            addr: http_addr,
            source,
        })?
        .port();
    let api_url = format!("https://{}", host_port(&host, http_port));

    let tls = confer_router::tls::server_config(
        identity.cert_chain.clone(),
        identity.key.clone_key(),
        &[HTTP_ALPN],
    )
    .map_err(|e| ServerError::Tls(e.to_string()))?;

    // The router trusts exactly our own signing key, handed over in the same
    // JWKS form a separate router node would fetch.
    let mut token_verifier = JoinTokenVerifier::new(api_url.clone());
    token_verifier
        .add_jwks(&signing_key.jwks().to_string())
        .map_err(|e| ServerError::Router(e.to_string()))?;
    let (events_tx, events_rx) = tokio::sync::mpsc::channel(meeting_events::EVENT_QUEUE);
    let router = confer_router::start(RouterConfig {
        quic_listen: SocketAddr::new(ip, config.quic_port),
        tls_listen: SocketAddr::new(ip, config.tls_port),
        cert_chain: identity.cert_chain,
        private_key: identity.key,
        token_verifier,
        events: Some(events_tx),
    })
    .await
    .map_err(|e| ServerError::Router(e.to_string()))?;

    let router_info = RouterInfo {
        quic: host_port(&host, router.quic_addr().port()),
        tls: host_port(&host, router.tls_addr().port()),
        server_name: host.clone(),
    };
    let kid = signing_key.kid().to_owned();
    let outbound = outbound_client(config.outbound_ca_file.as_deref())?;
    let guarded_http = guarded_client(&config)?;
    let webhook_wake = Arc::new(tokio::sync::Notify::new());
    let webhook_worker = Worker::start(
        store.clone(),
        outbound.clone(),
        webhook_wake.clone(),
        config.webhook_retry_base,
    );
    let meeting_events = meeting_events::spawn(store.clone(), webhook_wake.clone(), events_rx);
    let state = AppState {
        store: store.clone(),
        signing_key,
        hasher,
        issuer: api_url.as_str().into(),
        router: Arc::new(router_info),
        login_limiter: Arc::new(FailureLimiter::new(
            FAILED_LOGINS_PER_MINUTE,
            Duration::from_secs(60),
        )),
        outbound,
        guarded_http,
        jwks_refresh_limiter: Arc::new(RateLimiter::new(
            JWKS_REFRESHES_PER_MINUTE,
            Duration::from_secs(60),
        )),
        passcode_limiter: Arc::new(FailureLimiter::new(
            WRONG_PASSCODES_PER_WINDOW,
            Duration::from_secs(PASSCODE_WINDOW_SECS),
        )),
        chat_send_limiter: Arc::new(routes::chat_send_limiter()),
    };
    let https = HttpsServer::start(listener, Arc::new(tls), routes::router(state));
    tracing::info!(
        api = %api_url,
        quic = %router.quic_addr(),
        tls = %router.tls_addr(),
        kid = kid,
        "confer-server listening"
    );

    Ok(RunningServer {
        api_url,
        advertised_host: host,
        ca_path: identity.ca_path,
        database_path: store.path().map(Path::to_owned),
        https,
        router,
        store,
        webhook_worker,
        meeting_events,
    })
}

/// The HTTP client for the server's own outbound requests: HTTPS only, no
/// redirects, the system's roots plus `extra_ca` if given.
fn outbound_client(extra_ca: Option<&Path>) -> Result<reqwest::Client, ServerError> {
    let mut builder = reqwest::Client::builder()
        .https_only(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(crate::oauth::jwks_fetch::FETCH_TIMEOUT)
        .user_agent(concat!("confer-server/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = extra_ca {
        let pem = std::fs::read(path).map_err(|e| ServerError::io(path, e))?;
        let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| ServerError::BadKeyFile {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build()
        .map_err(|e| ServerError::Tls(format!("outbound HTTPS client: {e}")))
}

/// The SSRF-guarded client for URLs others chose (`jwks_uri`, OpenID
/// providers); see `oauth::outbound_guard`.
fn guarded_client(
    config: &ServerConfig,
) -> Result<crate::oauth::jwks_fetch::GuardedHttp, ServerError> {
    let extra_ca = match config.outbound_ca_file.as_deref() {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| ServerError::io(path, e))?;
            Some(
                reqwest::Certificate::from_pem(&pem).map_err(|e| ServerError::BadKeyFile {
                    path: path.to_owned(),
                    reason: e.to_string(),
                })?,
            )
        }
        None => None,
    };
    let policy = crate::oauth::outbound_guard::OutboundPolicy {
        allow_loopback: config.allow_loopback_outbound,
    };
    crate::oauth::jwks_fetch::GuardedHttp::new(policy, extra_ca)
        .map_err(|e| ServerError::Tls(format!("outbound HTTPS client: {e}")))
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer")
            .field("api_url", &self.api_url)
            .field("quic_addr", &self.quic_addr())
            .field("tls_addr", &self.tls_addr())
            .field("ca_path", &self.ca_path)
            .field("database_path", &self.database_path)
            .finish_non_exhaustive()
    }
}

impl RunningServer {
    /// The API's base URL, `https://HOST:PORT` (also the `iss` of its tokens).
    pub fn api_url(&self) -> String {
        self.api_url.clone()
    }

    /// The router's QUIC (UDP) socket address.
    pub fn quic_addr(&self) -> SocketAddr {
        self.router.quic_addr()
    }

    /// The router's TLS-over-TCP socket address.
    pub fn tls_addr(&self) -> SocketAddr {
        self.router.tls_addr()
    }

    /// The development CA certificate clients must trust (`--ca`).
    pub fn ca_path(&self) -> PathBuf {
        self.ca_path.clone()
    }

    /// The SQLite database file; `None` when the store is PostgreSQL (or
    /// an in-memory SQLite database).
    pub fn database_path(&self) -> Option<PathBuf> {
        self.database_path.clone()
    }

    /// The one line the binary prints once everything listens:
    /// `confer-server ready api=https://HOST:PORT quic=HOST:PORT tls=HOST:PORT ca=PATH`.
    pub fn ready_line(&self) -> String {
        format!(
            "confer-server ready api={} quic={} tls={} ca={}",
            self.api_url,
            host_port(&self.advertised_host, self.quic_addr().port()),
            host_port(&self.advertised_host, self.tls_addr().port()),
            self.ca_path.display(),
        )
    }

    /// Stops the API (letting requests in flight finish), then the router,
    /// then closes the database.
    pub async fn shutdown(self) {
        self.https.shutdown().await;
        self.router.shutdown().await;
        // The router is gone, so the events channel drains and the task
        // ends; a connection task still holding the router state could keep
        // it open, hence the bound.
        let mut meeting_events = self.meeting_events;
        if tokio::time::timeout(EVENTS_DRAIN, &mut meeting_events)
            .await
            .is_err()
        {
            meeting_events.abort();
        }
        self.webhook_worker.shutdown().await;
        self.store.close().await;
        tracing::info!("confer-server stopped");
    }
}
