//! Server-Sent Events (the HTML standard's `text/event-stream`): a response body that
//! streams events to a browser's `EventSource`, over HTTP/1.1 (chunked) and HTTP/2
//! (DATA frames) alike.
//!
//! ```
//! use std::time::Duration;
//! use ghostnet_http::sse::{Event, Sse};
//! use ghostnet_http::{IntoResponse, Request, Response};
//!
//! async fn ticks(_req: Request) -> Response {
//!     let (tx, sse) = Sse::channel();
//!     tokio::spawn(async move {
//!         for n in 0u32.. {
//!             let event = Event::new().event("tick").id(n.to_string()).data(n.to_string());
//!             if tx.send(event).await.is_err() {
//!                 break; // the client went away
//!             }
//!             tokio::time::sleep(Duration::from_secs(1)).await;
//!         }
//!     });
//!     sse.keep_alive(Some(Duration::from_secs(15))).into_response()
//! }
//! ```

use std::fmt::Write as _;
use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};

use crate::Response;
use crate::body::Body;
use crate::error::{Error, Result};
use crate::response::IntoResponse;

/// Default for [`Sse::keep_alive`]: a comment line after 15 s without an event, so
/// proxies and load balancers do not close an idle stream.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Events queued between the sender and the connection before
/// [`SseSender::send`] waits: a slow client slows the producer.
const QUEUE: usize = 16;

/// One event: optional `event` type, `id`, `retry` and comment, and `data` (several
/// lines allowed). An empty `Event` is sent as a bare blank line, which the client
/// ignores.
///
/// ```
/// use std::time::Duration;
/// use ghostnet_http::sse::Event;
///
/// let e = Event::new().event("update").id("7").retry(Duration::from_secs(3)).data("a\nb");
/// assert_eq!(e.to_bytes().unwrap(), "event: update\nid: 7\nretry: 3000\ndata: a\ndata: b\n\n");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    event: Option<String>,
    id: Option<String>,
    retry: Option<Duration>,
    comment: Option<String>,
    data: Option<String>,
}

impl Event {
    /// An empty event.
    pub fn new() -> Self {
        Self::default()
    }

    /// The data; each line (split at `\n`, `\r\n` or `\r`) becomes a `data:` line.
    pub fn data(mut self, data: impl Into<String>) -> Self {
        self.data = Some(data.into());
        self
    }

    /// The event type (`addEventListener(type, ...)` on the client). Must be one line.
    pub fn event(mut self, event: impl Into<String>) -> Self {
        self.event = Some(event.into());
        self
    }

    /// The event id, which the client sends back as `Last-Event-ID` when it
    /// reconnects. Must be one line without NUL.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// How long the client waits before reconnecting (milliseconds on the wire).
    pub fn retry(mut self, retry: Duration) -> Self {
        self.retry = Some(retry);
        self
    }

    /// A comment line (ignored by clients; each line gets its own `:`).
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }

    /// The event in wire format.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEvent`] when `event` or `id` holds a line break (or `id` a NUL),
    /// which would end the field early and could inject other fields.
    pub fn to_bytes(&self) -> Result<Bytes> {
        let mut out = String::new();
        if let Some(c) = &self.comment {
            for line in lines(c) {
                let _ = writeln!(out, ":{line}");
            }
        }
        if let Some(e) = &self.event {
            if e.contains(['\r', '\n']) {
                return Err(Error::InvalidEvent { field: "event" });
            }
            let _ = writeln!(out, "event: {e}");
        }
        if let Some(id) = &self.id {
            if id.contains(['\r', '\n', '\0']) {
                return Err(Error::InvalidEvent { field: "id" });
            }
            let _ = writeln!(out, "id: {id}");
        }
        if let Some(r) = self.retry {
            let _ = writeln!(out, "retry: {}", r.as_millis());
        }
        if let Some(d) = &self.data {
            for line in lines(d) {
                let _ = writeln!(out, "data: {line}");
            }
        }
        out.push('\n');
        Ok(Bytes::from(out))
    }
}

/// Lines split at `\r\n`, `\n` or `\r`, as the event-stream format reads them.
fn lines(s: &str) -> impl Iterator<Item = &str> {
    s.split('\n')
        .flat_map(|l| l.strip_suffix('\r').unwrap_or(l).split('\r'))
}

