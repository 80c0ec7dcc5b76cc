//! [`Body`]: the body of requests handed to handlers and of responses they return.

mod channel;
pub(crate) mod file;

use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use http::HeaderMap;

use crate::error::{Error, Result};

pub(crate) use channel::{Receiver, Sender, channel};
pub(crate) use file::FileBody;

/// The error type of a wrapped [`http_body::Body`] ([`Body::wrap`]).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One piece of a body: data, or the trailer fields that end a chunked body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Body bytes.
    Data(Bytes),
    /// Trailer fields (sent only with chunked coding).
    Trailers(HeaderMap),
}

pub(crate) enum Kind {
    Empty,
    Full(Option<Bytes>),
    /// A request body read from the connection, or a streaming body fed by a
    /// [`BodySender`]. `len` is the exact length when known.
    Channel {
        rx: Receiver,
        len: Option<u64>,
    },
    File(Box<FileBody>),
}

/// A message body: empty, full (one `Bytes`), streaming (a channel), or a file range.
///
/// Request bodies arrive as streams read from the connection on demand: nothing is read
/// (and no `100 Continue` is sent) until the handler asks. [`Body::collect`] buffers the
/// whole body within a limit (2 MiB by default, [`Body::with_limit`] per route).
///
/// ```
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// use ghostnet_http1::Body;
///
/// let full = Body::from("hello");
/// assert_eq!(full.size_hint(), Some(5));
/// assert_eq!(full.collect().await.unwrap(), "hello");
///
/// let (mut tx, body) = Body::channel();
/// tokio::spawn(async move {
///     tx.send_data("a".into()).await.unwrap();
///     tx.send_data("b".into()).await.unwrap();
/// });
/// assert_eq!(body.collect().await.unwrap(), "ab");
/// # }).unwrap();
/// ```
pub struct Body {
    pub(crate) kind: Kind,
    limit: Option<u64>,
    // Boxed: rare, and a `Body` is moved with every request and response.
    trailers: Option<Box<HeaderMap>>,
}

impl Body {
    fn new(kind: Kind) -> Self {
        Self {
            kind,
            limit: None,
            trailers: None,
        }
    }

    /// A body with no bytes.
    pub fn empty() -> Self {
        Self::new(Kind::Empty)
    }

    /// A streaming body and the sender that feeds it. Sent as chunked (or with the
    /// response's own `Content-Length`, which is then enforced). Dropping the sender ends
    /// the body; [`BodySender::abort`] ends it with an error.
    pub fn channel() -> (BodySender, Body) {
        let (tx, rx) = channel(false);
        (
            BodySender { tx },
            Self::new(Kind::Channel { rx, len: None }),
        )
    }

