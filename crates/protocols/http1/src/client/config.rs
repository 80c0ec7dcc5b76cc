//! The client's settings: [`ClientBuilder`] (every setting has a default) and the
//! per-request overrides in [`RequestOptions`].

use std::time::Duration;

use ghostnet_transport::pool::PoolConfig;
use ghostnet_transport::tls::TlsClientConfig;
use http::HeaderValue;

use crate::client::redirect::DEFAULT_MAX_REDIRECTS;
use crate::codec::Limits;
use crate::coding::DEFAULT_MAX_DECOMPRESSION_RATIO;
use crate::error::{Error, Result};

/// Default for [`ClientBuilder::request_timeout`]: 30 s.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default for [`ClientBuilder::read_idle_timeout`]: 30 s.
pub const DEFAULT_READ_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default for [`ClientBuilder::expect_continue_timeout`]: 1 s (as curl).
pub const DEFAULT_EXPECT_CONTINUE_TIMEOUT: Duration = Duration::from_secs(1);
/// Default for [`ClientBuilder::max_buffered_body_bytes`]: 32 MiB.
pub const DEFAULT_MAX_BUFFERED_BODY_BYTES: u64 = 32 * 1024 * 1024;

/// Everything a client runs with.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) pool: PoolConfig,
    pub(crate) limits: Limits,
    pub(crate) request_timeout: Duration,
    pub(crate) total_timeout: Option<Duration>,
    pub(crate) read_idle_timeout: Duration,
    pub(crate) max_redirects: usize,
    pub(crate) allow_https_downgrade: bool,
    pub(crate) decompress: bool,
    pub(crate) max_decompression_ratio: u64,
    pub(crate) max_buffered_body_bytes: u64,
    pub(crate) expect_continue_threshold: Option<u64>,
    pub(crate) expect_continue_timeout: Duration,
    pub(crate) user_agent: Option<HeaderValue>,
    /// `None`: the default, built at the first https request.
    pub(crate) tls: Option<TlsClientConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            pool: PoolConfig::default(),
            limits: Limits::default(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            total_timeout: None,
            read_idle_timeout: DEFAULT_READ_IDLE_TIMEOUT,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            allow_https_downgrade: false,
            decompress: true,
            max_decompression_ratio: DEFAULT_MAX_DECOMPRESSION_RATIO,
            max_buffered_body_bytes: DEFAULT_MAX_BUFFERED_BODY_BYTES,
            expect_continue_threshold: None,
            expect_continue_timeout: DEFAULT_EXPECT_CONTINUE_TIMEOUT,
            user_agent: None,
            tls: None,
        }
    }
}

impl Config {
    pub(crate) fn validate(&self) -> Result<()> {
        let invalid = |field, reason: &str| {
            Err(Error::InvalidConfig {
                field,
                reason: reason.to_owned(),
            })
        };
        if self.request_timeout.is_zero() {
            return invalid("request_timeout", "must be above zero, e.g. 30s");
        }
        if self.read_idle_timeout.is_zero() {
            return invalid("read_idle_timeout", "must be above zero, e.g. 30s");
        }
        if self.total_timeout.is_some_and(|t| t.is_zero()) {
            return invalid("total_timeout", "must be above zero, or None for no limit");
        }
        if self.expect_continue_timeout.is_zero() {
            return invalid("expect_continue_timeout", "must be above zero, e.g. 1s");
        }
        if self.max_decompression_ratio == 0 {
            return invalid("max_decompression_ratio", "must be at least 1");
        }
        self.pool.validate().map_err(|e| match e {
            ghostnet_transport::Error::InvalidConfig { field, reason } => {
                Error::InvalidConfig { field, reason }
            }
            other => Error::Connect(other),
        })
    }
}

/// Options of a [`Client`](crate::client::Client); every one has a default.
///
/// | setting | default | what it bounds |
/// |---|---|---|
/// | `pool` | [`PoolConfig::default`] (6 per host, 10 s connect, 60 s idle) | connections |
/// | `request_timeout` | 30 s | from the last request byte sent to the response head |
/// | `read_idle_timeout` | 30 s | time without a byte while receiving a body, or without progress while sending one |
/// | `total_timeout` | none | the whole call: redirects, retries and reading the body |
/// | `max_redirects` | 10 | redirects followed (0: none) |
/// | `allow_https_downgrade` | false | following an https → http redirect |
/// | `decompress` | true | send `Accept-Encoding` and decode gzip, br, deflate, zstd |
/// | `max_decompression_ratio` | 100 | decoded bytes per received byte (plus 1 MiB) |
/// | `max_buffered_body_bytes` | 32 MiB | what `bytes()` / `text()` buffer |
/// | `expect_continue` | off | `Expect: 100-continue` for bodies of at least this size |
/// | `expect_continue_timeout` | 1 s | wait for `100 Continue` before sending anyway |
/// | `limits` | [`Limits::default`] | response head size and field count, chunk extensions, trailers |
/// | `tls` | webpki roots, ALPN `http/1.1` | what `https` connections trust and offer |
///
/// `total_timeout` has no default limit because downloads can rightly take hours; every
/// single wait is bounded by default all the same (connect, pool queue, response head,
/// each body read).
///
/// ```
/// use std::time::Duration;
/// use ghostnet_http1::client::Client;
///
/// let client = Client::builder()
///     .request_timeout(Duration::from_secs(10))
///     .total_timeout(Some(Duration::from_secs(60)))
///     .max_redirects(5)
///     .build()
///     .unwrap();
/// # let _ = client;
/// assert!(Client::builder().request_timeout(Duration::ZERO).build().is_err());
/// ```
#[derive(Debug, Clone, Default)]
pub struct ClientBuilder {
    pub(crate) config: Config,
}

