//! The async path of an exchange: requests with a body or asking for an upgrade, handlers
//! that do not answer at once, and response bodies that are streamed, large or files.
//! The common case never comes here (see `conn.rs`).

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use ghostnet_transport::Stream;
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri, Version};
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::body::{self, Body, Frame, Kind, Sender};
use crate::codec::{
    BodyEncoder, BodyLength, EncodeContext, Event, RequestHead, encode_response_head,
};
use crate::error::{Error, Result};
use crate::server::Config;
use crate::server::io::Io;
use crate::upgrade::{self, Upgraded};

/// Body pieces up to this size are copied into the write buffer (one write with the
/// head); larger ones go out with a vectored write, uncopied.
pub(super) const COPY_THRESHOLD: usize = 16 * 1024;
/// The interim response sent when a handler first reads an `Expect: 100-continue` body.
const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// What the response to a request depends on, besides the response itself.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Info {
    pub(super) version: Version,
    pub(super) head_request: bool,
    pub(super) connect: bool,
    /// The client's wish and the server's setting.
    pub(super) keep_alive: bool,
}

impl Info {
    pub(super) fn new(head: &RequestHead, config: &Config) -> Self {
        Self {
            version: head.version,
            head_request: head.method == Method::HEAD,
            connect: head.method == Method::CONNECT,
            keep_alive: head.keep_alive && config.keep_alive,
        }
    }
}

/// An exchange on the async path: one per connection, kept in the connection task and
/// worked on by reference, so the futures of the async path neither move nor hold a
/// second copy of a head, a response or the body pump.
#[derive(Default)]
pub(super) struct Exchange {
    /// A request with a body, or asking for an upgrade: the handler is not called yet.
    pub(super) head: Option<RequestHead>,
    pub(super) info: Info,
    /// The handler's answer when it came on the fast path with a body written here;
    /// `None` while the handler (in the slot) runs.
    pub(super) response: Option<Response<Body>>,
    pump: Option<Pump>,
    upgrade: Option<oneshot::Sender<Upgraded>>,
}

/// What to do after an exchange.
pub(super) enum Next {
    KeepAlive,
    Close,
    Upgrade(oneshot::Sender<Upgraded>),
}

/// Feeds a request body to the handler's [`Body`] as it asks for it.
pub(super) struct Pump {
    tx: Option<Sender>,
    /// `Expect: 100-continue` and the interim response not sent yet.
    continue_needed: bool,
    /// The body was decoded to its end.
    done: bool,
    /// The body failed (malformed, too large, too slow, cut off).
    error: Option<Error>,
}

/// The request handed to the handler.
pub(super) fn request(
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
    body: Body,
) -> Request<Body> {
    let mut req = Request::new(body);
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    *req.version_mut() = version;
    *req.headers_mut() = headers;
    req
}

impl<S: Stream> Io<S> {
    /// Finishes an exchange the fast path handed over.
    pub(super) async fn exchange<F, C>(
        &mut self,
        mut slot: Pin<&mut Option<F>>,
        call: &C,
        x: &mut Exchange,
    ) -> Result<Next>
    where
        C: Fn(Request<Body>) -> F,
        F: Future<Output = Response<Body>>,
    {
        if let Some(head) = x.head.take() {
            self.begin(head, slot.as_mut(), call, x)?;
        }
        if x.response.is_none() {
            // Run the handler; while it waits, feed it body bytes it asks for.
            poll_fn(|cx| {
                let handler = slot.as_mut().as_pin_mut();
                let handler = handler.expect("the handler was called");
                if let Poll::Ready(res) = handler.poll(cx) {
                    x.response = Some(res);
                    return Poll::Ready(());
                }
                if let Some(p) = x.pump.as_mut() {
                    let _ = self.poll_pump(p, cx);
                }
                Poll::Pending
            })
            .await;
            slot.set(None);
        }
        let result = self.respond(x).await;
        x.pump = None;
        x.upgrade = None;
        result
    }

