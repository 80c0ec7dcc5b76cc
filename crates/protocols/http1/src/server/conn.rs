//! One connection: the thin async driver around the sans-IO codec.
//!
//! The loop is: read a head (flushing queued responses only when about to wait for the
//! socket, which coalesces pipelined responses into one write), call the handler while
//! feeding it the request body on demand, write the response, then keep the connection
//! or close it. Buffers live as long as the connection; the plaintext path allocates
//! nothing of its own per request (see `tests/server_alloc.rs`).

use std::future::{Future, poll_fn};
use std::io::{self, IoSlice};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use ghostnet_transport::Stream;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use tokio::sync::oneshot;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::body::{self, Body, Frame, Kind, Sender};
use crate::codec::{
    BodyEncoder, BodyLength, EncodeContext, Event, RequestDecoder, RequestHead,
    encode_response_head,
};
use crate::error::{Error, Result};
use crate::server::Config;
use crate::server::date::{DATE_LEN, with_date};
use crate::server::service::Service;
use crate::server::timer::Deadline;
use crate::upgrade::{self, Upgraded};

/// Receive buffer size, and the free space below which it is grown before a read.
const READ_BUF: usize = 8 * 1024;
const MIN_READ_SPACE: usize = 1024;
/// Body pieces up to this size are copied into the write buffer (one write with the
/// head); larger ones go out with a vectored write, uncopied.
const COPY_THRESHOLD: usize = 16 * 1024;
/// The interim response sent when a handler first reads an `Expect: 100-continue` body.
const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
/// After closing our side, how long and how much we read and discard so that unread
/// request bytes do not make the kernel reset the connection (and lose our last response).
const LINGER: std::time::Duration = std::time::Duration::from_secs(2);
const LINGER_BYTES: usize = 256 * 1024;

/// The state the codec driver owns: stream, buffers, decoder, timer.
struct Io<S> {
    io: S,
    rbuf: BytesMut,
    wbuf: Vec<u8>,
    /// Bytes of `wbuf` already written.
    wpos: usize,
    decoder: RequestDecoder,
    config: Arc<Config>,
    timer: Deadline,
    token: CancellationToken,
    shutdown: ShutdownWatch,
    read_eof: bool,
    /// The Date value for responses to the bytes last read: one clock read per batch of
    /// pipelined requests rather than per response.
    date: [u8; DATE_LEN],
    date_valid: bool,
}

/// The shutdown signal, polled only when the waker to wake changes (registering the same
/// task again on every wait costs a lock).
struct ShutdownWatch {
    fut: Pin<Box<WaitForCancellationFutureOwned>>,
    registered: Option<std::task::Waker>,
}

impl ShutdownWatch {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            return Poll::Pending;
        }
        let p = self.fut.as_mut().poll(cx);
        if p.is_pending() {
            self.registered = Some(cx.waker().clone());
        }
        p
    }
}

pub(crate) struct Conn<S, Svc> {
    io: Io<S>,
    service: Arc<Svc>,
}

/// Feeds a request body to the handler's [`Body`] as it asks for it.
struct Pump {
    tx: Option<Sender>,
    /// `Expect: 100-continue` and the interim response not sent yet.
    continue_needed: bool,
    /// The body was decoded to its end.
    done: bool,
    /// The body failed (malformed, too large, too slow, cut off).
    error: Option<Error>,
}

/// What to do after an exchange.
enum Next {
    KeepAlive,
    Close,
    Upgrade(oneshot::Sender<Upgraded>),
}

enum HeadWait {
    Read(io::Result<usize>),
    Timeout,
    Shutdown,
}

impl<S: Stream, Svc: Service> Conn<S, Svc> {
    pub(crate) fn new(
        io: S,
        config: Arc<Config>,
        service: Arc<Svc>,
        token: CancellationToken,
    ) -> Self {
        Self {
            io: Io {
                io,
                rbuf: BytesMut::with_capacity(READ_BUF),
                wbuf: Vec::with_capacity(READ_BUF),
                wpos: 0,
                decoder: RequestDecoder::new(config.limits.clone()),
                config,
                timer: Deadline::new(),
                shutdown: ShutdownWatch {
                    fut: Box::pin(token.clone().cancelled_owned()),
                    registered: None,
                },
                token,
                read_eof: false,
                date: [0; DATE_LEN],
                date_valid: false,
            },
            service,
        }
    }

