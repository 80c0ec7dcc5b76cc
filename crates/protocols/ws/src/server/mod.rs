//! The server side: [`Acceptor`] turns an HTTP/1.1 request of the ghostnet server into a
//! WebSocket, through the server's [upgrade hook](ghostnet_http1::upgrade), so WebSocket
//! endpoints share a port with ordinary HTTP routes.

mod handshake;

use std::fmt;
use std::future::{Future, IntoFuture};
use std::sync::Arc;

use bytes::Bytes;
use ghostnet_http1::Body;
use ghostnet_http1::upgrade::{self, OnUpgrade};
use ghostnet_transport::{BoxFuture, BoxStream};
use http::header::{CONNECTION, CONTENT_TYPE, HeaderValue, ORIGIN, UPGRADE};
use http::{Request, Response, StatusCode};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role as TungsteniteRole;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::socket::{Role, WebSocket};
use crate::state::{State, StateTx};
use crate::tracked::Tracked;

use handshake::SEC_WEBSOCKET_ACCEPT;
pub(crate) use handshake::{
    SEC_WEBSOCKET_EXTENSIONS, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION,
};

type OriginCheck = dyn Fn(Option<&str>) -> bool + Send + Sync;

struct Inner {
    config: Config,
    protocols: Vec<String>,
    origin: Option<Box<OriginCheck>>,
}

/// Accepts WebSocket upgrades on a ghostnet HTTP/1.1 server. Cheap to clone; build it
/// once with [`Acceptor::builder`] and use it from the request handler.
///
/// It checks the opening request (RFC 6455 section 4.2.1: `GET`, `Upgrade: websocket`,
/// `Connection: upgrade`, `Sec-WebSocket-Version: 13`, a 16-byte base64
/// `Sec-WebSocket-Key`), runs the origin check, picks the subprotocol by the server's
/// preference, and answers `101 Switching Protocols` with `Sec-WebSocket-Accept`. Refused
/// requests get 400, 403 or 426 (with `Sec-WebSocket-Version: 13`) and a line saying why.
/// Extensions (permessage-deflate) are never accepted: tungstenite does not implement them.
///
/// ```
/// use ghostnet_http1::{Body, Server};
/// use ghostnet_ws::{Acceptor, Message};
/// use http::{Request, Response};
///
/// let ws = Acceptor::builder().protocols(["chat.v1"]).build().unwrap();
/// let handler = move |req: Request<Body>| {
///     let ws = ws.clone();
///     async move {
///         if !ghostnet_ws::is_upgrade_request(&req) {
///             return Response::new(Body::from("plain HTTP on the same port"));
///         }
///         ws.upgrade(req, |mut socket| async move {
///             while let Some(Ok(msg)) = socket.recv().await {
///                 if msg.is_data() && socket.send(msg).await.is_err() {
///                     break;
///                 }
///             }
///         })
///     }
/// };
/// let _server = (Server::builder().build(), handler);
/// ```
#[derive(Clone)]
pub struct Acceptor {
    inner: Arc<Inner>,
}

/// Options of an [`Acceptor`]; every one has a default.
pub struct AcceptorBuilder {
    inner: Inner,
}

impl Default for Acceptor {
    fn default() -> Self {
        Self {
            inner: Arc::new(Inner {
                config: Config::default(),
                protocols: Vec::new(),
                origin: None,
            }),
        }
    }
}

impl Acceptor {
    /// An acceptor with the default [`Config`], no subprotocols and no origin check.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder with the defaults.
    pub fn builder() -> AcceptorBuilder {
        AcceptorBuilder {
            inner: Inner {
                config: Config::default(),
                protocols: Vec::new(),
                origin: None,
            },
        }
    }

    /// The connection config every accepted WebSocket gets.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Checks `req` and, if it is a valid opening handshake, returns the `101` response to
    /// answer it with and the WebSocket that becomes usable once the server has sent it.
    /// The caller returns the response from its handler and awaits the
    /// [`PendingUpgrade`] in a task of its own.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`], [`Error::UnsupportedVersion`], [`Error::OriginRejected`]
    /// ([`rejection`] turns them into the response to send), or [`Error::NoUpgrade`] when
    /// the request carries no upgrade hook (it has a body, or did not come from
    /// `ghostnet-http1`'s server).
    pub fn accept<B>(&self, req: &mut Request<B>) -> Result<(Response<Body>, PendingUpgrade)> {
        let accepted = handshake::check(
            req.method(),
            req.version(),
            req.headers(),
            &self.inner.protocols,
        )?;
        if let Some(check) = &self.inner.origin {
            let origin = req.headers().get(ORIGIN).map(|v| v.to_str());
            let allowed = match origin {
                Some(Ok(o)) => check(Some(o)),
                Some(Err(_)) => false,
                None => check(None),
            };
            if !allowed {
                return Err(Error::OriginRejected {
                    origin: origin.and_then(Result::ok).map(str::to_owned),
                });
            }
        }
        let on_upgrade = upgrade::on(req).ok_or(Error::NoUpgrade)?;
        let mut response = Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header(UPGRADE, "websocket")
            .header(CONNECTION, "upgrade")
            .header(SEC_WEBSOCKET_ACCEPT, accepted.accept_key);
        if let Some(p) = &accepted.protocol {
            response = response.header(SEC_WEBSOCKET_PROTOCOL, p.as_str());
        }
        let response = response
            .body(Body::empty())
            .map_err(|_| Error::InvalidRequest {
                reason: "the negotiated subprotocol is not a valid header value",
            })?;
        Ok((
            response,
            PendingUpgrade {
                on_upgrade,
                config: self.inner.config,
                protocol: accepted.protocol,
            },
        ))
    }

