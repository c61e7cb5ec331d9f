//! Which redirect URIs a sign-in may end at: where the desktop app or the
//! CLI waits for its one-time code.
//!
//! RFC 8252 §7.3: a native app listens on a loopback IP literal on any port
//! over plain `http` (the traffic never leaves the machine). Anything else
//! must be on this server's own `https` origin. `localhost` is refused
//! (§8.3: it may resolve elsewhere), as are user info and fragments.

use std::net::IpAddr;

use reqwest::Url;

/// Whether a sign-in may redirect to `raw`, given this server's own origin
/// (`https://HOST:PORT`).
pub(crate) fn allowed(raw: &str, own_origin: &str) -> bool {
    let Ok(url) = Url::parse(raw) else {
        return false;
    };
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return false;
    }
    match url.scheme() {
        "http" => match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
            _ => false,
        },
        "https" => Url::parse(own_origin).is_ok_and(|own| own.origin() == url.origin()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "https://meet.example.org:8443";

    #[test]
    fn loopback_http_and_own_https_only() {
        assert!(allowed("http://127.0.0.1:49152/callback", OWN));
        assert!(allowed("http://[::1]:5000/cb?x=1", OWN));
        assert!(allowed("https://meet.example.org:8443/app/done", OWN));
        for bad in [
            "http://localhost:5000/cb",
            "http://10.0.0.1:5000/cb",
            "https://evil.example/cb",
            "https://meet.example.org/cb",
            "http://meet.example.org:8443/cb",
            "http://user@127.0.0.1:5000/cb",
            "http://127.0.0.1:5000/cb#frag",
            "javascript:alert(1)",
            "not a url",
        ] {
            assert!(!allowed(bad, OWN), "{bad}");
        }
    }
}
