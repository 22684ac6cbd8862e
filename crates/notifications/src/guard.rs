//! No server-side request forgery: a webhook may only reach public addresses, unless the
//! operator allows a network (`--webhook-allow 10.1.0.0/16`, for on-premises receivers).
//!
//! Checked when an endpoint is registered and again at every delivery, on the addresses the
//! name resolves to *when connecting* (a resolver that drops refused addresses), so a name that
//! changes to a private address later (DNS rebinding) is refused too. Redirects are not
//! followed and no proxy is used.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// How long a registration waits for a name to resolve.
const RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Which addresses webhooks may reach.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allow: Vec<IpNet>,
}

/// Why a URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not an absolute `http` or `https` URL with a host, or longer than 2,048 characters.
    #[error(
        "a webhook URL is an absolute http:// or https:// URL without user or password, at most 2048 characters"
    )]
    BadUrl,
    /// It resolves to (or is) an address that is not public.
    #[error(
        "the webhook URL reaches a loopback, private, link-local or otherwise non-public address ({0}); an operator may allow that network with --webhook-allow"
    )]
    NotPublic(IpAddr),
    /// Its name does not resolve.
    #[error("the webhook URL's host does not resolve")]
    Unresolved,
}

impl AddressPolicy {
    /// Public addresses, and those of `allow`.
    pub fn new(allow: Vec<IpNet>) -> Self {
        Self { allow }
    }

    /// Whether `ip` may be reached.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.allow.iter().any(|n| n.contains(&ip)) || is_public(ip)
    }

    /// Checks a URL's form, and its host if it is an address.
    pub fn check_url(&self, url: &str) -> Result<Url, Refusal> {
        if url.len() > 2048 {
            return Err(Refusal::BadUrl);
        }
        let parsed = Url::parse(url).map_err(|_| Refusal::BadUrl)?;
        if !matches!(parsed.scheme(), "http" | "https")
            || !parsed.username().is_empty()
            || parsed.password().is_some()
        {
            return Err(Refusal::BadUrl);
        }
        match parsed.host() {
            None => Err(Refusal::BadUrl),
            Some(url::Host::Ipv4(ip)) => self.address(IpAddr::V4(ip)).map(|()| parsed.clone()),
            Some(url::Host::Ipv6(ip)) => self.address(IpAddr::V6(ip)).map(|()| parsed.clone()),
            Some(url::Host::Domain(_)) => Ok(parsed.clone()),
        }
    }

    fn address(&self, ip: IpAddr) -> Result<(), Refusal> {
        if self.permits(ip) {
            Ok(())
        } else {
            Err(Refusal::NotPublic(ip))
        }
    }

    /// Checks a URL and every address its host resolves to now.
    pub async fn check_resolved(&self, url: &str) -> Result<Url, Refusal> {
        let parsed = self.check_url(url)?;
        if let Some(url::Host::Domain(host)) = parsed.host() {
            let port = parsed.port_or_known_default().unwrap_or(443);
            // A name that does not resolve within 5 s is taken as unresolved.
            let lookup = tokio::net::lookup_host((host, port));
            let addrs: Vec<SocketAddr> = tokio::time::timeout(RESOLVE_TIMEOUT, lookup)
                .await
                .map_err(|_| Refusal::Unresolved)?
                .map_err(|_| Refusal::Unresolved)?
                .collect();
            if addrs.is_empty() {
                return Err(Refusal::Unresolved);
            }
            for a in addrs {
                self.address(a.ip())?;
            }
        }
        Ok(parsed)
    }

    /// A resolver for the HTTP client that keeps only permitted addresses.
    pub fn resolver(&self) -> Arc<dyn Resolve> {
        Arc::new(Guarded(self.clone()))
    }
}

struct Guarded(AddressPolicy);

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| policy.permits(a.ip()))
                .collect();
            if allowed.is_empty() {
                let refused = found.first().map(|a| a.ip());
                let why: Box<dyn std::error::Error + Send + Sync> = match refused {
                    Some(ip) => Box::new(Refusal::NotPublic(ip)),
                    None => Box::new(Refusal::Unresolved),
                };
                return Err(why);
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is judged as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16: cloud metadata services
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 192 && b == 88 && ip.octets()[2] == 99) // 6to4 relay anycast
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if s[..6] == [0; 6] {
        // `::`, `::1` and IPv4-compatible addresses.
        return !(ip.is_unspecified() || ip.is_loopback()) && public_v4(v4(s[6], s[7]));
    }
    if s[0] == 0x0064 && s[1] == 0xff9b {
        return public_v4(v4(s[6], s[7])); // NAT64: judged by its IPv4 part
    }
    if s[0] == 0x2002 {
        return public_v4(v4(s[1], s[2])); // 6to4: likewise
    }
    if s[0] == 0x2001 && s[1] == 0 {
        // Teredo: a tunnel whose address embeds a server's and a client's IPv4 address (the
        // latter inverted) — no place for a webhook.
        return false;
    }
    !(ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8)) // documentation
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(policy: &AddressPolicy, url: &str) -> bool {
        matches!(policy.check_url(url), Err(Refusal::NotPublic(_)))
    }

    #[test]
    fn refuses_loopback_private_link_local_and_metadata_addresses() {
        let p = AddressPolicy::default();
        for url in [
            "http://127.0.0.1/hook",
            "http://127.1.2.3:8080/",
            "http://10.0.0.5/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:10.0.0.1]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[64:ff9b::a00:1]/",
            "http://[2001:0:7f00:1::1]/",
            "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
            "http://192.88.99.1/",
        ] {
            assert!(refused(&p, url), "{url}");
        }
        for url in [
            "https://203.0.113.0.example.com/",
            "https://8.8.8.8/",
            "https://[2606:4700::1]/",
        ] {
            assert!(p.check_url(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn refuses_other_schemes_and_credentials() {
        let p = AddressPolicy::default();
        for url in [
            "file:///etc/passwd",
            "ftp://example.com/",
            "https://u:p@example.com/",
            "/relative",
            "gopher://x",
        ] {
            assert_eq!(p.check_url(url).err(), Some(Refusal::BadUrl), "{url}");
        }
    }

    #[test]
    fn an_allowed_network_is_reachable() {
        let p = AddressPolicy::new(vec!["127.0.0.0/8".parse().expect("net")]);
        assert!(p.check_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(refused(&p, "http://10.0.0.1/"));
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused() {
        let p = AddressPolicy::default();
        assert!(matches!(
            p.check_resolved("http://localhost:9/").await,
            Err(Refusal::NotPublic(_))
        ));
    }
}