    /// Accepts `req` and runs `handler` with the WebSocket on a task of its own; returns
    /// the response for the HTTP handler to return (`101`, or the refusal).
    pub fn upgrade<B, F, Fut>(&self, mut req: Request<B>, handler: F) -> Response<Body>
    where
        F: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        match self.accept(&mut req) {
            Ok((response, pending)) => {
                tokio::spawn(async move {
                    match pending.await {
                        Ok(ws) => handler(ws).await,
                        Err(e) => tracing::debug!("websocket upgrade did not complete: {e}"),
                    }
                });
                response
            }
            Err(e) => {
                tracing::debug!(uri = %req.uri(), "websocket upgrade refused: {e}");
                rejection(&e)
            }
        }
    }
}

impl fmt::Debug for Acceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acceptor")
            .field("config", &self.inner.config)
            .field("protocols", &self.inner.protocols)
            .field("origin_check", &self.inner.origin.is_some())
            .finish()
    }
}

impl AcceptorBuilder {
    /// The config of accepted connections (limits, heartbeat, timeouts).
    pub fn config(mut self, config: Config) -> Self {
        self.inner.config = config;
        self
    }

    /// Subprotocols the server speaks, most preferred first. The first one the client also
    /// offers is chosen; with no match the connection opens without one (the client
    /// decides whether that is acceptable).
    pub fn protocols<I, P>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.inner.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Decides from the `Origin` header (`None` when absent) whether a request may open a
    /// WebSocket; refused requests get 403. Browsers always send `Origin`; other clients
    /// usually do not. Without a check, every origin is accepted.
    ///
    /// ```
    /// use ghostnet_ws::Acceptor;
    ///
    /// let ws = Acceptor::builder()
    ///     .check_origin(|origin| origin.is_none_or(|o| o.ends_with(".example.com")))
    ///     .build()
    ///     .unwrap();
    /// # let _ = ws;
    /// ```
    pub fn check_origin<F>(mut self, check: F) -> Self
    where
        F: Fn(Option<&str>) -> bool + Send + Sync + 'static,
    {
        self.inner.origin = Some(Box::new(check));
        self
    }

    /// Accepts exactly these origins (ASCII case ignored), e.g. `https://app.example.com`,
    /// plus requests without `Origin` (non-browser clients). For anything else, use
    /// [`check_origin`](Self::check_origin).
    pub fn allowed_origins<I, O>(self, origins: I) -> Self
    where
        I: IntoIterator<Item = O>,
        O: Into<String>,
    {
        let allowed: Vec<String> = origins.into_iter().map(Into::into).collect();
        self.check_origin(move |origin| {
            origin.is_none_or(|o| allowed.iter().any(|a| a.eq_ignore_ascii_case(o)))
        })
    }

    /// The acceptor.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when the config does not validate or a subprotocol name is
    /// not a token (RFC 6455: printable ASCII without separators).
    pub fn build(self) -> Result<Acceptor> {
        self.inner.config.validate()?;
        if let Some(bad) = self.inner.protocols.iter().find(|p| !is_token(p)) {
            return Err(Error::InvalidConfig {
                field: "protocols",
                reason: format!(
                    "{bad:?} is not a valid subprotocol name (printable ASCII, no spaces or \
                     separators such as , ; \" /)"
                ),
            });
        }
        Ok(Acceptor {
            inner: Arc::new(self.inner),
        })
    }
}

impl fmt::Debug for AcceptorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcceptorBuilder")
            .field("config", &self.inner.config)
            .field("protocols", &self.inner.protocols)
            .finish_non_exhaustive()
    }
}

