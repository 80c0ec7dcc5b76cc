//! [`Server`]: one service over HTTP/1.1 and HTTP/2 on one listener.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ghostnet_http1::upgrade::{self, OnUpgrade};
use ghostnet_http2::{Settings, h2c};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::{Listen, Stream, accept_until};
use tokio_util::sync::CancellationToken;

use crate::body::Body;
use crate::error::{Error, Result};
use crate::guard::guarded;
use crate::handler::Service;
use crate::serve::{self, Proto, Rewind};

/// Default for [`ServerBuilder::detect_timeout`]: 30 s, as HTTP/1.1's header timeout.
pub const DEFAULT_DETECT_TIMEOUT: Duration = ghostnet_http1::DEFAULT_HEADER_READ_TIMEOUT;

/// Default for [`ServerBuilder::handler_timeout`]: 60 s for a handler to produce its
/// response head (a streamed body, such as SSE, may then run as long as it likes).
pub const DEFAULT_HANDLER_TIMEOUT: Duration = Duration::from_secs(60);

/// The ALPN protocols to offer in a TLS server config for a [`Server`] that speaks
/// both versions, HTTP/2 preferred: pass them to
/// `TlsServerConfig::builder().alpn(ghostnet_http::ALPN)`.
pub const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// What the server knows of a request's connection; in every request's extensions
/// ([`RequestExt::conn_info`](crate::RequestExt::conn_info)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnInfo {
    /// The client's address, when the transport has addresses.
    pub remote_addr: Option<SocketAddr>,
    /// Our address.
    pub local_addr: Option<SocketAddr>,
    /// Whether the connection is TLS.
    pub secure: bool,
}

/// Fires when the server begins a graceful shutdown; in every request's extensions
/// ([`RequestExt::shutdown_signal`](crate::RequestExt::shutdown_signal)). A response
/// that would otherwise run forever (Server-Sent Events, a long poll) watches it to
/// end cleanly instead of being aborted at the drain deadline; see
/// [`Sse::until`](crate::sse::Sse::until).
#[derive(Debug, Clone)]
pub struct ShutdownSignal(pub(crate) CancellationToken);

impl ShutdownSignal {
    /// Whether shutdown has begun.
    pub fn is_triggered(&self) -> bool {
        self.0.is_cancelled()
    }

    /// Waits until shutdown begins.
    pub async fn triggered(&self) {
        self.0.cancelled().await;
    }
}

/// An HTTP server speaking HTTP/1.1 and HTTP/2 on one listener, with one [`Service`]
/// (usually a [`Router`](crate::Router)) for both. Cheap to clone.
///
/// - Cleartext: HTTP/1.1, h2c with prior knowledge (the HTTP/2 preface is detected),
///   and h2c upgrade (`Upgrade: h2c` on an HTTP/1.1 request).
/// - TLS (a [`TlsListener`](ghostnet_transport::TlsListener) offering [`ALPN`]): `h2`
///   or `http/1.1` as the client chose.
/// - Graceful shutdown through [`Shutdown`]: no new connections, in-flight requests
///   finish (HTTP/1.1 answers with `Connection: close`, HTTP/2 sends GOAWAY).
///
/// ```
/// use ghostnet_http::{Request, Router, Server, get};
/// use ghostnet_runtime::Shutdown;
/// use ghostnet_transport::MemoryNetwork;
///
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// let net = MemoryNetwork::new();
/// let listener = net.listen(&"web.test:80".parse().unwrap()).unwrap();
/// let router = Router::new().route("/", get(|_req: Request| async { "hello" }));
/// let shutdown = Shutdown::new();
/// let server = Server::builder().build().unwrap();
/// let serving = tokio::spawn(server.serve(listener, router, shutdown.clone()));
/// // ... clients dial "web.test:80" and speak HTTP/1.1 or HTTP/2 ...
/// shutdown.trigger();
/// serving.await.unwrap().unwrap();
/// assert!(shutdown.shutdown().await.is_clean());
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Server {
    config: Arc<Config>,
}

