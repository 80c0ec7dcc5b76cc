//! [`BodyReader`]: any `http_body::Body` of `Bytes` as the `AsyncBufRead` the
//! async-compression decoders read from, counting the encoded bytes.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use http_body::Body;
use tokio::io::{AsyncBufRead, AsyncRead, ReadBuf};

/// The encoded body, read piece by piece; trailers are skipped (the body keeps them,
/// where it keeps them at all).
#[derive(Debug)]
pub(crate) struct BodyReader<B: Body> {
    pub(crate) body: B,
    chunk: Bytes,
    /// Encoded bytes taken from the body so far.
    pub(crate) received: u64,
    /// The body's own error, kept here as it is: the decoder only passes `io::Error`s,
    /// and the caller should get the body's error back untouched, not a stringly copy.
    pub(crate) error: Option<B::Error>,
    ended: bool,
}

impl<B: Body<Data = Bytes> + Unpin> BodyReader<B> {
    pub(crate) fn new(body: B) -> Self {
        Self {
            body,
            chunk: Bytes::new(),
            received: 0,
            error: None,
            ended: false,
        }
    }

    /// The next data of the body (`None` at its end), skipping trailers.
    pub(crate) fn poll_data(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, B::Error>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        loop {
            match ready!(Pin::new(&mut self.body).poll_frame(cx)) {
                None => {
                    self.ended = true;
                    return Poll::Ready(None);
                }
                Some(Err(e)) => {
                    self.ended = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.received += data.len() as u64;
                        return Poll::Ready(Some(Ok(data)));
                    }
                }
            }
        }
    }

    /// Drops what is buffered of the current piece.
    pub(crate) fn clear(&mut self) {
        self.chunk.clear();
    }
}

impl<B: Body<Data = Bytes> + Unpin> AsyncBufRead for BodyReader<B> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        while this.chunk.is_empty() {
            match ready!(this.poll_data(cx)) {
                None => break,
                Some(Ok(b)) => this.chunk = b,
                Some(Err(e)) => {
                    this.error = Some(e);
                    return Poll::Ready(Err(io::Error::other(BODY_FAILED)));
                }
            }
        }
        Poll::Ready(Ok(&this.chunk))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().chunk.advance(amt);
    }
}

/// Needed by `AsyncBufRead`; the decoders read through `poll_fill_buf`.
impl<B: Body<Data = Bytes> + Unpin> AsyncRead for BodyReader<B> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let src = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = src.len().min(buf.remaining());
        buf.put_slice(&src[..n]);
        self.consume(n);
        Poll::Ready(Ok(()))
    }
}

/// Nothing in it is pinned structurally; a kept error need not be `Unpin` itself.
impl<B: Body + Unpin> Unpin for BodyReader<B> {}

/// The stand-in error the decoder passes on when the body failed; the body's own error
/// is in [`BodyReader::error`].
const BODY_FAILED: &str = "the encoded body failed";
