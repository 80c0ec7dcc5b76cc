//! [`PoolConfig`]: limits and timeouts of a pool, with their defaults.

use std::time::Duration;

use crate::error::{Error, Result};

/// Default [`PoolConfig::max_per_host`]: what browsers allow per origin for HTTP/1.1.
pub const DEFAULT_MAX_PER_HOST: usize = 6;
/// Default [`PoolConfig::max_total`].
pub const DEFAULT_MAX_TOTAL: usize = 100;
/// Default [`PoolConfig::idle_timeout`]. Servers often close idle keep-alive sockets
/// sooner; the probe before reuse catches those, so this only bounds what we hold.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default [`PoolConfig::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`PoolConfig::wait_timeout`].
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default [`PoolConfig::max_streams_per_connection`]: the value HTTP/2 servers
/// commonly advertise in `SETTINGS_MAX_CONCURRENT_STREAMS`.
pub const DEFAULT_MAX_STREAMS_PER_CONNECTION: usize = 100;

/// Limits and timeouts of a [`Pool`](super::Pool) or [`MuxPool`](super::MuxPool).
/// Start from [`PoolConfig::default`] and adjust with the chainable setters.
///
/// | field | default | meaning |
/// |---|---|---|
/// | `max_per_host` | 6 | connections per key: idle, in use and being dialed |
/// | `max_total` | 100 | connections over all keys |
/// | `idle_timeout` | 60 s | an unused connection older than this is closed |
/// | `connect_timeout` | 10 s | dial (and, for `MuxPool`, establish) must finish within this |
/// | `wait_timeout` | 30 s | how long a caller queues at a limit before `PoolTimeout` |
/// | `max_streams_per_connection` | 100 | `MuxPool` only: concurrent users of one connection |
///
/// ```
/// use std::time::Duration;
/// use ghostnet_transport::pool::PoolConfig;
///
/// let cfg = PoolConfig::default()
///     .max_per_host(2)
///     .idle_timeout(Duration::from_secs(15));
/// cfg.validate().unwrap();
/// assert_eq!(cfg.max_total, 100);
/// assert!(PoolConfig::default().max_per_host(0).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolConfig {
    /// Most connections open per key at once, counting idle ones, checked-out ones and
    /// dials in flight. At least 1.
    pub max_per_host: usize,
    /// Most connections open over all keys. At least 1. When it is reached, the least
    /// recently used idle connection of any key is closed to make room.
    pub max_total: usize,
    /// A connection nobody used for this long is closed (on the next checkout of its key
    /// and by a background reaper). Not zero.
    pub idle_timeout: Duration,
    /// Limit on opening one connection ([`Dial::dial`](crate::Dial::dial), plus the
    /// establish step of a [`MuxPool`](super::MuxPool)). Not zero.
    pub connect_timeout: Duration,
    /// Limit on queueing for a connection when a limit is reached. Zero means "fail at
    /// once with `PoolTimeout` unless a connection is free".
    pub wait_timeout: Duration,
    /// [`MuxPool`](super::MuxPool) only: most users of one multiplexed connection at once
    /// (a handle can lower it, see
    /// [`Multiplexed::max_concurrent_streams`](super::Multiplexed::max_concurrent_streams)).
    /// At least 1.
    pub max_streams_per_connection: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_per_host: DEFAULT_MAX_PER_HOST,
            max_total: DEFAULT_MAX_TOTAL,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            wait_timeout: DEFAULT_WAIT_TIMEOUT,
            max_streams_per_connection: DEFAULT_MAX_STREAMS_PER_CONNECTION,
        }
    }
}

impl PoolConfig {
    /// Sets [`PoolConfig::max_per_host`].
    pub fn max_per_host(mut self, n: usize) -> Self {
        self.max_per_host = n;
        self
    }

    /// Sets [`PoolConfig::max_total`].
    pub fn max_total(mut self, n: usize) -> Self {
        self.max_total = n;
        self
    }

    /// Sets [`PoolConfig::idle_timeout`].
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }

    /// Sets [`PoolConfig::connect_timeout`].
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Sets [`PoolConfig::wait_timeout`].
    pub fn wait_timeout(mut self, d: Duration) -> Self {
        self.wait_timeout = d;
        self
    }

    /// Sets [`PoolConfig::max_streams_per_connection`].
    pub fn max_streams_per_connection(mut self, n: usize) -> Self {
        self.max_streams_per_connection = n;
        self
    }

    /// Checks every field; the error names the field and what to use instead.
    pub fn validate(&self) -> Result<()> {
        let invalid = |field, reason: &str| {
            Err(Error::InvalidConfig {
                field,
                reason: reason.to_owned(),
            })
        };
        if self.max_per_host == 0 {
            return invalid("max_per_host", "must be at least 1");
        }
        if self.max_total == 0 {
            return invalid("max_total", "must be at least 1");
        }
        if self.idle_timeout.is_zero() {
            return invalid(
                "idle_timeout",
                "must be above zero; to avoid reuse, mark each connection not reusable",
            );
        }
        if self.connect_timeout.is_zero() {
            return invalid("connect_timeout", "must be above zero, e.g. 10s");
        }
        if self.max_streams_per_connection == 0 {
            return invalid("max_streams_per_connection", "must be at least 1");
        }
        Ok(())
    }

    /// How often the background reaper looks for idle connections to close: half the
    /// idle timeout (so a connection outlives it by at most half), within 100 ms..30 s.
    pub(crate) fn reap_period(&self) -> Duration {
        (self.idle_timeout / 2).clamp(Duration::from_millis(100), Duration::from_secs(30))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_documented_values() {
        let c = PoolConfig::default();
        c.validate().unwrap();
        assert_eq!(c.max_per_host, 6);
        assert_eq!(c.max_total, 100);
        assert_eq!(c.idle_timeout, Duration::from_secs(60));
        assert_eq!(c.connect_timeout, Duration::from_secs(10));
        assert_eq!(c.wait_timeout, Duration::from_secs(30));
        assert_eq!(c.max_streams_per_connection, 100);
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (PoolConfig::default().max_per_host(0), "max_per_host"),
            (PoolConfig::default().max_total(0), "max_total"),
            (
                PoolConfig::default().idle_timeout(Duration::ZERO),
                "idle_timeout",
            ),
            (
                PoolConfig::default().connect_timeout(Duration::ZERO),
                "connect_timeout",
            ),
            (
                PoolConfig::default().max_streams_per_connection(0),
                "max_streams_per_connection",
            ),
        ];
        for (cfg, name) in cases {
            let err = cfg.validate().unwrap_err();
            assert!(
                matches!(err, Error::InvalidConfig { field, .. } if field == name),
                "{name}"
            );
        }
        // Zero wait is allowed: fail fast instead of queueing.
        PoolConfig::default()
            .wait_timeout(Duration::ZERO)
            .validate()
            .unwrap();
    }

    #[test]
    fn reap_period_is_bounded() {
        let p = |s| {
            PoolConfig::default()
                .idle_timeout(Duration::from_secs(s))
                .reap_period()
        };
        assert_eq!(p(60), Duration::from_secs(30));
        assert_eq!(p(10), Duration::from_secs(5));
        assert_eq!(p(3600), Duration::from_secs(30));
        let tiny = PoolConfig::default().idle_timeout(Duration::from_millis(1));
        assert_eq!(tiny.reap_period(), Duration::from_millis(100));
        let huge = PoolConfig::default().idle_timeout(Duration::MAX);
        assert_eq!(huge.reap_period(), Duration::from_secs(30));
    }
}
