//! [`ResponseBody`]: the body of a response the client received, streamed off its
//! connection, content-decoded when the client asked for compression, and counted.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use http::HeaderMap;
use tokio::io::{AsyncRead, ReadBuf};

use crate::client::wire::WireBody;
use crate::coding::Decoding;
use crate::error::{Error, Result};

/// How far a body has come: bytes as they arrived (`wire_bytes`, still compressed when
/// the response was) and bytes handed to the reader (`decoded_bytes`).
///
/// For an uncompressed response both are the same. `wire_total` is the response's
/// `Content-Length` when it has one, for a progress bar's 100%.
///
/// ```
/// use ghostnet_http1::client::Progress;
///
/// let p = Progress::default();
/// assert_eq!((p.wire_bytes, p.decoded_bytes, p.wire_total), (0, 0, None));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Body bytes received from the connection (after de-chunking, before decoding).
    pub wire_bytes: u64,
    /// Body bytes produced for the reader (after content decoding).
    pub decoded_bytes: u64,
    /// The response's `Content-Length` (of the encoded body), when known.
    pub wire_total: Option<u64>,
}

enum Inner {
    Empty,
    /// The whole body arrived with the head (the common small response): the connection
    /// is already back in the pool.
    Full {
        data: Option<Bytes>,
        len: u64,
    },
    Wire(Box<WireBody>),
    Decoding(Box<Decoding<WireBody>>),
}

type ProgressFn = Box<dyn FnMut(Progress) + Send>;

/// The body of a [`Client`](crate::client::Client) response.
///
/// Read it as a stream of chunks ([`chunk`](Self::chunk)), as an `AsyncRead` (say, into
/// a file with `tokio::io::copy`), or whole with [`bytes`](Self::bytes) /
/// [`text`](Self::text) within a size limit. While it is read, it holds the connection;
/// at its end the connection goes back to the pool. A body dropped before its end is
/// finished from bytes already received when that is cheap (up to 64 KiB); otherwise its
/// connection is closed, never reused half-read.
///
/// A truncated body (the connection closed before `Content-Length` bytes or the last
/// chunk) is an [`Error::IncompleteBody`], never a silently short body. Reads wait at most
/// the read-idle timeout for each next byte.
///
/// ```no_run
/// # async fn demo() -> ghostnet_http1::Result<()> {
/// use ghostnet_http1::client::Client;
///
/// let client = Client::new();
/// let mut body = client.get("http://example.com/big.iso").await?.into_body();
/// body.on_progress(|p| eprintln!("{} of {:?} bytes", p.wire_bytes, p.wire_total));
/// let mut file = tokio::fs::File::create("big.iso").await?;
/// tokio::io::copy(&mut body, &mut file).await?;
/// # Ok(()) }
/// ```
pub struct ResponseBody {
    inner: Inner,
    limit: u64,
    on_progress: Option<ProgressFn>,
    /// What `AsyncRead` has not handed out yet of the current chunk.
    leftover: Bytes,
}

impl ResponseBody {
    pub(crate) fn empty() -> Self {
        Self::with_inner(Inner::Empty, u64::MAX)
    }

    pub(crate) fn full(data: Bytes, limit: u64) -> Self {
        let len = data.len() as u64;
        Self::with_inner(
            Inner::Full {
                data: Some(data),
                len,
            },
            limit,
        )
    }

    pub(crate) fn wire(mut wire: WireBody, limit: u64) -> Self {
        match wire.take_complete() {
            Some(data) => Self::full(data, limit),
            None => Self::with_inner(Inner::Wire(Box::new(wire)), limit),
        }
    }

    pub(crate) fn decoding(decoding: Decoding<WireBody>, limit: u64) -> Self {
        Self::with_inner(Inner::Decoding(Box::new(decoding)), limit)
    }

    fn with_inner(inner: Inner, limit: u64) -> Self {
        Self {
            inner,
            limit,
            on_progress: None,
            leftover: Bytes::new(),
        }
    }

    /// Sets the most [`bytes`](Self::bytes) and [`text`](Self::text) will buffer
    /// (decoded bytes). The client's `max_buffered_body_bytes` is the default (32 MiB).
    pub fn with_limit(mut self, max: u64) -> Self {
        self.limit = max;
        self
    }

