//! [`Client`]: requests over the connection pool, with redirects, the stale-connection
//! retry, and the total timeout.

use std::fmt;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use ghostnet_runtime::Instant;
use ghostnet_transport::pool::{Pool, PoolKey, Pooled};
use ghostnet_transport::tls::{TlsClientConfig, TlsDialer};
use ghostnet_transport::{Dial, Stream, TcpDialer, TlsStream};
use http::header::{ACCEPT_ENCODING, EXPECT, LOCATION, RANGE};
use http::request::Parts;
use http::{Method, Request, Response, StatusCode, Uri};

use crate::body::{Body, Kind};
use crate::client::body::ResponseBody;
use crate::client::config::{ClientBuilder, Config, Effective, RequestOptions};
use crate::client::exchange::{Plan, exchange};
use crate::client::origin::{Endpoint, Endpoints, Scheme};
use crate::client::redirect::{next_hop, rewrite_headers};
use crate::client::send::OutBody;
use crate::client::wire::{Deadlines, WHAT_TOTAL};
use crate::error::{Error, Result};

/// The URI a response came from when redirects were followed: in the response's
/// extensions then (without redirects it is the request's own URI).
///
/// ```no_run
/// # async fn demo() -> ghostnet_http1::Result<()> {
/// use ghostnet_http1::client::{Client, EffectiveUri};
///
/// let response = Client::new().get("http://example.com/old").await?;
/// if let Some(EffectiveUri(final_uri)) = response.extensions().get::<EffectiveUri>() {
///     println!("redirected to {final_uri}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveUri(pub Uri);

/// An HTTP/1.1 client over a connection pool.
///
/// - **Keep-alive**: connections go back to the pool when a response has been read to
///   its end (or drained cheaply when dropped), unless the server said
///   `Connection: close` or spoke HTTP/1.0 without keep-alive. One connection per
///   exchange; no pipelining.
/// - **Stale connections**: a request that meets a pooled connection the server had just
///   closed (no response byte came back) is sent once more on a new connection, when that
///   is safe: an idempotent method (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) and a body
///   that can be sent again. Otherwise the error says why it was not retried.
/// - **Redirects**: 301, 302, 303, 307, 308 are followed up to 10 times, with the method
///   and body rules of browsers, `Location` resolved against the current URI,
///   `Authorization`, `Cookie` and `Proxy-Authorization` dropped when the origin changes,
///   and no `https` → `http` downgrade unless allowed.
/// - **Timeouts**: connect and pool queueing (the pool's), the response head, each body
///   read (read-idle), and optionally the whole call. See [`ClientBuilder`].
/// - **Compression**: asks for gzip, br, zstd and deflate, and decodes them with a cap
///   on decompression bombs.
///
/// `http` URLs go over the dialer `D` (TCP by default, or any [`Dial`], such as the
/// in-memory transport for tests), `https` URLs over a [`TlsDialer`] on top of it (see
/// [`ClientBuilder::tls`]). Each scheme has its own pool; clones share them.
///
/// ```
/// use ghostnet_http1::client::Client;
/// use ghostnet_http1::{Body, Server};
/// use ghostnet_runtime::Shutdown;
/// use ghostnet_transport::MemoryNetwork;
/// use http::{Request, Response};
///
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// let net = MemoryNetwork::new();
/// let listener = net.listen(&"api.test:80".parse().unwrap()).unwrap();
/// let shutdown = Shutdown::new();
/// let hello = |_req: Request<Body>| async { Response::new(Body::from("hello")) };
/// tokio::spawn(Server::builder().build().serve(listener, hello, shutdown.clone()));
///
/// let client = Client::builder().build_with_dialer(net.dialer()).unwrap();
/// for _ in 0..3 {
///     let response = client.get("http://api.test/").await.unwrap();
///     assert_eq!(response.status(), 200);
///     assert_eq!(response.into_body().text().await.unwrap(), "hello");
/// }
/// let stats = client.http_pool().stats();
/// assert_eq!((stats.created, stats.reused), (1, 2));
/// shutdown.trigger();
/// # }).unwrap();
/// ```
pub struct Client<D: Dial + Clone = TcpDialer> {
    inner: Arc<Shared<D>>,
}