    /// Serves requests until the client or the server ends the connection.
    pub(crate) async fn run(mut self) -> Result<()> {
        let mut first = true;
        let result = loop {
            let head = match self.io.read_head(first).await {
                Ok(Some(head)) => head,
                Ok(None) => break Ok(()),
                Err(e) => {
                    self.io.respond_error(&e).await;
                    break Err(e);
                }
            };
            first = false;
            match self.exchange(head).await {
                Ok(Next::KeepAlive) => {}
                Ok(Next::Close) => break Ok(()),
                Ok(Next::Upgrade(tx)) => {
                    let Io { io, rbuf, .. } = self.io;
                    let _ = tx.send(Upgraded::new(Box::new(io), rbuf.freeze()));
                    return Ok(());
                }
                Err(e) => break Err(e),
            }
        };
        self.io.close().await;
        result
    }

    /// One request and its response.
    async fn exchange(&mut self, head: RequestHead) -> Result<Next> {
        let Self { io, service } = self;
        let RequestHead {
            method,
            uri,
            version,
            headers,
            body: framing,
            keep_alive,
            expect_continue,
            upgrade,
            ..
        } = head;
        let head_request = method == Method::HEAD;
        let connect = method == Method::CONNECT;
        // An upgrade is offered only for bodiless requests: the new protocol starts right
        // after the head, with nothing of HTTP/1.1 left to read.
        let offer_upgrade = upgrade && framing.is_empty();
        if upgrade && !offer_upgrade {
            io.decoder.resume(framing);
        }
        let (body, mut pump) = if framing.is_empty() {
            if !offer_upgrade {
                io.expect_end()?;
            }
            (Body::empty(), None)
        } else {
            let (tx, rx) = body::channel(true);
            let limit = io.config.limits.max_buffered_body_bytes;
            let pump = Pump {
                tx: Some(tx),
                continue_needed: expect_continue,
                done: false,
                error: None,
            };
            (Body::incoming(rx, framing.exact(), limit), Some(pump))
        };

        let mut req = Request::new(body);
        *req.method_mut() = method;
        *req.uri_mut() = uri;
        *req.version_mut() = version;
        *req.headers_mut() = headers;
        let mut upgrade_tx = None;
        if offer_upgrade {
            let (tx, on) = upgrade::pending();
            req.extensions_mut().insert(on);
            upgrade_tx = Some(tx);
        }

        // Run the handler; while it waits, feed it body bytes it asks for.
        let response = {
            let mut fut = pin!(service.call(req));
            poll_fn(|cx| {
                if let Poll::Ready(res) = fut.as_mut().poll(cx) {
                    return Poll::Ready(res);
                }
                if let Some(p) = pump.as_mut() {
                    let _ = io.poll_pump(p, cx);
                }
                Poll::Pending
            })
            .await
        };

        let mut keep_alive = keep_alive && io.config.keep_alive;
        if let Some(e) = pump.as_mut().and_then(|p| p.error.take()) {
            // The body was malformed (or too large, or too slow): answer that, whatever the
            // handler said, and close, since where the next request starts is unknown.
            io.respond_error(&e).await;
            return Err(e);
        }
        let (parts, body) = response.into_parts();

        if let Some(tx) = upgrade_tx {
            let switching = parts.status == StatusCode::SWITCHING_PROTOCOLS
                || (connect && parts.status.is_success());
            if switching {
                let ctx = EncodeContext::new()
                    .request_version(version)
                    .body_len(Some(0))
                    .keep_alive(true);
                let date = io.date();
                encode_response_head(&mut io.wbuf, parts.status, &parts.headers, &ctx.date(&date))?;
                io.flush().await?;
                return Ok(Next::Upgrade(tx));
            }
            // Declined: the request had no body, so the next request follows.
            drop(tx);
            io.decoder.resume(BodyLength::Empty);
            io.expect_end()?;
        }

        keep_alive = keep_alive && !io.token.is_cancelled();
        if pump.as_ref().is_some_and(|p| p.continue_needed && !p.done) {
            // The client is waiting for 100 Continue that will never come: it may or may
            // not send the body, so nothing after this response can be trusted.
            keep_alive = false;
        }
        let ctx = EncodeContext::new()
            .head_request(head_request)
            .request_version(version)
            .keep_alive(keep_alive)
            .body_len(body.size_hint());
        let date = io.date();
        let encoded =
            encode_response_head(&mut io.wbuf, parts.status, &parts.headers, &ctx.date(&date));
        let encoded = match encoded {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!("handler returned a response that cannot be sent: {e}");
                io.respond_status(StatusCode::INTERNAL_SERVER_ERROR, &e)
                    .await;
                return Err(e);
            }
        };
        keep_alive = encoded.keep_alive;
        let mut encoder = encoded.body;
        io.decoder.recycle_headers(parts.headers);
        io.write_body(body, &mut encoder, &mut pump).await?;