    /// A whole file as the body. On a plain TCP connection the server sends it with
    /// sendfile(2) (no copy through user space); elsewhere it is read in 64 KiB chunks.
    ///
    /// # Errors
    ///
    /// When the file's length cannot be read.
    pub fn file(file: std::fs::File) -> std::io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(Self::file_range(file, 0, len))
    }

    /// `len` bytes of `file` from `offset` (for range requests). The file must hold
    /// them: a shorter file fails the response and closes the connection.
    pub fn file_range(file: std::fs::File, offset: u64, len: u64) -> Self {
        if len == 0 {
            return Self::empty();
        }
        Self::new(Kind::File(Box::new(FileBody::new(file, offset, len))))
    }

    /// Any [`http_body::Body`] with `Bytes` data (another crate's body, a compressed
    /// stream, ...), streamed like a [`channel`](Self::channel) body: chunked, or with
    /// its exact length when it reports one. Its errors become [`Error::Body`].
    ///
    /// ```
    /// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
    /// use ghostnet_http1::Body;
    ///
    /// // Any body type works; here another `Body`, as a stand-in for a foreign one.
    /// let body = Body::wrap(Body::from("from elsewhere"));
    /// assert_eq!(body.size_hint(), Some(14));
    /// assert_eq!(body.collect().await.unwrap(), "from elsewhere");
    /// # }).unwrap();
    /// ```
    pub fn wrap<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let rx = Receiver::boxed(Box::pin(MapErr { inner: body }));
        let len = rx.exact_len();
        Self::new(Kind::Channel { rx, len })
    }

    /// A request body fed by the connection.
    pub(crate) fn incoming(rx: Receiver, len: Option<u64>, limit: u64) -> Self {
        Self {
            kind: Kind::Channel { rx, len },
            limit: Some(limit),
            trailers: None,
        }
    }

    /// The exact length, when known up front.
    pub fn size_hint(&self) -> Option<u64> {
        match &self.kind {
            Kind::Empty => Some(0),
            Kind::Full(b) => Some(b.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Channel { len, .. } => *len,
            Kind::File(f) => Some(f.remaining),
        }
    }

    /// Sets the most [`collect`](Self::collect) will buffer: a per-route limit. Request
    /// bodies start with the server's `max_buffered_body_bytes` (2 MiB by default).
    pub fn with_limit(mut self, max: u64) -> Self {
        self.limit = Some(max);
        self
    }

    /// Polls for the next frame; `None` at the end.
    pub fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame>>> {
        match &mut self.kind {
            Kind::Empty => Poll::Ready(None),
            Kind::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::Data(b)))),
            Kind::Channel { rx, .. } => rx.poll_frame(cx),
            Kind::File(f) => f.poll_chunk(cx).map(|c| c.map(|r| r.map(Frame::Data))),
        }
    }

    /// The next frame; `None` at the end.
    pub async fn frame(&mut self) -> Option<Result<Frame>> {
        poll_fn(|cx| self.poll_frame(cx)).await
    }

    /// The next piece of data; `None` at the end. Trailers are kept for
    /// [`trailers`](Self::trailers).
    pub async fn data(&mut self) -> Option<Result<Bytes>> {
        loop {
            match self.frame().await? {
                Ok(Frame::Data(d)) if d.is_empty() => continue,
                Ok(Frame::Data(d)) => return Some(Ok(d)),
                Ok(Frame::Trailers(t)) => self.trailers = Some(Box::new(t)),
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// The trailer fields, once [`data`](Self::data) or [`collect`](Self::collect) reached
    /// the end of a chunked body that had them.
    pub fn trailers(&self) -> Option<&HeaderMap> {
        self.trailers.as_deref()
    }

    /// Whether the body is known to have nothing more.
    pub fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Empty => true,
            Kind::Full(b) => b.is_none(),
            Kind::Channel { rx, .. } => rx.is_end(),
            Kind::File(f) => f.remaining == 0,
        }
    }

    /// Reads the whole body into one `Bytes`, within the body's limit.
    ///
    /// # Errors
    ///
    /// [`Error::BodyTooLarge`] past the limit (checked against `Content-Length` before
    /// reading anything), or the error that ended the body (malformed chunk, timeout,
    /// closed connection).
    pub async fn collect(mut self) -> Result<Bytes> {
        let limit = self.limit;
        if let (Some(max), Some(len)) = (limit, self.size_hint())
            && len > max
        {
            return Err(Error::BodyTooLarge { limit: max });
        }
        if let Kind::Full(b) = &mut self.kind {
            return Ok(b.take().unwrap_or_default());
        }
        let mut first: Option<Bytes> = None;
        let mut acc = BytesMut::new();
        let mut total: u64 = 0;
        while let Some(d) = self.data().await {
            let d = d?;
            total += d.len() as u64;
            if let Some(max) = limit
                && total > max
            {
                return Err(Error::BodyTooLarge { limit: max });
            }
            match first.take() {
                None if acc.is_empty() => first = Some(d),
                Some(f) => {
                    acc.extend_from_slice(&f);
                    acc.extend_from_slice(&d);
                }
                None => acc.extend_from_slice(&d),
            }
        }
        Ok(first.unwrap_or_else(|| acc.freeze()))
    }
}

impl Default for Body {
    fn default() -> Self {
        Self::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Empty => "empty",
            Kind::Full(_) => "full",
            Kind::Channel { .. } => "stream",
            Kind::File(_) => "file",
        };
        f.debug_struct("Body")
            .field("kind", &kind)
            .field("size_hint", &self.size_hint())
            .finish()
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        if b.is_empty() {
            Self::empty()
        } else {
            Self::new(Kind::Full(Some(b)))
        }
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Bytes::from_static(s.as_bytes()).into()
    }
}

impl From<&'static [u8]> for Body {
    fn from(s: &'static [u8]) -> Self {
        Bytes::from_static(s).into()
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Bytes::from(s).into()
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Bytes::from(v).into()
    }
}

