//! The client side: [`Client`] dials `ws://` (and `wss://`) URLs through
//! ghostnet-transport and runs the opening handshake with tungstenite, each step under its
//! own time limit.

mod url;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use ghostnet_runtime::channel::watch;
use ghostnet_runtime::timeout;
use ghostnet_transport::tls::{TlsClientConfig, TlsDialer};
use ghostnet_transport::{BoxFuture, BoxStream, Dial, Stream, Target, TcpDialer};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, Version};
use tokio_tungstenite::tungstenite::handshake::client::generate_key;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::server::{
    SEC_WEBSOCKET_EXTENSIONS, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION,
    is_token,
};
use crate::socket::{Role, WebSocket};
use crate::state::{Closed, Side, State, StateTx};
use crate::tracked::Tracked;

/// Default [`ClientBuilder::connect_timeout`]: 10 s for DNS, TCP and TLS together.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`ClientBuilder::handshake_timeout`]: 10 s from the request's first byte to
/// the server's `101`.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Request headers the handshake sets itself, with what to use instead.
const RESERVED: &[(&str, &str)] = &[
    ("host", "it comes from the url"),
    ("connection", "the handshake sets it"),
    ("upgrade", "the handshake sets it"),
    ("sec-websocket-key", "the handshake sets it"),
    ("sec-websocket-version", "the handshake sets it"),
    ("sec-websocket-accept", "it is a response header"),
    ("sec-websocket-protocol", "use ClientBuilder::protocols"),
    (
        "sec-websocket-extensions",
        "extensions are not supported (tungstenite has no permessage-deflate)",
    ),
    ("content-length", "the opening request has no body"),
    ("transfer-encoding", "the opening request has no body"),
];

struct Inner {
    config: Config,
    protocols: Vec<String>,
    headers: HeaderMap,
    connect_timeout: Duration,
    handshake_timeout: Duration,
    tcp: TcpDialer,
    /// TLS for `wss://`: set by the builder, or the default (webpki roots, ALPN
    /// `http/1.1`) built at the first `wss://` connection.
    tls: OnceLock<TlsClientConfig>,
}

/// Opens WebSocket connections. Cheap to clone; build it once with [`Client::builder`].
///
/// [`connect`](Self::connect) dials `ws://` URLs over TCP (ghostnet-transport's
/// [`TcpDialer`]) and `wss://` URLs over TLS on TCP ([`TlsDialer`], webpki roots unless
/// [`ClientBuilder::tls`] says otherwise); [`connect_with`](Self::connect_with) takes any
/// [`Dial`] (the in-memory network in tests, a proxy, TLS over something else).
///
/// ```no_run
/// # async fn demo() -> ghostnet_ws::Result<()> {
/// use std::time::Duration;
/// use ghostnet_ws::{Client, Message};
///
/// let client = Client::builder()
///     .protocols(["chat.v2", "chat.v1"])
///     .header("authorization", "Bearer 123")
///     .handshake_timeout(Duration::from_secs(5))
///     .build()?;
/// let (mut ws, response) = client.connect("ws://127.0.0.1:9001/chat").await?;
/// println!("status {}, protocol {:?}", response.status(), ws.protocol());
/// ws.send("hello").await?;
/// if let Some(Ok(Message::Text(reply))) = ws.recv().await {
///     println!("{reply}");
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

/// Options of a [`Client`]; every one has a default.
pub struct ClientBuilder {
    inner: Inner,
    error: Option<Error>,
}

impl Default for Client {
    fn default() -> Self {
        Self {
            inner: Arc::new(Inner::default()),
        }
    }
}

