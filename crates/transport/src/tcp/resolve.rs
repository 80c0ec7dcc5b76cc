//! Name resolution behind a one-method trait, so dialers can be pointed at fixed
//! addresses (tests, `--resolve`-style overrides) or a custom DNS client.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

/// Turns a host name and port into candidate socket addresses, best first.
///
/// [`TcpDialer`](super::TcpDialer) calls it only for names: IP-literal targets skip
/// resolution. The dialer reorders the answer for Happy Eyeballs (address families
/// interleaved, the first address's family first), so a resolver returns addresses in
/// its own preference order (getaddrinfo's RFC 6724 order for [`SystemResolver`]).
///
/// ```
/// use std::net::SocketAddr;
/// use ghostnet_transport::tcp::Resolve;
///
/// /// Every name is the local machine.
/// struct Loopback;
///
/// impl Resolve for Loopback {
///     async fn resolve(&self, _host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
///         Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))])
///     }
/// }
/// ```
pub trait Resolve: Send + Sync + 'static {
    /// Looks up `host`; `port` goes into every returned address (unless the resolver
    /// deliberately maps a name to other ports, as [`StaticResolver`] may).
    fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> impl Future<Output = io::Result<Vec<SocketAddr>>> + Send;
}

impl<R: Resolve> Resolve for Arc<R> {
    fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> impl Future<Output = io::Result<Vec<SocketAddr>>> + Send {
        (**self).resolve(host, port)
    }
}

/// The operating system's resolver (`getaddrinfo` on a blocking thread, through
/// `tokio::net::lookup_host`): honours `/etc/hosts`, `nsswitch.conf` and the system's
/// address ordering.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        Ok(tokio::net::lookup_host((host, port)).await?.collect())
    }
}

/// Fixed answers for fixed names, like curl's `--resolve`: for tests, pinned mirrors, or
/// hosts without DNS. Names match case-insensitively; an unknown name fails with
/// `NotFound`. An address with port 0 takes the dialed port; any other port is kept,
/// which lets one name point at several listeners on different ports.
///
/// ```
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// use ghostnet_transport::tcp::{Resolve, StaticResolver};
///
/// let r = StaticResolver::new()
///     .with("mirror.test", ["10.0.0.1:0".parse().unwrap(), "[fd00::1]:8080".parse().unwrap()]);
/// let addrs = r.resolve("Mirror.Test", 443).await.unwrap();
/// assert_eq!(addrs, ["10.0.0.1:443".parse().unwrap(), "[fd00::1]:8080".parse().unwrap()]);
/// assert!(r.resolve("other.test", 443).await.is_err());
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Default)]
pub struct StaticResolver {
    entries: Arc<HashMap<String, Vec<SocketAddr>>>,
}

impl StaticResolver {
    /// A resolver that knows no names.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the answer for `host`.
    pub fn with(mut self, host: &str, addrs: impl IntoIterator<Item = SocketAddr>) -> Self {
        Arc::make_mut(&mut self.entries)
            .insert(host.to_ascii_lowercase(), addrs.into_iter().collect());
        self
    }
}

impl Resolve for StaticResolver {
    async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        let addrs = self
            .entries
            .get(&host.to_ascii_lowercase())
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{host} has no entry in the static resolver"),
                )
            })?;
        Ok(addrs
            .iter()
            .map(|a| match a.port() {
                0 => SocketAddr::new(a.ip(), port),
                _ => *a,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn static_entries_and_ports() {
        let r = StaticResolver::new()
            .with("A.test", ["127.0.0.1:0".parse().unwrap()])
            .with("b.test", []);
        assert_eq!(
            r.resolve("a.TEST", 7).await.unwrap(),
            ["127.0.0.1:7".parse::<SocketAddr>().unwrap()]
        );
        assert!(r.resolve("b.test", 7).await.unwrap().is_empty());
        let err = r.resolve("c.test", 7).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("c.test"), "{err}");
    }

    #[tokio::test]
    async fn system_resolver_knows_localhost() {
        let addrs = SystemResolver.resolve("localhost", 80).await.unwrap();
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
    }

    #[tokio::test]
    async fn arc_forwards() {
        let r = Arc::new(StaticResolver::new().with("x", ["127.0.0.1:1".parse().unwrap()]));
        assert_eq!(r.resolve("x", 9).await.unwrap().len(), 1);
    }
}
