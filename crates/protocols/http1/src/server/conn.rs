//! One connection: the thin driver around the sans-IO codec.
//!
//! The common exchange (a bodiless request, a handler that answers at once, a small full
//! body) runs synchronously inside one poll: [`Io::poll_serve`] decodes every head in the
//! read buffer, calls the handler, encodes the response into the write buffer, and only
//! when the buffer holds no further head does it write (one write per batch of pipelined
//! responses) and wait for the socket. The handler's future lives in one pinned slot in
//! the connection task, so nothing is boxed per request, and the request, response and
//! connection state are not moved between nested futures. Anything else (request
//! bodies, upgrades, handlers that wait, streamed, large or file bodies) continues on
//! the async path in `exchange.rs` and then comes back here.
//!
//! Buffers live as long as the connection; the plaintext path allocates nothing of its
//! own per request (see `tests/server_alloc.rs`).

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use ghostnet_transport::Stream;
use http::{Request, Response, StatusCode};
use tokio_util::sync::CancellationToken;

use crate::body::{Body, Kind};
use crate::codec::{BodyEncoder, EncodeContext, RequestHead, encode_response_head};
use crate::error::{Error, Result};
use crate::server::Config;
use crate::server::exchange::{COPY_THRESHOLD, Exchange, Info, Next, request};
use crate::server::io::{HeadPhase, Io};
use crate::server::service::Service;
use crate::upgrade::Upgraded;

/// Where the fast path stopped.
enum Step {
    /// Close cleanly: end of input between requests, idle timeout, shutdown while idle,
    /// or a response that ends the connection is queued.
    Close,
    /// No request head could be read: answer with the error's status, then close.
    BadRequest(Error),
    /// The connection failed, or the error was answered already: close.
    Fail(Error),
    /// The exchange continues on the async path (its state is in the [`Exchange`]).
    Slow,
}

/// How starting an exchange on the fast path went.
enum Started {
    /// The response is queued; keep the connection or not.
    Done {
        keep_alive: bool,
    },
    Slow,
    Failed(Error),
}

/// Serves requests on `io` until the client or the server ends the connection.
///
/// The connection's state is made here, inside the future, rather than passed in: an
/// argument stays in the future as well as any local it is moved to.
pub(crate) async fn serve<S: Stream, Svc: Service>(
    io: S,
    config: Arc<Config>,
    service: Arc<Svc>,
    token: CancellationToken,
) -> Result<()> {
    let mut conn = Io::new(io, config, token);
    let call = |req: Request<Body>| service.call(req);
    // The handler's future and the async path's state: one place each for the
    // connection's lifetime.
    let mut slot = pin!(None);
    let mut x = Exchange::default();
    let result = loop {
        let step = poll_fn(|cx| conn.poll_serve(cx, slot.as_mut(), &call, &mut x)).await;
        let next = match step {
            Step::Close => break Ok(()),
            Step::BadRequest(e) => {
                conn.respond_error(&e).await;
                break Err(e);
            }
            Step::Fail(e) => break Err(e),
            Step::Slow => conn.exchange(slot.as_mut(), &call, &mut x).await,
        };
        match next {
            Ok(Next::KeepAlive) => {}
            Ok(Next::Close) => break Ok(()),
            Ok(Next::Upgrade(tx)) => {
                let Io { io, rbuf, .. } = conn;
                let _ = tx.send(Upgraded::new(Box::new(io), rbuf.freeze()));
                return Ok(());
            }
            Err(e) => break Err(e),
        }
    };
    conn.close().await;
    result
}