impl Default for Inner {
    fn default() -> Self {
        Self {
            config: Config::default(),
            protocols: Vec::new(),
            headers: HeaderMap::new(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            tcp: TcpDialer::new(),
            tls: OnceLock::new(),
        }
    }
}

impl Client {
    /// A client with the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder with the defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            inner: Inner::default(),
            error: None,
        }
    }

    /// Connects to a `ws://` URL over TCP, or a `wss://` URL over TLS on TCP, and runs
    /// the opening handshake. Await the returned [`Connect`] for the WebSocket and the
    /// server's `101` response; before that, [`Connect::watch_state`] follows the attempt.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUrl`], [`Error::Connect`] (DNS, TCP, TLS: certificate problems are
    /// explained there), [`Error::ConnectTimeout`], [`Error::HandshakeTimeout`],
    /// [`Error::Rejected`] (the server answered without `101`),
    /// [`Error::InvalidResponse`].
    pub fn connect(&self, url: &str) -> Connect<'static, BoxStream> {
        let inner = self.inner.clone();
        let url = url.to_owned();
        Connect::start(move |state| {
            Box::pin(async move {
                let attempt = async {
                    let parsed = url::parse(&url)?;
                    let dialer = if parsed.secure {
                        let tls = match inner.tls.get() {
                            Some(tls) => tls.clone(),
                            None => {
                                let built = default_tls().map_err(Error::Connect)?;
                                inner.tls.get_or_init(|| built).clone()
                            }
                        };
                        DefaultDialer::Tls(TlsDialer::new(inner.tcp.clone(), tls))
                    } else {
                        DefaultDialer::Tcp(inner.tcp.clone())
                    };
                    handshake(&inner, &dialer, &url, parsed).await
                };
                finish(&inner, attempt.await, state)
            })
        })
    }

    /// Connects to `url` with `dialer` and runs the opening handshake. The dialer is used
    /// as it is: for `wss://` it must produce TLS streams (the connection is refused with
    /// [`Error::InsecureTransport`] otherwise).
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect), and [`Error::InsecureTransport`].
    ///
    /// ```
    /// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
    /// use ghostnet_transport::MemoryNetwork;
    /// use ghostnet_ws::{Client, Error};
    ///
    /// let net = MemoryNetwork::new(); // nobody listens
    /// let err = Client::new().connect_with(&net.dialer(), "ws://chat.test/").await.unwrap_err();
    /// assert!(matches!(err, Error::Connect(_)));
    /// # }).unwrap();
    /// ```
    pub fn connect_with<'a, D: Dial>(&'a self, dialer: &'a D, url: &str) -> Connect<'a, D::Stream> {
        let inner = &*self.inner;
        let url = url.to_owned();
        Connect::start(move |state| {
            Box::pin(async move {
                let attempt = async {
                    let parsed = url::parse(&url)?;
                    handshake(inner, dialer, &url, parsed).await
                };
                finish(inner, attempt.await, state)
            })
        })
    }

    /// The connection config of every connection this client opens.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }
}

/// Connects to `url` with a default [`Client`]: `ghostnet_ws::connect(url).await`.
pub fn connect(url: &str) -> Connect<'static, BoxStream> {
    Client::new().connect(url)
}

/// What [`Client::connect`] dials with: TCP for `ws://`, TLS on TCP for `wss://`, both
/// yielding a boxed stream so the two share one connection type.
enum DefaultDialer {
    Tcp(TcpDialer),
    Tls(TlsDialer<TcpDialer>),
}

impl Dial for DefaultDialer {
    type Stream = BoxStream;

    async fn dial(&self, target: &Target) -> ghostnet_transport::Result<BoxStream> {
        Ok(match self {
            Self::Tcp(d) => Box::new(d.dial(target).await?),
            Self::Tls(d) => Box::new(d.dial(target).await?),
        })
    }
}

/// The TLS config `wss://` gets by default: webpki roots, ALPN `http/1.1` (so a server
/// that also speaks HTTP/2 does not pick it: the opening handshake is HTTP/1.1).
fn default_tls() -> ghostnet_transport::Result<TlsClientConfig> {
    TlsClientConfig::builder().alpn(["http/1.1"]).build()
}

type Connected<S> = (WebSocket<S>, Response<()>);

