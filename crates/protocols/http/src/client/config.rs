//! [`ClientConfig`]: every setting of an [`HttpClient`](super::HttpClient), with its
//! default, and the [`Protocol`]s a client can prefer.

use std::fmt;
use std::time::Duration;

use ghostnet_resilience::{RateLimiter, RetryPolicy};
use ghostnet_transport::pool::PoolConfig;
use ghostnet_transport::tls::TlsClientConfig;
use http::HeaderValue;

use crate::error::{Error, Result};

/// Default for [`ClientConfig::timeout`]: 30 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default for [`ClientConfig::read_idle_timeout`]: 30 s.
pub const DEFAULT_READ_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default for [`ClientConfig::protocol_cache_ttl`]: 5 minutes.
pub const DEFAULT_PROTOCOL_CACHE_TTL: Duration = Duration::from_secs(5 * 60);
/// Default for [`ClientConfig::max_buffered_body_bytes`]: 32 MiB.
pub const DEFAULT_MAX_BUFFERED_BODY_BYTES: u64 = 32 * 1024 * 1024;

/// An HTTP version a client can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// HTTP/3 over QUIC. Not available yet: a preference for it is skipped (and a client
    /// that prefers nothing else fails with [`Error::ProtocolUnavailable`]).
    H3,
    /// HTTP/2: TLS with ALPN `h2` for `https`, and for `http` only with
    /// [`ClientConfig::h2_prior_knowledge`] (h2c).
    H2,
    /// HTTP/1.1.
    Http11,
}

impl Protocol {
    /// Whether this build can speak the protocol (HTTP/3 waits for QUIC).
    pub fn is_available(self) -> bool {
        !matches!(self, Self::H3)
    }