impl<S: Stream> Io<S> {
    /// Serves the requests at hand and waits for more; returns when an exchange needs
    /// the async path or the connection is to close.
    fn poll_serve<F, C>(
        &mut self,
        cx: &mut Context<'_>,
        mut slot: Pin<&mut Option<F>>,
        call: &C,
        x: &mut Exchange,
    ) -> Poll<Step>
    where
        C: Fn(Request<Body>) -> F,
        F: Future<Output = Response<Body>>,
    {
        // Time moved on since the last poll.
        self.forget_now();
        loop {
            // Past the high-water mark, queued responses go out before more are made.
            if self.wbuf.len() >= self.config.write_high_water
                && let Err(e) = ready!(self.poll_flush_wbuf(cx))
            {
                return Poll::Ready(Step::Fail(Error::Io(e)));
            }
            if !self.rbuf.is_empty() {
                match self.decoder.decode_head(&mut self.rbuf) {
                    Ok(Some(head)) => {
                        self.timer.clear();
                        self.first = false;
                        self.phase = HeadPhase::Fresh;
                        match self.start(cx, head, slot.as_mut(), call, x) {
                            Started::Done { keep_alive: true } => continue,
                            Started::Done { keep_alive: false } => {
                                return Poll::Ready(Step::Close);
                            }
                            Started::Slow => return Poll::Ready(Step::Slow),
                            Started::Failed(e) => return Poll::Ready(Step::Fail(e)),
                        }
                    }
                    Ok(None) => {}
                    Err(e) => return Poll::Ready(Step::BadRequest(e)),
                }
            }
            if self.read_eof {
                if self.rbuf.is_empty() {
                    return Poll::Ready(Step::Close);
                }
                return Poll::Ready(Step::BadRequest(Error::InvalidHead {
                    reason: "connection closed in the middle of a request head",
                }));
            }
            // About to need the client: send what is queued (pipelined responses).
            if let Err(e) = ready!(self.poll_flush_wbuf(cx)) {
                return Poll::Ready(Step::Fail(Error::Io(e)));
            }
            let empty = self.rbuf.is_empty();
            if empty && self.shutdown.is_triggered() {
                return Poll::Ready(Step::Close);
            }
            match self.poll_read(cx) {
                Poll::Ready(Ok(0)) => self.read_eof = true,
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Step::BadRequest(Error::Io(e))),
                Poll::Pending => {
                    self.arm_head_timer(empty);
                    if self.timer.poll_expired(cx).is_ready() {
                        self.timer.clear();
                        if self.rbuf.is_empty() {
                            // Nothing of a request yet: close quietly.
                            return Poll::Ready(Step::Close);
                        }
                        return Poll::Ready(Step::BadRequest(Error::Timeout {
                            what: "request head",
                            after: self.config.header_read_timeout,
                        }));
                    }
                    if empty && self.shutdown.poll(cx).is_ready() {
                        return Poll::Ready(Step::Close);
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    /// Calls the handler for `head` and, when it answers at once with a body at hand,
    /// queues the response.
    fn start<F, C>(
        &mut self,
        cx: &mut Context<'_>,
        head: RequestHead,
        mut slot: Pin<&mut Option<F>>,
        call: &C,
        x: &mut Exchange,
    ) -> Started
    where
        C: Fn(Request<Body>) -> F,
        F: Future<Output = Response<Body>>,
    {
        if head.upgrade || !head.body.is_empty() {
            x.head = Some(head);
            return Started::Slow;
        }
        let info = Info::new(&head, &self.config);
        let req = request(
            head.method,
            head.uri,
            head.version,
            head.headers,
            Body::empty(),
        );
        slot.set(Some(call(req)));
        let handler = slot.as_mut().as_pin_mut();
        match handler.expect("the slot was just filled").poll(cx) {
            Poll::Ready(response) => {
                slot.set(None);
                self.respond_now(response, info, x)
            }
            Poll::Pending => {
                x.info = info;
                Started::Slow
            }
        }
    }

    /// Queues a response whose body is empty or small and whole.
    fn respond_now(&mut self, response: Response<Body>, info: Info, x: &mut Exchange) -> Started {
        let at_hand = match &response.body().kind {
            Kind::Empty | Kind::Full(None) => true,
            Kind::Full(Some(data)) => data.len() <= COPY_THRESHOLD,
            Kind::Channel { .. } | Kind::File(_) => false,
        };
        if !at_hand {
            x.info = info;
            x.response = Some(response);
            return Started::Slow;
        }
        let (parts, body) = response.into_parts();
        let keep_alive = info.keep_alive && !self.shutdown.is_triggered();
        let ctx = EncodeContext::new()
            .head_request(info.head_request)
            .request_version(info.version)
            .keep_alive(keep_alive)
            .body_len(body.size_hint());
        let now = self.now();
        let date = self.date(now);
        let encoded = encode_response_head(
            &mut self.wbuf,
            parts.status,
            &parts.headers,
            &ctx.date(&date),
        );
        let encoded = match encoded {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!("handler returned a response that cannot be sent: {e}");
                self.queue_status(StatusCode::INTERNAL_SERVER_ERROR, &e);
                return Started::Failed(e);
            }
        };
        self.decoder.recycle_headers(parts.headers);
        let mut enc = encoded.body;
        if let Kind::Full(Some(data)) = &body.kind
            && enc != BodyEncoder::None
        {
            if let Err(e) = enc.begin_data(&mut self.wbuf, data.len()) {
                return Started::Failed(e);
            }
            self.wbuf.extend_from_slice(data);
            enc.end_data(&mut self.wbuf, data.len());
        }
        if let Err(e) = enc.finish(&mut self.wbuf, None) {
            return Started::Failed(e);
        }
        Started::Done {
            keep_alive: encoded.keep_alive,
        }
    }
}