/// The dial and opening handshake in progress: a future of the open [`WebSocket`] and the
/// server's `101` response, whose state can be watched before it completes.
#[must_use = "a connection attempt does nothing unless awaited"]
pub struct Connect<'a, S> {
    fut: BoxFuture<'a, Result<Connected<S>>>,
    state: watch::Receiver<State>,
}

impl<'a, S: Stream> Connect<'a, S> {
    fn start(f: impl FnOnce(StateTx) -> BoxFuture<'a, Result<Connected<S>>>) -> Self {
        let state = StateTx::new(State::Connecting);
        let rx = state.subscribe();
        Self {
            fut: f(state),
            state: rx,
        }
    }

    /// A watch on the connection's state: [`State::Connecting`] now, then
    /// [`State::Open`], or [`State::Closed`] (code 1006) when the attempt fails. The same
    /// channel follows the connection afterwards.
    pub fn watch_state(&self) -> watch::Receiver<State> {
        self.state.clone()
    }
}

impl<S> Future for Connect<'_, S> {
    type Output = Result<Connected<S>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.fut.as_mut().poll(cx)
    }
}

impl<S> fmt::Debug for Connect<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connect")
            .field("state", &*self.state.borrow())
            .finish_non_exhaustive()
    }
}

/// Publishes the outcome of a connection attempt on `state`: `Open` with the new
/// connection, or `Closed` (1006) with the reason it failed.
fn finish<S: Stream>(
    inner: &Inner,
    attempt: Result<Handshaken<S>>,
    state: StateTx,
) -> Result<Connected<S>> {
    match attempt {
        Ok((stream, response, protocol)) => {
            let ws = WebSocket::new(stream, Role::Client, &inner.config, protocol, state);
            Ok((ws, response))
        }
        Err(e) => {
            state.set(State::Closed(Closed::abnormal(Side::Local, e.to_string())));
            Err(e)
        }
    }
}

type Handshaken<S> = (
    tokio_tungstenite::WebSocketStream<Tracked<S>>,
    Response<()>,
    Option<String>,
);

/// Dials, checks the transport, runs the opening handshake.
async fn handshake<D: Dial>(
    inner: &Inner,
    dialer: &D,
    url: &str,
    parsed: url::WsUrl,
) -> Result<Handshaken<D::Stream>> {
    let target = parsed.target.clone();
    let stream = match timeout(inner.connect_timeout, dialer.dial(&target)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(Error::Connect(e)),
        Err(_) => {
            return Err(Error::ConnectTimeout {
                target: target.to_string(),
                after: inner.connect_timeout,
            });
        }
    };
    let info = stream.info();
    if parsed.secure && info.transport != "tls" {
        return Err(Error::InsecureTransport {
            url: url.to_owned(),
            transport: info.transport,
        });
    }
    if let Some(alpn) = info.alpn.as_deref()
        && alpn != b"http/1.1"
    {
        return Err(Error::InvalidResponse {
            reason: format!(
                "TLS agreed on ALPN {:?}, but the opening handshake is HTTP/1.1: offer only \
                 http/1.1 in the TLS config",
                String::from_utf8_lossy(alpn)
            ),
        });
    }
    let request = request(inner, &parsed)?;
    let handshake = tokio_tungstenite::client_async_with_config(
        request,
        Tracked::new(stream),
        Some(inner.config.to_tungstenite()),
    );
    let (ws, response) = match timeout(inner.handshake_timeout, handshake).await {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => {
            return Err(match Error::from_handshake(e) {
                Error::InvalidUrl { reason, .. } => Error::InvalidUrl {
                    url: url.to_owned(),
                    reason,
                },
                other => other,
            });
        }
        Err(_) => {
            return Err(Error::HandshakeTimeout {
                after: inner.handshake_timeout,
            });
        }
    };
    // RFC 6455 4.1: the client MUST fail the connection when the server accepts an
    // extension it did not offer (tungstenite leaves this check to us). We offer none.
    if response.headers().contains_key(SEC_WEBSOCKET_EXTENSIONS) {
        return Err(Error::InvalidResponse {
            reason: "the server accepted an extension the client did not offer".into(),
        });
    }
    let protocol = match response.headers().get(SEC_WEBSOCKET_PROTOCOL) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| Error::InvalidResponse {
                    reason: "the subprotocol is not ASCII".into(),
                })?
                .to_owned(),
        ),
    };
    let (parts, _body) = response.into_parts();
    Ok((ws, Response::from_parts(parts, ()), protocol))
}

