//! [`Body`]: request and response bodies, streamed in both directions.

mod channel;
mod incoming;
pub(crate) mod send;

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use http::HeaderMap;

pub use channel::BodySender;
pub(crate) use incoming::Incoming;

use crate::error::{BoxError, Error, Result};

/// One piece of a body: data or trailer fields (http-body's frame type).
pub use http_body::Frame;

/// The most [`Body::collect`] buffers from a body received over the network, unless
/// [`Body::with_limit`] says otherwise: 2 MiB.
pub const DEFAULT_COLLECT_LIMIT: u64 = 2 * 1024 * 1024;

type BoxBody = Pin<Box<dyn http_body::Body<Data = Bytes, Error = BoxError> + Send + 'static>>;

/// A message body: empty, full (one `Bytes`), streaming (a channel or any
/// [`http_body::Body`]), or received from the peer.
///
/// Received bodies are streamed: each piece is handed out as it arrives, and the
/// HTTP/2 flow-control window is given back to the peer as the caller takes it, so a
/// slow reader slows the sender instead of filling memory. [`collect`](Self::collect)
/// buffers a whole body within a limit ([`DEFAULT_COLLECT_LIMIT`] for received bodies).
///
/// ```
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// use ghostnet_http2::Body;
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
    limit: u64,
    // Boxed: rare, and a `HeaderMap` inline would triple the size of every `Body`, which
    // every request and response future carries.
    trailers: Option<Box<HeaderMap>>,
}

enum Kind {
    Empty,
    Full(Bytes),
    Incoming(Incoming),
    Channel(channel::Receiver),
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
    /// connection takes the previous one, so a slow peer slows the producer. Dropping
    /// the sender ends the body; [`BodySender::abort`] ends it with an error (the peer
    /// sees the stream reset).
    pub fn channel() -> (BodySender, Body) {
        let (tx, rx) = channel::pair();
        (tx, Self::new(Kind::Channel(rx)))
    }

    /// Any [`http_body::Body`] with `Bytes` data, e.g. from http-body-util or another
    /// HTTP crate; its errors become [`Error::Body`].
    ///
    /// ```
    /// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
    /// use ghostnet_http2::Body;
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
        Self::new(Kind::Boxed(Box::pin(MapErr { inner: body })))
    }

    pub(crate) fn incoming(incoming: Incoming) -> Self {
        Self {
            kind: Kind::Incoming(incoming),
            limit: DEFAULT_COLLECT_LIMIT,
            trailers: None,
        }
    }

    /// Sets the most [`collect`](Self::collect) will buffer.
    pub fn with_limit(mut self, max: u64) -> Self {
        self.limit = max;
        self
    }

    /// The exact length, when known up front (a full body, or a received body with a
    /// `Content-Length` the peer must honour).
    pub fn size_hint(&self) -> Option<u64> {
        match &self.kind {
            Kind::Empty => Some(0),
            Kind::Full(b) => Some(b.len() as u64),
            Kind::Incoming(i) => i.content_length(),
            Kind::Channel(_) => None,
            Kind::Boxed(b) => b.size_hint().exact(),
        }
    }

    /// Whether the body is known to have nothing more.
    pub fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Empty => true,
            Kind::Full(b) => b.is_empty(),
            Kind::Incoming(i) => i.is_end_stream(),
            Kind::Channel(c) => c.is_end_stream(),
            Kind::Boxed(b) => b.is_end_stream(),
        }
    }

    /// Polls for the next frame; `None` at the end.
    pub fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>>>> {
        match &mut self.kind {
            Kind::Empty => Poll::Ready(None),
            Kind::Full(_) => match std::mem::replace(&mut self.kind, Kind::Empty) {
                Kind::Full(b) if !b.is_empty() => Poll::Ready(Some(Ok(Frame::data(b)))),
                _ => Poll::Ready(None),
            },
            Kind::Incoming(i) => i.poll_frame(cx),
            Kind::Channel(c) => c.poll_frame(cx),
            Kind::Boxed(b) => b
                .as_mut()
                .poll_frame(cx)
                .map(|f| f.map(|r| r.map_err(Error::Body))),
        }
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
    /// [`Error::BodyTooLarge`] past the limit (checked against the announced length
    /// before reading anything), or the error that ended the body (stream reset,
    /// closed connection, producer failure).
    pub async fn collect(mut self) -> Result<Bytes> {
        let limit = self.limit;
        if self.size_hint().is_some_and(|n| n > limit) {
            return Err(Error::BodyTooLarge { limit });
        }
        if let Kind::Full(b) = &mut self.kind {
            return Ok(std::mem::take(b));
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
            // Most bodies arrive in one piece: keep it without copying.
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

    /// Takes the bytes of a full body, leaving it empty; `None` for other kinds.
    pub(crate) fn take_full(&mut self) -> Option<Bytes> {
        match &mut self.kind {
            Kind::Full(b) => {
                let b = std::mem::take(b);
                self.kind = Kind::Empty;
                Some(b)
            }
            _ => None,
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
            Kind::Incoming(_) => "incoming",
            Kind::Channel(_) => "channel",
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
        Self::new(Kind::Full(b))
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

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>>>> {
        self.get_mut().poll_frame(cx)
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
    /// Converts a foreign body's error into a [`BoxError`].
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
