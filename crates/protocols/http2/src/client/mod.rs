//! The connection-level HTTP/2 client: one connection, many concurrent requests.
//!
//! [`handshake`] starts HTTP/2 on any [`Stream`] (from any `Dial`) and returns a
//! cloneable [`SendRequest`] handle plus the [`Connection`] future that drives the
//! connection; [`connect`] does both and spawns the driver. A pool keeps the handle and
//! asks [`SendRequest::is_ready`] / [`SendRequest::is_closed`] before reuse.
//!
//! ```
//! # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
//! use ghostnet_http2::{client, Body, Server, Settings};
//! use ghostnet_runtime::Shutdown;
//! use ghostnet_transport::{Dial, MemoryNetwork};
//! use http::{Request, Response};
//!
//! let net = MemoryNetwork::new();
//! let listener = net.listen(&"api.test:80".parse().unwrap()).unwrap();
//! let shutdown = Shutdown::new();
//! let server = Server::new(Settings::default()).unwrap();
//! let hello = |_req: Request<Body>| async { Response::new(Body::from("Hello, World!")) };
//! tokio::spawn(server.serve(listener, hello, shutdown.clone()));
//!
//! let stream = net.dialer().dial(&"api.test:80".parse().unwrap()).await.unwrap();
//! let client = client::connect(stream, &Settings::default()).await.unwrap();
//! let req = Request::get("http://api.test/").body(Body::empty()).unwrap();
//! let res = client.send(req).await.unwrap();
//! assert_eq!(res.status(), 200);
//! assert_eq!(res.into_body().collect().await.unwrap(), "Hello, World!");
//! shutdown.shutdown().await;
//! # }).unwrap();
//! ```

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use ghostnet_transport::Stream;
use http::{Method, Request, Response};

use crate::body::{Body, Incoming, send::send_body};
use crate::error::{Error, Result};
use crate::headers::{set_content_length, strip_connection_specific};
use crate::io::{Activity, Io};
use crate::ping::{PingEvent, Pinger};
use crate::settings::Settings;

/// Starts HTTP/2 on `io`: sends the connection preface and our settings.
///
/// The returned [`Connection`] must be polled (spawned) for requests to make progress;
/// it finishes when every [`SendRequest`] clone is dropped and the last stream is done,
/// or when the connection fails.
///
/// # Errors
///
/// [`Error::InvalidSettings`], [`Error::AlpnMismatch`] (TLS agreed on another protocol),
/// [`Error::HandshakeTimeout`], or I/O failure.
pub async fn handshake<T: Stream>(io: T, settings: &Settings) -> Result<(SendRequest, Connection)> {
    settings.validate()?;
    if let Some(alpn) = io.info().alpn
        && alpn != b"h2"
    {
        return Err(Error::AlpnMismatch {
            alpn: String::from_utf8_lossy(&alpn).into_owned(),
        });
    }
    let activity = Activity::default();
    let io = Io::new(io, Bytes::new(), activity.clone());
    let limit = settings.handshake_timeout;
    let (send, mut conn) =
        tokio::time::timeout(limit, settings.client_builder().handshake::<_, Bytes>(io))
            .await
            .map_err(|_| Error::HandshakeTimeout(limit))??;

    let shared = Arc::new(Shared {
        keepalive_timeout: settings.keepalive_timeout,
        activity: activity.clone(),
        ..Shared::default()
    });
    let mut pinger = Pinger::new(settings, conn.ping_pong(), activity);
    let driver_shared = shared.clone();
    let driver = async move {
        let out = poll_fn(|cx| {
            if let Some(p) = &mut pinger {
                while let Poll::Ready(event) = p.poll(cx) {
                    match event {
                        PingEvent::KeepaliveTimeout(e) => {
                            // Recorded before the connection is dropped, so the requests
                            // it fails report why.
                            driver_shared
                                .keepalive_timed_out
                                .store(true, Ordering::Release);
                            return Poll::Ready(Err(e));
                        }
                        PingEvent::GrowWindow { stream, connection } => {
                            conn.set_initial_window_size(stream)?;
                            conn.set_target_window_size(connection);
                        }
                    }
                }
            }
            Pin::new(&mut conn).poll(cx).map_err(Error::from)
        })
        .await;
        driver_shared.closed.store(true, Ordering::Release);
        out
    };
    Ok((
        SendRequest {
            inner: send,
            shared,
        },
        Connection {
            inner: Box::pin(driver),
        },
    ))
}