struct Shared<D: Dial> {
    dialer: D,
    http: Pool<D>,
    /// Made at the first `https` request.
    https: OnceLock<Pool<TlsDialer<D>>>,
    config: Config,
    endpoints: Endpoints,
}

impl Client {
    /// A client with the default settings over TCP.
    pub fn new() -> Self {
        Self::with_parts(TcpDialer::new(), Config::default())
    }

    /// A builder with the default settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientBuilder {
    /// A client over TCP.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] naming the first unusable setting.
    pub fn build(self) -> Result<Client> {
        self.build_with_dialer(TcpDialer::new())
    }

    /// A client whose `http` connections come from `dialer` (TCP with custom options,
    /// the in-memory transport, a proxy dialer).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] naming the first unusable setting.
    pub fn build_with_dialer<D: Dial + Clone>(self, dialer: D) -> Result<Client<D>> {
        self.config.validate()?;
        Ok(Client::with_parts(dialer, self.config))
    }
}

impl<D: Dial + Clone> Client<D> {
    fn with_parts(dialer: D, config: Config) -> Self {
        // `Pool::new` takes the defaults; the config was validated by the builder.
        let http = Pool::with_config(dialer.clone(), config.pool.clone())
            .unwrap_or_else(|_| Pool::new(dialer.clone()));
        Self {
            inner: Arc::new(Shared {
                dialer,
                http,
                https: OnceLock::new(),
                config,
                endpoints: Endpoints::default(),
            }),
        }
    }