    /// Its name as in ALPN: `h3`, `h2`, `http/1.1`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::H3 => "h3",
            Self::H2 => "h2",
            Self::Http11 => "http/1.1",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Settings of an [`HttpClient`](super::HttpClient); every one has a default.
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `timeout` | 30 s | per attempt: connecting, sending, and the response head |
/// | `read_idle_timeout` | 30 s | HTTP/1.1 bodies: longest time without a byte |
/// | `max_redirects` | 10 | redirects followed (0: none) |
/// | `user_agent` | `ghostnet-http/<version>` | for requests that set none |
/// | `compression` | on | ask for and decode gzip, br, deflate, zstd (HTTP/1.1 and HTTP/2), unless the request sets `Accept-Encoding` or `Range` |
/// | `protocols` | `[H2, Http11]` | preference order; `H3` is skipped until QUIC lands |
/// | `fallback` | on | on a connection failure with one protocol, try the next |
/// | `protocol_cache_ttl` | 5 min | how long the protocol that worked for an origin is remembered (0: never) |
/// | `h2_prior_knowledge` | off | speak HTTP/2 to `http://` URLs without asking (h2c) |
/// | `rate_limiter` | none | every request (each attempt, each redirect) waits for a slot |
/// | `retry` | none | retries idempotent requests with replayable bodies |
/// | `max_connections_per_host` | 6 | HTTP/1.1 connections (and HTTP/2 ones) per origin |
/// | `keep_alive_timeout` | 60 s | idle connections are closed after this |
/// | `connect_timeout` | 10 s | dial, TLS and HTTP/2 handshake |
/// | `http2_multiplexing` | on | many requests share one HTTP/2 connection (off: one stream per connection) |
/// | `max_streams_per_connection` | 100 | concurrent requests on one HTTP/2 connection |
/// | `max_buffered_body_bytes` | 32 MiB | what `bytes()`, `text()` and `json()` buffer |
/// | `tls` | webpki roots | trust for `https`; ALPN is set by the client |
/// | `http2` | [`ghostnet_http2::Settings::default`] | HTTP/2 window sizes, keepalive, limits |
///
/// ```
/// use std::time::Duration;
/// use ghostnet_http::client::{ClientConfig, HttpClient, Protocol};
///
/// let config = ClientConfig::default()
///     .timeout(Duration::from_secs(10))
///     .protocols([Protocol::H3, Protocol::H2, Protocol::Http11])
///     .max_connections_per_host(4);
/// let client = HttpClient::new(config).unwrap();
/// # let _ = client;
/// assert!(HttpClient::new(ClientConfig::default().timeout(Duration::ZERO)).is_err());
/// ```
#[derive(Clone)]
pub struct ClientConfig {
    pub(crate) timeout: Duration,
    pub(crate) read_idle_timeout: Duration,
    pub(crate) max_redirects: usize,
    pub(crate) user_agent: Option<HeaderValue>,
    pub(crate) compression: bool,
    pub(crate) protocols: Vec<Protocol>,
    pub(crate) fallback: bool,
    pub(crate) protocol_cache_ttl: Duration,
    pub(crate) h2_prior_knowledge: bool,
    pub(crate) rate_limiter: Option<RateLimiter>,
    pub(crate) retry: Option<RetryPolicy>,
    pub(crate) pool: PoolConfig,
    pub(crate) http2_multiplexing: bool,
    pub(crate) max_buffered_body_bytes: u64,
    pub(crate) tls: Option<TlsClientConfig>,
    pub(crate) http2: ghostnet_http2::Settings,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            read_idle_timeout: DEFAULT_READ_IDLE_TIMEOUT,
            max_redirects: ghostnet_http1::client::DEFAULT_MAX_REDIRECTS,
            user_agent: Some(HeaderValue::from_static(concat!(
                "ghostnet-http/",
                env!("CARGO_PKG_VERSION")
            ))),
            compression: true,
            protocols: vec![Protocol::H2, Protocol::Http11],
            fallback: true,
            protocol_cache_ttl: DEFAULT_PROTOCOL_CACHE_TTL,
            h2_prior_knowledge: false,
            rate_limiter: None,
            retry: None,
            pool: PoolConfig::default(),
            http2_multiplexing: true,
            max_buffered_body_bytes: DEFAULT_MAX_BUFFERED_BODY_BYTES,
            tls: None,
            http2: ghostnet_http2::Settings::default(),
        }
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("timeout", &self.timeout)
            .field("max_redirects", &self.max_redirects)
            .field("protocols", &self.protocols)
            .field("fallback", &self.fallback)
            .field("protocol_cache_ttl", &self.protocol_cache_ttl)
            .field("h2_prior_knowledge", &self.h2_prior_knowledge)
            .field("rate_limiter", &self.rate_limiter.is_some())
            .field("retry", &self.retry.is_some())
            .field("pool", &self.pool)
            .field("http2_multiplexing", &self.http2_multiplexing)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// Limit on one attempt up to its response head: connecting, sending the request,
    /// waiting for the answer (default 30 s). Reading the body is bounded by
    /// `read_idle_timeout` (HTTP/1.1) and HTTP/2 keepalive, so long downloads work.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// HTTP/1.1 response bodies: longest time without receiving a byte (default 30 s).
    pub fn read_idle_timeout(mut self, t: Duration) -> Self {
        self.read_idle_timeout = t;
        self
    }

    /// Most redirects followed per request (default 10); 0 returns redirects as they are.
    pub fn max_redirects(mut self, n: usize) -> Self {
        self.max_redirects = n;
        self
    }

    /// The `User-Agent` of requests that set none (`None`: send none).
    pub fn user_agent(mut self, value: Option<HeaderValue>) -> Self {
        self.user_agent = value;
        self
    }

    /// Whether responses are asked for compressed and decoded (default on).
    pub fn compression(mut self, on: bool) -> Self {
        self.compression = on;
        self
    }

    /// The protocols to use, most preferred first (default `[H2, Http11]`). For `https`
    /// ALPN offers the available ones and the server chooses; `H3` is skipped until QUIC
    /// lands.
    pub fn protocols(mut self, prefer: impl IntoIterator<Item = Protocol>) -> Self {
        self.protocols = prefer.into_iter().collect();
        self
    }

    /// Whether a connection failure with one protocol (refused h2c, failed handshake)
    /// is followed by a try with the next one (default on). Only before a request was
    /// answered, and only with a body that can be sent again.
    pub fn fallback(mut self, on: bool) -> Self {
        self.fallback = on;
        self
    }

