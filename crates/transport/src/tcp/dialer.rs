//! `TcpDialer`: [`Dial`] over TCP with a connect timeout, Happy Eyeballs and socket
//! options.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use ghostnet_runtime::timeout;
use tokio::net::TcpStream;

use super::eyeballs::{attempt, connect_first, interleave};
use super::options::TcpOptions;
use super::resolve::{Resolve, SystemResolver};
use crate::error::{Error, Result};
use crate::socket::require_runtime;
use crate::target::{Host, Target};
use crate::traits::Dial;

/// How long a whole dial (resolution and every attempt) may take by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an attempt runs alone before the next candidate address is tried too: the
/// "Connection Attempt Delay" of RFC 8305, whose recommended value this is.
pub const DEFAULT_ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// The shortest attempt delay RFC 8305 allows: shorter ones flood the network with SYNs.
pub const MIN_ATTEMPT_DELAY: Duration = Duration::from_millis(10);

/// Opens TCP connections: resolves the target (IP literals skip resolution), orders the
/// addresses for Happy Eyeballs (RFC 8305: families interleaved, the first address's
/// family first), and starts an attempt every [`attempt_delay`](Self::attempt_delay) or
/// as soon as one fails. The first to connect wins; the others are dropped. The whole
/// dial is bounded by [`connect_timeout`](Self::connect_timeout).
///
/// Sockets are made with socket2 and get their [`TcpOptions`] before `connect`, so the
/// SYN already carries them (buffer sizes, for example, decide the window scale).
///
/// ```no_run
/// # async fn demo() -> ghostnet_transport::Result<()> {
/// use std::time::Duration;
/// use ghostnet_transport::{Dial, Target};
/// use ghostnet_transport::tcp::{TcpDialer, TcpOptions};
///
/// let dialer = TcpDialer::new()
///     .connect_timeout(Duration::from_secs(5))
///     .options(TcpOptions::default().recv_buffer_size(1 << 20));
/// let stream = dialer.dial(&"example.com:80".parse::<Target>()?).await?;
/// # drop(stream); Ok(()) }
/// ```
///
/// Tests and overrides can replace DNS with [`resolver`](Self::resolver):
///
/// ```
/// use ghostnet_transport::tcp::{StaticResolver, TcpDialer};
///
/// let dialer = TcpDialer::new()
///     .resolver(StaticResolver::new().with("db.test", ["127.0.0.1:5432".parse().unwrap()]));
/// dialer.validate().unwrap();
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TcpDialer<R = SystemResolver> {
    /// Socket options for every connection.
    pub options: TcpOptions,
    /// Limit on the whole dial, resolution included. Default
    /// [`DEFAULT_CONNECT_TIMEOUT`]; must not be zero.
    pub connect_timeout: Duration,
    /// Head start of each attempt before the next one begins. Default
    /// [`DEFAULT_ATTEMPT_DELAY`]; at least [`MIN_ATTEMPT_DELAY`].
    pub attempt_delay: Duration,
    /// Turns names into addresses.
    pub resolver: R,
}

impl TcpDialer {
    /// A dialer with default options, timeouts and the system resolver.
    pub fn new() -> Self {
        Self {
            options: TcpOptions::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            attempt_delay: DEFAULT_ATTEMPT_DELAY,
            resolver: SystemResolver,
        }
    }
}

impl Default for TcpDialer {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: Resolve> TcpDialer<R> {
    /// Sets [`TcpDialer::connect_timeout`].
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.connect_timeout = limit;
        self
    }

    /// Sets [`TcpDialer::attempt_delay`].
    pub fn attempt_delay(mut self, delay: Duration) -> Self {
        self.attempt_delay = delay;
        self
    }

    /// Sets [`TcpDialer::options`].
    pub fn options(mut self, options: TcpOptions) -> Self {
        self.options = options;
        self
    }

    /// Replaces the resolver.
    pub fn resolver<R2: Resolve>(self, resolver: R2) -> TcpDialer<R2> {
        TcpDialer {
            options: self.options,
            connect_timeout: self.connect_timeout,
            attempt_delay: self.attempt_delay,
            resolver,
        }
    }

    /// Checks every setting and says which one is wrong and what to use instead. Every
    /// dial runs it first.
    pub fn validate(&self) -> Result<()> {
        if self.connect_timeout.is_zero() {
            return Err(Error::InvalidConfig {
                field: "connect_timeout",
                reason: format!(
                    "is zero, so no dial could ever finish; the default is {DEFAULT_CONNECT_TIMEOUT:?}"
                ),
            });
        }
        if self.attempt_delay < MIN_ATTEMPT_DELAY {
            return Err(Error::InvalidConfig {
                field: "attempt_delay",
                reason: format!(
                    "is {:?}; RFC 8305 asks for at least {MIN_ATTEMPT_DELAY:?} (the default is {DEFAULT_ATTEMPT_DELAY:?})",
                    self.attempt_delay
                ),
            });
        }
        self.options.validate()
    }