    /// Sends `req` and returns the response once its head has arrived; the body is read
    /// from the returned [`ResponseBody`]. Per-request settings come from a
    /// [`RequestOptions`] in the request's extensions.
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidUrl`], [`Error::UnsupportedScheme`], [`Error::InvalidRequest`]:
    ///   the request cannot be sent as given.
    /// - [`Error::Connect`]: no connection (DNS, refused, TLS, pool timeout).
    /// - [`Error::NoResponse`]: the connection broke before any response byte (after the
    ///   retry, or saying why there was none).
    /// - [`Error::Timeout`]: the request, read-idle or total timeout passed.
    /// - [`Error::TooManyRedirects`], [`Error::InvalidRedirect`],
    ///   [`Error::InsecureRedirect`]: a redirect could not be followed.
    /// - Protocol errors ([`Error::InvalidHead`], [`Error::HeadTooLarge`], ...) for a
    ///   malformed response.
    pub async fn request(&self, req: Request<Body>) -> Result<Response<ResponseBody>> {
        let effective =
            Effective::new(&self.inner.config, req.extensions().get::<RequestOptions>())?;
        match effective.total_timeout {
            None => self.follow(req, &effective, None).await,
            Some(limit) => {
                let deadline = Instant::now() + limit;
                let call = self.follow(req, &effective, Some((deadline, limit)));
                ghostnet_runtime::timeout(limit, call)
                    .await
                    .map_err(|_| Error::Timeout {
                        what: WHAT_TOTAL,
                        after: limit,
                    })?
            }
        }
    }

    /// Sends a GET request for `url`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUrl`] when `url` does not parse; otherwise as
    /// [`request`](Self::request).
    pub async fn get(&self, url: &str) -> Result<Response<ResponseBody>> {
        let uri: Uri = url.parse().map_err(|_| Error::InvalidUrl {
            url: url.to_owned(),
            reason: "it does not parse as a URL; give an absolute URL like http://example.com/path",
        })?;
        let mut req = Request::new(Body::empty());
        *req.uri_mut() = uri;
        self.request(req).await
    }

    /// The pool of `http` connections (statistics, close).
    pub fn http_pool(&self) -> &Pool<D> {
        &self.inner.http
    }

    /// The pool of `https` connections, once the first `https` request made it.
    pub fn https_pool(&self) -> Option<&Pool<TlsDialer<D>>> {
        self.inner.https.get()
    }

    /// Takes an `https` connection dialed elsewhere into the client's `https` pool, idle,
    /// so that the next request to its origin goes out on it instead of on a new
    /// connection. `key` is the origin's, as
    /// [`Origin::key`](crate::client::origin::Origin::key) makes it.
    ///
    /// For a TLS connection whose server answered `http/1.1` in ALPN to a dialer that
    /// offered `h2` too (ghostnet-http's `HttpClient` does this): one handshake, not two.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when the server chose another protocol than HTTP/1.1 in
    /// ALPN; [`Error::Connect`] when the pool is closed, or at its limit for longer than
    /// its wait timeout. The connection is closed then.
    pub async fn adopt_https(&self, key: &PoolKey, stream: TlsStream<D::Stream>) -> Result<()> {
        if let Some(p) = stream.info().alpn
            && p != b"http/1.1"
        {
            return Err(wrong_alpn(&p));
        }
        let pool = self.tls_pool()?;
        // Dropped at once: back in the pool, idle, for the request about to be sent.
        drop(pool.adopt(key, stream).await.map_err(Error::Connect)?);
        Ok(())
    }

    /// The `https` pool, made on first use with the configured (or default) TLS.
    fn tls_pool(&self) -> Result<&Pool<TlsDialer<D>>> {
        if let Some(pool) = self.inner.https.get() {
            return Ok(pool);
        }
        let config = &self.inner.config;
        let tls = match &config.tls {
            Some(tls) => tls.clone(),
            None => TlsClientConfig::builder()
                .alpn(["http/1.1"])
                .build()
                .map_err(Error::Connect)?,
        };
        let dialer = TlsDialer::new(self.inner.dialer.clone(), tls);
        let pool = Pool::with_config(dialer, config.pool.clone()).map_err(Error::Connect)?;
        // Two first requests at once may both build one; the second is dropped unused.
        Ok(self.inner.https.get_or_init(|| pool))
    }

    /// Follows redirects until a final response.
    async fn follow(
        &self,
        req: Request<Body>,
        effective: &Effective,
        total: Option<(Instant, std::time::Duration)>,
    ) -> Result<Response<ResponseBody>> {
        let (mut parts, body) = req.into_parts();
        let mut payload = Payload::new(body);
        let mut hops = 0;
        loop {
            let endpoint = self.inner.endpoints.get(&parts.uri)?;
            let mut response = self
                .send(&endpoint, &parts, &mut payload, effective, total)
                .await?;
            let hop = if effective.max_redirects == 0 {
                None
            } else {
                next_hop(
                    response.status(),
                    &parts.method,
                    response.headers().get(LOCATION),
                    &parts.uri,
                    &endpoint.origin,
                    self.inner.config.allow_https_downgrade,
                )?
            };
            // A streamed body cannot be sent again: the caller gets the redirect itself.
            let Some(hop) = hop.filter(|h| !h.keep_body || payload.is_replayable()) else {
                if hops > 0 {
                    response.extensions_mut().insert(EffectiveUri(parts.uri));
                }
                return Ok(response);
            };
            hops += 1;
            if hops > effective.max_redirects {
                return Err(Error::TooManyRedirects {
                    limit: effective.max_redirects,
                    last: hop.uri.to_string(),
                });
            }
            // Dropping the body drains a short one, so its connection serves the next hop.
            drop(response);
            rewrite_headers(&mut parts.headers, &hop);
            if !hop.keep_body {
                payload = Payload::Bytes(Bytes::new());
            }
            tracing::debug!(from = %parts.uri, to = %hop.uri, "following redirect");
            parts.method = hop.method;
            parts.uri = hop.uri;
        }
    }

    /// One hop: the request to `origin`, with the stale-connection retry.
    async fn send(
        &self,
        endpoint: &Endpoint,
        parts: &Parts,
        payload: &mut Payload,
        effective: &Effective,
        total: Option<(Instant, std::time::Duration)>,
    ) -> Result<Response<ResponseBody>> {
        let config = &self.inner.config;
        let decompress = effective.decompress
            && !parts.headers.contains_key(ACCEPT_ENCODING)
            && !parts.headers.contains_key(RANGE);
        let plan = Plan {
            method: &parts.method,
            uri: &parts.uri,
            headers: &parts.headers,
            host: endpoint.host.clone(),
            user_agent: config.user_agent.as_ref(),
            limits: &config.limits,
            request_timeout: effective.request_timeout,
            deadlines: Deadlines {
                idle: effective.read_idle_timeout,
                total,
            },
            decompress,
            max_decompression_ratio: config.max_decompression_ratio,
            max_buffered_body_bytes: config.max_buffered_body_bytes,
            expect_continue_threshold: config.expect_continue_threshold,
            expect_continue_timeout: config.expect_continue_timeout,
        };
        match endpoint.origin.scheme {
            Scheme::Http => send_with_retry(&self.inner.http, &endpoint.key, &plan, payload).await,
            Scheme::Https => send_with_retry(self.tls_pool()?, &endpoint.key, &plan, payload).await,
        }
    }
}