#[derive(Debug)]
struct Config {
    h1: ghostnet_http1::Server,
    h2: ghostnet_http2::Server,
    http1: bool,
    http2: bool,
    h2c_upgrade: bool,
    detect_timeout: Duration,
    handler_timeout: Option<Duration>,
}

/// Options of a [`Server`]; every one has a default.
#[derive(Debug, Clone)]
pub struct ServerBuilder {
    h1: ghostnet_http1::Server,
    settings: Settings,
    http1: bool,
    http2: bool,
    h2c_upgrade: bool,
    detect_timeout: Duration,
    handler_timeout: Option<Duration>,
}

impl Server {
    /// A builder with the defaults: both protocols, h2c upgrade on.
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            h1: ghostnet_http1::Server::builder().build(),
            settings: Settings::default(),
            http1: true,
            http2: true,
            h2c_upgrade: true,
            detect_timeout: DEFAULT_DETECT_TIMEOUT,
            handler_timeout: Some(DEFAULT_HANDLER_TIMEOUT),
        }
    }

    /// Accepts connections from `listener` and serves each on its own task until
    /// `shutdown` fires; then stops accepting and returns.
    ///
    /// Connection tasks are spawned with [`Shutdown::spawn`], so
    /// [`Shutdown::shutdown`] waits for them: idle connections close at once, requests
    /// in flight finish, and what is left at the drain deadline is aborted.
    ///
    /// # Errors
    ///
    /// None today: accept errors (such as running out of file descriptors) are logged
    /// and retried after a short pause, as the listener may recover.
    pub async fn serve<L, S>(self, listener: L, service: S, shutdown: Shutdown) -> Result<()>
    where
        L: Listen,
        S: Service,
    {
        let service = Arc::new(service);
        accept_until(&listener, &shutdown, |io, peer| {
            let this = self.clone();
            let service = service.clone();
            let token = shutdown.token();
            shutdown.spawn(async move {
                if let Err(e) = this.serve_connection(io, service, token).await {
                    tracing::debug!(%peer, "http connection ended: {e}");
                }
            });
        })
        .await;
        Ok(())
    }

    /// Serves one accepted connection until it ends, choosing the protocol (ALPN, or
    /// the first bytes). Cancelling `token` shuts it down gracefully.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] when the client sent nothing that tells the protocol within
    /// [`ServerBuilder::detect_timeout`]; [`Error::Http1`] / [`Error::Http2`] for what
    /// ended the connection abnormally; [`Error::InvalidConfig`] when the client chose a
    /// protocol that is turned off. A client that closes without a word is not an error.
    pub async fn serve_connection<T, S>(
        &self,
        mut io: T,
        service: Arc<S>,
        token: CancellationToken,
    ) -> Result<()>
    where
        T: Stream,
        S: Service,
    {
        let info = io.info();
        let conn = ConnInfo {
            remote_addr: info.peer_addr,
            local_addr: info.local_addr,
            secure: info.transport == "tls",
        };
        let c = &*self.config;
        let chosen = match info.alpn.as_deref() {
            Some(b"h2") => Some(Proto::Http2),
            Some(_) => Some(Proto::Http1),
            None if !c.http2 => Some(Proto::Http1),
            None if !c.http1 => Some(Proto::Http2),
            None => None,
        };
        if let Some(proto) = chosen {
            return self.run(io, proto, conn, service, token).await;
        }
        let limit = c.detect_timeout;
        if let Some(tcp) = serve::as_tcp(&mut io) {
            // Peek, so HTTP/1.1 gets the socket itself (and sendfile).
            let proto = detect(serve::peek(tcp), limit, &token).await?;
            match proto {
                Some(proto) => self.run(io, proto, conn, service, token).await,
                None => Ok(()),
            }
        } else {
            match detect(serve::read(&mut io), limit, &token).await? {
                Some((proto, prefix)) => {
                    let io = Rewind::new(io, prefix);
                    self.run(io, proto, conn, service, token).await
                }
                None => Ok(()),
            }
        }
    }

    async fn run<T: Stream, S: Service>(
        &self,
        io: T,
        proto: Proto,
        conn: ConnInfo,
        service: Arc<S>,
        token: CancellationToken,
    ) -> Result<()> {
        let c = &*self.config;
        match proto {
            Proto::Http2 if !c.http2 => Err(Error::InvalidConfig {
                field: "http2",
                reason: "the client speaks HTTP/2, which this server has turned off".into(),
            }),
            Proto::Http1 if !c.http1 => Err(Error::InvalidConfig {
                field: "http1",
                reason: "the client speaks HTTP/1.1, which this server has turned off".into(),
            }),
            Proto::Http2 => {
                let h2 = Arc::new(H2Service {
                    inner: service,
                    conn,
                    timeout: c.handler_timeout,
                    draining: ShutdownSignal(token.clone()),
                });
                c.h2.serve_connection(io, h2, token)
                    .await
                    .map_err(Error::from)
            }
            Proto::Http1 => {
                let upgrade = (c.http2 && c.h2c_upgrade && !conn.secure).then(UpgradeSlot::default);
                let h1 = Arc::new(H1Service {
                    inner: service.clone(),
                    conn,
                    timeout: c.handler_timeout,
                    draining: ShutdownSignal(token.clone()),
                    upgrade,
                });
                c.h1.serve_connection(io, h1.clone(), token.clone()).await?;
                let taken = h1.upgrade.as_ref().and_then(UpgradeSlot::take);
                let Some((on_upgrade, req)) = taken else {
                    return Ok(());
                };
                // The 101 is out: the same task serves the connection as HTTP/2, so
                // graceful shutdown still waits for it.
                let upgraded = on_upgrade.await?;
                let h2 = Arc::new(H2Service {
                    inner: service,
                    conn,
                    timeout: c.handler_timeout,
                    draining: ShutdownSignal(token.clone()),
                });
                c.h2.serve_upgrade(upgraded, req, h2, token)
                    .await
                    .map_err(Error::from)
            }
        }
    }
}

