//! [`HttpClient`]: one client over HTTP/1.1 and HTTP/2: protocol choice per origin,
//! fallback, redirects, retries and rate limiting around the protocol crates' clients.

use std::fmt;
use std::sync::Arc;

use ghostnet_http1::client::origin::{Origin, Scheme};
use ghostnet_http1::client::redirect::{is_redirect, next_hop, rewrite_headers};
use ghostnet_resilience::FailureKind;
use ghostnet_transport::tls::{TlsClientConfig, TlsDialer};
use ghostnet_transport::{Dial, TcpDialer};
use http::header::{LOCATION, RETRY_AFTER, USER_AGENT};
use http::{HeaderMap, Method, Request, Uri};

use super::config::{ClientConfig, Protocol};
use super::h2_body::{H2Body, ask_for_compression};
use super::h2_pool::{H2Establish, H2Pool, NoHandoff, from_pool_error};
use super::protocol_cache::ProtocolCache;
use super::request::{Payload, RequestBuilder};
use super::response::{Response, ResponseBody};
use crate::body::Body;
use crate::error::{Error, Result};

/// What the per-attempt timeout waits for.
const WHAT_HEAD: &str = "the response head";

/// An HTTP client over HTTP/1.1 and HTTP/2 (HTTP/3 once QUIC lands).
///
/// - **Protocol choice**: for `https`, TLS ALPN offers the preferred protocols and the
///   server picks `h2` or `http/1.1` (an `http/1.1` answer is served on that same
///   connection, not a second one); for `http`, HTTP/1.1 unless h2 prior knowledge is
///   on (h2c). The protocol that worked is remembered per origin for a while
///   ([`ClientConfig::protocol_cache_ttl`]) and tried first; a connection failure with
///   one protocol falls back to the next ([`ClientConfig::fallback`]).
/// - **HTTP/1.1** requests go through [`ghostnet_http1::client::Client`] (keep-alive
///   pool, stale-connection retry, decompression); **HTTP/2** requests are multiplexed on
///   pooled connections of ghostnet-http2's client.
/// - **Compression** ([`ClientConfig::compression`]): both protocols ask for gzip, br,
///   zstd and deflate and decode them with the same decoder
///   ([`ghostnet_http1::coding::Decoding`]), with a cap on decompression bombs.
/// - **Redirects** follow the rules of [`ghostnet_http1::client::redirect`] for both
///   protocols, and may change protocol between origins.
/// - **Resilience**: an optional [`RateLimiter`](ghostnet_resilience::RateLimiter) that
///   every request waits on, and an optional [`RetryPolicy`](ghostnet_resilience::RetryPolicy)
///   for idempotent requests (errors and retryable statuses).
///
/// Clones share pools, cache and limiter.
///
/// ```
/// use ghostnet_http::client::{ClientConfig, HttpClient};
/// use ghostnet_http::{Request, Router, Server, get};
/// use ghostnet_runtime::Shutdown;
/// use ghostnet_transport::MemoryNetwork;
///
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// let net = MemoryNetwork::new();
/// let listener = net.listen(&"api.test:80".parse().unwrap()).unwrap();
/// let shutdown = Shutdown::new();
/// let router = Router::new().route("/hello", get(|_req: Request| async { "hello" }));
/// tokio::spawn(Server::builder().build().unwrap().serve(listener, router, shutdown.clone()));
///
/// let client = HttpClient::with_dialer(ClientConfig::default(), net.dialer()).unwrap();
/// let response = client.get("http://api.test/hello").await.unwrap();
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.text().await.unwrap(), "hello");
/// shutdown.shutdown().await;
/// # }).unwrap();
/// ```
pub struct HttpClient<D: Dial + Clone = TcpDialer> {
    inner: Arc<Inner<D>>,
}

struct Inner<D: Dial + Clone> {
    config: ClientConfig,
    h1: ghostnet_http1::client::Client<D>,
    h2c: H2Pool<D>,
    /// Connections on which the server answered `http/1.1` in ALPN go to `h1`'s pool.
    h2_tls: H2Pool<TlsDialer<D>, ghostnet_http1::client::Client<D>>,
    cache: ProtocolCache,
}