        if let Some(mut p) = pump {
            if let Some(e) = p.error.take() {
                tracing::debug!("request body failed after the response started: {e}");
                return Ok(Next::Close);
            }
            if !p.done {
                p.tx = None; // the handler's body, if still held, now reads BodyClosed
                if !keep_alive || p.continue_needed || !io.drain().await {
                    return Ok(Next::Close);
                }
            }
        }
        if !keep_alive {
            return Ok(Next::Close);
        }
        if io.wbuf.len() >= io.config.write_high_water {
            io.flush().await?;
        }
        Ok(Next::KeepAlive)
    }
}

impl<S: Stream> Io<S> {
    /// Reads the next request head; `None` when the connection should just close (clean
    /// EOF, idle timeout, shutdown while idle).
    async fn read_head(&mut self, first: bool) -> Result<Option<RequestHead>> {
        // Which timeout runs: idle (keep-alive, before any byte of the next request) or
        // head (slowloris: from the first wait for a new connection, or the first byte).
        let mut idle_phase = None;
        loop {
            if !self.rbuf.is_empty() {
                match self.decoder.decode(&mut self.rbuf)? {
                    Event::Head(head) => {
                        self.timer.clear();
                        return Ok(Some(head));
                    }
                    Event::NeedMore => {}
                    _ => {
                        return Err(Error::InvalidHead {
                            reason: "unexpected body bytes",
                        });
                    }
                }
            }
            if self.read_eof {
                if self.rbuf.is_empty() {
                    return Ok(None);
                }
                return Err(Error::InvalidHead {
                    reason: "connection closed in the middle of a request head",
                });
            }
            // About to wait for the client: send what is queued (pipelined responses).
            self.flush().await?;
            let empty = self.rbuf.is_empty();
            if empty && self.token.is_cancelled() {
                return Ok(None);
            }
            match idle_phase {
                None => {
                    let idle = empty && !first;
                    self.timer.set_after(if idle {
                        self.config.keep_alive_timeout
                    } else {
                        self.config.header_read_timeout
                    });
                    idle_phase = Some(idle);
                }
                Some(true) if !empty => {
                    self.timer.set_after(self.config.header_read_timeout);
                    idle_phase = Some(false);
                }
                _ => {}
            }
            let waited = poll_fn(|cx| {
                if let Poll::Ready(r) = self.poll_read(cx) {
                    return Poll::Ready(HeadWait::Read(r));
                }
                if self.timer.poll_expired(cx).is_ready() {
                    return Poll::Ready(HeadWait::Timeout);
                }
                if self.rbuf.is_empty()
                    && (self.token.is_cancelled() || self.shutdown.poll(cx).is_ready())
                {
                    return Poll::Ready(HeadWait::Shutdown);
                }
                Poll::Pending
            })
            .await;
            match waited {
                HeadWait::Read(Ok(0)) => self.read_eof = true,
                HeadWait::Read(Ok(_)) => {}
                HeadWait::Read(Err(e)) => return Err(Error::Io(e)),
                HeadWait::Timeout => {
                    self.timer.clear();
                    if self.rbuf.is_empty() {
                        // Nothing of a request yet: close quietly.
                        return Ok(None);
                    }
                    return Err(Error::Timeout {
                        what: "request head",
                        after: self.config.header_read_timeout,
                    });
                }
                HeadWait::Shutdown => return Ok(None),
            }
        }
    }