/// Runs a detection future within the timeout; `None` (close quietly) on shutdown.
async fn detect<F, T>(fut: F, limit: Duration, token: &CancellationToken) -> Result<Option<T>>
where
    F: Future<Output = std::io::Result<Option<T>>>,
{
    tokio::select! {
        biased;
        () = token.cancelled() => Ok(None),
        r = tokio::time::timeout(limit, fut) => match r {
            Ok(r) => Ok(r?),
            Err(_) => Err(Error::Timeout { what: "the first bytes of a request", after: limit }),
        },
    }
}

impl ServerBuilder {
    /// The HTTP/1.1 server (limits and timeouts, see `ghostnet_http1::ServerBuilder`).
    pub fn http1_server(mut self, server: ghostnet_http1::Server) -> Self {
        self.h1 = server;
        self
    }

    /// The HTTP/2 settings (windows, concurrency, keepalive, ...).
    pub fn http2_settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Whether to speak HTTP/1.1 (default true). Without it, cleartext connections are
    /// taken as HTTP/2 with prior knowledge.
    pub fn http1(mut self, yes: bool) -> Self {
        self.http1 = yes;
        self
    }

    /// Whether to speak HTTP/2 (default true). Without it, nothing is detected: every
    /// connection is HTTP/1.1.
    pub fn http2(mut self, yes: bool) -> Self {
        self.http2 = yes;
        self
    }

    /// Whether HTTP/1.1 requests may upgrade to h2c (`Upgrade: h2c`, cleartext only;
    /// default true).
    pub fn h2c_upgrade(mut self, yes: bool) -> Self {
        self.h2c_upgrade = yes;
        self
    }

    /// Longest wait for the first bytes of a cleartext connection, which tell its
    /// protocol (default [`DEFAULT_DETECT_TIMEOUT`]). Past it the connection is closed.
    pub fn detect_timeout(mut self, t: Duration) -> Self {
        self.detect_timeout = t;
        self
    }

