//! [`Tracked`]: a stream wrapper that notes that bytes arrived, so the heartbeat can tell
//! a live peer from a dead one without a timer reset per message.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// `S` plus a "something was received" flag. One store per successful read.
#[derive(Debug)]
pub(crate) struct Tracked<S> {
    pub(crate) io: S,
    /// Set by every read that brings bytes; cleared by the heartbeat timer.
    pub(crate) received: bool,
}

impl<S> Tracked<S> {
    pub(crate) fn new(io: S) -> Self {
        Self {
            io,
            received: false,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.received = true;
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn reads_with_bytes_set_the_flag() {
        let (a, mut b) = tokio::io::duplex(64);
        let mut t = Tracked::new(a);
        t.write_all(b"out").await.unwrap();
        assert!(!t.received, "writes are not signs of life");
        b.write_all(b"in").await.unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(t.read(&mut buf).await.unwrap(), 2);
        assert!(t.received);
        t.received = false;
        drop(b);
        assert_eq!(t.read(&mut buf).await.unwrap(), 0);
        assert!(!t.received, "end of stream is not a sign of life");
    }
}