    /// Calls `f` after each piece of the body is read, with the counts so far.
    pub fn on_progress(&mut self, f: impl FnMut(Progress) + Send + 'static) {
        self.on_progress = Some(Box::new(f));
    }

    /// The counts so far.
    pub fn progress(&self) -> Progress {
        match &self.inner {
            Inner::Empty => Progress::default(),
            // All of it arrived with the head, so all of it counts as received.
            Inner::Full { len, .. } => Progress {
                wire_bytes: *len,
                decoded_bytes: *len,
                wire_total: Some(*len),
            },
            Inner::Wire(w) => Progress {
                wire_bytes: w.received(),
                decoded_bytes: w.received(),
                wire_total: w.length(),
            },
            Inner::Decoding(d) => Progress {
                wire_bytes: d.get_ref().map_or(0, WireBody::received),
                decoded_bytes: d.decoded_bytes(),
                wire_total: d.get_ref().and_then(WireBody::length),
            },
        }
    }

    /// The exact length of what the reader will get, when known up front: the
    /// `Content-Length` of a response that is not being decoded.
    pub fn size_hint(&self) -> Option<u64> {
        match &self.inner {
            Inner::Empty => Some(0),
            Inner::Full { len, .. } => Some(*len),
            Inner::Wire(w) => w.length(),
            Inner::Decoding(_) => None,
        }
    }

    /// The content coding being decoded (`gzip`, `br`, `deflate`, `zstd`), if any. The
    /// response's `Content-Encoding` and `Content-Length` fields were removed then, as
    /// they describe the bytes on the wire, not the ones read here.
    pub fn decoded_from(&self) -> Option<&'static str> {
        match &self.inner {
            Inner::Decoding(d) => Some(d.coding().name()),
            _ => None,
        }
    }

    /// Whether the whole body has been read.
    pub fn is_end_stream(&self) -> bool {
        self.leftover.is_empty()
            && match &self.inner {
                Inner::Empty => true,
                Inner::Full { data, .. } => data.is_none(),
                Inner::Wire(w) => w.is_end(),
                Inner::Decoding(d) => d.is_end(),
            }
    }

    /// The trailer fields of a chunked response that had them, once its end was read.
    pub fn trailers(&self) -> Option<&HeaderMap> {
        match &self.inner {
            Inner::Empty | Inner::Full { .. } => None,
            Inner::Wire(w) => w.trailers(),
            Inner::Decoding(d) => d.get_ref().and_then(WireBody::trailers),
        }
    }

    /// Polls for the next piece of the body; `None` at its end.
    pub fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes>>> {
        if !self.leftover.is_empty() {
            return Poll::Ready(Some(Ok(std::mem::take(&mut self.leftover))));
        }
        let next = match &mut self.inner {
            Inner::Empty => return Poll::Ready(None),
            Inner::Full { data, .. } => data.take().map(Ok),
            Inner::Wire(w) => ready!(w.poll_chunk(cx)),
            Inner::Decoding(d) => ready!(d.poll_chunk(cx)).map(|r| r.map_err(Error::from)),
        };
        if matches!(next, Some(Ok(_))) && self.on_progress.is_some() {
            let p = self.progress();
            if let Some(f) = self.on_progress.as_mut() {
                f(p);
            }
        }
        Poll::Ready(next)
    }

    /// The next piece of the body; `None` at its end.
    pub async fn chunk(&mut self) -> Option<Result<Bytes>> {
        poll_fn(|cx| self.poll_chunk(cx)).await
    }

    /// Reads the whole body into one `Bytes`, within the limit (see
    /// [`with_limit`](Self::with_limit)).
    ///
    /// # Errors
    ///
    /// [`Error::BodyTooLarge`] past the limit (checked against `Content-Length` before
    /// reading when the body is not decoded), [`Error::IncompleteBody`] when the
    /// connection closed early, a timeout, or a decoding error.
    pub async fn bytes(mut self) -> Result<Bytes> {
        let limit = self.limit;
        if self.size_hint().is_some_and(|n| n > limit) {
            return Err(Error::BodyTooLarge { limit });
        }
        let mut first: Option<Bytes> = None;
        let mut acc = BytesMut::new();
        let mut total: u64 = 0;
        while let Some(d) = self.chunk().await {
            let d = d?;
            total += d.len() as u64;
            if total > limit {
                return Err(Error::BodyTooLarge { limit });
            }
            // One piece is returned as it is, without a copy.
            match first.take() {
                None if acc.is_empty() => first = Some(d),
                Some(f) => {
                    acc.reserve(f.len() + d.len());
                    acc.extend_from_slice(&f);
                    acc.extend_from_slice(&d);
                }
                None => acc.extend_from_slice(&d),
            }
        }
        Ok(first.unwrap_or_else(|| acc.freeze()))
    }

    /// Reads the whole body as text, like [`bytes`](Self::bytes). The text is taken as
    /// UTF-8 (what nearly every server sends); invalid sequences become U+FFFD.
    ///
    /// # Errors
    ///
    /// As [`bytes`](Self::bytes).
    pub async fn text(self) -> Result<String> {
        let b = self.bytes().await?;
        Ok(match String::from_utf8(b.into()) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }
}

