//! Protocol detection on one port: which of HTTP/1.1 and HTTP/2 a connection speaks.
//!
//! - TLS: the ALPN protocol decides (`h2`, else HTTP/1.1).
//! - Cleartext: the first bytes decide. An HTTP/2 client starts with the 24-byte
//!   preface `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`; no HTTP/1.1 request starts with `PRI`
//!   (RFC 9113 reserves the method for this), so three matching bytes are enough to
//!   choose, and the HTTP/2 server checks the whole preface itself.
//!
//! On a plain `tokio::net::TcpStream` the bytes are *peeked* (`MSG_PEEK`), not read, so
//! the HTTP/1.1 server gets the socket itself and keeps its sendfile path. Other streams
//! (in-memory, TLS without ALPN) are read and the bytes replayed by [`Rewind`].

use std::any::Any;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes};
use ghostnet_http2::h2c::PREFACE;
use ghostnet_transport::{ConnectionInfo, Stream};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

/// The protocol a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proto {
    Http1,
    Http2,
}

/// Bytes that decide: enough to tell `PRI` from any HTTP/1.1 method.
const DECIDING: usize = 3;

/// The protocol the first bytes `seen` show, or `None` when more are needed.
pub(crate) fn classify(seen: &[u8]) -> Option<Proto> {
    let n = seen.len().min(PREFACE.len());
    if seen[..n] != PREFACE[..n] {
        Some(Proto::Http1)
    } else if n >= DECIDING {
        Some(Proto::Http2)
    } else {
        None
    }
}

/// The raw TCP stream behind `io`, when it is one (then peeking is possible).
pub(crate) fn as_tcp<S: Any>(io: &mut S) -> Option<&mut tokio::net::TcpStream> {
    (io as &mut dyn Any).downcast_mut::<tokio::net::TcpStream>()
}

/// Peeks at a TCP stream until its first bytes decide; `None` when the peer closed
/// without sending anything.
pub(crate) async fn peek(tcp: &tokio::net::TcpStream) -> io::Result<Option<Proto>> {
    let mut buf = [0u8; DECIDING];
    // A peek does not consume, so the socket stays readable: after a partial prefix
    // ("P", "PR") waiting for readiness would return at once. Back off instead; only a
    // client that pauses inside its first three bytes ever gets here.
    let mut pause = Duration::from_millis(1);
    loop {
        let n = tcp.peek(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        if let Some(p) = classify(&buf[..n]) {
            return Ok(Some(p));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Reads from `io` until its first bytes decide; returns the protocol and the bytes
/// read (to be replayed), `None` when the peer closed without sending anything.
pub(crate) async fn read<S: AsyncRead + Unpin>(io: &mut S) -> io::Result<Option<(Proto, Bytes)>> {
    let mut buf = Vec::with_capacity(PREFACE.len());
    let mut chunk = [0u8; PREFACE.len()];
    loop {
        let n = io.read(&mut chunk).await?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                // Too short to be HTTP/2; let HTTP/1.1 answer (400) whatever it is.
                Ok(Some((Proto::Http1, Bytes::from(buf))))
            };
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = classify(&buf) {
            return Ok(Some((p, Bytes::from(buf))));
        }
    }
}

/// A stream whose first reads return `prefix`: bytes read ahead to detect the protocol.
pub(crate) struct Rewind<S> {
    prefix: Bytes,
    inner: S,
}

impl<S> Rewind<S> {
    pub(crate) fn new(inner: S, prefix: Bytes) -> Self {
        Self { prefix, inner }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewind<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(buf.remaining());
            buf.put_slice(&self.prefix[..n]);
            self.prefix.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewind<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

impl<S: Stream> Stream for Rewind<S> {
    fn info(&self) -> ConnectionInfo {
        self.inner.info()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[test]
    fn classifies_by_the_first_bytes() {
        assert_eq!(classify(b"G"), Some(Proto::Http1));
        assert_eq!(classify(b"POST / HTTP/1.1"), Some(Proto::Http1));
        assert_eq!(classify(b"P"), None);
        assert_eq!(classify(b"PR"), None);
        assert_eq!(classify(b"PRI"), Some(Proto::Http2));
        assert_eq!(classify(PREFACE), Some(Proto::Http2));
        assert_eq!(classify(b"PRX"), Some(Proto::Http1));
    }

    #[tokio::test]
    async fn read_replays_what_it_read() {
        let (mut a, mut b) = tokio::io::duplex(64);
        b.write_all(b"P").await.unwrap();
        let writer = tokio::spawn(async move {
            tokio::task::yield_now().await;
            b.write_all(b"UT /x HTTP/1.1\r\n").await.unwrap();
            b
        });
        let (proto, prefix) = read(&mut a).await.unwrap().unwrap();
        assert_eq!(proto, Proto::Http1);
        let _b = writer.await.unwrap();
        let mut replay = Rewind::new(a, prefix);
        let mut got = [0u8; 5];
        replay.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"PUT /");
    }

    #[tokio::test]
    async fn read_sees_a_silent_close() {
        let (mut a, b) = tokio::io::duplex(64);
        drop(b);
        assert!(read(&mut a).await.unwrap().is_none());
    }
}