/// Sends with the stale-connection retry, and once more without `Expect: 100-continue`
/// when the server answered 417 to it (RFC 9110 section 10.1.1).
async fn send_with_retry<D: Dial>(
    pool: &Pool<D>,
    key: &PoolKey,
    plan: &Plan<'_>,
    payload: &mut Payload,
) -> Result<Response<ResponseBody>> {
    let response = send_fresh_if_stale(pool, key, plan, payload).await?;
    let expected = payload.len() != Some(0) && plan.expects_continue(payload.len());
    if response.status() != StatusCode::EXPECTATION_FAILED || !expected || !payload.is_replayable()
    {
        return Ok(response);
    }
    drop(response);
    tracing::debug!(%key, "417 to Expect: 100-continue; sending again without it");
    let mut headers = plan.headers.clone();
    headers.remove(EXPECT);
    let plain = Plan {
        headers: &headers,
        host: plan.host.clone(),
        expect_continue_threshold: None,
        ..*plan
    };
    send_fresh_if_stale(pool, key, &plain, payload).await
}

/// Sends on a pooled connection; when a reused connection turns out to have been closed
/// by the server (no response byte came), sends once more on a new one, if safe.
async fn send_fresh_if_stale<D: Dial>(
    pool: &Pool<D>,
    key: &PoolKey,
    plan: &Plan<'_>,
    payload: &mut Payload,
) -> Result<Response<ResponseBody>> {
    let conn = pool.get(key).await.map_err(Error::Connect)?;
    let reused = conn.is_reused();
    let conn = if reused { conn } else { check_alpn(conn)? };
    let failure = match exchange(conn, plan, payload.take()?).await {
        Ok(response) => return Ok(response),
        Err(f) if !f.unanswered => return Err(f.error),
        Err(f) => f,
    };
    let not_retried = if !reused {
        Some("it went out on a new connection, so this was no stale keep-alive connection")
    } else if !is_idempotent(plan.method) {
        Some("the method is not idempotent; send it again yourself if repeating it is safe")
    } else if !payload.is_replayable() {
        Some("its body was a stream, which cannot be sent twice")
    } else {
        None
    };
    if let Some(why) = not_retried {
        return Err(no_response(plan.method, Some(why), failure.error));
    }
    tracing::debug!(%key, "pooled connection was stale; retrying once on a new connection");
    let conn = check_alpn(pool.get_new(key).await.map_err(Error::Connect)?)?;
    match exchange(conn, plan, payload.take()?).await {
        Ok(response) => Ok(response),
        Err(f) if f.unanswered => Err(no_response(plan.method, None, f.error)),
        Err(f) => Err(f.error),
    }
}

