//! [`Body`]: one body type for requests and responses over every HTTP version, on the
//! server side and the client side.
//!
//! A `Body` is a thin enum over what the protocol crates already have, so moving a body
//! between them never copies data: a received HTTP/1.1 body stays a
//! `ghostnet_http1::Body`, a received HTTP/2 body a `ghostnet_http2::Body`, a file
//! range stays a file (and keeps sendfile on HTTP/1.1 over plain TCP). Anything else is
//! an [`http_body::Body`] behind one box.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use http::HeaderMap;

use crate::error::{BoxError, Error, Result};

/// One piece of a body: data or trailer fields (http-body's frame type).
pub use http_body::Frame;

/// The most [`Body::collect`] buffers of a body received over HTTP/2 unless
/// [`Body::with_limit`] says otherwise: 2 MiB (bodies received over HTTP/1.1 have the
/// server's `max_buffered_body_bytes`, also 2 MiB by default).
pub const DEFAULT_COLLECT_LIMIT: u64 = ghostnet_http2::DEFAULT_COLLECT_LIMIT;

type BoxBody = Pin<Box<dyn http_body::Body<Data = Bytes, Error = BoxError> + Send + 'static>>;

/// A message body: empty, full (one `Bytes`), streaming (a [`channel`](Body::channel)
/// or any [`http_body::Body`]), a file range, or received from a peer over HTTP/1.1 or
/// HTTP/2.
///
/// The same type serves requests and responses, on servers and clients; it implements
/// [`http_body::Body`]. Received bodies are streamed as they arrive;
/// [`collect`](Self::collect) buffers a whole one within a limit.
///
/// ```
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// use ghostnet_http::Body;
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
    kind: Kind,
    /// The most `collect` buffers, for kinds that do not carry their own limit.
    limit: u64,
    // Boxed: rare, and a `HeaderMap` inline would triple the size of every `Body`.
    trailers: Option<Box<HeaderMap>>,
}

enum Kind {
    Empty,
    Full(Bytes),
    /// Received over HTTP/1.1, or a file range (the HTTP/1.1 body type knows sendfile).
    H1(ghostnet_http1::Body),
    /// Received over HTTP/2, or a channel.
    H2(ghostnet_http2::Body),
    Boxed(BoxBody),
}

impl Body {
    fn new(kind: Kind) -> Self {
        Self {
            kind,
            limit: u64::MAX,
            trailers: None,
        }
    }

    /// A body with no bytes.
    pub fn empty() -> Self {
        Self::new(Kind::Empty)
    }

    /// A streaming body and the sender that feeds it. Each piece waits until the
    /// connection has taken the previous one, so a slow peer slows the producer down.
    /// Dropping the sender ends the body; [`BodySender::abort`] ends it with an error
    /// (HTTP/1.1: the connection closes unfinished; HTTP/2: the stream is reset).
    pub fn channel() -> (BodySender, Body) {
        let (tx, rx) = ghostnet_http2::Body::channel();
        (BodySender { tx }, Self::new(Kind::H2(rx)))
    }