impl ClientBuilder {
    /// Connection pool limits and timeouts (connect, idle, queueing).
    pub fn pool(mut self, pool: PoolConfig) -> Self {
        self.config.pool = pool;
        self
    }

    /// Parsing limits for response heads, chunk extensions and trailers (and
    /// `max_body_bytes` for every response body as received).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.config.limits = limits;
        self
    }

    /// Longest wait from the end of sending a request to its response head (default
    /// 30 s): how long the server may think.
    pub fn request_timeout(mut self, t: Duration) -> Self {
        self.config.request_timeout = t;
        self
    }

    /// Longest time without receiving a byte of a response body, or without the server
    /// taking more of a request body (default 30 s). It suits long downloads: a transfer
    /// that keeps moving never hits it.
    pub fn read_idle_timeout(mut self, t: Duration) -> Self {
        self.config.read_idle_timeout = t;
        self
    }

    /// Limit on a whole call: connecting, redirects, a stale-connection retry, and
    /// reading the body to its end (default `None`: no limit).
    pub fn total_timeout(mut self, t: Option<Duration>) -> Self {
        self.config.total_timeout = t;
        self
    }

    /// Most redirects followed per call (default 10); 0 returns redirect responses as
    /// they are.
    pub fn max_redirects(mut self, n: usize) -> Self {
        self.config.max_redirects = n;
        self
    }

    /// Whether a redirect from `https` to `http` is followed (default false: it fails
    /// with [`Error::InsecureRedirect`]).
    pub fn allow_https_downgrade(mut self, yes: bool) -> Self {
        self.config.allow_https_downgrade = yes;
        self
    }

    /// Whether the client asks for compressed responses (`Accept-Encoding: gzip, br,
    /// zstd, deflate`) and decodes them (default true). Requests that set their own
    /// `Accept-Encoding`, or a `Range`, get the body as sent.
    pub fn decompress(mut self, yes: bool) -> Self {
        self.config.decompress = yes;
        self
    }

    /// Most decoded bytes per encoded byte received, plus a 1 MiB allowance (default
    /// 100): the cap on decompression bombs. At least 1.
    pub fn max_decompression_ratio(mut self, ratio: u64) -> Self {
        self.config.max_decompression_ratio = ratio;
        self
    }

    /// Most bytes [`ResponseBody::bytes`](crate::client::ResponseBody::bytes) and `text`
    /// buffer (default 32 MiB); each body can change its own with `with_limit`.
    pub fn max_buffered_body_bytes(mut self, n: u64) -> Self {
        self.config.max_buffered_body_bytes = n;
        self
    }

    /// Sends `Expect: 100-continue` with request bodies of at least `threshold` bytes
    /// (and streamed bodies of unknown length), and sends the body only after the server
    /// agreed, or after the continue timeout (default: off).
    pub fn expect_continue(mut self, threshold: Option<u64>) -> Self {
        self.config.expect_continue_threshold = threshold;
        self
    }

    /// How long to wait for `100 Continue` before sending the body anyway (default 1 s).
    pub fn expect_continue_timeout(mut self, t: Duration) -> Self {
        self.config.expect_continue_timeout = t;
        self
    }

    /// The TLS configuration of `https` connections (default: the webpki roots, ALPN
    /// `http/1.1`, 10 s handshake timeout). Offer only `http/1.1` in ALPN, if anything:
    /// a server that picks another protocol is refused.
    ///
    /// ```
    /// use ghostnet_http1::client::Client;
    /// use ghostnet_transport::tls::TlsClientConfig;
    ///
    /// let tls = TlsClientConfig::builder()
    ///     .native_roots(true) // also the system's trust store
    ///     .alpn(["http/1.1"])
    ///     .build()
    ///     .unwrap();
    /// let client = Client::builder().tls(tls).build().unwrap();
    /// # let _ = client;
    /// ```
    pub fn tls(mut self, config: TlsClientConfig) -> Self {
        self.config.tls = Some(config);
        self
    }

    /// A `User-Agent` for requests that do not set one (default: none).
    pub fn user_agent(mut self, value: HeaderValue) -> Self {
        self.config.user_agent = Some(value);
        self
    }
}

