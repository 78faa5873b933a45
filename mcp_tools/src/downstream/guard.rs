//! Where a downstream request may go: never to a link-local or cloud-metadata address (the
//! managed identity endpoint lives there), never to another origin by redirect.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect;

/// 169.254.0.0/16, fe80::/10 and the known metadata addresses, also in IPv4-mapped form.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let aws_v6_metadata = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);
            (v6.segments()[0] & 0xffc0) == 0xfe80 || v6 == aws_v6_metadata
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    // 100.100.100.200 is Alibaba Cloud's metadata service.
    ip.is_link_local() || ip == Ipv4Addr::new(100, 100, 100, 200)
}

/// The system resolver, minus forbidden answers: a host name that resolves to a metadata
/// address (DNS rebinding, a typo'd internal name) is refused instead of called. A base URL
/// that is itself such an address is an explicit choice and skips resolution entirely.
#[derive(Debug, Clone, Copy, Default)]
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = all
                .iter()
                .copied()
                .filter(|a| !is_forbidden(a.ip()))
                .collect();
            if allowed.is_empty() && !all.is_empty() {
                return Err(Box::new(ForbiddenAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the host name resolves to a link-local or metadata address, which is refused")]
pub struct ForbiddenAddress;

/// Same-origin redirects only (a few), so credentials and requests stay with the API.
pub fn redirect_policy() -> redirect::Policy {
    redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if !same_origin || attempt.previous().len() > 5 {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_link_local_and_metadata() {
        for ip in [
            "169.254.169.254",
            "169.254.0.1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
            "100.100.100.200",
        ] {
            let ip: IpAddr = ip.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
            assert!(is_forbidden(ip), "{ip}");
        }
        for ip in ["127.0.0.1", "10.1.2.3", "::1", "fd00::1"] {
            let ip: IpAddr = ip.parse().unwrap_or(IpAddr::V4(Ipv4Addr::BROADCAST));
            assert!(!is_forbidden(ip), "{ip}");
        }
    }
}
