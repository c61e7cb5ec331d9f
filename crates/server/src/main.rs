//! `confer-server`: the Confer web service and router in one process.
//!
//! Prints one line to stdout once every listener is up —
//! `confer-server ready api=https://HOST:PORT quic=HOST:PORT tls=HOST:PORT ca=PATH` —
//! so scripts and tests can wait for it; logs go to stderr. Stops cleanly on
//! SIGINT or SIGTERM.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use confer_server::{
    DEFAULT_HTTP_PORT, DEFAULT_LISTEN_HOST, DEFAULT_QUIC_PORT, DEFAULT_TLS_PORT, ServerConfig,
};
use tracing_subscriber::EnvFilter;

/// Command-line flags.
#[derive(Debug, Parser)]
#[command(
    name = "confer-server",
    version,
    about = "Confer web service and router"
)]
struct Args {
    /// Directory for keys, certificates and the database
    /// [default: the platform data directory + /confer].
    #[arg(long, env = "CONFER_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Host name or IP address to listen on and to advertise to clients.
    #[arg(long, default_value = DEFAULT_LISTEN_HOST)]
    listen_host: String,
    /// HTTPS API port (0 = any free port).
    #[arg(long, default_value_t = DEFAULT_HTTP_PORT)]
    http_port: u16,
    /// Router QUIC (UDP) port (0 = any free port).
    #[arg(long, default_value_t = DEFAULT_QUIC_PORT)]
    quic_port: u16,
    /// Router TLS-over-TCP port (0 = any free port).
    #[arg(long, default_value_t = DEFAULT_TLS_PORT)]
    tls_port: u16,
    /// Database URL, sqlite: or postgres:// [default: confer.db in the data directory].
    #[arg(long, env = "CONFER_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Extra CA certificate (PEM) to trust for outbound HTTPS (API clients'
    /// jwks_uri), besides the system's.
    #[arg(long)]
    outbound_ca: Option<PathBuf>,
    /// Allow fetching API clients' jwks_uri and OpenID providers on loopback
    /// addresses (tests only; refused by default as an SSRF guard).
    #[arg(long)]
    allow_loopback_outbound: bool,
    /// Log filter: a level (error, warn, info, debug, trace) or tracing
    /// directives such as `confer_server=debug,info`.
    #[arg(long, default_value = "info")]
    log: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter =
        EnvFilter::try_new(&args.log).with_context(|| format!("bad --log {:?}", args.log))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let data_dir = match args.data_dir {
        Some(dir) => dir,
        None => ServerConfig::default_data_dir()?,
    };
    let config = ServerConfig {
        data_dir,
        listen_host: args.listen_host,
        http_port: args.http_port,
        quic_port: args.quic_port,
        tls_port: args.tls_port,
        database_url: args.database_url,
        outbound_ca_file: args.outbound_ca,
        webhook_retry_base: confer_server::DEFAULT_WEBHOOK_RETRY_BASE,
        allow_loopback_outbound: args.allow_loopback_outbound,
    };
    let server = confer_server::start(config)
        .await
        .context("starting confer-server")?;

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", server.ready_line()).context("writing the ready line")?;
    stdout.flush().context("writing the ready line")?;
    drop(stdout);

    wait_for_signal().await?;
    tracing::info!("shutting down");
    server.shutdown().await;
    Ok(())
}

/// Returns when SIGINT (Ctrl-C) or SIGTERM arrives.
#[cfg(unix)]
async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}

/// Returns when Ctrl-C arrives.
#[cfg(not(unix))]
async fn wait_for_signal() -> anyhow::Result<()> {
    tokio::signal::ctrl_c()
        .await
        .context("installing the Ctrl-C handler")
}
