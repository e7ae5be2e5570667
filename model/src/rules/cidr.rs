//! IPv4/IPv6 CIDR ranges for the network signal.

use std::net::IpAddr;

use ipnet::IpNet;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("malformed CIDR range {0:?}: expected e.g. 203.0.113.0/24 or 2001:db8::/32")]
pub struct CidrError(pub String);

/// A network prefix (host bits cleared), parsed and matched by `ipnet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr(IpNet);

impl Cidr {
    /// `203.0.113.0/24`, `2001:db8::/32`, or a bare address (a /32 or /128).
    pub fn parse(text: &str) -> Result<Cidr, CidrError> {
        let t = text.trim();
        let net = match t.parse::<IpNet>() {
            Ok(net) => net,
            Err(_) => IpNet::from(
                t.parse::<IpAddr>()
                    .map_err(|_| CidrError(text.to_string()))?,
            ),
        };
        Ok(Cidr(net.trunc()))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 host.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.0.contains(&ip)
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Cidr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Cidr::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn v4_and_v6_ranges() {
        let net = Cidr::parse("203.0.113.77/24").unwrap();
        assert_eq!(net.to_string(), "203.0.113.0/24");
        assert!(net.contains(ip("203.0.113.1")));
        assert!(net.contains(ip("::ffff:203.0.113.9")));
        assert!(!net.contains(ip("203.0.114.1")));
        assert!(!net.contains(ip("2001:db8::1")));
        let v6 = Cidr::parse("2001:DB8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(Cidr::parse("10.0.0.1").unwrap().contains(ip("10.0.0.1")));
    }

    #[test]
    fn malformed_ranges_are_errors() {
        for bad in [
            "10.0.0.0/33",
            "2001:db8::/129",
            "10.0.0/8",
            "x/8",
            "10.0.0.0/-1",
            "",
        ] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }
}