/// The opening request: tungstenite checks it and writes it as given.
fn request(inner: &Inner, url: &url::WsUrl) -> Result<Request<()>> {
    let mut req = Request::get(url.uri.clone())
        .version(Version::HTTP_11)
        .body(())
        .map_err(|_| Error::InvalidUrl {
            url: url.uri.to_string(),
            reason: "it is not a valid request target",
        })?;
    let headers = req.headers_mut();
    let value = |v: &str| {
        HeaderValue::from_str(v).map_err(|_| Error::InvalidUrl {
            url: url.uri.to_string(),
            reason: "the host is not a valid Host header",
        })
    };
    headers.insert(http::header::HOST, value(&url.host_header)?);
    headers.insert(
        http::header::CONNECTION,
        HeaderValue::from_static("Upgrade"),
    );
    headers.insert(http::header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
    headers.insert(SEC_WEBSOCKET_KEY, value(&generate_key())?);
    if !inner.protocols.is_empty() {
        headers.insert(SEC_WEBSOCKET_PROTOCOL, value(&inner.protocols.join(", "))?);
    }
    for (name, v) in &inner.headers {
        headers.append(name.clone(), v.clone());
    }
    Ok(req)
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field("protocols", &self.inner.protocols)
            .field("headers", &self.inner.headers.len())
            .field("connect_timeout", &self.inner.connect_timeout)
            .field("handshake_timeout", &self.inner.handshake_timeout)
            .finish()
    }
}

impl ClientBuilder {
    /// The config of opened connections (limits, heartbeat, timeouts).
    pub fn config(mut self, config: Config) -> Self {
        self.inner.config = config;
        self
    }

    /// Subprotocols to offer, most preferred first. When any are offered the server must
    /// pick one of them ([`Error::InvalidResponse`] otherwise);
    /// [`WebSocket::protocol`] tells which.
    pub fn protocols<I, P>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.inner.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a request header (`Authorization`, `Origin`, `Cookie`, ...). Headers the
    /// handshake sets itself are refused by [`build`](Self::build).
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: fmt::Display,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: fmt::Display,
    {
        if self.error.is_some() {
            return self;
        }
        let name = match HeaderName::try_from(name) {
            Ok(n) => n,
            Err(e) => {
                self.error = Some(Error::InvalidHeader {
                    name: "(invalid name)".into(),
                    reason: e.to_string(),
                });
                return self;
            }
        };
        if let Some((_, why)) = RESERVED.iter().find(|(r, _)| *r == name.as_str()) {
            self.error = Some(Error::InvalidHeader {
                name: name.to_string(),
                reason: format!("it cannot be set by hand: {why}"),
            });
            return self;
        }
        match HeaderValue::try_from(value) {
            Ok(v) => {
                self.inner.headers.append(name, v);
            }
            Err(e) => {
                self.error = Some(Error::InvalidHeader {
                    name: name.to_string(),
                    reason: e.to_string(),
                });
            }
        }
        self
    }