/// [`handshake`], with the [`Connection`] spawned on the current runtime (its end is
/// logged at debug level; [`SendRequest::is_closed`] reports it).
///
/// # Errors
///
/// As for [`handshake`].
///
/// # Panics
///
/// When called outside a tokio runtime.
pub async fn connect<T: Stream>(io: T, settings: &Settings) -> Result<SendRequest> {
    let (send, conn) = handshake(io, settings).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!("http2 client connection ended: {e}");
        }
    });
    Ok(send)
}

#[derive(Debug, Default)]
struct Shared {
    closed: AtomicBool,
    keepalive_timed_out: AtomicBool,
    keepalive_timeout: std::time::Duration,
    in_flight: AtomicUsize,
    /// Counts the body bytes responses hand over, for the adaptive window.
    activity: Activity,
}

/// Sends requests on one HTTP/2 connection. Clones share the connection; requests from
/// all clones are multiplexed on it, up to the server's `MAX_CONCURRENT_STREAMS` (more
/// wait for a free stream).
#[derive(Clone)]
pub struct SendRequest {
    inner: h2::client::SendRequest<Bytes>,
    shared: Arc<Shared>,
}

impl fmt::Debug for SendRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendRequest")
            .field("closed", &self.is_closed())
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

impl SendRequest {
    /// Sends `req` and waits for the response head. The response body streams as it
    /// arrives; the server may send more only as it is read. A streaming request body
    /// is sent by a task of its own, so the response can arrive before it ends.
    ///
    /// The URI must be absolute (`http://host/path` or `https://...`): HTTP/2 carries
    /// scheme and authority as pseudo-headers. Connection-specific headers
    /// (`Connection`, `Transfer-Encoding`, ...) are dropped, as HTTP/2 forbids them.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidMessage`] for a relative URI; [`Error::ConnectionClosed`] or
    /// [`Error::GoAway`] when the connection can no longer take requests
    /// ([`Error::is_retryable`] says whether the request may be retried elsewhere);
    /// [`Error::Reset`] when the server reset the stream.
    pub async fn send(&self, req: Request<Body>) -> Result<Response<Body>> {
        let (mut parts, mut body) = req.into_parts();
        let has_authority = parts.uri.authority().is_some();
        if !has_authority || (parts.uri.scheme().is_none() && parts.method != Method::CONNECT) {
            return Err(Error::InvalidMessage {
                reason: format!(
                    "the URI {:?} is not absolute; HTTP/2 needs a scheme and an authority, e.g. http://host/path",
                    parts.uri.to_string()
                ),
            });
        }
        strip_connection_specific(&mut parts.headers);
        if !body.is_end_stream() {
            set_content_length(&mut parts.headers, body.size_hint());
        }
        let mut h2 = self.inner.clone();
        poll_fn(|cx| h2.poll_ready(cx))
            .await
            .map_err(|e| self.closed_error(e))?;
        let end = body.is_end_stream();
        let (response, mut stream) = h2
            .send_request(Request::from_parts(parts, ()), end)
            .map_err(|e| self.closed_error(e))?;
        let mut guard = InFlight::new(self.shared.clone());
        if !end {
            if let Some(data) = body.take_full() {
                stream.send_data(data, true)?;
            } else {
                // The body streams from its own task, so the response can come first.
                // The task stops when the caller loses interest (this future or the
                // response body dropped): dropping the last handle makes h2 reset the
                // stream with CANCEL, and the server stops too.
                let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
                guard.cancel_body = Some(cancel);
                tokio::spawn(async move {
                    tokio::select! {
                        biased;
                        _ = cancelled => {}
                        r = send_body(body, stream) => if let Err(e) = r {
                            tracing::debug!("sending the request body failed: {e}");
                        },
                    }
                });
            }
        }
        let response = response.await.map_err(|e| self.closed_error(e))?;
        let (parts, recv) = response.into_parts();
        let incoming =
            Incoming::new(recv, &parts.headers, self.shared.activity.clone()).with_guard(guard);
        Ok(Response::from_parts(parts, Body::incoming(incoming)))
    }