    /// Builds the request for a head with a body or an upgrade offer and calls the
    /// handler.
    fn begin<F, C>(
        &mut self,
        head: RequestHead,
        mut slot: Pin<&mut Option<F>>,
        call: &C,
        x: &mut Exchange,
    ) -> Result<()>
    where
        C: Fn(Request<Body>) -> F,
    {
        x.info = Info::new(&head, &self.config);
        let RequestHead {
            method,
            uri,
            version,
            headers,
            body: framing,
            expect_continue,
            upgrade,
            ..
        } = head;
        // An upgrade is offered only for bodiless requests: the new protocol starts right
        // after the head, with nothing of HTTP/1.1 left to read.
        let offer_upgrade = upgrade && framing.is_empty();
        if upgrade && !offer_upgrade {
            self.decoder.resume(framing);
        }
        let body = if framing.is_empty() {
            if !offer_upgrade {
                self.expect_end()?;
            }
            Body::empty()
        } else {
            let (tx, rx) = body::channel(true);
            let limit = self.config.limits.max_buffered_body_bytes;
            x.pump = Some(Pump {
                tx: Some(tx),
                continue_needed: expect_continue,
                done: false,
                error: None,
            });
            Body::incoming(rx, framing.exact(), limit)
        };
        let mut req = request(method, uri, version, headers, body);
        if offer_upgrade {
            let (tx, on) = upgrade::pending();
            req.extensions_mut().insert(on);
            x.upgrade = Some(tx);
        }
        slot.set(Some(call(req)));
        Ok(())
    }

    /// Sends the handler's response, then decides about the connection.
    async fn respond(&mut self, x: &mut Exchange) -> Result<Next> {
        let info = x.info;
        if let Some(e) = x.pump.as_mut().and_then(|p| p.error.take()) {
            // The body was malformed (or too large, or too slow): answer that, whatever the
            // handler said, and close, since where the next request starts is unknown.
            self.respond_error(&e).await;
            return Err(e);
        }
        let response = x.response.take().expect("the handler answered");
        let (parts, body) = response.into_parts();

        if let Some(tx) = x.upgrade.take() {
            let switching = parts.status == StatusCode::SWITCHING_PROTOCOLS
                || (info.connect && parts.status.is_success());
            if switching {
                let ctx = EncodeContext::new()
                    .request_version(info.version)
                    .body_len(Some(0))
                    .keep_alive(true);
                let date = self.date(Instant::now());
                encode_response_head(
                    &mut self.wbuf,
                    parts.status,
                    &parts.headers,
                    &ctx.date(&date),
                )?;
                self.flush().await?;
                return Ok(Next::Upgrade(tx));
            }
            // Declined: the request had no body, so the next request follows.
            drop(tx);
            self.decoder.resume(BodyLength::Empty);
            self.expect_end()?;
        }

        let mut keep_alive = info.keep_alive && !self.shutdown.is_triggered();
        if x.pump
            .as_ref()
            .is_some_and(|p| p.continue_needed && !p.done)
        {
            // The client is waiting for 100 Continue that will never come: it may or may
            // not send the body, so nothing after this response can be trusted.
            keep_alive = false;
        }
        let ctx = EncodeContext::new()
            .head_request(info.head_request)
            .request_version(info.version)
            .keep_alive(keep_alive)
            .body_len(body.size_hint());
        let date = self.date(Instant::now());
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
                self.respond_status(StatusCode::INTERNAL_SERVER_ERROR, &e)
                    .await;
                return Err(e);
            }
        };
        keep_alive = encoded.keep_alive;
        let mut encoder = encoded.body;
        self.decoder.recycle_headers(parts.headers);
        self.write_body(body, &mut encoder, &mut x.pump).await?;

        if let Some(p) = &mut x.pump {
            if let Some(e) = p.error.take() {
                tracing::debug!("request body failed after the response started: {e}");
                return Ok(Next::Close);
            }
            if !p.done {
                p.tx = None; // the handler's body, if still held, now reads BodyClosed
                if !keep_alive || p.continue_needed || !self.drain().await {
                    return Ok(Next::Close);
                }
            }
        }
        if !keep_alive {
            return Ok(Next::Close);
        }
        if self.wbuf.len() >= self.config.write_high_water {
            self.flush().await?;
        }
        Ok(Next::KeepAlive)
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
                        if self.shutdown.poll(cx).is_ready() {
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
}
