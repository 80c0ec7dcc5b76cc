//! Where to connect: a host (name or IP) and a port.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use crate::error::Error;

/// A host: a DNS name (resolved at dial time) or an IP address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Host {
    /// A DNS name (or, for the in-memory transport, a listener name). Stored lowercase.
    Name(String),
    /// A literal address; no resolution needed.
    Ip(IpAddr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(n) => f.write_str(n),
            Self::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Self::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// A dial target: host and port.
///
/// ```
/// use ghostnet_transport::{Host, Target};
///
/// let t: Target = "Example.COM:443".parse().unwrap();
/// assert_eq!(t.host, Host::Name("example.com".into()));
/// assert_eq!(t.to_string(), "example.com:443");
/// let v6: Target = "[::1]:8080".parse().unwrap();
/// assert_eq!(v6.to_string(), "[::1]:8080");
/// assert!("no-port".parse::<Target>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    /// The host.
    pub host: Host,
    /// The port.
    pub port: u16,
}

impl Target {
    /// A target from a host string (name, IPv4, or IPv6 with or without brackets) and a port.
    pub fn new(host: &str, port: u16) -> Self {
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let host = match bare.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip),
            Err(_) => Host::Name(bare.to_ascii_lowercase()),
        };
        Self { host, port }
    }

    /// The host as a string without IPv6 brackets: what TLS uses for SNI and checks the
    /// certificate against.
    pub fn host_str(&self) -> String {
        match &self.host {
            Host::Name(n) => n.clone(),
            Host::Ip(ip) => ip.to_string(),
        }
    }
}

impl From<SocketAddr> for Target {
    fn from(addr: SocketAddr) -> Self {
        Self {
            host: Host::Ip(addr.ip()),
            port: addr.port(),
        }
    }
}

impl FromStr for Target {
    type Err = Error;

    /// Parses `host:port`, `ip:port` or `[ipv6]:port`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidTarget {
            input: s.to_owned(),
            reason: reason.to_owned(),
        };
        let (host, port) = s
            .rsplit_once(':')
            .ok_or_else(|| invalid("expected host:port, e.g. example.com:443"))?;
        if host.is_empty() {
            return Err(invalid("the host is empty"));
        }
        if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
            return Err(invalid("put IPv6 addresses in brackets, e.g. [::1]:443"));
        }
        let port = port
            .parse::<u16>()
            .map_err(|_| invalid("the port must be a number from 0 to 65535"))?;
        Ok(Self::new(host, port))
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        let t: Target = "127.0.0.1:80".parse().unwrap();
        assert_eq!(t.host, Host::Ip("127.0.0.1".parse().unwrap()));
        assert_eq!(Target::new("[::1]", 1).host_str(), "::1");
        assert_eq!(Target::new("::1", 1).to_string(), "[::1]:1");
        for bad in ["", ":80", "host:", "host:99999", "::1:80", "host:-1"] {
            assert!(bad.parse::<Target>().is_err(), "{bad:?} accepted");
        }
        let e = "x".parse::<Target>().unwrap_err().to_string();
        assert!(e.contains("host:port"), "{e}");
    }

    #[test]
    fn from_socket_addr() {
        let a: SocketAddr = "[::1]:9".parse().unwrap();
        assert_eq!(Target::from(a).to_string(), "[::1]:9");
    }
}
