//! The SSRF guard for URLs other people choose that the server then fetches:
//! API clients' `jwks_uri` and OpenID providers' discovery, token and JWKS
//! endpoints.
//!
//! Without it, anyone who may register such a URL could make the server
//! request its own loopback services or the private network. So by default
//! only `https://` URLs whose host resolves to public addresses are
//! fetched. The check happens twice: [`check_url`] refuses IP literals and
//! schemes up front (an IP literal never reaches a resolver), and
//! [`GuardedResolver`], the DNS resolver of the guarded HTTP client, drops
//! private addresses at connection time, so a name that resolves to a public
//! address when checked and a private one when connecting (DNS rebinding)
//! still cannot reach inside.
//!
//! Tests run their providers on loopback, so a server started with
//! `allow_loopback_outbound` also accepts loopback addresses, and plain
//! `http://` to a loopback IP literal. Other private ranges stay refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// What outbound fetches may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct OutboundPolicy {
    /// Also allow loopback addresses (and plain http to them): tests only.
    pub(crate) allow_loopback: bool,
}

/// Why a URL may not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum GuardError {
    /// Not a URL.
    #[error("not a valid URL")]
    Invalid,
    /// Not `https://` (or `http://` to loopback where allowed).
    #[error("the URL must be https://")]
    NotHttps,
    /// The host is, or resolves to, a loopback, private, link-local or
    /// otherwise non-public address.
    #[error("the URL's host is not a public address")]
    PrivateAddress,
}

impl OutboundPolicy {
    /// Whether connecting to `ip` is allowed.
    pub(crate) fn allows(self, ip: IpAddr) -> bool {
        if ip.is_loopback() {
            return self.allow_loopback;
        }
        match ip {
            IpAddr::V4(v4) => is_public_v4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => self.allows(IpAddr::V4(v4)),
                None => is_public_v6(v6),
            },
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        // 100.64.0.0/10, carrier-grade NAT: private in practice.
        || (a == 100 && (64..128).contains(&b))
        // 0.0.0.0/8 ("this network") and 240.0.0.0/4 (reserved).
        || a == 0
        || a >= 240
        // 192.0.0.0/24, protocol assignments; 198.18.0.0/15, benchmarking.
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (18..20).contains(&b)))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // fc00::/7 unique local, fe80::/10 link-local, 2001:db8::/32 documentation.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        // ::/96 IPv4-compatible and 64:ff9b::/96 NAT64 can reach IPv4 space.
        || ip.segments()[..6].iter().all(|s| *s == 0)
        || (first == 0x64 && ip.segments()[1] == 0xff9b))
}

/// Checks what can be checked before resolving: the scheme, and the
/// address if the host is an IP literal.
pub(crate) fn check_url(raw: &str, policy: OutboundPolicy) -> Result<Url, GuardError> {
    let url = Url::parse(raw).map_err(|_| GuardError::Invalid)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(GuardError::Invalid);
    }
    let literal = match url.host() {
        Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        Some(url::Host::Domain(_)) => None,
        None => return Err(GuardError::Invalid),
    };
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_loopback && literal.is_some_and(|ip| ip.is_loopback()) => {}
        _ => return Err(GuardError::NotHttps),
    }
    if let Some(ip) = literal
        && !policy.allows(ip)
    {
        return Err(GuardError::PrivateAddress);
    }
    Ok(url)
}

/// A DNS resolver that returns only the addresses the policy allows, and
/// fails when none are left.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GuardedResolver {
    /// What may be reached.
    pub(crate) policy: OutboundPolicy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| policy.allows(addr.ip()))
                .collect();
            if found.is_empty() {
                return Err(Box::new(GuardError::PrivateAddress) as _);
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: OutboundPolicy = OutboundPolicy {
        allow_loopback: false,
    };
    const TESTS: OutboundPolicy = OutboundPolicy {
        allow_loopback: true,
    };

    #[test]
    fn private_and_special_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!STRICT.allows(ip), "{ip} should be refused");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "1.1.1.1"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(STRICT.allows(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn loopback_only_with_the_test_setting() {
        assert!(TESTS.allows("127.0.0.1".parse().unwrap()));
        assert!(TESTS.allows("::1".parse().unwrap()));
        assert!(!TESTS.allows("10.0.0.1".parse().unwrap()));
        assert!(!TESTS.allows("169.254.169.254".parse().unwrap()));
    }

    /// A name that resolves to loopback (as a rebinding attacker's would)
    /// is refused at connection time, not only literals.
    #[tokio::test]
    async fn the_resolver_drops_refused_addresses() {
        let name = |host: &str| host.parse::<Name>().unwrap();
        let strict = GuardedResolver { policy: STRICT };
        assert!(strict.resolve(name("localhost")).await.is_err());
        let tests = GuardedResolver { policy: TESTS };
        let found: Vec<SocketAddr> = tests.resolve(name("localhost")).await.unwrap().collect();
        assert!(!found.is_empty());
        assert!(found.iter().all(|a| a.ip().is_loopback()));
    }

    #[test]
    fn urls_are_checked_before_resolving() {
        assert_eq!(
            check_url("http://example.org/jwks", STRICT).unwrap_err(),
            GuardError::NotHttps
        );
        assert_eq!(
            check_url("https://127.0.0.1/jwks", STRICT).unwrap_err(),
            GuardError::PrivateAddress
        );
        assert_eq!(
            check_url("https://[::ffff:192.168.0.1]/", TESTS).unwrap_err(),
            GuardError::PrivateAddress
        );
        assert_eq!(
            check_url("https://user:pw@example.org/", STRICT).unwrap_err(),
            GuardError::Invalid
        );
        assert_eq!(
            check_url("ftp://example.org/jwks", TESTS).unwrap_err(),
            GuardError::NotHttps
        );
        assert_eq!(
            check_url("file:///etc/passwd", TESTS).unwrap_err(),
            GuardError::Invalid
        );
        assert!(check_url("https://example.org/jwks", STRICT).is_ok());
        assert!(check_url("https://127.0.0.1:8443/jwks", TESTS).is_ok());
        assert!(check_url("http://127.0.0.1:9/.well-known/x", TESTS).is_ok());
        // Plain http only to a loopback literal, even in tests.
        assert_eq!(
            check_url("http://localhost/x", TESTS).unwrap_err(),
            GuardError::NotHttps
        );
    }
}