    /// Consumes the `End` of a bodiless request from the decoder.
    fn expect_end(&mut self) -> Result<()> {
        match self.decoder.decode(&mut self.rbuf)? {
            Event::End => Ok(()),
            _ => Err(Error::InvalidHead {
                reason: "request framing out of step",
            }),
        }
    }

    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.rbuf.capacity() - self.rbuf.len() < MIN_READ_SPACE {
            self.rbuf.reserve(READ_BUF);
        }
        let read = tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.rbuf);
        if let Poll::Ready(Ok(1..)) = read {
            self.date_valid = false; // new requests: their responses get a fresh Date
        }
        read
    }

    /// The Date value for the current batch of requests.
    fn date(&mut self) -> [u8; DATE_LEN] {
        if !self.date_valid {
            with_date(|d| self.date.copy_from_slice(d));
            self.date_valid = true;
        }
        self.date
    }

    /// Writes all of `wbuf`, then flushes the stream.
    fn poll_flush_wbuf(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
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

    async fn flush(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_flush_wbuf(cx)).await
    }

    /// Writes `wbuf` and then `data` with vectored writes, without copying `data`.
    async fn write_with(&mut self, data: &[u8]) -> io::Result<()> {
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

    /// Makes progress on a request body; `Ready` once the pump has stopped (body done,
    /// failed, or dropped by the handler).
    fn poll_pump(&mut self, p: &mut Pump, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            let Some(tx) = p.tx.as_mut() else {
                return Poll::Ready(());
            };
            match tx.poll_want(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(_)) => {
                    p.tx = None;
                    return Poll::Ready(());
                }
                Poll::Ready(Ok(())) => {}
            }
            if p.continue_needed {
                if self.wbuf.is_empty() || !self.wbuf.ends_with(CONTINUE) {
                    self.wbuf.extend_from_slice(CONTINUE);
                }
                match ready!(self.poll_flush_wbuf(cx)) {
                    Ok(()) => p.continue_needed = false,
                    Err(e) => return self.fail_pump(p, Error::Io(e)),
                }
            }
            match self.decoder.decode(&mut self.rbuf) {
                Err(e) => return self.fail_pump(p, e),
                Ok(Event::Data(d)) => tx.send(Ok(Frame::Data(d))),
                Ok(Event::Trailers(t)) => tx.send(Ok(Frame::Trailers(t))),
                Ok(Event::End) => {
                    if let Some(tx) = p.tx.take() {
                        tx.finish();
                    }
                    p.done = true;
                    self.timer.clear();
                    return Poll::Ready(());
                }
                Ok(Event::Head(_)) => {
                    return self.fail_pump(
                        p,
                        Error::InvalidHead {
                            reason: "request framing out of step",
                        },
                    );
                }
                Ok(Event::NeedMore) => {
                    if self.read_eof {
                        return self.fail_pump(p, Error::IncompleteBody);
                    }
                    match self.poll_read(cx) {
                        Poll::Ready(Ok(0)) => {
                            self.read_eof = true;
                            return self.fail_pump(p, Error::IncompleteBody);
                        }
                        Poll::Ready(Ok(_)) => self.timer.set_after(self.config.body_read_timeout),
                        Poll::Ready(Err(e)) => return self.fail_pump(p, Error::Io(e)),
                        Poll::Pending => {
                            if !self.timer.is_armed() {
                                self.timer.set_after(self.config.body_read_timeout);
                            }
                            if self.timer.poll_expired(cx).is_ready() {
                                let after = self.config.body_read_timeout;
                                return self.fail_pump(
                                    p,
                                    Error::Timeout {
                                        what: "request body",
                                        after,
                                    },
                                );
                            }
                            return Poll::Pending;
                        }
                    }
                }
            }
        }
    }

    fn fail_pump(&mut self, p: &mut Pump, e: Error) -> Poll<()> {
        self.timer.clear();
        if let Some(mut tx) = p.tx.take() {
            tx.send(Err(e.duplicate()));
            tx.finish();
        }
        p.error = Some(e);
        Poll::Ready(())
    }

    /// Reads and discards the rest of a request body the handler did not read, so the
    /// connection can be kept; `false` when it is too long, broken or too slow.
    async fn drain(&mut self) -> bool {
        if self
            .decoder
            .body_remaining()
            .is_some_and(|n| n > self.config.max_drain_bytes)
        {
            return false;
        }
        let mut discarded: u64 = 0;
        loop {
            match self.decoder.decode(&mut self.rbuf) {
                Ok(Event::Data(d)) => {
                    discarded += d.len() as u64;
                    if discarded > self.config.max_drain_bytes {
                        return false;
                    }
                }
                Ok(Event::Trailers(_)) => {}
                Ok(Event::End) => {
                    self.timer.clear();
                    return true;
                }
                Ok(Event::NeedMore) => {
                    if self.read_eof || self.flush().await.is_err() {
                        return false;
                    }
                    self.timer.set_after(self.config.body_read_timeout);
                    let read = poll_fn(|cx| {
                        if let Poll::Ready(r) = self.poll_read(cx) {
                            return Poll::Ready(r.ok());
                        }
                        if self.token.is_cancelled() || self.shutdown.poll(cx).is_ready() {
                            return Poll::Ready(None);
                        }
                        self.timer.poll_expired(cx).map(|()| None)
                    })
                    .await;
                    match read {
                        Some(0) => self.read_eof = true,
                        Some(_) => {}
                        None => return false,
                    }
                }
                Ok(Event::Head(_)) | Err(_) => return false,
            }
        }
    }

    /// Writes a response body with the framing chosen for it.
    async fn write_body(
        &mut self,
        body: Body,
        enc: &mut BodyEncoder,
        pump: &mut Option<Pump>,
    ) -> Result<()> {
        if *enc == BodyEncoder::None {
            return Ok(()); // HEAD, 1xx, 204, 304: the body is dropped unsent
        }
        match body.kind {
            Kind::Empty | Kind::Full(None) => {}
            Kind::Full(Some(data)) => self.write_data(enc, &data).await?,
            Kind::Channel { mut rx, .. } => loop {
                let next = poll_fn(|cx| {
                    if let Poll::Ready(frame) = rx.poll_frame(cx) {
                        return Poll::Ready(Ok(frame));
                    }
                    // Nothing to add yet: push out what is queued (streams must stream),
                    // and keep feeding a request body the response may be echoing.
                    if self.wpos < self.wbuf.len()
                        && let Poll::Ready(Err(e)) = self.poll_flush_wbuf(cx)
                    {
                        return Poll::Ready(Err(e));
                    }
                    if let Some(p) = pump.as_mut() {
                        let _ = self.poll_pump(p, cx);
                    }
                    Poll::Pending
                })
                .await?;
                match next {
                    None => break,
                    Some(Ok(Frame::Data(d))) => self.write_data(enc, &d).await?,
                    Some(Ok(Frame::Trailers(t))) => {
                        enc.finish(&mut self.wbuf, Some(&t))?;
                        return Ok(());
                    }
                    Some(Err(e)) => return Err(e),
                }
            },
            Kind::File(mut file) => {
                #[cfg(target_os = "linux")]
                if matches!(enc, BodyEncoder::Length(_) | BodyEncoder::CloseDelimited) {
                    self.flush().await?;
                    if let Some(tcp) = crate::server::sendfile::as_tcp(&mut self.io) {
                        let len = file.remaining;
                        enc.begin_data(&mut Vec::new(), len as usize)?;
                        crate::server::sendfile::send_file(tcp, &mut file).await?;
                        enc.finish(&mut self.wbuf, None)?;
                        return Ok(());
                    }
                }
                while let Some(chunk) = poll_fn(|cx| file.poll_chunk(cx)).await {
                    self.write_data(enc, &chunk?).await?;
                }
            }
        }
        enc.finish(&mut self.wbuf, None)
    }

    async fn write_data(&mut self, enc: &mut BodyEncoder, data: &Bytes) -> Result<()> {
        enc.begin_data(&mut self.wbuf, data.len())?;
        if data.len() <= COPY_THRESHOLD {
            self.wbuf.extend_from_slice(data);
        } else {
            self.write_with(data).await?;
        }
        enc.end_data(&mut self.wbuf, data.len());
        if self.wbuf.len() >= self.config.write_high_water {
            self.flush().await?;
        }
        Ok(())
    }

    /// Answers a request error with its status (if it has one) and `Connection: close`.
    async fn respond_error(&mut self, e: &Error) {
        if let Some(status) = e.status() {
            self.respond_status(status, e).await;
        }
    }

    async fn respond_status(&mut self, status: StatusCode, e: &Error) {
        let text = format!("{e}\n");
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        let ctx = EncodeContext::new()
            .keep_alive(false)
            .body_len(Some(text.len() as u64));
        let encoded =
            with_date(|d| encode_response_head(&mut self.wbuf, status, &headers, &ctx.date(d)));
        if encoded.is_ok() {
            self.wbuf.extend_from_slice(text.as_bytes());
        }
        let _ = self.flush().await;
    }

    /// Flushes and closes. When the client has sent more than we read, closes our side
    /// first and reads what it still sends for a moment, so the kernel does not answer
    /// unread bytes with a reset that destroys our last response.
    async fn close(&mut self) {
        if self.flush().await.is_err() || self.read_eof {
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
        let _ = poll_fn(|cx| Pin::new(&mut self.io).poll_shutdown(cx)).await;
        // A server shutting down does not wait for slow clients to close.
        let mut discarded = 0;
        let _ = tokio::time::timeout(LINGER, async {
            while discarded < LINGER_BYTES {
                self.rbuf.clear();
                let read = poll_fn(|cx| {
                    if self.token.is_cancelled() || self.shutdown.poll(cx).is_ready() {
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