impl HttpClient {
    /// A client over TCP.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] naming the first unusable setting, or the TLS setup's
    /// error.
    pub fn new(config: ClientConfig) -> Result<Self> {
        Self::with_dialer(config, TcpDialer::new())
    }
}

impl<D: Dial + Clone> HttpClient<D> {
    /// A client whose connections come from `dialer` (TCP with options, the in-memory
    /// transport, a proxy); `https` runs TLS over it.
    ///
    /// # Errors
    ///
    /// As [`HttpClient::new`].
    pub fn with_dialer(config: ClientConfig, dialer: D) -> Result<Self> {
        config.validate()?;
        let base_tls = match &config.tls {
            Some(tls) => tls.clone(),
            None => TlsClientConfig::builder().build()?,
        };
        let mut h1 = ghostnet_http1::client::Client::builder()
            .pool(config.pool.clone())
            .request_timeout(config.timeout)
            .read_idle_timeout(config.read_idle_timeout)
            // Redirects are followed here, the same way for every protocol.
            .max_redirects(0)
            .decompress(config.compression)
            .max_buffered_body_bytes(config.max_buffered_body_bytes)
            .tls(with_alpn(&base_tls, &[b"http/1.1"])?);
        if let Some(ua) = &config.user_agent {
            h1 = h1.user_agent(ua.clone());
        }
        let h1 = h1.build_with_dialer(dialer.clone())?;
        let h2_alpn: &[&[u8]] = if config.protocols.contains(&Protocol::Http11) {
            &[b"h2", b"http/1.1"]
        } else {
            &[b"h2"]
        };
        let establish = H2Establish {
            settings: config.http2.clone(),
            http1: NoHandoff,
        };
        let h2c = H2Pool::with_config(dialer.clone(), establish, config.h2_pool())?;
        let tls_dialer = TlsDialer::new(dialer, with_alpn(&base_tls, h2_alpn)?);
        let establish = H2Establish {
            settings: config.http2.clone(),
            http1: h1.clone(),
        };
        let h2_tls = H2Pool::with_config(tls_dialer, establish, config.h2_pool())?;
        Ok(Self {
            inner: Arc::new(Inner {
                cache: ProtocolCache::new(config.protocol_cache_ttl),
                config,
                h1,
                h2c,
                h2_tls,
            }),
        })
    }

    /// The settings the client runs with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// A GET request for `url`; await it for the response.
    pub fn get(&self, url: &str) -> RequestBuilder<D> {
        self.request(Method::GET, url)
    }

    /// A POST request for `url`; add a body, then await it.
    pub fn post(&self, url: &str) -> RequestBuilder<D> {
        self.request(Method::POST, url)
    }

    /// A PUT request for `url`.
    pub fn put(&self, url: &str) -> RequestBuilder<D> {
        self.request(Method::PUT, url)
    }

    /// A DELETE request for `url`.
    pub fn delete(&self, url: &str) -> RequestBuilder<D> {
        self.request(Method::DELETE, url)
    }

    /// A HEAD request for `url`.
    pub fn head(&self, url: &str) -> RequestBuilder<D> {
        self.request(Method::HEAD, url)
    }

    /// A request with any method for `url`.
    pub fn request(&self, method: Method, url: &str) -> RequestBuilder<D> {
        RequestBuilder::new(self.clone(), method, url)
    }

    /// The protocol remembered for `url`'s origin, if any is (and its TTL has not
    /// passed).
    pub fn cached_protocol(&self, url: &str) -> Option<Protocol> {
        let uri = super::request::parse_url(url).ok()?;
        let origin = Origin::of(&uri).ok()?;
        self.inner.cache.get(&origin)
    }

    /// The protocol requests to `origin` will use, when that is settled: remembered,
    /// or the only candidate (HTTP/1.1 for plain `http`, h2c when only HTTP/2 is
    /// allowed).
    pub(crate) fn known_protocol(&self, origin: &Origin) -> Option<Protocol> {
        self.inner
            .cache
            .get(origin)
            .or_else(|| match self.candidates(origin) {
                Ok(list) if list.len() == 1 => list.first().copied(),
                _ => None,
            })
    }

