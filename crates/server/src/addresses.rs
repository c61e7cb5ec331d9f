//! Turning the configured listen host into socket addresses to bind and
//! into the `HOST:PORT` strings and URLs handed to clients.

use std::net::{IpAddr, SocketAddr};

use crate::error::ServerError;

/// The listen host without the brackets an IPv6 literal may come with.
pub(crate) fn bare_host(listen_host: &str) -> &str {
    listen_host
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
}

/// Resolves the listen host to the one IP address every listener binds.
pub(crate) async fn resolve(listen_host: &str) -> Result<IpAddr, ServerError> {
    let host = bare_host(listen_host);
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(ip);
    }
    let resolve_error = |reason: String| ServerError::Resolve {
        host: host.to_owned(),
        reason,
    };
    let mut addrs = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|e| resolve_error(e.to_string()))?;
    addrs
        .next()
        .map(|a: SocketAddr| a.ip())
        .ok_or_else(|| resolve_error("no addresses".to_owned()))
}

/// The host name clients are told to connect to. A wildcard listen address
/// (`0.0.0.0`, `::`) is nobody's destination, so it is advertised as
/// `localhost`; deployments that listen on all interfaces should name the
/// host instead.
pub(crate) fn advertised_host(listen_host: &str) -> String {
    let host = bare_host(listen_host);
    match host.parse::<IpAddr>() {
        Ok(ip) if ip.is_unspecified() => {
            tracing::warn!(
                listen_host = host,
                "listening on a wildcard address; advertising \"localhost\" to clients"
            );
            "localhost".to_owned()
        }
        _ => host.to_ascii_lowercase(),
    }
}

/// `HOST:PORT`, with an IPv6 literal in brackets.
pub(crate) fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(host_port("127.0.0.1", 8443), "127.0.0.1:8443");
        assert_eq!(host_port("::1", 8443), "[::1]:8443");
        assert_eq!(host_port(bare_host("[::1]"), 1), "[::1]:1");
        assert_eq!(advertised_host("0.0.0.0"), "localhost");
        assert_eq!(advertised_host("Meet.Example.org"), "meet.example.org");
    }

    #[tokio::test]
    async fn resolves_literals_and_localhost() {
        assert_eq!(
            resolve("127.0.0.1").await.unwrap(),
            IpAddr::from([127, 0, 0, 1])
        );
        assert_eq!(
            resolve("[::1]").await.unwrap(),
            "::1".parse::<IpAddr>().unwrap()
        );
        assert!(resolve("localhost").await.unwrap().is_loopback());
    }
}
