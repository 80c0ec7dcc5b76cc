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
            if self.buf.capacity() - self.buf.len() < READ_CHUNK / 4 {
                self.buf.reserve(READ_CHUNK);
            }
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
                Poll::Ready(Ok(_)) => {
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