    /// Sends a prepared `http::Request`. A body that is all in memory (`Body::from`
    /// bytes or a string, or empty) may be sent again on retries, redirects and protocol
    /// fallback; a streaming body is sent once, as with [`RequestBuilder::body_stream`].
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidUrl`], [`Error::InvalidRequest`]: the request cannot be sent.
    /// - [`Error::ProtocolUnavailable`]: no configured protocol can serve the URL.
    /// - [`Error::Timeout`]: no response head within [`ClientConfig::timeout`].
    /// - [`Error::Http1`], [`Error::Http2`], [`Error::Transport`]: the protocol or the
    ///   connection failed (after fallback and retries, if configured).
    pub async fn execute(&self, req: Request<Body>) -> Result<Response> {
        let (parts, body) = req.into_parts();
        let uri = super::request::absolute(parts.uri)?;
        self.execute_parts(parts.method, uri, parts.headers, Payload::from_body(body))
            .await
    }

    /// Sends a request, with the retry policy when one is set and the request may be
    /// repeated.
    pub(crate) async fn execute_parts(
        &self,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        payload: Payload,
    ) -> Result<Response> {
        let policy = self
            .inner
            .config
            .retry
            .as_ref()
            .filter(|_| payload.is_replayable() && is_idempotent(&method));
        let Some(policy) = policy else {
            return self.follow(method, uri, headers, &payload).await;
        };
        let attempt = |_| {
            let (method, uri, headers) = (method.clone(), uri.clone(), headers.clone());
            let payload = &payload;
            async move {
                let response = self
                    .follow(method, uri, headers, payload)
                    .await
                    .map_err(Attempt::Failed)?;
                match status_failure(&response) {
                    FailureKind::Permanent => Ok(response),
                    kind => Err(Attempt::Status(Box::new(response), kind)),
                }
            }
        };
        match policy.run(attempt).await {
            Ok(response) => Ok(response),
            Err(e) => match e.into_inner() {
                Attempt::Failed(e) => Err(e),
                // Out of retries: the caller gets the server's last word.
                Attempt::Status(response, _) => Ok(*response),
            },
        }
    }

    /// One attempt: the request and the redirects it leads to.
    async fn follow(
        &self,
        mut method: Method,
        mut uri: Uri,
        mut headers: HeaderMap,
        payload: &Payload,
    ) -> Result<Response> {
        static NO_BODY: Payload = Payload::Bytes(bytes::Bytes::new());
        let max_redirects = self.inner.config.max_redirects;
        let mut body = payload;
        let mut hops = 0;
        loop {
            let origin = Origin::of(&uri)?;
            let response = self
                .send_hop(&origin, &method, &uri, &headers, body)
                .await?;
            if max_redirects == 0 || !is_redirect(response.status()) {
                return Ok(response);
            }
            let hop = next_hop(
                response.status(),
                &method,
                response.headers().get(LOCATION),
                &uri,
                &origin,
                false,
            )?;
            // A streamed body cannot be sent again: the caller gets the redirect itself.
            let Some(hop) = hop.filter(|h| !h.keep_body || body.is_replayable()) else {
                return Ok(response);
            };
            hops += 1;
            if hops > max_redirects {
                return Err(Error::Http1(ghostnet_http1::Error::TooManyRedirects {
                    limit: max_redirects,
                    last: hop.uri.to_string(),
                }));
            }
            drop(response);
            rewrite_headers(&mut headers, &hop);
            if !hop.keep_body {
                body = &NO_BODY;
            }
            tracing::debug!(from = %uri, to = %hop.uri, "following redirect");
            method = hop.method;
            uri = hop.uri;
        }
    }

    /// One request to one origin: the rate limit, then the protocols in order within
    /// the timeout.
    async fn send_hop(
        &self,
        origin: &Origin,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        payload: &Payload,
    ) -> Result<Response> {
        let config = &self.inner.config;
        if let Some(limiter) = &config.rate_limiter {
            limiter.until_ready().await;
        }
        let limit = config.timeout;
        ghostnet_runtime::timeout(limit, self.dispatch(origin, method, uri, headers, payload))
            .await
            .map_err(|_| Error::Timeout {
                what: WHAT_HEAD,
                after: limit,
            })?
    }

    /// Tries the candidate protocols for `origin` in order; the first that answers is
    /// remembered.
    async fn dispatch(
        &self,
        origin: &Origin,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        payload: &Payload,
    ) -> Result<Response> {
        let candidates = self.candidates(origin)?;
        let mut failures = candidates.len();
        for protocol in candidates {
            failures -= 1;
            let sent = match protocol {
                Protocol::H2 => self.send_h2(origin, method, uri, headers, payload).await,
                _ => self.send_h1(method, uri, headers, payload).await,
            };
            let failure = match sent {
                Ok(response) => {
                    self.inner.cache.record(origin, protocol);
                    return Ok(response);
                }
                Err(f) => f,
            };
            let may_switch = failure.server_chose_other
                || (self.inner.config.fallback && failure.before_response);
            if failures == 0 || !may_switch || !payload.is_available() {
                return Err(failure.error);
            }
            self.inner.cache.forget(origin);
            if failure.server_chose_other {
                tracing::debug!(%origin, "the server chose http/1.1 in ALPN");
            } else {
                tracing::debug!(%origin, %protocol, error = %failure.error, "falling back to the next protocol");
            }
        }
        // Not reached: the last candidate returns its own error.
        Err(Error::ProtocolUnavailable {
            origin: origin.to_string(),
            reason: "no protocol answered",
        })
    }

    /// The protocols that can serve `origin`, in preference order, the cached one first.
    fn candidates(&self, origin: &Origin) -> Result<Vec<Protocol>> {
        let config = &self.inner.config;
        let https = origin.scheme() == Scheme::Https;
        let mut list: Vec<Protocol> = Vec::with_capacity(2);
        for &p in &config.protocols {
            let usable = match p {
                Protocol::H2 => https || config.h2_prior_knowledge,
                p => p.is_available(),
            };
            if usable && !list.contains(&p) {
                list.push(p);
            }
        }
        if list.is_empty() {
            let reason = if config.protocols.contains(&Protocol::H2) {
                "http:// URLs speak HTTP/2 only with h2_prior_knowledge; turn it on or add Protocol::Http11"
            } else {
                "HTTP/3 is not available yet (QUIC has not landed); add Protocol::H2 or Protocol::Http11"
            };
            return Err(Error::ProtocolUnavailable {
                origin: origin.to_string(),
                reason,
            });
        }
        if let Some(cached) = self.inner.cache.get(origin)
            && let Some(pos) = list.iter().position(|&p| p == cached)
        {
            list[..=pos].rotate_right(1);
        }
        Ok(list)
    }

    /// Over HTTP/1.1, through the HTTP/1.1 client.
    async fn send_h1(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        payload: &Payload,
    ) -> Result<Response, Failure> {
        let body = payload.take().map_err(Failure::after)?;
        let mut req = Request::new(body.into_http1());
        *req.method_mut() = method.clone();
        *req.uri_mut() = uri.clone();
        *req.headers_mut() = headers.clone();
        match self.inner.h1.request(req).await {
            Ok(response) => {
                let (parts, body) = response.into_parts();
                let limit = self.inner.config.max_buffered_body_bytes;
                let body = ResponseBody::http1(body, limit);
                Ok(Response::new(parts, uri.clone(), Protocol::Http11, body))
            }
            Err(e) => Err(Failure {
                before_response: matches!(e, ghostnet_http1::Error::Connect(_)),
                server_chose_other: false,
                error: e.into(),
            }),
        }
    }

    /// Over HTTP/2, on a pooled (shared) connection; a stream the server refused or cut
    /// by a graceful GOAWAY goes once more on another connection.
    async fn send_h2(
        &self,
        origin: &Origin,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        payload: &Payload,
    ) -> Result<Response, Failure> {
        let inner = &*self.inner;
        let key = origin.key().map_err(|e| Failure::after(e.into()))?;
        let mut tries = 0;
        loop {
            tries += 1;
            let share = match origin.scheme() {
                Scheme::Https => inner.h2_tls.get(&key).await,
                Scheme::Http => inner.h2c.get(&key).await,
            };
            let mut share = share.map_err(|e| {
                let error = from_pool_error(e);
                Failure {
                    server_chose_other: matches!(
                        error,
                        Error::Http2(ghostnet_http2::Error::AlpnMismatch { .. })
                    ),
                    before_response: true,
                    error,
                }
            })?;
            let body = payload.take().map_err(Failure::after)?;
            let mut req = Request::new(body.into_http2());
            *req.method_mut() = method.clone();
            *req.uri_mut() = uri.clone();
            *req.headers_mut() = headers.clone();
            if let Some(ua) = &inner.config.user_agent
                && !headers.contains_key(USER_AGENT)
            {
                req.headers_mut().insert(USER_AGENT, ua.clone());
            }
            let decompress = ask_for_compression(inner.config.compression, req.headers_mut());
            match share.0.send(req).await {
                Ok(response) => {
                    let (mut parts, body) = response.into_parts();
                    let limit = inner.config.max_buffered_body_bytes;
                    // With multiplexing, the pool's slot is given back with the head:
                    // a response the caller has not read yet (a batch reads bodies
                    // after all heads) must not keep later requests off the
                    // connection; h2 queues streams past the server's limit itself.
                    let share = (!inner.config.http2_multiplexing).then_some(share);
                    let body = H2Body::new(method, &mut parts, body, decompress, share);
                    let body = ResponseBody::http2(body, limit);
                    return Ok(Response::new(parts, uri.clone(), Protocol::H2, body));
                }
                Err(e) => {
                    let connection_failed = matches!(
                        e,
                        ghostnet_http2::Error::Io(_)
                            | ghostnet_http2::Error::ConnectionClosed
                            | ghostnet_http2::Error::GoAway { .. }
                            | ghostnet_http2::Error::Protocol(_)
                            | ghostnet_http2::Error::KeepaliveTimeout(_)
                    );
                    if connection_failed {
                        share.mark_broken();
                    }
                    if e.is_retryable() && tries == 1 && payload.is_replayable() {
                        tracing::debug!(%origin, "stream refused; sending once more");
                        continue;
                    }
                    return Err(Failure {
                        // A new connection that failed at once: the server does not
                        // speak HTTP/2 there (an HTTP/1.1 server answering a preface).
                        before_response: connection_failed && !share.is_reused(),
                        server_chose_other: false,
                        error: e.into(),
                    });
                }
            }
        }
    }
}

/// Why one protocol could not carry a request.
struct Failure {
    error: Error,
    /// Nothing was answered: another protocol may try.
    before_response: bool,
    /// TLS ALPN picked another protocol than the one tried.
    server_chose_other: bool,
}

impl Failure {
    fn after(error: Error) -> Self {
        Self {
            error,
            before_response: false,
            server_chose_other: false,
        }
    }
}

/// One failed attempt, as the retry policy sees it.
enum Attempt {
    Failed(Error),
    /// A response whose status is worth another try (5xx, 429, 408).
    Status(Box<Response>, FailureKind),
}

impl ghostnet_resilience::Classify for Attempt {
    fn classify(&self) -> FailureKind {
        match self {
            Self::Failed(e) => e.classify(),
            Self::Status(_, kind) => *kind,
        }
    }
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed(e) => e.fmt(f),
            Self::Status(r, _) => write!(f, "status {} from {}", r.status(), r.url()),
        }
    }
}

/// The failure kind of a response's status, with its `Retry-After`.
fn status_failure(response: &Response) -> FailureKind {
    let status = response.status().as_u16();
    if status < 400 {
        return FailureKind::Permanent;
    }
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| ghostnet_resilience::parse_retry_after(v, std::time::SystemTime::now()).ok());
    FailureKind::for_status(status, retry_after)
}

/// RFC 9110 section 9.2.2: methods whose repetition has the effect of one request.
fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

/// `base` with its ALPN list replaced.
fn with_alpn(base: &TlsClientConfig, alpn: &[&[u8]]) -> Result<TlsClientConfig> {
    let mut rustls = (**base.rustls_config()).clone();
    rustls.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(TlsClientConfig::from_rustls(Arc::new(rustls))
        .with_handshake_timeout(base.handshake_timeout())?)
}

impl<D: Dial + Clone> Clone for HttpClient<D> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<D: Dial + Clone> fmt::Debug for HttpClient<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("config", &self.inner.config)
            .field("http1", &self.inner.h1)
            .field("h2c_pool", &self.inner.h2c.stats())
            .field("h2_tls_pool", &self.inner.h2_tls.stats())
            .finish()
    }
}