impl AsyncRead for ResponseBody {
    /// Reads decoded body bytes; errors come out as `io::Error`s wrapping the crate's
    /// [`Error`] (`get_ref().downcast_ref::<Error>()` gives it back).
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.leftover.is_empty() {
            match ready!(this.poll_chunk(cx)) {
                None => return Poll::Ready(Ok(())),
                Some(Ok(b)) => this.leftover = b,
                Some(Err(e)) => {
                    let kind = match &e {
                        Error::Timeout { .. } => io::ErrorKind::TimedOut,
                        Error::IncompleteBody => io::ErrorKind::UnexpectedEof,
                        Error::Io(io) => io.kind(),
                        _ => io::ErrorKind::InvalidData,
                    };
                    return Poll::Ready(Err(io::Error::new(kind, e)));
                }
            }
        }
        let n = this.leftover.len().min(buf.remaining());
        buf.put_slice(&this.leftover[..n]);
        this.leftover.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.inner {
            Inner::Empty => "empty",
            Inner::Full { .. } => "full",
            Inner::Wire(_) => "stream",
            Inner::Decoding(_) => "decoding",
        };
        f.debug_struct("ResponseBody")
            .field("kind", &kind)
            .field("decoded_from", &self.decoded_from())
            .field("progress", &self.progress())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::io::AsyncReadExt;

    use super::*;

    #[tokio::test]
    async fn a_full_body_is_handed_out_without_a_copy() {
        let data = Bytes::from_static(b"hello world");
        let body = ResponseBody::full(data.clone(), 1024);
        assert_eq!(body.size_hint(), Some(11));
        assert!(!body.is_end_stream());
        let out = body.bytes().await.unwrap();
        assert_eq!(out.as_ptr(), data.as_ptr(), "the same memory, not a copy");
    }

    #[tokio::test]
    async fn limits_progress_and_text() {
        let err = ResponseBody::full(Bytes::from_static(b"12345"), 4)
            .bytes()
            .await;
        assert!(matches!(err, Err(Error::BodyTooLarge { limit: 4 })));
        let mut body = ResponseBody::full(Bytes::from_static(b"abc"), 10);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        body.on_progress(move |p| s.lock().unwrap().push(p));
        assert_eq!(body.chunk().await.unwrap().unwrap(), "abc");
        assert!(body.chunk().await.is_none());
        assert!(body.is_end_stream());
        let p = seen.lock().unwrap()[0];
        assert_eq!(
            (p.wire_bytes, p.decoded_bytes, p.wire_total),
            (3, 3, Some(3))
        );
        let lossy = ResponseBody::full(Bytes::from_static(b"caf\xe9"), 10)
            .text()
            .await;
        assert_eq!(lossy.unwrap(), "caf\u{fffd}");
        assert_eq!(ResponseBody::empty().text().await.unwrap(), "");
    }

    #[tokio::test]
    async fn async_read_in_small_steps() {
        let mut body = ResponseBody::full(Bytes::from_static(b"0123456789"), 100);
        let mut three = [0u8; 3];
        body.read_exact(&mut three).await.unwrap();
        assert_eq!(&three, b"012");
        let mut rest = Vec::new();
        body.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"3456789");
        assert!(body.is_end_stream());
    }
}