    /// Limit on dialing: DNS, TCP (and TLS with a TLS dialer) together (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.inner.connect_timeout = timeout;
        self.inner.tcp.connect_timeout = timeout;
        self
    }

    /// Limit on the opening handshake, from sending the request to the `101` (default
    /// 10 s).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.inner.handshake_timeout = timeout;
        self
    }

    /// The TLS config of `wss://` connections made by [`Client::connect`] (trusted roots,
    /// extra CA, client certificate). Offer ALPN `http/1.1` or nothing: the opening
    /// handshake is HTTP/1.1. Default: webpki roots, ALPN `http/1.1`.
    ///
    /// ```
    /// use ghostnet_transport::tls::TlsClientConfig;
    ///
    /// let tls = TlsClientConfig::builder()
    ///     .extra_ca_pem("-----BEGIN CERTIFICATE-----\n...")
    ///     .alpn(["http/1.1"]);
    /// # let _ = tls;
    /// ```
    pub fn tls(mut self, config: TlsClientConfig) -> Self {
        self.inner.tls = OnceLock::from(config);
        self
    }

    /// The TCP dialer `ws://` URLs use (socket options, resolver, Happy Eyeballs delay).
    /// Its connect timeout is replaced by [`connect_timeout`](Self::connect_timeout).
    pub fn tcp(mut self, dialer: TcpDialer) -> Self {
        let timeout = self.inner.connect_timeout;
        self.inner.tcp = dialer;
        self.inner.tcp.connect_timeout = timeout;
        self
    }

    /// The client.
    ///
    /// # Errors
    ///
    /// The first invalid header ([`Error::InvalidHeader`]), an invalid config, a zero
    /// timeout or an invalid subprotocol name ([`Error::InvalidConfig`]).
    pub fn build(self) -> Result<Client> {
        if let Some(e) = self.error {
            return Err(e);
        }
        self.inner.config.validate()?;
        for (field, value) in [
            ("connect_timeout", self.inner.connect_timeout),
            ("handshake_timeout", self.inner.handshake_timeout),
        ] {
            if value.is_zero() {
                return Err(Error::InvalidConfig {
                    field,
                    reason: "must be greater than zero (the default is 10s)".into(),
                });
            }
        }
        if let Some(bad) = self.inner.protocols.iter().find(|p| !is_token(p)) {
            return Err(Error::InvalidConfig {
                field: "protocols",
                reason: format!(
                    "{bad:?} is not a valid subprotocol name (printable ASCII, no spaces or \
                     separators)"
                ),
            });
        }
        Ok(Client {
            inner: Arc::new(self.inner),
        })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.inner.config)
            .field("protocols", &self.inner.protocols)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_and_invalid_headers_are_refused() {
        for name in [
            "Host",
            "sec-websocket-key",
            "Sec-WebSocket-Protocol",
            "upgrade",
        ] {
            let e = Client::builder().header(name, "x").build().unwrap_err();
            assert!(matches!(e, Error::InvalidHeader { .. }), "{name}");
            assert!(e.to_string().contains("cannot be set by hand"), "{e}");
        }
        let e = Client::builder()
            .header("bad name", "x")
            .build()
            .unwrap_err();
        assert!(matches!(e, Error::InvalidHeader { .. }));
        let e = Client::builder()
            .header("x-a", "line\nbreak")
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("\"x-a\""), "{e}");
        Client::builder()
            .header("authorization", "Bearer t")
            .header("origin", "https://app.test")
            .build()
            .unwrap();
    }

    #[test]
    fn zero_timeouts_and_bad_protocols_are_refused() {
        let e = Client::builder()
            .handshake_timeout(Duration::ZERO)
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("`handshake_timeout`"), "{e}");
        let e = Client::builder().protocols(["a b"]).build().unwrap_err();
        assert!(e.to_string().contains("`protocols`"), "{e}");
    }

    #[test]
    fn request_has_the_handshake_headers() {
        let client = Client::builder()
            .protocols(["chat.v2", "chat.v1"])
            .header("authorization", "Bearer t")
            .build()
            .unwrap();
        let url = url::parse("ws://example.com:8080/chat").unwrap();
        let req = request(&client.inner, &url).unwrap();
        let h = req.headers();
        assert_eq!(h["host"], "example.com:8080");
        assert_eq!(h["sec-websocket-version"], "13");
        assert_eq!(h["sec-websocket-protocol"], "chat.v2, chat.v1");
        assert_eq!(h["authorization"], "Bearer t");
        let key = h["sec-websocket-key"].as_bytes();
        assert_eq!(data_encoding::BASE64.decode(key).unwrap().len(), 16);
        assert_eq!(req.uri().path(), "/chat");
    }
}