/// An event stream response: made with [`Sse::channel`], returned from a handler (it is
/// an [`IntoResponse`]: `200`, `Content-Type: text/event-stream`,
/// `Cache-Control: no-cache`). The stream ends when every [`SseSender`] is dropped.
#[derive(Debug)]
pub struct Sse {
    rx: mpsc::Receiver<Bytes>,
    keep_alive: Option<Duration>,
}

/// Sends events to one client's [`Sse`] stream. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SseSender {
    tx: mpsc::Sender<Bytes>,
}

impl Sse {
    /// A stream and the sender that feeds it.
    pub fn channel() -> (SseSender, Sse) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (
            SseSender { tx },
            Sse {
                rx,
                keep_alive: Some(DEFAULT_KEEP_ALIVE),
            },
        )
    }

    /// Sends a comment line (`:`) after `interval` without an event (default
    /// [`DEFAULT_KEEP_ALIVE`]); `None` never does.
    pub fn keep_alive(mut self, interval: Option<Duration>) -> Self {
        self.keep_alive = interval.filter(|d| !d.is_zero());
        self
    }

    /// The stream as a body.
    pub fn into_body(self) -> Body {
        let timer = self
            .keep_alive
            .map(|d| (d, Box::pin(tokio::time::sleep(d))));
        Body::wrap(SseBody { rx: self.rx, timer })
    }
}

impl IntoResponse for Sse {
    fn into_response(self) -> Response {
        let mut res = Response::new(self.into_body());
        let h = res.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        res
    }
}

impl SseSender {
    /// Sends `event`; waits while the queue to the connection is full.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEvent`] for a malformed event (nothing is sent), or
    /// [`Error::BodyClosed`] when the client went away.
    pub async fn send(&self, event: Event) -> Result<()> {
        let bytes = event.to_bytes()?;
        self.tx.send(bytes).await.map_err(|_| Error::BodyClosed)
    }

    /// Whether the client went away.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Waits until the client goes away.
    pub async fn closed(&self) {
        self.tx.closed().await;
    }
}

/// The wire side: queued events, and keep-alive comments in the gaps.
struct SseBody {
    rx: mpsc::Receiver<Bytes>,
    timer: Option<(Duration, Pin<Box<Sleep>>)>,
}

const KEEP_ALIVE_COMMENT: &[u8] = b":\n\n";

impl http_body::Body for SseBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>>>> {
        let this = &mut *self;
        let data = match this.rx.poll_recv(cx) {
            Poll::Ready(Some(event)) => event,
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {
                let fired = this
                    .timer
                    .as_mut()
                    .is_some_and(|(_, sleep)| sleep.as_mut().poll(cx).is_ready());
                if !fired {
                    return Poll::Pending;
                }
                Bytes::from_static(KEEP_ALIVE_COMMENT)
            }
        };
        if let Some((interval, sleep)) = &mut this.timer {
            sleep.as_mut().reset(Instant::now() + *interval);
        }
        Poll::Ready(Some(Ok(http_body::Frame::data(data))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format() {
        assert_eq!(Event::new().data("x").to_bytes().unwrap(), "data: x\n\n");
        assert_eq!(
            Event::new().data("a\r\nb\rc\n").to_bytes().unwrap(),
            "data: a\ndata: b\ndata: c\ndata: \n\n"
        );
        assert_eq!(Event::new().comment("hi").to_bytes().unwrap(), ":hi\n\n");
        assert!(matches!(
            Event::new().event("a\nb").to_bytes(),
            Err(Error::InvalidEvent { field: "event" })
        ));
        assert!(matches!(
            Event::new().id("a\0").to_bytes(),
            Err(Error::InvalidEvent { field: "id" })
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn keep_alive_fills_the_gaps_and_the_stream_ends() {
        let (tx, sse) = Sse::channel();
        let mut body = sse.keep_alive(Some(Duration::from_secs(5))).into_body();
        tx.send(Event::new().data("1")).await.unwrap();
        assert_eq!(body.data().await.unwrap().unwrap(), "data: 1\n\n");
        // Nothing to send: after 5 s of (paused, auto-advanced) time, a comment.
        assert_eq!(body.data().await.unwrap().unwrap(), ":\n\n");
        drop(tx);
        assert!(body.data().await.is_none());
    }

    #[tokio::test]
    async fn sender_sees_the_client_leave() {
        let (tx, sse) = Sse::channel();
        drop(sse);
        assert!(tx.is_closed());
        assert!(matches!(
            tx.send(Event::new().data("x")).await,
            Err(Error::BodyClosed)
        ));
    }
}
