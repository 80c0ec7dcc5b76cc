//! [`WireBody`]: a response body as it comes off the connection (de-chunked, not yet
//! content-decoded), with the read-idle and total deadlines, and the connection's way back
//! to the pool.
//!
//! The body owns the pooled connection while it is read. When the codec reports the end
//! of the response, the connection goes back to the pool at once (if the response allows
//! keep-alive and nothing unasked-for follows it). A body dropped early tries to finish
//! from what has already arrived, without waiting, up to [`DRAIN_ON_DROP`] bytes; if it
//! cannot, the connection is closed rather than handed to the next request half-read.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use ghostnet_runtime::{Instant, Sleep, sleep_until};
use http::HeaderMap;
use tokio_util::io::poll_read_buf;

use crate::client::conn::BoxConn;
use crate::codec::{Event, ResponseDecoder};
use crate::error::{Error, Result};

/// Body bytes a dropped body may still consume, from data already received, to keep its
/// connection for reuse.
pub(crate) const DRAIN_ON_DROP: u64 = 64 * 1024;

/// Room made in the receive buffer before a read.
const READ_CHUNK: usize = 16 * 1024;

/// The most room a body read grows to: reads that keep filling the buffer (a fast
/// transfer) double it, as hyper's adaptive read strategy does, so a large download
/// costs a sixteenth of the system calls and wake-ups; short reads shrink it back.
const MAX_READ_CHUNK: usize = 256 * 1024;

/// What `Timeout::what` says for each deadline.
pub(crate) const WHAT_IDLE: &str = "next byte of the response body (read-idle timeout)";
pub(crate) const WHAT_TOTAL: &str = "end of the exchange (total timeout)";

/// The deadlines a body read runs under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadlines {
    /// Longest time without receiving a byte.
    pub(crate) idle: Duration,
    /// The total timeout's deadline and the timeout itself (for the error).
    pub(crate) total: Option<(Instant, Duration)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Reading,
    Done,
    Failed,
}

/// A response body read from its connection.
pub(crate) struct WireBody {
    /// `Some` until the body ends (the connection then goes back or is closed).
    conn: Option<BoxConn>,
    buf: BytesMut,
    decoder: ResponseDecoder,
    /// The response allows another request on this connection.
    keep_alive: bool,
    /// The first piece decoded from the buffer before the body was handed out (often
    /// the whole body), then the others.
    first: Option<Bytes>,
    ready: VecDeque<Bytes>,
    /// An error met while decoding ahead; reported after `ready`.
    deferred: Option<Error>,
    state: State,
    trailers: Option<HeaderMap>,
    received: u64,
    length: Option<u64>,
    deadlines: Deadlines,
    /// When the last byte came; set at the first wait (reading the clock only when a
    /// read would block).
    last_byte: Option<Instant>,
    /// Wakes the task at the nearer deadline; created at the first wait.
    timer: Option<Pin<Box<Sleep>>>,
    /// Room asked for before the next read (between `READ_CHUNK` and `MAX_READ_CHUNK`).
    read_size: usize,
}

impl WireBody {
    /// A body read from `conn`, starting with what is left in `buf` after the head.
    /// Whatever is already buffered is decoded at once, so a small response releases its
    /// connection before the caller even looks at the body.
    pub(crate) fn new(
        conn: BoxConn,
        buf: BytesMut,
        decoder: ResponseDecoder,
        keep_alive: bool,
        length: Option<u64>,
        deadlines: Deadlines,
    ) -> Self {
        let mut body = Self {
            conn: Some(conn),
            buf,
            decoder,
            keep_alive,
            first: None,
            ready: VecDeque::new(),
            deferred: None,
            state: State::Reading,
            trailers: None,
            received: 0,
            length,
            deadlines,
            last_byte: None,
            timer: None,
            read_size: READ_CHUNK,
        };
        body.decode_buffered();
        body
    }

    fn decode_buffered(&mut self) {
        loop {
            match self.decoder.decode(&mut self.buf) {
                Ok(Event::Data(d)) => {
                    self.received += d.len() as u64;
                    if self.first.is_none() && self.ready.is_empty() {
                        self.first = Some(d);
                    } else {
                        self.ready.push_back(d);
                    }
                }
                Ok(Event::Trailers(t)) => self.trailers = Some(t),
                Ok(Event::End) => return self.finish(),
                Ok(Event::NeedMore) => return,
                Ok(Event::Head(_)) => {
                    self.deferred = Some(unexpected_head());
                    return;
                }
                Err(e) => {
                    self.deferred = Some(e);
                    return;
                }
            }
        }
    }

