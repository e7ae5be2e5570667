//! The client's address: the TCP peer, unless the peer is a configured
//! reverse proxy, in which case `X-Forwarded-For` is read from the right
//! (the hop the nearest proxy saw) past every trusted proxy. An address a
//! client writes into the header itself is never believed: only what a
//! trusted proxy appended counts.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|net| net.contains(&ip))
}

/// Whether `peer` is one of the configured proxies.
pub fn is_trusted_proxy(peer: IpAddr, proxies: &[IpNet]) -> bool {
    trusted(peer, proxies)
}

/// One `X-Forwarded-For` entry: an address, possibly with a port.
fn hop(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// The address limits are keyed on.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    if !trusted(peer, proxies) {
        return peer;
    }
    let mut client = peer;
    // Several headers are one list, in order.
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for text in hops.into_iter().rev() {
        match hop(text) {
            Some(ip) => {
                client = ip;
                if !trusted(ip, proxies) {
                    break;
                }
            }
            // Garbage: the last hop known is as far as we can see.
            None => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_what_trusted_proxies_appended_counts() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // Not from a proxy: the header is the client's own words.
        assert_eq!(
            client_ip(ip("203.0.113.9"), &headers(&["1.2.3.4"]), &proxies),
            ip("203.0.113.9")
        );
        // From the proxy: the rightmost untrusted hop, past a spoofed one.
        assert_eq!(
            client_ip(
                ip("10.0.0.2"),
                &headers(&["6.6.6.6, 198.51.100.7"]),
                &proxies
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(
                ip("10.0.0.2"),
                &headers(&["198.51.100.7", "10.0.0.3"]),
                &proxies
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers(&["198.51.100.7:4711"]), &proxies),
            ip("198.51.100.7")
        );
        // No header, or garbage: the proxy itself.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers(&[]), &proxies),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers(&["nonsense"]), &proxies),
            ip("10.0.0.2")
        );
    }
}