/// A TLS server that chose another protocol than HTTP/1.1 in ALPN (the caller's TLS
/// config offered it) would get HTTP/1.1 bytes it cannot read.
/// Such a connection is closed, not pooled.
fn check_alpn<S: Stream>(conn: Pooled<S>) -> Result<Pooled<S>> {
    match conn.info().alpn {
        Some(p) if p != b"http/1.1" => {
            conn.discard();
            Err(wrong_alpn(&p))
        }
        _ => Ok(conn),
    }
}

/// A TLS connection on which the server chose `protocol` in ALPN, not HTTP/1.1.
fn wrong_alpn(protocol: &[u8]) -> Error {
    Error::InvalidConfig {
        field: "tls",
        reason: format!(
            "the server chose ALPN protocol {:?}; offer only http/1.1 in the client's TLS config",
            String::from_utf8_lossy(protocol)
        ),
    }
}

fn no_response(method: &Method, not_retried: Option<&'static str>, cause: Error) -> Error {
    Error::NoResponse {
        method: method.clone(),
        not_retried,
        source: match cause {
            Error::Io(e) => Some(e),
            _ => None,
        },
    }
}

/// RFC 9110 section 9.2.2: methods whose repetition has the effect of one request.
fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

/// A request body across redirects and retries: bytes can be sent again, a stream once.
enum Payload {
    Bytes(Bytes),
    Stream(Option<Body>),
}

impl Payload {
    fn new(mut body: Body) -> Self {
        match &mut body.kind {
            Kind::Empty => Self::Bytes(Bytes::new()),
            Kind::Full(b) => Self::Bytes(b.take().unwrap_or_default()),
            Kind::Channel { .. } | Kind::File(_) => Self::Stream(Some(body)),
        }
    }

    fn is_replayable(&self) -> bool {
        matches!(self, Self::Bytes(_))
    }

    /// The body's length, when known (`None` for a stream without one).
    fn len(&self) -> Option<u64> {
        match self {
            Self::Bytes(b) => Some(b.len() as u64),
            Self::Stream(s) => s.as_ref().and_then(Body::size_hint),
        }
    }

    fn take(&mut self) -> Result<OutBody> {
        match self {
            Self::Bytes(b) => Ok(OutBody::Bytes(b.clone())),
            Self::Stream(s) => s.take().map(OutBody::Stream).ok_or(Error::BodyClosed),
        }
    }
}

impl<D: Dial + Clone> Clone for Client<D> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<D: Dial + Clone> fmt::Debug for Client<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("http_pool", &self.inner.http.stats())
            .field("https_pool", &self.inner.https.get().map(Pool::stats))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotent_methods() {
        for m in [
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
            Method::TRACE,
        ] {
            assert!(is_idempotent(&m), "{m}");
        }
        for m in [Method::POST, Method::PATCH, Method::CONNECT] {
            assert!(!is_idempotent(&m), "{m}");
        }
    }

    #[test]
    fn clients_and_their_futures_cross_threads() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: &T) {}
        let client = Client::new();
        send_sync(&client);
        let memory = Client::builder()
            .build_with_dialer(ghostnet_transport::MemoryNetwork::new().dialer())
            .unwrap();
        send_sync(&memory);
        // `tokio::spawn(client.request(...))` needs the future to be Send.
        send(&client.get("http://a.test/"));
        send(&memory.request(Request::new(Body::empty())));
        send(&ResponseBody::empty());
    }

    #[test]
    fn payloads_replay_bytes_but_not_streams() {
        let mut p = Payload::new(Body::from("abc"));
        assert!(p.is_replayable());
        assert!(matches!(p.take().unwrap(), OutBody::Bytes(b) if b == "abc"));
        assert!(matches!(p.take().unwrap(), OutBody::Bytes(b) if b == "abc"));
        let (_tx, stream) = Body::channel();
        let mut p = Payload::new(stream);
        assert!(!p.is_replayable());
        assert!(matches!(p.take().unwrap(), OutBody::Stream(_)));
        assert!(p.take().is_err());
    }
}