    /// How long the protocol that worked for an origin is remembered and tried first
    /// (default 5 minutes; zero: not remembered).
    pub fn protocol_cache_ttl(mut self, ttl: Duration) -> Self {
        self.protocol_cache_ttl = ttl;
        self
    }

    /// Speak HTTP/2 to `http://` URLs straight away, without an upgrade (h2c with prior
    /// knowledge; default off: `http://` is HTTP/1.1).
    pub fn h2_prior_knowledge(mut self, on: bool) -> Self {
        self.h2_prior_knowledge = on;
        self
    }

    /// A rate limiter every request waits on, each retry and redirect included (default
    /// none). Clones of a limiter share its budget, so several clients can share one.
    pub fn rate_limiter(mut self, limiter: RateLimiter) -> Self {
        self.rate_limiter = Some(limiter);
        self
    }

    /// A retry policy for failed requests (default none). Only idempotent methods with
    /// bodies that can be sent again are retried; a retryable status (5xx, 429, 408)
    /// counts as a failure, and when the policy gives up the last response is returned.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Most connections per origin (default 6).
    pub fn max_connections_per_host(mut self, n: usize) -> Self {
        self.pool.max_per_host = n;
        self
    }

    /// Idle connections are closed after this (default 60 s).
    pub fn keep_alive_timeout(mut self, t: Duration) -> Self {
        self.pool.idle_timeout = t;
        self
    }

    /// Limit on dialing, TLS and the HTTP/2 handshake (default 10 s).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.pool.connect_timeout = t;
        self
    }

    /// Whether HTTP/2 requests share connections (default on; off: one request per
    /// HTTP/2 connection at a time).
    pub fn http2_multiplexing(mut self, on: bool) -> Self {
        self.http2_multiplexing = on;
        self
    }

    /// Most concurrent requests on one HTTP/2 connection (default 100; the server's
    /// `MAX_CONCURRENT_STREAMS` lowers it).
    pub fn max_streams_per_connection(mut self, n: usize) -> Self {
        self.pool.max_streams_per_connection = n;
        self
    }

    /// All pool limits at once (see [`PoolConfig`]).
    pub fn pool(mut self, pool: PoolConfig) -> Self {
        self.pool = pool;
        self
    }

    /// Most bytes `bytes()`, `text()` and `json()` buffer (default 32 MiB).
    pub fn max_buffered_body_bytes(mut self, n: u64) -> Self {
        self.max_buffered_body_bytes = n;
        self
    }

    /// What `https` connections trust (default: the webpki roots). The client sets the
    /// ALPN list itself from the protocol preference.
    pub fn tls(mut self, tls: TlsClientConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// HTTP/2 settings: windows, frame size, keepalive PING, handshake timeout.
    pub fn http2(mut self, settings: ghostnet_http2::Settings) -> Self {
        self.http2 = settings;
        self
    }

    /// The pool settings HTTP/2 runs with: multiplexing off is one stream per
    /// connection.
    pub(crate) fn h2_pool(&self) -> PoolConfig {
        if self.http2_multiplexing {
            self.pool.clone()
        } else {
            self.pool.clone().max_streams_per_connection(1)
        }
    }

    /// Checks every setting; the error names the first bad one.
    pub(crate) fn validate(&self) -> Result<()> {
        let invalid = |field, reason: &str| {
            Err(Error::InvalidConfig {
                field,
                reason: reason.to_owned(),
            })
        };
        if self.timeout.is_zero() {
            return invalid("timeout", "must be above zero, e.g. 30s");
        }
        if self.read_idle_timeout.is_zero() {
            return invalid("read_idle_timeout", "must be above zero, e.g. 30s");
        }
        if self.protocols.is_empty() {
            return invalid("protocols", "name at least one, e.g. [H2, Http11]");
        }
        self.pool.validate().map_err(|e| match e {
            ghostnet_transport::Error::InvalidConfig { field, reason } => {
                Error::InvalidConfig { field, reason }
            }
            other => Error::Transport(other),
        })
    }
}
