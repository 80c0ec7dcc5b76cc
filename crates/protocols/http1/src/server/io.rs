//! A connection's state in one place: stream, buffers, decoder, timer, shutdown watch,
//! clock; and the I/O helpers both the fast path and the async path use.

use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::BytesMut;
use ghostnet_transport::Stream;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, StatusCode};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::codec::{EncodeContext, RequestDecoder, encode_response_head};
use crate::error::Error;
use crate::server::Config;
use crate::server::date::{self, DATE_LEN, Date};
use crate::server::shutdown::ShutdownWatch;
use crate::server::timer::Deadline;

/// Receive buffer size, and the free space below which it is grown before a read.
const READ_BUF: usize = 8 * 1024;
const MIN_READ_SPACE: usize = 1024;
/// After closing our side, how long and how much we read and discard so that unread
/// request bytes do not make the kernel reset the connection (and lose our last response).
const LINGER: std::time::Duration = std::time::Duration::from_secs(2);
const LINGER_BYTES: usize = 256 * 1024;

/// Which timeout guards the wait for the next head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HeadPhase {
    /// No wait yet since the last head.
    Fresh,
    /// Kept alive with nothing of the next request: `keep_alive_timeout`.
    Idle,
    /// A new connection, or part of a head arrived: `header_read_timeout` (slowloris).
    Head,
}

pub(super) struct Io<S> {
    pub(super) io: S,
    pub(super) rbuf: BytesMut,
    pub(super) wbuf: Vec<u8>,
    /// Bytes of `wbuf` already written.
    pub(super) wpos: usize,
    pub(super) decoder: RequestDecoder,
    pub(super) config: Arc<Config>,
    pub(super) timer: Deadline,
    pub(super) shutdown: ShutdownWatch,
    pub(super) read_eof: bool,
    /// No request has been read yet (its head gets the head timeout even before a byte).
    pub(super) first: bool,
    pub(super) phase: HeadPhase,
    /// The clock, read at most once per poll of the fast path (timer and Date share it);
    /// forgotten whenever the task waits.
    now: Option<Instant>,
    date: Date,
}

impl<S: Stream> Io<S> {
    pub(super) fn new(io: S, config: Arc<Config>, token: CancellationToken) -> Self {
        Self {
            io,
            rbuf: BytesMut::with_capacity(READ_BUF),
            wbuf: Vec::with_capacity(READ_BUF),
            wpos: 0,
            decoder: RequestDecoder::new(config.limits.clone()),
            config,
            timer: Deadline::new(),
            shutdown: ShutdownWatch::new(token),
            read_eof: false,
            first: true,
            phase: HeadPhase::Fresh,
            now: None,
            date: Date::stale(),
        }
    }

    /// The time for this poll: one clock read however many requests it serves.
    pub(super) fn now(&mut self) -> Instant {
        *self.now.get_or_insert_with(Instant::now)
    }

    /// A new poll: time moved on.
    pub(super) fn forget_now(&mut self) {
        self.now = None;
    }

    /// The Date value at `now`.
    pub(super) fn date(&mut self, now: Instant) -> [u8; DATE_LEN] {
        if !self.date.is_current(now) {
            self.date = date::current(now);
        }
        self.date.value
    }

    /// Arms the timeout for the wait for a head; `empty`: nothing of it has arrived.
    pub(super) fn arm_head_timer(&mut self, empty: bool) {
        let timeout = match self.phase {
            HeadPhase::Fresh if empty && !self.first => {
                self.phase = HeadPhase::Idle;
                self.config.keep_alive_timeout
            }
            HeadPhase::Fresh => {
                self.phase = HeadPhase::Head;
                self.config.header_read_timeout
            }
            HeadPhase::Idle if !empty => {
                self.phase = HeadPhase::Head;
                self.config.header_read_timeout
            }
            HeadPhase::Idle | HeadPhase::Head => return,
        };
        let at = self.now() + timeout;
        self.timer.set_at(at);
    }