    /// Longest wait for a handler's response head (default
    /// [`DEFAULT_HANDLER_TIMEOUT`]); past it the client gets `503 Service Unavailable`
    /// and the handler's future is dropped. `None` waits forever (long polling). A
    /// handler that panics gets `500` either way.
    pub fn handler_timeout(mut self, t: Option<Duration>) -> Self {
        self.handler_timeout = t;
        self
    }

    /// The server.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when both protocols are off, or
    /// [`Error::Http2`] with `InvalidSettings` when an HTTP/2 setting is out of range.
    pub fn build(self) -> Result<Server> {
        if !self.http1 && !self.http2 {
            return Err(Error::InvalidConfig {
                field: "protocols",
                reason: "both HTTP/1.1 and HTTP/2 are off; turn one on".into(),
            });
        }
        if self.detect_timeout.is_zero() {
            return Err(Error::InvalidConfig {
                field: "detect_timeout",
                reason: "is 0; use a positive duration such as 30 s".into(),
            });
        }
        if self.handler_timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::InvalidConfig {
                field: "handler_timeout",
                reason: "is 0; use a positive duration, or None to wait forever".into(),
            });
        }
        Ok(Server {
            config: Arc::new(Config {
                h1: self.h1,
                h2: ghostnet_http2::Server::new(self.settings)?,
                http1: self.http1,
                http2: self.http2,
                h2c_upgrade: self.h2c_upgrade,
                detect_timeout: self.detect_timeout,
                handler_timeout: self.handler_timeout,
            }),
        })
    }
}

/// The h2c upgrade a connection's HTTP/1.1 service accepted, for the connection task
/// to carry out once HTTP/1.1 has written the 101.
#[derive(Default)]
struct UpgradeSlot(Mutex<Option<(OnUpgrade, http::Request<()>)>>);

impl UpgradeSlot {
    fn put(&self, on: OnUpgrade, req: http::Request<()>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some((on, req));
    }

    fn take(&self) -> Option<(OnUpgrade, http::Request<()>)> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// The service as ghostnet-http1 sees it, for one connection.
struct H1Service<S> {
    inner: Arc<S>,
    conn: ConnInfo,
    timeout: Option<Duration>,
    draining: ShutdownSignal,
    upgrade: Option<UpgradeSlot>,
}

impl<S: Service> ghostnet_http1::Service for H1Service<S> {
    async fn call(
        &self,
        mut req: http::Request<ghostnet_http1::Body>,
    ) -> http::Response<ghostnet_http1::Body> {
        if let Some(slot) = &self.upgrade
            && h2c::is_upgrade_request(&req)
            && h2c::upgrade_settings(&req).is_ok()
            && let Some(on_upgrade) = upgrade::on(&mut req)
        {
            // Stream 1 of the HTTP/2 connection answers this request; ghostnet-http1
            // offers upgrades only to bodiless requests, so nothing is lost.
            slot.put(on_upgrade, req.map(|_| ()));
            let (head, ()) = h2c::switching_protocols().into_parts();
            return http::Response::from_parts(head, ghostnet_http1::Body::empty());
        }
        let (mut parts, body) = req.into_parts();
        parts.extensions.insert(self.conn);
        parts.extensions.insert(self.draining.clone());
        let req = http::Request::from_parts(parts, Body::from(body));
        guarded(self.inner.call(req), self.timeout)
            .await
            .map(Body::into_http1)
    }
}

/// The service as ghostnet-http2 sees it, for one connection.
struct H2Service<S> {
    inner: Arc<S>,
    conn: ConnInfo,
    timeout: Option<Duration>,
    draining: ShutdownSignal,
}

impl<S: Service> ghostnet_http2::Service for H2Service<S> {
    async fn call(
        &self,
        req: http::Request<ghostnet_http2::Body>,
    ) -> http::Response<ghostnet_http2::Body> {
        let (mut parts, body) = req.into_parts();
        parts.extensions.insert(self.conn);
        parts.extensions.insert(self.draining.clone());
        let req = http::Request::from_parts(parts, Body::from(body));
        guarded(self.inner.call(req), self.timeout)
            .await
            .map(Body::into_http2)
    }
}
