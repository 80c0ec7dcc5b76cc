//! [`Pooled`]: the guard of an exclusively checked-out connection.

use std::fmt;
use std::io;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::core::Ticket;
use super::exclusive::Exclusive;
use super::key::PoolKey;
use crate::stream::{ConnectionInfo, Stream};

/// A connection checked out of a [`Pool`](super::Pool), for one user at a time.
///
/// It derefs to the stream and is itself a [`Stream`] (`AsyncRead + AsyncWrite`), so it
/// can be handed to protocol code directly. When dropped it goes back to the pool's idle
/// set, unless it was marked not reusable.
///
/// # When a connection must not go back
///
/// A connection whose exchange did not finish cleanly would hand the next user a
/// half-read response. It is kept out of the pool when:
///
/// - the user calls [`discard`](Pooled::discard) or
///   [`set_reusable(false)`](Pooled::set_reusable) (say, on a protocol error or a
///   `Connection: close` response);
/// - a read or write *through the guard* fails, a read hits end of stream, or the guard
///   is shut down (automatic);
/// - it is closed by the peer or holds unread bytes when it comes back or before reuse
///   (the pool's probe; counted as evicted).
///
/// An exchange cut short by cancellation (the future holding the guard dropped between
/// request and response) cannot be detected by the pool. Protocols mark the guard not
/// reusable while an exchange is in flight:
///
/// ```
/// # use ghostnet_transport::pool::Pooled;
/// # use tokio::io::{AsyncReadExt, AsyncWriteExt};
/// async fn exchange<S: ghostnet_transport::Stream>(conn: &mut Pooled<S>) -> std::io::Result<[u8; 2]> {
///     conn.set_reusable(false); // dropped before the end: closed, not reused
///     conn.write_all(b"hi").await?;
///     let mut reply = [0u8; 2];
///     conn.read_exact(&mut reply).await?;
///     conn.set_reusable(true); // complete: may go back
///     Ok(reply)
/// }
/// ```
pub struct Pooled<S: Stream> {
    /// `Some` until the guard is consumed (drop, `discard`, `into_inner`).
    stream: Option<S>,
    ticket: Ticket<Exclusive<S>>,
    reused: bool,
    reusable: bool,
}

impl<S: Stream> Pooled<S> {
    pub(crate) fn new(ticket: Ticket<Exclusive<S>>, stream: S, reused: bool) -> Self {
        Self {
            stream: Some(stream),
            ticket,
            reused,
            reusable: true,
        }
    }

    /// Whether this connection served an earlier checkout. A request that fails on a
    /// reused connection may have hit a socket the server closed just then: retry it once
    /// on [`Pool::get_new`](super::Pool::get_new).
    pub fn is_reused(&self) -> bool {
        self.reused
    }

    /// Whether the connection will go back to the pool when the guard drops.
    pub fn is_reusable(&self) -> bool {
        self.reusable
    }

    /// Marks whether the connection may go back to the pool when the guard drops.
    pub fn set_reusable(&mut self, reusable: bool) {
        self.reusable = reusable;
    }

    /// Closes the connection instead of returning it (counted as discarded), freeing its
    /// slot for the next caller.
    pub fn discard(mut self) {
        self.reusable = false;
    }

    /// Takes the stream out of the pool for good (e.g. after an HTTP upgrade to
    /// WebSocket). Its slot is freed; it counts as discarded.
    pub fn into_inner(mut self) -> S {
        let stream = self
            .stream
            .take()
            .expect("a Pooled holds its stream until consumed");
        self.ticket.release(None, false);
        stream
    }

    /// The key this connection was checked out for.
    pub fn key(&self) -> &PoolKey {
        self.ticket.key()
    }

    fn stream_mut(&mut self) -> &mut S {
        self.stream
            .as_mut()
            .expect("a Pooled holds its stream until consumed")
    }

    /// Marks the connection not reusable when an I/O result shows it is broken.
    fn note<T>(&mut self, r: &Poll<io::Result<T>>) {
        if matches!(r, Poll::Ready(Err(_))) {
            self.reusable = false;
        }
    }
}

impl<S: Stream> Drop for Pooled<S> {
    fn drop(&mut self) {
        if let Some(stream) = self.stream.take() {
            self.ticket.release(Some(stream), self.reusable);
        }
    }
}

impl<S: Stream> Deref for Pooled<S> {
    type Target = S;

    fn deref(&self) -> &S {
        self.stream
            .as_ref()
            .expect("a Pooled holds its stream until consumed")
    }
}

impl<S: Stream> DerefMut for Pooled<S> {
    fn deref_mut(&mut self) -> &mut S {
        self.stream_mut()
    }
}

impl<S: Stream> AsyncRead for Pooled<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(this.stream_mut()).poll_read(cx, buf);
        this.note(&r);
        // Nothing read into a buffer with room: end of stream, the peer is gone.
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() == before && buf.remaining() > 0 {
            this.reusable = false;
        }
        r
    }
}

impl<S: Stream> AsyncWrite for Pooled<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(this.stream_mut()).poll_write(cx, buf);
        this.note(&r);
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(this.stream_mut()).poll_write_vectored(cx, bufs);
        this.note(&r);
        r
    }

    fn is_write_vectored(&self) -> bool {
        (**self).is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(this.stream_mut()).poll_flush(cx);
        this.note(&r);
        r
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // A half-closed connection cannot carry another exchange.
        this.reusable = false;
        Pin::new(this.stream_mut()).poll_shutdown(cx)
    }
}

impl<S: Stream> Stream for Pooled<S> {
    fn info(&self) -> ConnectionInfo {
        (**self).info()
    }
}

impl<S: Stream> fmt::Debug for Pooled<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pooled")
            .field("key", self.key())
            .field("reused", &self.reused)
            .field("reusable", &self.reusable)
            .finish_non_exhaustive()
    }
}