    pub(super) fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.rbuf.capacity() - self.rbuf.len() < MIN_READ_SPACE {
            self.rbuf.reserve(READ_BUF);
        }
        tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.rbuf)
    }

    /// Writes all of `wbuf`, then flushes the stream.
    pub(super) fn poll_flush_wbuf(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.wpos < self.wbuf.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.wbuf[self.wpos..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.wpos += n;
        }
        self.wbuf.clear();
        self.wpos = 0;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    pub(super) async fn flush(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_flush_wbuf(cx)).await
    }

    /// Writes `wbuf` and then `data` with vectored writes, without copying `data`.
    pub(super) async fn write_with(&mut self, data: &[u8]) -> io::Result<()> {
        let mut dpos = 0;
        poll_fn(|cx| {
            loop {
                let head = &self.wbuf[self.wpos..];
                let rest = &data[dpos..];
                if head.is_empty() && rest.is_empty() {
                    break;
                }
                let io = Pin::new(&mut self.io);
                let n = if head.is_empty() {
                    ready!(io.poll_write(cx, rest))?
                } else {
                    ready!(io.poll_write_vectored(cx, &[IoSlice::new(head), IoSlice::new(rest)]))?
                };
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                let from_head = n.min(head.len());
                self.wpos += from_head;
                dpos += n - from_head;
            }
            self.wbuf.clear();
            self.wpos = 0;
            Poll::Ready(Ok(()))
        })
        .await
    }

    /// Answers a request error with its status (if it has one) and `Connection: close`.
    pub(super) async fn respond_error(&mut self, e: &Error) {
        if let Some(status) = e.status() {
            self.respond_status(status, e).await;
        }
    }

    pub(super) async fn respond_status(&mut self, status: StatusCode, e: &Error) {
        self.queue_status(status, e);
        let _ = self.flush().await;
    }

    /// Queues a plain-text response saying what went wrong, with `Connection: close`.
    pub(super) fn queue_status(&mut self, status: StatusCode, e: &Error) {
        let text = format!("{e}\n");
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        let ctx = EncodeContext::new()
            .keep_alive(false)
            .body_len(Some(text.len() as u64));
        let date = self.date(Instant::now());
        if encode_response_head(&mut self.wbuf, status, &headers, &ctx.date(&date)).is_ok() {
            self.wbuf.extend_from_slice(text.as_bytes());
        }
    }

    /// Flushes and closes. When the client has sent more than we read, closes our side
    /// first and reads what it still sends for a moment, so the kernel does not answer
    /// unread bytes with a reset that destroys our last response.
    pub(super) async fn close(&mut self) {
        if self.flush().await.is_err() {
            return;
        }
        // Shutting our side down sends TLS close_notify: without it a TLS client cannot
        // tell our close from a truncation attack (rustls reports UnexpectedEof). On TCP
        // it is the FIN that dropping would send anyway. Bounded: a peer that reads
        // nothing cannot hold the close up.
        let _ = tokio::time::timeout(
            LINGER,
            poll_fn(|cx| Pin::new(&mut self.io).poll_shutdown(cx)),
        )
        .await;
        if self.read_eof {
            return;
        }
        // Usually the client has sent nothing more: then dropping the socket is a clean
        // close, and lingering would only hold the connection (and the client) up.
        self.rbuf.clear();
        let pending = {
            let mut probe = Context::from_waker(std::task::Waker::noop());
            matches!(self.poll_read(&mut probe), Poll::Ready(Ok(1..)))
        };
        if !pending {
            return;
        }
        // A server shutting down does not wait for slow clients to close.
        let mut discarded = 0;
        let _ = tokio::time::timeout(LINGER, async {
            while discarded < LINGER_BYTES {
                self.rbuf.clear();
                let read = poll_fn(|cx| {
                    if self.shutdown.poll(cx).is_ready() {
                        return Poll::Ready(Ok(0));
                    }
                    self.poll_read(cx)
                });
                match read.await {
                    Ok(n @ 1..) => discarded += n,
                    _ => break,
                }
            }
        })
        .await;
    }
}
