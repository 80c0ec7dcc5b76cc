//! The byte stream h2 runs on: replays bytes read ahead of h2 (the preface, or the
//! frames standing in for an h2c upgrade request) and counts reads for keepalive.
//! [`Activity`] also counts the body bytes the application took, for the adaptive window.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What a connection has heard: successful reads of its socket (keepalive sends a PING
/// only when the count has not moved for a whole interval) and body bytes handed to the
/// application (the adaptive window samples them per round trip). Counters cost one
/// relaxed add each, where reading the clock on every read would cost more.
#[derive(Debug, Default, Clone)]
pub(crate) struct Activity(Arc<Counters>);

#[derive(Debug, Default)]
struct Counters {
    reads: AtomicU64,
    body_bytes: AtomicU64,
}

impl Activity {
    pub(crate) fn reads(&self) -> u64 {
        self.0.reads.load(Ordering::Relaxed)
    }

    /// Body bytes the application has taken on every stream of the connection.
    pub(crate) fn body_bytes(&self) -> u64 {
        self.0.body_bytes.load(Ordering::Relaxed)
    }

    pub(crate) fn record_body(&self, n: usize) {
        self.0.body_bytes.fetch_add(n as u64, Ordering::Relaxed);
    }

    fn record(&self) {
        self.0.reads.fetch_add(1, Ordering::Relaxed);
    }
}

/// `inner` with `prefix` read first.
pub(crate) struct Io<S> {
    inner: S,
    prefix: Bytes,
    activity: Activity,
}

impl<S> Io<S> {
    pub(crate) fn new(inner: S, prefix: Bytes, activity: Activity) -> Self {
        Self {
            inner,
            prefix,
            activity,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Io<S> {
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
        let before = buf.filled().len();
        let out = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(out, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.record();
        }
        out
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Io<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
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

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn replays_prefix_then_counts_reads() {
        let (a, mut b) = tokio::io::duplex(64);
        let activity = Activity::default();
        let mut io = Io::new(a, Bytes::from_static(b"pre"), activity.clone());
        b.write_all(b"fix").await.unwrap();
        drop(b);
        let mut got = Vec::new();
        io.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"prefix");
        // The prefix is not peer activity; the one read of "fix" is (EOF is not).
        assert_eq!(activity.reads(), 1);
    }
}