    /// Body bytes received so far (before content decoding).
    pub(crate) fn received(&self) -> u64 {
        self.received
    }

    /// The `Content-Length`, when the response has one.
    pub(crate) fn length(&self) -> Option<u64> {
        self.length
    }

    /// The trailer fields, once a chunked body that had them has ended.
    pub(crate) fn trailers(&self) -> Option<&HeaderMap> {
        self.trailers.as_ref()
    }

    /// Whether every piece has been handed out.
    pub(crate) fn is_end(&self) -> bool {
        self.state == State::Done && self.first.is_none() && self.ready.is_empty()
    }

    /// The whole body, when it was already complete in one piece (or none) without
    /// trailers: the connection is back in the pool and nothing more needs this state.
    pub(crate) fn take_complete(&mut self) -> Option<Bytes> {
        if self.state != State::Done || self.trailers.is_some() || !self.ready.is_empty() {
            return None;
        }
        Some(self.first.take().unwrap_or_default())
    }

    /// The end of the response: the connection goes back to the pool when the response
    /// allows it and no stray bytes follow, and is closed otherwise.
    fn finish(&mut self) {
        self.state = State::Done;
        if let Some(mut conn) = self.conn.take() {
            conn.set_reusable(self.keep_alive && self.buf.is_empty());
        }
    }

    fn fail(&mut self, e: Error) -> Poll<Option<Result<Bytes>>> {
        self.state = State::Failed;
        self.conn = None; // marked not reusable when the exchange began
        Poll::Ready(Some(Err(e)))
    }

    /// The next piece of the body; `None` at its end.
    pub(crate) fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes>>> {
        if let Some(d) = self.first.take().or_else(|| self.ready.pop_front()) {
            return Poll::Ready(Some(Ok(d)));
        }
        if let Some(e) = self.deferred.take() {
            return self.fail(e);
        }
        loop {
            match self.state {
                State::Done => return Poll::Ready(None),
                // Never let a reader that ignored the error see a clean (short) end.
                State::Failed => return Poll::Ready(Some(Err(Error::BodyClosed))),
                State::Reading => {}
            }
            match self.decoder.decode(&mut self.buf) {
                Ok(Event::Data(d)) => {
                    self.received += d.len() as u64;
                    return Poll::Ready(Some(Ok(d)));
                }
                Ok(Event::Trailers(t)) => {
                    self.trailers = Some(t);
                    continue;
                }
                Ok(Event::End) => {
                    self.finish();
                    return Poll::Ready(None);
                }
                Ok(Event::NeedMore) => {}
                Ok(Event::Head(_)) => return self.fail(unexpected_head()),
                Err(e) => return self.fail(e),
            }
            let Some(conn) = self.conn.as_mut() else {
                return self.fail(Error::BodyClosed);
            };
            if self.buf.capacity() - self.buf.len() < self.read_size / 4 {
                self.buf.reserve(self.read_size);
            }
            let room = self.buf.capacity() - self.buf.len();
            match poll_read_buf(Pin::new(conn), cx, &mut self.buf) {
                Poll::Pending => {
                    let e = ready!(self.poll_deadlines(cx));
                    return self.fail(e);
                }
                Poll::Ready(Ok(0)) => match self.decoder.decode_eof(&self.buf) {
                    // A close-delimited body ends here; the connection is gone anyway.
                    Ok(_) => {
                        self.keep_alive = false;
                        self.finish();
                        return Poll::Ready(None);
                    }
                    Err(e) => return self.fail(e),
                },
                Poll::Ready(Ok(n)) => {
                    if n == room {
                        self.read_size = (self.read_size * 2).min(MAX_READ_CHUNK);
                    } else if n < self.read_size / 8 {
                        self.read_size = (self.read_size / 2).max(READ_CHUNK);
                    }
                    if self.last_byte.is_some() {
                        self.last_byte = Some(Instant::now());
                    }
                }
                Poll::Ready(Err(e)) => return self.fail(Error::Io(e)),
            }
        }
    }