    /// Any [`http_body::Body`] with `Bytes` data; its errors become [`Error::Body`].
    ///
    /// ```
    /// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
    /// use ghostnet_http::Body;
    ///
    /// // Any body type works: here ghostnet-http2's, as a stand-in for a foreign one.
    /// let body = Body::wrap(ghostnet_http2::Body::from("from elsewhere"));
    /// assert_eq!(body.size_hint(), Some(14));
    /// assert_eq!(body.collect().await.unwrap(), "from elsewhere");
    /// # }).unwrap();
    /// ```
    pub fn wrap<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Self::new(Kind::Boxed(Box::pin(MapErr { inner: body })))
    }

    /// A whole file. Over HTTP/1.1 on plain TCP it is sent with sendfile(2), without a
    /// copy through user space; elsewhere it is read in 64 KiB pieces off the runtime.
    ///
    /// # Errors
    ///
    /// When the file's length cannot be read.
    pub fn file(file: std::fs::File) -> std::io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(Self::file_range(file, 0, len))
    }

    /// `len` bytes of `file` from `offset` (a range response). The file must hold them:
    /// a shorter file fails the response (the connection or stream is cut, so the client
    /// never takes a short body for a whole one).
    pub fn file_range(file: std::fs::File, offset: u64, len: u64) -> Self {
        if len == 0 {
            return Self::empty();
        }
        Self::new(Kind::H1(ghostnet_http1::Body::file_range(
            file, offset, len,
        )))
    }

    /// Sets the most [`collect`](Self::collect) will buffer (a per-route limit).
    /// Received bodies start at [`DEFAULT_COLLECT_LIMIT`]; bodies made locally have none.
    pub fn with_limit(mut self, max: u64) -> Self {
        self.limit = max;
        self.kind = match self.kind {
            Kind::H1(b) => Kind::H1(b.with_limit(max)),
            Kind::H2(b) => Kind::H2(b.with_limit(max)),
            other => other,
        };
        self
    }

    /// The exact length, when known up front.
    pub fn size_hint(&self) -> Option<u64> {
        match &self.kind {
            Kind::Empty => Some(0),
            Kind::Full(b) => Some(b.len() as u64),
            Kind::H1(b) => b.size_hint(),
            Kind::H2(b) => b.size_hint(),
            Kind::Boxed(b) => b.size_hint().exact(),
        }
    }

    /// The body's bytes when it is all in memory and has no trailers (an empty or a
    /// full body, or any body already known to have ended); otherwise the body itself,
    /// untouched.
    pub(crate) fn into_full(self) -> std::result::Result<Bytes, Self> {
        if self.trailers.is_some() {
            return Err(self);
        }
        match self.kind {
            Kind::Full(b) => Ok(b),
            kind => {
                let body = Self { kind, ..self };
                if body.is_end_stream() {
                    Ok(Bytes::new())
                } else {
                    Err(body)
                }
            }
        }
    }

    /// Whether the body is known to have nothing more.
    pub fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Empty => true,
            Kind::Full(b) => b.is_empty(),
            Kind::H1(b) => b.is_end_stream(),
            Kind::H2(b) => b.is_end_stream(),
            Kind::Boxed(b) => b.is_end_stream(),
        }
    }

    /// Polls for the next frame; `None` at the end.
    pub fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>>>> {
        let frame = match &mut self.kind {
            Kind::Empty => None,
            Kind::Full(_) => match std::mem::replace(&mut self.kind, Kind::Empty) {
                Kind::Full(b) if !b.is_empty() => Some(Ok(Frame::data(b))),
                _ => None,
            },
            Kind::H1(b) => ready!(b.poll_frame(cx)).map(|r| {
                r.map(|f| match f {
                    ghostnet_http1::Frame::Data(d) => Frame::data(d),
                    ghostnet_http1::Frame::Trailers(t) => Frame::trailers(t),
                })
                .map_err(Error::from)
            }),
            Kind::H2(b) => ready!(b.poll_frame(cx)).map(|r| r.map_err(Error::from)),
            Kind::Boxed(b) => ready!(b.as_mut().poll_frame(cx)).map(|r| r.map_err(Error::Body)),
        };
        Poll::Ready(frame)
    }

    /// The next frame; `None` at the end.
    pub async fn frame(&mut self) -> Option<Result<Frame<Bytes>>> {
        std::future::poll_fn(|cx| self.poll_frame(cx)).await
    }

    /// The next piece of data; `None` at the end. Trailers are kept for
    /// [`trailers`](Self::trailers).
    pub async fn data(&mut self) -> Option<Result<Bytes>> {
        loop {
            match self.frame().await? {
                Ok(frame) => match frame.into_data() {
                    Ok(data) if data.is_empty() => {}
                    Ok(data) => return Some(Ok(data)),
                    Err(frame) => {
                        if let Ok(t) = frame.into_trailers() {
                            self.trailers = Some(Box::new(t));
                        }
                    }
                },
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// The trailer fields, once [`data`](Self::data) reached the end of a body that had
    /// them.
    pub fn trailers(&self) -> Option<&HeaderMap> {
        self.trailers.as_deref()
    }

    /// Reads the whole body into one `Bytes`, within the body's limit.
    ///
    /// # Errors
    ///
    /// [`Error::BodyTooLarge`] past the limit (checked against a known length before
    /// reading anything), or the error that ended the body.
    pub async fn collect(mut self) -> Result<Bytes> {
        let limit = self.limit;
        if self.size_hint().is_some_and(|n| n > limit) {
            return Err(Error::BodyTooLarge { limit });
        }
        match std::mem::replace(&mut self.kind, Kind::Empty) {
            Kind::Full(b) => return Ok(b),
            Kind::H1(b) => return b.collect().await.map_err(Error::from),
            Kind::H2(b) => return b.collect().await.map_err(Error::from),
            other => self.kind = other,
        }
        let mut first: Option<Bytes> = None;
        let mut rest = BytesMut::new();
        let mut total: u64 = 0;
        while let Some(data) = self.data().await {
            let data = data?;
            total += data.len() as u64;
            if total > limit {
                return Err(Error::BodyTooLarge { limit });
            }
            // Most bodies come in one piece: keep it without copying.
            match &first {
                None if rest.is_empty() => first = Some(data),
                _ => {
                    if let Some(f) = first.take() {
                        rest.extend_from_slice(&f);
                    }
                    rest.extend_from_slice(&data);
                }
            }
        }
        Ok(first.unwrap_or_else(|| rest.freeze()))
    }

    /// This body as a `ghostnet_http1::Body`, without copying: full bodies and file
    /// ranges keep their fast paths (one write, sendfile), HTTP/1.1 bodies are unwrapped,
    /// the rest is streamed through [`ghostnet_http1::Body::wrap`].
    pub fn into_http1(self) -> ghostnet_http1::Body {
        match self.kind {
            Kind::Empty => ghostnet_http1::Body::empty(),
            Kind::Full(b) => ghostnet_http1::Body::from(b),
            Kind::H1(b) => b,
            Kind::H2(b) => ghostnet_http1::Body::wrap(b),
            Kind::Boxed(b) => ghostnet_http1::Body::wrap(b),
        }
    }

    /// This body as a `ghostnet_http2::Body`, without copying: full bodies go to h2 in
    /// one piece, HTTP/2 bodies are unwrapped, the rest is streamed through
    /// [`ghostnet_http2::Body::wrap`].
    pub fn into_http2(self) -> ghostnet_http2::Body {
        match self.kind {
            Kind::Empty => ghostnet_http2::Body::empty(),
            Kind::Full(b) => ghostnet_http2::Body::from(b),
            Kind::H1(b) => ghostnet_http2::Body::wrap(b),
            Kind::H2(b) => b,
            Kind::Boxed(b) => ghostnet_http2::Body::wrap(b),
        }
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
            Kind::H1(_) => "http1",
            Kind::H2(_) => "http2",
            Kind::Boxed(_) => "boxed",
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
            Self::new(Kind::Full(b))
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Bytes::from(v).into()
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Bytes::from(s).into()
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

impl From<()> for Body {
    fn from((): ()) -> Self {
        Self::empty()
    }
}

impl From<ghostnet_http1::Body> for Body {
    /// Keeps the HTTP/1.1 body as it is (no copy; a file stays a file).
    fn from(b: ghostnet_http1::Body) -> Self {
        Self::new(Kind::H1(b))
    }
}

impl From<ghostnet_http2::Body> for Body {
    /// Keeps the HTTP/2 body as it is (no copy).
    fn from(b: ghostnet_http2::Body) -> Self {
        Self::new(Kind::H2(b))
    }
}

impl From<Body> for ghostnet_http1::Body {
    fn from(b: Body) -> Self {
        b.into_http1()
    }
}

impl From<Body> for ghostnet_http2::Body {
    fn from(b: Body) -> Self {
        b.into_http2()
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>>>> {
        Body::poll_frame(self.get_mut(), cx)
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

/// Feeds a streaming [`Body`] made by [`Body::channel`].
pub struct BodySender {
    tx: ghostnet_http2::BodySender,
}

impl BodySender {
    /// Sends the next piece of data; waits until the connection took the previous one.
    ///
    /// # Errors
    ///
    /// [`Error::BodyClosed`] when the body was dropped (the peer went away).
    pub async fn send_data(&mut self, data: Bytes) -> Result<()> {
        self.tx.send_data(data).await.map_err(closed)
    }

    /// Sends trailer fields; they end the body (HTTP/1.1 sends them only with chunked
    /// framing).
    ///
    /// # Errors
    ///
    /// [`Error::BodyClosed`] when the body was dropped.
    pub async fn send_trailers(self, trailers: HeaderMap) -> Result<()> {
        self.tx.send_trailers(trailers).await.map_err(closed)
    }

    /// Whether the body was dropped, so sending is pointless.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Waits until the body is dropped (the peer went away, or the response is done).
    pub async fn closed(&self) {
        self.tx.closed().await;
    }

    /// Ends the body with an error, so the peer sees it cut off rather than complete.
    pub fn abort(self) {
        self.tx.abort();
    }
}

fn closed(e: ghostnet_http2::Error) -> Error {
    match e {
        ghostnet_http2::Error::BodyClosed => Error::BodyClosed,
        e => Error::from(e),
    }
}

impl fmt::Debug for BodySender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodySender")
            .field("closed", &self.is_closed())
            .finish()
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
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, BoxError>>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(content: &[u8]) -> std::fs::File {
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, content).unwrap();
        f
    }

    #[tokio::test]
    async fn kinds_collect_and_report_sizes() {
        assert_eq!(Body::empty().size_hint(), Some(0));
        assert!(Body::from("").is_end_stream());
        assert_eq!(
            Body::from(vec![1u8, 2]).collect().await.unwrap(),
            [1, 2][..]
        );
        let file = Body::file_range(temp_file(b"0123456789"), 2, 5);
        assert_eq!(file.size_hint(), Some(5));
        assert_eq!(file.collect().await.unwrap(), "23456");
        let whole = Body::file(temp_file(b"abc")).unwrap();
        assert_eq!(whole.collect().await.unwrap(), "abc");
    }

    #[tokio::test]
    async fn limits_apply_to_every_kind() {
        let err = Body::from("toolong").with_limit(3).collect().await;
        assert!(matches!(err, Err(Error::BodyTooLarge { limit: 3 })));
        let (mut tx, body) = Body::channel();
        tokio::spawn(async move { while tx.send_data(Bytes::from_static(b"ab")).await.is_ok() {} });
        let err = body.with_limit(5).collect().await;
        assert!(matches!(err, Err(Error::BodyTooLarge { limit: 5 })));
        let file = Body::file_range(temp_file(b"0123456789"), 0, 10).with_limit(4);
        assert!(matches!(
            file.collect().await,
            Err(Error::BodyTooLarge { limit: 4 })
        ));
        let wrapped = Body::wrap(ghostnet_http2::Body::from("abcdef")).with_limit(2);
        assert!(matches!(
            wrapped.collect().await,
            Err(Error::BodyTooLarge { limit: 2 })
        ));
    }

    #[tokio::test]
    async fn bodies_in_memory_or_ended_become_bytes() {
        let data = Bytes::from_static(b"abc");
        assert_eq!(Body::from(data.clone()).into_full().unwrap(), data);
        assert!(Body::empty().into_full().unwrap().is_empty());
        // Wrapped, but known to have ended (a received empty body, say).
        let ended = Body::from(ghostnet_http1::Body::empty());
        assert!(ended.into_full().unwrap().is_empty());
        // A stream still to come stays a stream.
        let (_tx, streaming) = Body::channel();
        assert!(streaming.into_full().is_err());
    }

    #[tokio::test]
    async fn conversions_keep_content_and_trailers() {
        // Full bodies cross without a copy: the same allocation comes out.
        let data = Bytes::from(vec![7u8; 100]);
        let ptr = data.as_ptr();
        let h1 = Body::from(data.clone()).into_http1();
        let back = Body::from(h1).collect().await.unwrap();
        assert_eq!(back.as_ptr(), ptr);
        let h2 = Body::from(data).into_http2();
        assert_eq!(h2.collect().await.unwrap().as_ptr(), ptr);

        // A channel body streams through HTTP/1.1's body type with its trailers.
        let (mut tx, body) = Body::channel();
        tokio::spawn(async move {
            tx.send_data(Bytes::from_static(b"x")).await.unwrap();
            let mut t = HeaderMap::new();
            t.insert("x-sum", "1".parse().unwrap());
            tx.send_trailers(t).await.unwrap();
        });
        let mut h1 = body.into_http1();
        assert_eq!(h1.data().await.unwrap().unwrap(), "x");
        assert!(h1.data().await.is_none());
        assert_eq!(h1.trailers().unwrap()["x-sum"], "1");

        // A file range crosses to HTTP/2 as a stream of its bytes.
        let h2 = Body::file_range(temp_file(b"0123456789"), 8, 2).into_http2();
        assert_eq!(h2.size_hint(), Some(2));
        assert_eq!(h2.collect().await.unwrap(), "89");
    }

    #[tokio::test]
    async fn sender_sees_a_dropped_body_and_abort_is_an_error() {
        let (mut tx, body) = Body::channel();
        drop(body);
        assert!(matches!(
            tx.send_data(Bytes::from_static(b"x")).await,
            Err(Error::BodyClosed)
        ));
        assert!(tx.is_closed());
        let (tx, body) = Body::channel();
        tx.abort();
        assert!(body.collect().await.is_err());
    }
}