/// An HTTP token (RFC 7230 `tchar`s), which subprotocol names must be.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether `req` asks for a WebSocket (`Upgrade: websocket` and `Connection: upgrade`):
/// for routing WebSocket and plain requests of one path. [`Acceptor::accept`] does the
/// full check.
///
/// ```
/// use http::Request;
///
/// let req = Request::get("/chat")
///     .header("upgrade", "websocket")
///     .header("connection", "Upgrade")
///     .body(())
///     .unwrap();
/// assert!(ghostnet_ws::is_upgrade_request(&req));
/// assert!(!ghostnet_ws::is_upgrade_request(&Request::get("/").body(()).unwrap()));
/// ```
pub fn is_upgrade_request<B>(req: &Request<B>) -> bool {
    handshake::is_websocket(req.headers())
}

/// The response refusing an opening handshake that failed with `error`: its
/// [`status`](Error::status) (400 otherwise) and the error as a line of text;
/// 426 responses also carry `Sec-WebSocket-Version: 13`.
///
/// ```
/// use ghostnet_ws::{rejection, Error};
///
/// let r = rejection(&Error::UnsupportedVersion { version: "8".into() });
/// assert_eq!(r.status(), 426);
/// assert_eq!(r.headers()["sec-websocket-version"], "13");
/// ```
pub fn rejection(error: &Error) -> Response<Body> {
    let status = error.status().unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = Response::new(Body::from(format!("{error}\n")));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if status == StatusCode::UPGRADE_REQUIRED {
        headers.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    }
    response
}

/// A WebSocket whose `101` response is on its way: await it (in a task, after the HTTP
/// handler returned the response) for the open [`WebSocket`].
///
/// # Errors
///
/// [`Error::NoUpgrade`] when the server did not hand the connection over (the handler
/// returned another response, or the connection failed first).
#[must_use = "await it in a task, after returning the 101 response"]
pub struct PendingUpgrade {
    on_upgrade: OnUpgrade,
    config: Config,
    protocol: Option<String>,
}

impl PendingUpgrade {
    /// The subprotocol agreed in the handshake, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    async fn finish(self) -> Result<WebSocket> {
        let upgraded = self.on_upgrade.await.map_err(|_| Error::NoUpgrade)?;
        let (io, already_read): (BoxStream, Bytes) = upgraded.into_parts();
        let inner = WebSocketStream::from_partially_read(
            Tracked::new(io),
            already_read.to_vec(),
            TungsteniteRole::Server,
            Some(self.config.to_tungstenite()),
        )
        .await;
        Ok(WebSocket::new(
            inner,
            Role::Server,
            &self.config,
            self.protocol,
            StateTx::new(State::Connecting),
        ))
    }
}

impl IntoFuture for PendingUpgrade {
    type Output = Result<WebSocket>;
    type IntoFuture = BoxFuture<'static, Result<WebSocket>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.finish())
    }
}

impl fmt::Debug for PendingUpgrade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingUpgrade")
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subprotocol_names_must_be_tokens() {
        assert!(
            Acceptor::builder()
                .protocols(["chat.v1", "mqtt"])
                .build()
                .is_ok()
        );
        for bad in ["", "two words", "a,b", "quo\"te", "é"] {
            let e = Acceptor::builder().protocols([bad]).build().unwrap_err();
            assert!(e.to_string().contains("`protocols`"), "{e}");
        }
    }

    #[test]
    fn rejections_carry_status_and_reason() {
        let r = rejection(&Error::OriginRejected {
            origin: Some("https://evil.test".into()),
        });
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = rejection(&Error::InvalidRequest {
            reason: "Sec-WebSocket-Key is missing",
        });
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(r.headers().get(SEC_WEBSOCKET_VERSION).is_none());
    }

    #[test]
    fn requests_without_the_hook_are_refused_clearly() {
        // A valid opening request that did not come through ghostnet-http1's server.
        let mut req = Request::get("/")
            .header("host", "a")
            .header("upgrade", "websocket")
            .header("connection", "upgrade")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .body(())
            .unwrap();
        let e = Acceptor::new().accept(&mut req).unwrap_err();
        assert!(matches!(e, Error::NoUpgrade));
    }

    #[test]
    fn origin_check_sees_the_origin() {
        let acceptor = Acceptor::builder()
            .allowed_origins(["https://app.example.com"])
            .build()
            .unwrap();
        let req = |origin: Option<&str>| {
            let mut b = Request::get("/")
                .header("upgrade", "websocket")
                .header("connection", "upgrade")
                .header("sec-websocket-version", "13")
                .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
            if let Some(o) = origin {
                b = b.header("origin", o);
            }
            b.body(()).unwrap()
        };
        // Allowed origins (and no origin) pass the check and stop at the missing hook.
        for ok in [Some("https://APP.example.com"), None] {
            let e = acceptor.accept(&mut req(ok)).unwrap_err();
            assert!(matches!(e, Error::NoUpgrade), "{ok:?}: {e}");
        }
        let e = acceptor
            .accept(&mut req(Some("https://evil.test")))
            .unwrap_err();
        assert!(
            matches!(&e, Error::OriginRejected { origin: Some(o) } if o == "https://evil.test")
        );
    }
}