    /// Ready with the timeout error once a deadline has passed; otherwise registers the
    /// timer for the nearer one. The timer is moved only when it fires early (bytes came
    /// meanwhile), not on every read.
    fn poll_deadlines(&mut self, cx: &mut Context<'_>) -> Poll<Error> {
        let last_byte = *self.last_byte.get_or_insert_with(Instant::now);
        loop {
            let idle_due = last_byte + self.deadlines.idle;
            let due = match self.deadlines.total {
                Some((at, _)) => at.min(idle_due),
                None => idle_due,
            };
            // Deadlines only move later (a byte arrived), so an armed timer is never late.
            let timer = self.timer.get_or_insert_with(|| Box::pin(sleep_until(due)));
            ready!(timer.as_mut().poll(cx));
            let now = Instant::now();
            if let Some((at, after)) = self.deadlines.total
                && now >= at
            {
                return Poll::Ready(Error::Timeout {
                    what: WHAT_TOTAL,
                    after,
                });
            }
            if now >= idle_due {
                return Poll::Ready(Error::Timeout {
                    what: WHAT_IDLE,
                    after: self.deadlines.idle,
                });
            }
            // Fired for an older deadline: loop to re-arm at the current one.
            timer.as_mut().reset(due);
        }
    }
}

fn unexpected_head() -> Error {
    Error::InvalidHead {
        reason: "a second response head where a body was expected",
    }
}

impl Drop for WireBody {
    /// Finishes the response from bytes already received (and any the socket holds right
    /// now), without waiting, so a body nobody read to the end can still free its
    /// connection for reuse. Past [`DRAIN_ON_DROP`] bytes, or if more must be waited for,
    /// the connection is closed instead.
    fn drop(&mut self) {
        if self.conn.is_none() || self.state != State::Reading || self.deferred.is_some() {
            return;
        }
        let mut cx = Context::from_waker(Waker::noop());
        let mut drained = 0u64;
        loop {
            match self.decoder.decode(&mut self.buf) {
                Ok(Event::Data(d)) => {
                    drained += d.len() as u64;
                    if drained > DRAIN_ON_DROP {
                        return;
                    }
                }
                Ok(Event::Trailers(_)) => {}
                Ok(Event::End) => return self.finish(),
                Ok(Event::NeedMore) => {
                    let Some(conn) = self.conn.as_mut() else {
                        return;
                    };
                    self.buf.reserve(READ_CHUNK);
                    match poll_read_buf(Pin::new(conn), &mut cx, &mut self.buf) {
                        Poll::Ready(Ok(n)) if n > 0 => {}
                        _ => return,
                    }
                }
                Ok(Event::Head(_)) | Err(_) => return,
            }
        }
    }
}

/// So that [`Decoding`](crate::coding::Decoding) reads it like any other body.
impl http_body::Body for WireBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>>>> {
        self.get_mut()
            .poll_chunk(cx)
            .map(|c| c.map(|r| r.map(http_body::Frame::data)))
    }

    fn is_end_stream(&self) -> bool {
        self.is_end()
    }
}

