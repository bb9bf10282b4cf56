//! The SSRF guard: a webhook may only reach public addresses, judged on the
//! address its host resolves to (a public name can point inside), unless an
//! admin named the host as allowed. The request then goes to that very
//! address, so a second DNS answer cannot swap it for another.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GuardError {
    #[error("the address must be an http:// or https:// URL with a host: {0}")]
    BadUrl(String),
    #[error("the host {0} does not resolve")]
    Unresolvable(String),
    #[error("the host {host} resolves to {address}, a {kind} address; allow the host in the webhook settings if this is intended")]
    Forbidden { host: String, address: IpAddr, kind: &'static str },
}

/// What kind of non-public address this is, or None for a public one.
pub fn forbidden_kind(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_multicast() {
                Some("multicast")
            } else if first & 0xfe00 == 0xfc00 {
                // fc00::/7, unique local (also where some clouds put their metadata service)
                Some("private")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if first == 0x0064 && v6.segments()[1] == 0xff9b {
                // 64:ff9b::/96 translates to IPv4: judge the embedded address.
                let [.., a, b] = v6.segments();
                forbidden_v4(Ipv4Addr::from((u32::from(a) << 16) | u32::from(b)))
            } else {
                None
            }
        }
    }
}

fn forbidden_v4(address: Ipv4Addr) -> Option<&'static str> {
    let [first, second, ..] = address.octets();
    if address.is_loopback() {
        Some("loopback")
    } else if address.is_private() {
        Some("private")
    } else if address.is_link_local() {
        // 169.254.0.0/16, where 169.254.169.254 answers with cloud credentials.
        Some("link-local (cloud metadata)")
    } else if address.is_unspecified() || first == 0 {
        Some("unspecified")
    } else if address.is_broadcast() || address.is_multicast() || first >= 240 {
        Some("broadcast, multicast or reserved")
    } else if first == 100 && (64..128).contains(&second) {
        Some("shared (carrier-grade NAT)")
    } else if first == 198 && (second == 18 || second == 19) {
        Some("benchmarking")
    } else {
        None
    }
}

/// A target's host and port, checked before anything is resolved.
pub fn parse_target(raw: &str) -> Result<(url::Url, String, u16), GuardError> {
    let url = url::Url::parse(raw.trim()).map_err(|_| GuardError::BadUrl(raw.to_owned()))?;
    if !matches!(url.scheme(), "http" | "https") || raw.len() > 2000 {
        return Err(GuardError::BadUrl(raw.to_owned()));
    }
    let host = match url.host() {
        Some(url::Host::Domain(domain)) => domain.to_ascii_lowercase(),
        Some(url::Host::Ipv4(address)) => address.to_string(),
        Some(url::Host::Ipv6(address)) => address.to_string(),
        None => return Err(GuardError::BadUrl(raw.to_owned())),
    };
    let port = url.port_or_known_default().ok_or_else(|| GuardError::BadUrl(raw.to_owned()))?;
    Ok((url, host, port))
}

/// The address to connect to: the first one the host resolves to, when
/// every one of them is public or the host is allowed.
pub async fn resolve(host: &str, port: u16, allowed_hosts: &[String]) -> Result<SocketAddr, GuardError> {
    let addresses: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(address) => vec![SocketAddr::new(address, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| GuardError::Unresolvable(host.to_owned()))?
            .collect(),
    };
    let first = *addresses.first().ok_or_else(|| GuardError::Unresolvable(host.to_owned()))?;
    if allowed_hosts.iter().any(|allowed| allowed == host) {
        return Ok(first);
    }
    // Every answer is checked: the client would otherwise be free to pick a bad one.
    for address in &addresses {
        if let Some(kind) = forbidden_kind(address.ip()) {
            return Err(GuardError::Forbidden { host: host.to_owned(), address: address.ip(), kind });
        }
    }
    Ok(first)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn private_local_and_metadata_addresses_are_refused() {
        for address in [
            "127.0.0.1",
            "127.8.8.8",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
        ] {
            assert!(forbidden_kind(address.parse().unwrap()).is_some(), "{address} must be refused");
        }
        for address in ["93.184.215.14", "8.8.8.8", "172.32.0.1", "2606:4700::1111", "64:ff9b::808:808"] {
            assert_eq!(forbidden_kind(address.parse().unwrap()), None, "{address} is public");
        }
    }

    #[test]
    fn targets_must_be_web_urls_with_a_host() {
        assert!(parse_target("ftp://example.com/").is_err());
        assert!(parse_target("http://").is_err());
        assert!(parse_target("mailto:desk@example.com").is_err());
        assert!(parse_target("not a url").is_err());
        let (_, host, port) = parse_target("https://Hooks.Example.com/khabar").unwrap();
        assert_eq!((host.as_str(), port), ("hooks.example.com", 443));
        let (_, host, port) = parse_target("http://[::1]:9000/").unwrap();
        assert_eq!((host.as_str(), port), ("::1", 9000));
    }

    #[tokio::test]
    async fn names_are_judged_by_what_they_resolve_to() {
        let refused = resolve("localhost", 80, &[]).await.unwrap_err();
        assert!(matches!(refused, GuardError::Forbidden { kind: "loopback", .. }), "{refused:?}");
        assert!(resolve("127.0.0.1", 80, &[]).await.is_err());
        let allowed = resolve("127.0.0.1", 8080, &["127.0.0.1".to_owned()]).await.unwrap();
        assert_eq!(allowed, "127.0.0.1:8080".parse().unwrap());
    }
}
