//! The HTTP/2 server: an accept loop over any [`Listen`], one task per connection and
//! one per stream.

mod conn;
mod stream;

use std::sync::Arc;

use ghostnet_runtime::Shutdown;
use ghostnet_transport::{Listen, Stream, accept_until};
use http::Request;
use tokio_util::sync::CancellationToken;

use crate::body::Body;
use crate::error::{Error, Result};
use crate::h2c;
use crate::service::Service;
use crate::settings::Settings;

pub(crate) use conn::Takeover;

/// An HTTP/2 server. Cheap to clone; each clone serves with the same [`Settings`].
///
/// Connections over TLS must have negotiated ALPN `h2`; plaintext connections must
/// start with the HTTP/2 preface (h2c with prior knowledge), or come from an HTTP/1.1
/// upgrade through [`serve_upgrade`](Self::serve_upgrade).
///
/// ```
/// use ghostnet_http2::{Body, Server, Settings};
/// use ghostnet_runtime::Shutdown;
/// use ghostnet_transport::MemoryNetwork;
/// use http::{Request, Response};
///
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// let net = MemoryNetwork::new();
/// let listener = net.listen(&"web.test:80".parse().unwrap()).unwrap();
/// let shutdown = Shutdown::new();
/// let server = Server::new(Settings::default()).unwrap();
/// let hello = |_req: Request<Body>| async { Response::new(Body::from("Hello, World!")) };
/// let serving = tokio::spawn(server.serve(listener, hello, shutdown.clone()));
/// // ... dial "web.test:80" from net.dialer() and speak HTTP/2 (see `client`) ...
/// shutdown.trigger();
/// serving.await.unwrap().unwrap();
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Server {
    settings: Arc<Settings>,
}

impl Server {
    /// A server with `settings`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSettings`] when a setting is out of range.
    pub fn new(settings: Settings) -> Result<Self> {
        settings.validate()?;
        Ok(Self {
            settings: Arc::new(settings),
        })
    }

    /// The settings every connection is served with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Accepts connections from `listener` and serves each on its own task until
    /// `shutdown` fires; then stops accepting and returns.
    ///
    /// Connection tasks are spawned with [`Shutdown::spawn`], so [`Shutdown::shutdown`]
    /// waits for them: each sends GOAWAY, lets the streams the client already opened
    /// finish, then closes; whatever is still running at the drain deadline is aborted.
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
                    tracing::debug!(%peer, "http2 connection ended: {e}");
                }
            });
        })
        .await;
        Ok(())
    }

    /// Serves one accepted connection until it ends. Cancelling `token` shuts it down
    /// gracefully: GOAWAY, in-flight streams finish, then the connection closes.
    ///
    /// # Errors
    ///
    /// What ended the connection abnormally: [`Error::AlpnMismatch`] (TLS agreed on
    /// another protocol), [`Error::InvalidPreface`] (not an HTTP/2 client; it was sent
    /// GOAWAY with `PROTOCOL_ERROR`), [`Error::HandshakeTimeout`],
    /// [`Error::KeepaliveTimeout`], a protocol error (the peer got GOAWAY with its
    /// code), or I/O failure. A peer that closes cleanly is not an error.
    pub async fn serve_connection<T, S>(
        &self,
        io: T,
        service: Arc<S>,
        token: CancellationToken,
    ) -> Result<()>
    where
        T: Stream,
        S: Service,
    {
        if let Some(alpn) = io.info().alpn
            && alpn != b"h2"
        {
            return Err(Error::AlpnMismatch {
                alpn: String::from_utf8_lossy(&alpn).into_owned(),
            });
        }
        conn::run(io, &self.settings, service, token, None).await
    }

    /// Serves a connection taken over from HTTP/1.1 by an h2c upgrade, after the HTTP/1.1
    /// server wrote `101 Switching Protocols` ([`h2c::switching_protocols`]): `request`
    /// (the upgrade request, body already read) is answered on stream 1, and the
    /// connection continues as HTTP/2. The client settings come from the request's
    /// `HTTP2-Settings` header.
    ///
    /// ```no_run
    /// # async fn hook(
    /// #     server: ghostnet_http2::Server,
    /// #     upgraded: ghostnet_transport::MemoryStream,
    /// #     request: http::Request<()>,
    /// # ) -> ghostnet_http2::Result<()> {
    /// use std::sync::Arc;
    /// use ghostnet_http2::Body;
    /// use http::{Request, Response};
    ///
    /// let service = Arc::new(|_req: Request<Body>| async { Response::new(Body::from("hi")) });
    /// let token = ghostnet_runtime::Shutdown::new().token();
    /// server.serve_upgrade(upgraded, request, service, token).await
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUpgrade`] when the request cannot become stream 1 (check it with
    /// [`h2c::upgrade_settings`] before answering 101), then as for
    /// [`serve_connection`](Self::serve_connection).
    pub async fn serve_upgrade<T, B, S>(
        &self,
        io: T,
        request: Request<B>,
        service: Arc<S>,
        token: CancellationToken,
    ) -> Result<()>
    where
        T: Stream,
        B: Into<Body>,
        S: Service,
    {
        let takeover = h2c::takeover(request)?;
        let io = h2c::DropSettingsAck::new(io);
        conn::run(io, &self.settings, service, token, Some(takeover)).await
    }
}