impl std::fmt::Debug for WireBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireBody")
            .field("state", &self.state)
            .field("received", &self.received)
            .field("length", &self.length)
            .field("connection_held", &self.conn.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf};

    use super::*;
    use crate::client::conn::Conn;
    use crate::codec::{BodyLength, Limits};

    /// A connection whose "reusable" verdict the test can read after it is dropped.
    struct TestConn {
        io: DuplexStream,
        reusable: Arc<AtomicBool>,
    }

    impl AsyncRead for TestConn {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for TestConn {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.io).poll_write(cx, buf)
        }
        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_flush(cx)
        }
        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_shutdown(cx)
        }
    }

    impl Conn for TestConn {
        fn set_reusable(&mut self, reusable: bool) {
            self.reusable.store(reusable, Ordering::SeqCst);
        }
    }

    /// A body of `length` after a head, with `buffered` already received; returns the
    /// body, the server's end, and the reusable flag.
    fn body(
        length: BodyLength,
        buffered: &[u8],
        keep_alive: bool,
    ) -> (WireBody, DuplexStream, Arc<AtomicBool>) {
        let (client, server) = tokio::io::duplex(1 << 16);
        let flag = Arc::new(AtomicBool::new(false));
        let conn = TestConn {
            io: client,
            reusable: flag.clone(),
        };
        let mut decoder = ResponseDecoder::new(Limits::default());
        let mut head = BytesMut::from(match length {
            BodyLength::Chunked => &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
            _ => &b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"[..],
        });
        assert!(matches!(decoder.decode(&mut head), Ok(Event::Head(_))));
        let deadlines = Deadlines {
            idle: Duration::from_secs(5),
            total: None,
        };
        let wire = WireBody::new(
            Box::new(conn),
            BytesMut::from(buffered),
            decoder,
            keep_alive,
            length.exact(),
            deadlines,
        );
        (wire, server, flag)
    }

    async fn next(w: &mut WireBody) -> Option<Result<Bytes>> {
        std::future::poll_fn(|cx| w.poll_chunk(cx)).await
    }

    #[tokio::test]
    async fn a_body_in_the_buffer_releases_the_connection_at_once() {
        let (mut w, _server, flag) = body(BodyLength::Length(10), b"0123456789", true);
        assert!(
            flag.load(Ordering::SeqCst),
            "released before anything was read"
        );
        assert_eq!(w.take_complete().unwrap(), "0123456789");
        let (_, _server, flag) = body(BodyLength::Length(10), b"0123456789EXTRA", true);
        assert!(
            !flag.load(Ordering::SeqCst),
            "stray bytes after the body: not reused"
        );
        let (_, _server, flag) = body(BodyLength::Length(10), b"0123456789", false);
        assert!(!flag.load(Ordering::SeqCst), "no keep-alive: not reused");
    }

    #[tokio::test]
    async fn pieces_then_the_end_then_nothing() {
        let (mut w, mut server, flag) = body(BodyLength::Chunked, b"3\r\nabc\r\n", true);
        assert_eq!(next(&mut w).await.unwrap().unwrap(), "abc");
        server
            .write_all(b"2\r\nde\r\n0\r\nX-T: 1\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(next(&mut w).await.unwrap().unwrap(), "de");
        assert!(next(&mut w).await.is_none());
        assert!(w.is_end());
        assert_eq!(w.trailers().unwrap()["x-t"], "1");
        assert_eq!(w.received(), 5);
        assert!(flag.load(Ordering::SeqCst));
        assert!(next(&mut w).await.is_none(), "the end stays the end");
    }

    #[tokio::test]
    async fn a_cut_body_fails_and_keeps_failing() {
        let (mut w, server, flag) = body(BodyLength::Length(10), b"0123", true);
        assert_eq!(next(&mut w).await.unwrap().unwrap(), "0123");
        drop(server);
        assert!(matches!(
            next(&mut w).await,
            Some(Err(Error::IncompleteBody))
        ));
        assert!(matches!(next(&mut w).await, Some(Err(Error::BodyClosed))));
        assert!(!w.is_end());
        assert!(!flag.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn dropping_drains_what_has_arrived_but_never_waits() {
        let (w, mut server, flag) = body(BodyLength::Length(10), b"01234", true);
        server.write_all(b"56789").await.unwrap();
        drop(w);
        assert!(
            flag.load(Ordering::SeqCst),
            "the rest was there: drained, reusable"
        );
        let (w, _server, flag) = body(BodyLength::Length(10), b"01234", true);
        drop(w);
        assert!(
            !flag.load(Ordering::SeqCst),
            "the rest had not come: closed"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_idle_timer_moves_with_each_byte() {
        let (mut w, mut server, _flag) = body(BodyLength::Length(10), b"", true);
        let start = Instant::now();
        tokio::spawn(async move {
            for _ in 0..4 {
                tokio::time::sleep(Duration::from_secs(3)).await;
                server.write_all(b"x").await.unwrap();
            }
            tokio::time::sleep(Duration::from_secs(3600)).await;
        });
        for _ in 0..4 {
            assert_eq!(next(&mut w).await.unwrap().unwrap(), "x");
        }
        let err = next(&mut w).await.unwrap().unwrap_err();
        assert!(
            matches!(
                err,
                Error::Timeout {
                    what: WHAT_IDLE,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(start.elapsed(), Duration::from_secs(12 + 5));
    }
}