impl From<()> for Body {
    fn from((): ()) -> Self {
        Self::empty()
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>>>> {
        let frame = ready!(Body::poll_frame(self.get_mut(), cx));
        Poll::Ready(frame.map(|r| {
            r.map(|f| match f {
                Frame::Data(d) => http_body::Frame::data(d),
                Frame::Trailers(t) => http_body::Frame::trailers(t),
            })
        }))
    }

    fn is_end_stream(&self) -> bool {
        Body::is_end_stream(self)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match Body::size_hint(self) {
            Some(n) => http_body::SizeHint::with_exact(n),
            None => http_body::SizeHint::default(),
        }
    }
}

pin_project_lite::pin_project! {
    /// A foreign body with its error boxed.
    struct MapErr<B> {
        #[pin]
        inner: B,
    }
}

impl<B> http_body::Body for MapErr<B>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<http_body::Frame<Bytes>, BoxError>>> {
        let out = ready!(self.project().inner.poll_frame(cx));
        Poll::Ready(out.map(|r| r.map_err(Into::into)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Feeds a streaming [`Body`] made by [`Body::channel`].
pub struct BodySender {
    tx: Sender,
}

impl BodySender {
    /// Sends the next piece of data; waits until the body's reader (the connection)
    /// wants it, so a slow client slows the producer down.
    ///
    /// # Errors
    ///
    /// [`Error::BodyClosed`] when the body was dropped (e.g. the client went away).
    pub async fn send_data(&mut self, data: Bytes) -> Result<()> {
        self.send(Frame::Data(data)).await
    }

    /// Sends trailer fields; they end the body (only chunked responses carry them).
    ///
    /// # Errors
    ///
    /// [`Error::BodyClosed`] when the body was dropped.
    pub async fn send_trailers(mut self, trailers: HeaderMap) -> Result<()> {
        self.send(Frame::Trailers(trailers)).await?;
        self.tx.finish();
        Ok(())
    }

    async fn send(&mut self, frame: Frame) -> Result<()> {
        poll_fn(|cx| self.tx.poll_free(cx)).await?;
        self.tx.send(Ok(frame));
        Ok(())
    }

    /// Whether the body was dropped, so sending is pointless.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Ends the body with an error: the connection is closed without finishing the
    /// response, so the client sees it incomplete rather than short.
    pub fn abort(self) {
        self.tx.abort();
    }
}

impl fmt::Debug for BodySender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodySender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn collect_respects_limits() {
        let b = Body::from(vec![0u8; 10]).with_limit(5);
        assert!(matches!(
            b.collect().await,
            Err(Error::BodyTooLarge { limit: 5 })
        ));
        let (mut tx, body) = Body::channel();
        let body = body.with_limit(3);
        tokio::spawn(async move {
            for _ in 0..3 {
                if tx.send_data(Bytes::from_static(b"ab")).await.is_err() {
                    break;
                }
            }
        });
        assert!(matches!(
            body.collect().await,
            Err(Error::BodyTooLarge { limit: 3 })
        ));
    }

    #[tokio::test]
    async fn trailers_are_kept() {
        let (mut tx, mut body) = Body::channel();
        tokio::spawn(async move {
            tx.send_data(Bytes::from_static(b"x")).await.unwrap();
            let mut t = HeaderMap::new();
            t.insert("x-check", "1".parse().unwrap());
            tx.send_trailers(t).await.unwrap();
        });
        assert_eq!(body.data().await.unwrap().unwrap(), "x");
        assert!(body.data().await.is_none());
        assert_eq!(body.trailers().unwrap()["x-check"], "1");
    }

    #[tokio::test]
    async fn aborted_sender_is_an_error() {
        let (tx, body) = Body::channel();
        tx.abort();
        assert!(matches!(body.collect().await, Err(Error::BodyClosed)));
    }

    #[tokio::test]
    async fn file_body_reads_the_range() {
        let path = std::env::temp_dir().join(format!("ghostnet-http1-body-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        let body = Body::file_range(std::fs::File::open(&path).unwrap(), 2, 5);
        assert_eq!(body.size_hint(), Some(5));
        assert_eq!(body.collect().await.unwrap(), "23456");
        let body = Body::file(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(body.collect().await.unwrap().len(), 10);
        std::fs::remove_file(&path).unwrap();
    }

    #[tokio::test]
    async fn wrapped_bodies_stream_with_their_length_and_trailers() {
        let inner = Body::from("abc");
        let body = Body::wrap(inner);
        assert_eq!(body.size_hint(), Some(3));
        assert_eq!(body.collect().await.unwrap(), "abc");

        let (mut tx, streamed) = Body::channel();
        tokio::spawn(async move {
            tx.send_data(Bytes::from_static(b"x")).await.unwrap();
            let mut t = HeaderMap::new();
            t.insert("x-sum", "1".parse().unwrap());
            tx.send_trailers(t).await.unwrap();
        });
        let mut body = Body::wrap(streamed);
        assert_eq!(body.size_hint(), None);
        assert_eq!(body.data().await.unwrap().unwrap(), "x");
        assert!(body.data().await.is_none());
        assert_eq!(body.trailers().unwrap()["x-sum"], "1");
        assert!(body.is_end_stream());
    }

    #[tokio::test]
    async fn wrapped_errors_become_body_errors() {
        let (tx, failing) = Body::channel();
        tx.abort();
        let body = Body::wrap(failing);
        assert!(matches!(body.collect().await, Err(Error::Body(_))));
    }
}