    /// Resolves `target` and orders the candidates; IP literals skip the resolver.
    async fn candidates(&self, target: &Target) -> Result<Vec<SocketAddr>> {
        let name = match &target.host {
            Host::Ip(ip) => {
                if let Some(local) = self.options.local_addr
                    && local.is_ipv4() != ip.is_ipv4()
                {
                    return Err(Error::InvalidConfig {
                        field: "local_addr",
                        reason: format!(
                            "{local} and the target {target} are of different address families; bind one of the target's family or none"
                        ),
                    });
                }
                return Ok(vec![SocketAddr::new(*ip, target.port)]);
            }
            Host::Name(name) => name,
        };
        let resolved = self
            .resolver
            .resolve(name, target.port)
            .await
            .map_err(|source| Error::Resolve {
                host: name.clone(),
                source,
            })?;
        if resolved.is_empty() {
            return Err(Error::NoAddresses { host: name.clone() });
        }
        let mut ordered = interleave(resolved);
        if let Some(local) = self.options.local_addr {
            // A socket bound to one family cannot connect to the other.
            ordered.retain(|a| a.is_ipv4() == local.is_ipv4());
            if ordered.is_empty() {
                let (have, lacks) = if local.is_ipv4() {
                    ("IPv4", "IPv6")
                } else {
                    ("IPv6", "IPv4")
                };
                return Err(Error::InvalidConfig {
                    field: "local_addr",
                    reason: format!(
                        "is an {have} address but {name} has only {lacks} addresses; bind an {lacks} address or none"
                    ),
                });
            }
        }
        Ok(ordered)
    }

    async fn dial_within_timeout(&self, target: &Target) -> Result<TcpStream> {
        let candidates = self.candidates(target).await?;
        if let (Host::Ip(_), [addr]) = (&target.host, candidates.as_slice()) {
            // One address, nothing to race: skip the attempt timer and the boxed attempt.
            return attempt(*addr, &self.options)
                .await
                .map_err(|source| Error::Connect {
                    target: target.to_string(),
                    source,
                });
        }
        connect_first(&candidates, self.attempt_delay, &self.options)
            .await
            .map_err(|errors| {
                let source = match (&target.host, errors.attempts()) {
                    // An IP literal names its one address already: keep the OS error as is.
                    (Host::Ip(_), [_]) => errors
                        .into_attempts()
                        .pop()
                        .map_or_else(|| io::ErrorKind::NotConnected.into(), |(_, e)| e),
                    _ => errors.into_io_error(),
                };
                Error::Connect {
                    target: target.to_string(),
                    source,
                }
            })
    }
}

impl<R: Resolve> Dial for TcpDialer<R> {
    type Stream = TcpStream;

    async fn dial(&self, target: &Target) -> Result<TcpStream> {
        self.validate()?;
        if target.port == 0 {
            return Err(Error::InvalidTarget {
                input: target.to_string(),
                reason: "port 0 cannot be dialed; give the server's port".into(),
            });
        }
        require_runtime(|| format!("connect to {target}"))?;
        timeout(self.connect_timeout, self.dial_within_timeout(target))
            .await
            .unwrap_or_else(|_| {
                Err(Error::ConnectTimeout {
                    target: target.to_string(),
                    after: self.connect_timeout,
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        let d = TcpDialer::new();
        assert_eq!(d.connect_timeout, Duration::from_secs(10));
        assert_eq!(d.attempt_delay, Duration::from_millis(250));
        d.validate().unwrap();
        let e = TcpDialer::new()
            .connect_timeout(Duration::ZERO)
            .validate()
            .unwrap_err();
        assert!(matches!(
            e,
            Error::InvalidConfig {
                field: "connect_timeout",
                ..
            }
        ));
        let e = TcpDialer::new()
            .attempt_delay(Duration::from_millis(1))
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("RFC 8305"), "{e}");
        let e = TcpDialer::new()
            .options(TcpOptions::default().send_buffer_size(0))
            .validate()
            .unwrap_err();
        assert!(matches!(
            e,
            Error::InvalidConfig {
                field: "send_buffer_size",
                ..
            }
        ));
    }

    #[tokio::test]
    async fn bad_input_is_an_error_before_any_socket() {
        let port0 = TcpDialer::new()
            .dial(&"127.0.0.1:0".parse().unwrap())
            .await
            .unwrap_err();
        assert!(matches!(port0, Error::InvalidTarget { .. }), "{port0}");
        let invalid = TcpDialer::new()
            .attempt_delay(Duration::ZERO)
            .dial(&"127.0.0.1:1".parse().unwrap())
            .await
            .unwrap_err();
        assert!(matches!(invalid, Error::InvalidConfig { .. }), "{invalid}");
        let family = TcpDialer::new()
            .options(TcpOptions::default().local_addr("[::1]:0".parse().unwrap()))
            .dial(&"127.0.0.1:1".parse().unwrap())
            .await
            .unwrap_err();
        assert!(
            matches!(
                family,
                Error::InvalidConfig {
                    field: "local_addr",
                    ..
                }
            ),
            "{family}"
        );
    }
}
