//! The upgrade hook: after a `101 Switching Protocols` response (or a 2xx to `CONNECT`),
//! the server hands the raw connection to the handler, for WebSocket, h2c or a tunnel.
//!
//! A request that asks for an upgrade (`Connection: upgrade` + `Upgrade`, or `CONNECT`)
//! and has no body carries an [`OnUpgrade`] in its extensions. The handler takes it with
//! [`on`], spawns a task that awaits it, and returns the 101 response; once the server has
//! written that response it resolves to an [`Upgraded`] connection: the stream plus any
//! bytes the client sent after the request head.
//!
//! ```
//! use ghostnet_http1::{upgrade, Body};
//! use http::{Request, Response, StatusCode};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! async fn echo_protocol(mut req: Request<Body>) -> Response<Body> {
//!     let Some(on_upgrade) = upgrade::on(&mut req) else {
//!         return Response::builder().status(StatusCode::BAD_REQUEST).body(Body::empty()).unwrap();
//!     };
//!     tokio::spawn(async move {
//!         if let Ok(mut conn) = on_upgrade.await {
//!             let mut buf = [0; 1024];
//!             while let Ok(n @ 1..) = conn.read(&mut buf).await {
//!                 if conn.write_all(&buf[..n]).await.is_err() { break; }
//!             }
//!         }
//!     });
//!     Response::builder()
//!         .status(StatusCode::SWITCHING_PROTOCOLS)
//!         .header("connection", "upgrade")
//!         .header("upgrade", "echo")
//!         .body(Body::empty())
//!         .unwrap()
//! }
//! ```

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use ghostnet_transport::{BoxStream, ConnectionInfo, Stream};
use http::Request;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::oneshot;

use crate::error::{Error, Result};

/// Takes the pending upgrade of `req`, if it asked for one (and has no body).
pub fn on<B>(req: &mut Request<B>) -> Option<OnUpgrade> {
    req.extensions_mut().remove::<OnUpgrade>()
}

/// Resolves to the [`Upgraded`] connection once the switching response is written, or to
/// [`Error::NoUpgrade`] when the response was something else or the connection failed.
#[derive(Clone)]
pub struct OnUpgrade {
    // Request extensions must be Clone; the receiver is taken by the first await.
    rx: Arc<Mutex<Option<oneshot::Receiver<Upgraded>>>>,
}

impl std::fmt::Debug for OnUpgrade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnUpgrade")
    }
}

pub(crate) fn pending() -> (oneshot::Sender<Upgraded>, OnUpgrade) {
    let (tx, rx) = oneshot::channel();
    (
        tx,
        OnUpgrade {
            rx: Arc::new(Mutex::new(Some(rx))),
        },
    )
}

impl Future for OnUpgrade {
    type Output = Result<Upgraded>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.rx.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(rx) = slot.as_mut() else {
            return Poll::Ready(Err(Error::NoUpgrade));
        };
        let out = match Pin::new(rx).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(r) => r.map_err(|_| Error::NoUpgrade),
        };
        *slot = None;
        Poll::Ready(out)
    }
}

/// A connection taken over from HTTP/1.1: reads return the bytes the client sent after
/// the request head first, then the stream's.
pub struct Upgraded {
    io: BoxStream,
    read_buf: Bytes,
}

impl Upgraded {
    pub(crate) fn new(io: BoxStream, read_buf: Bytes) -> Self {
        Self { io, read_buf }
    }

    /// The stream and the bytes already read from it (to be processed first).
    pub fn into_parts(self) -> (BoxStream, Bytes) {
        (self.io, self.read_buf)
    }

    /// What the underlying connection is.
    pub fn info(&self) -> ConnectionInfo {
        self.io.info()
    }
}

impl std::fmt::Debug for Upgraded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upgraded")
            .field("info", &self.io.info())
            .field("buffered", &self.read_buf.len())
            .finish()
    }
}

impl AsyncRead for Upgraded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.read_buf.is_empty() {
            let n = self.read_buf.len().min(buf.remaining());
            buf.put_slice(&self.read_buf[..n]);
            self.read_buf.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Upgraded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

impl Stream for Upgraded {
    fn info(&self) -> ConnectionInfo {
        self.io.info()
    }
}