/// Per-request overrides of the client's settings: put one in the request's extensions.
///
/// ```
/// use std::time::Duration;
/// use ghostnet_http1::Body;
/// use ghostnet_http1::client::RequestOptions;
/// use http::Request;
///
/// let req = Request::get("http://mirror.test/big.iso")
///     .extension(RequestOptions::new().total_timeout(None).read_idle_timeout(Duration::from_secs(120)))
///     .body(Body::empty())
///     .unwrap();
/// # let _ = req;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestOptions {
    /// Overrides [`ClientBuilder::request_timeout`].
    pub request_timeout: Option<Duration>,
    /// Overrides [`ClientBuilder::read_idle_timeout`].
    pub read_idle_timeout: Option<Duration>,
    /// Overrides [`ClientBuilder::total_timeout`] (`Some(None)`: no limit).
    pub total_timeout: Option<Option<Duration>>,
    /// Overrides [`ClientBuilder::max_redirects`].
    pub max_redirects: Option<usize>,
    /// Overrides [`ClientBuilder::decompress`].
    pub decompress: Option<bool>,
}

impl RequestOptions {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`RequestOptions::request_timeout`].
    pub fn request_timeout(mut self, t: Duration) -> Self {
        self.request_timeout = Some(t);
        self
    }

    /// Sets [`RequestOptions::read_idle_timeout`].
    pub fn read_idle_timeout(mut self, t: Duration) -> Self {
        self.read_idle_timeout = Some(t);
        self
    }

    /// Sets [`RequestOptions::total_timeout`].
    pub fn total_timeout(mut self, t: Option<Duration>) -> Self {
        self.total_timeout = Some(t);
        self
    }

    /// Sets [`RequestOptions::max_redirects`].
    pub fn max_redirects(mut self, n: usize) -> Self {
        self.max_redirects = Some(n);
        self
    }

    /// Sets [`RequestOptions::decompress`].
    pub fn decompress(mut self, yes: bool) -> Self {
        self.decompress = Some(yes);
        self
    }
}

/// The settings in force for one call: the client's, with the request's overrides.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Effective {
    pub(crate) request_timeout: Duration,
    pub(crate) read_idle_timeout: Duration,
    pub(crate) total_timeout: Option<Duration>,
    pub(crate) max_redirects: usize,
    pub(crate) decompress: bool,
}

impl Effective {
    pub(crate) fn new(config: &Config, options: Option<&RequestOptions>) -> Result<Self> {
        let mut e = Self {
            request_timeout: config.request_timeout,
            read_idle_timeout: config.read_idle_timeout,
            total_timeout: config.total_timeout,
            max_redirects: config.max_redirects,
            decompress: config.decompress,
        };
        if let Some(o) = options {
            e.request_timeout = o.request_timeout.unwrap_or(e.request_timeout);
            e.read_idle_timeout = o.read_idle_timeout.unwrap_or(e.read_idle_timeout);
            e.total_timeout = o.total_timeout.unwrap_or(e.total_timeout);
            e.max_redirects = o.max_redirects.unwrap_or(e.max_redirects);
            e.decompress = o.decompress.unwrap_or(e.decompress);
            let zero = |field| {
                Err(Error::InvalidConfig {
                    field,
                    reason: "must be above zero".to_owned(),
                })
            };
            if e.request_timeout.is_zero() {
                return zero("request_timeout");
            }
            if e.read_idle_timeout.is_zero() {
                return zero("read_idle_timeout");
            }
            if e.total_timeout.is_some_and(|t| t.is_zero()) {
                return zero("total_timeout");
            }
        }
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        Config::default().validate().unwrap();
        let bad = |c: ClientBuilder, field: &str| {
            let e = c.config.validate().unwrap_err();
            assert!(
                matches!(&e, Error::InvalidConfig { field: f, .. } if *f == field),
                "{e}"
            );
        };
        bad(
            ClientBuilder::default().request_timeout(Duration::ZERO),
            "request_timeout",
        );
        bad(
            ClientBuilder::default().read_idle_timeout(Duration::ZERO),
            "read_idle_timeout",
        );
        bad(
            ClientBuilder::default().total_timeout(Some(Duration::ZERO)),
            "total_timeout",
        );
        bad(
            ClientBuilder::default().max_decompression_ratio(0),
            "max_decompression_ratio",
        );
        bad(
            ClientBuilder::default().pool(PoolConfig::default().max_per_host(0)),
            "max_per_host",
        );
    }

    #[test]
    fn request_options_override() {
        let c = Config::default();
        let o = RequestOptions::new()
            .total_timeout(Some(Duration::from_secs(3)))
            .max_redirects(0)
            .decompress(false);
        let e = Effective::new(&c, Some(&o)).unwrap();
        assert_eq!(e.total_timeout, Some(Duration::from_secs(3)));
        assert_eq!((e.max_redirects, e.decompress), (0, false));
        assert_eq!(e.request_timeout, DEFAULT_REQUEST_TIMEOUT);
        let zero = RequestOptions::new().read_idle_timeout(Duration::ZERO);
        assert!(Effective::new(&c, Some(&zero)).is_err());
    }
}
