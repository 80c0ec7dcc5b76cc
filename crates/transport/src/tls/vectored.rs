//! [`Vectored`]: gives every inner stream a real vectored write.
//!
//! rustls hands its output to tokio-rustls as several records, written with one
//! `poll_write_vectored` call. A stream that does not implement vectored writes gets the
//! default, which writes only the first slice. That is harmless in the normal loop (the
//! rest goes on the next call) but not on the error path: after a failed handshake
//! tokio-rustls makes one "last gasp" write of the pending records and drops the session,
//! so with the default only the first record leaves and the fatal alert that says *why*
//! is lost. The peer then sees "broken pipe" instead of, say, "no ALPN protocol in
//! common". Writing slice after slice until the stream would block fixes that.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// An inner stream whose vectored writes write as many slices as it accepts.
#[derive(Debug)]
pub(crate) struct Vectored<S>(pub(crate) S);

impl<S: AsyncRead + Unpin> AsyncRead for Vectored<S> {
    #[inline]
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Vectored<S> {
    #[inline]
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.0.is_write_vectored() {
            return Pin::new(&mut self.0).poll_write_vectored(cx, bufs);
        }
        let mut total = 0;
        for buf in bufs.iter().filter(|b| !b.is_empty()) {
            match Pin::new(&mut self.0).poll_write(cx, buf) {
                Poll::Ready(Ok(n)) => {
                    total += n;
                    if n < buf.len() {
                        break;
                    }
                }
                // Report what was written; the error or the wait comes back next call.
                Poll::Ready(Err(e)) if total == 0 => return Poll::Ready(Err(e)),
                Poll::Pending if total == 0 => return Poll::Pending,
                Poll::Ready(Err(_)) | Poll::Pending => break,
            }
        }
        Poll::Ready(Ok(total))
    }

    #[inline]
    fn is_write_vectored(&self) -> bool {
        true
    }

    #[inline]
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    #[inline]
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A stream with the default (first-slice-only) vectored write and a small capacity.
    struct Plain {
        data: Vec<u8>,
        cap: usize,
    }

    impl AsyncWrite for Plain {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let room = self.cap - self.data.len();
            if room == 0 {
                return Poll::Pending;
            }
            let n = room.min(buf.len());
            self.data.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }
        fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn writes_every_slice_that_fits() {
        let mut s = Vectored(Plain {
            data: Vec::new(),
            cap: 8,
        });
        let bufs = [
            IoSlice::new(b"abc"),
            IoSlice::new(b""),
            IoSlice::new(b"defgh"),
        ];
        assert_eq!(s.write_vectored(&bufs).await.unwrap(), 8);
        assert_eq!(s.0.data, b"abcdefgh");
        // Full: the next write waits instead of reporting 0.
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let r = Pin::new(&mut s).poll_write_vectored(&mut cx, &[IoSlice::new(b"x")]);
        assert!(r.is_pending());
    }

    #[tokio::test]
    async fn stops_at_a_partial_slice() {
        let mut s = Vectored(Plain {
            data: Vec::new(),
            cap: 4,
        });
        let bufs = [IoSlice::new(b"abc"), IoSlice::new(b"def")];
        assert_eq!(s.write_vectored(&bufs).await.unwrap(), 4);
        assert_eq!(s.0.data, b"abcd");
    }

    #[tokio::test]
    async fn reads_pass_through() {
        let (a, mut b) = tokio::io::duplex(16);
        b.write_all(b"hi").await.unwrap();
        let mut v = Vectored(a);
        let mut buf = [0u8; 2];
        v.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
    }
}