    /// Waits until a new stream can be opened (the server's concurrency limit leaves
    /// room).
    ///
    /// # Errors
    ///
    /// When the connection is closed or going away.
    pub async fn ready(&mut self) -> Result<()> {
        let inner = &mut self.inner;
        let out = poll_fn(|cx| inner.poll_ready(cx)).await;
        out.map_err(|e| self.closed_error(e))
    }

    /// Whether a request sent now would start at once: the connection is open, not
    /// going away, and below the server's concurrency limit.
    pub fn is_ready(&self) -> bool {
        !self.is_closed() && self.in_flight() < self.max_concurrent_streams()
    }

    /// Whether the connection can take no more requests: it ended, failed, or the
    /// server sent GOAWAY. A pool drops such a handle.
    pub fn is_closed(&self) -> bool {
        if self.shared.closed.load(Ordering::Acquire) {
            return true;
        }
        // A fresh clone has no pending stream, so `poll_ready` answers at once: an error
        // means the connection is closing (GOAWAY received, or failed).
        let mut probe = self.inner.clone();
        let mut cx = Context::from_waker(std::task::Waker::noop());
        matches!(probe.poll_ready(&mut cx), Poll::Ready(Err(_)))
    }

    /// Requests whose response has not been fully read (or dropped) yet.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::Acquire)
    }

    /// The server's `MAX_CONCURRENT_STREAMS` (unbounded until its SETTINGS arrive).
    pub fn max_concurrent_streams(&self) -> usize {
        self.inner.current_max_send_streams()
    }

    /// The error for a request the connection failed: when the connection ended on
    /// its own account (keepalive), that says more than h2's I/O error.
    fn closed_error(&self, e: h2::Error) -> Error {
        match Error::from(e) {
            Error::Io(_) | Error::ConnectionClosed
                if self.shared.keepalive_timed_out.load(Ordering::Acquire) =>
            {
                Error::KeepaliveTimeout(self.shared.keepalive_timeout)
            }
            Error::Io(_) if self.shared.closed.load(Ordering::Acquire) => Error::ConnectionClosed,
            other => other,
        }
    }
}

/// One exchange's hold on the connection, from `send` until the response body is
/// finished or dropped: counts it in flight, and keeps a streaming request body going
/// (dropping the guard stops it).
pub(crate) struct InFlight {
    shared: Arc<Shared>,
    cancel_body: Option<tokio::sync::oneshot::Sender<()>>,
}

impl InFlight {
    fn new(shared: Arc<Shared>) -> Self {
        shared.in_flight.fetch_add(1, Ordering::AcqRel);
        Self {
            shared,
            cancel_body: None,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.shared.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Drives one client connection: reads responses, writes requests, answers PINGs and
/// sends keepalive PINGs. Spawn it; it resolves when the connection ends.
#[must_use = "the connection does nothing unless polled (spawn it)"]
pub struct Connection {
    inner: Pin<Box<dyn Future<Output = Result<()>> + Send>>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Connection")
    }
}

impl Future for Connection {
    type Output = Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.inner.as_mut().poll(cx)
    }
}
