//! [`WebSocket`]: one open connection, on tokio-tungstenite, with what tungstenite leaves
//! to its users: heartbeat, a bounded close, failing the connection with the right close
//! code, write coalescing, and observable state.

use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{Sink, Stream as FuturesStream};
use ghostnet_runtime::channel::watch;
use ghostnet_transport::{BoxStream, ConnectionInfo, Stream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::heartbeat::{Fired, Timer};
use crate::message::{CloseCode, CloseFrame, Message};
use crate::split::{self, Receiver, Sender};
use crate::state::{Closed, Side, State, StateTx};
use crate::tracked::Tracked;

/// Payload of heartbeat pings: recognisable in a packet capture.
const HEARTBEAT_PAYLOAD: &[u8] = b"ghostnet-heartbeat";

/// The longest close reason: a control frame carries at most 125 bytes, 2 are the code.
const MAX_CLOSE_REASON: usize = 123;

/// The most a control frame (ping, pong, close) may carry.
const MAX_CONTROL_PAYLOAD: usize = 125;

/// Which end of the connection this is: a client masks what it sends, a server closes
/// the TCP connection first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The end that sent the opening handshake.
    Client,
    /// The end that answered it.
    Server,
}

/// Where the connection is, beyond what [`State`] publishes.
enum Life {
    Open,
    /// A close frame went one way; waiting for the other (and for a client, the TCP close).
    Closing {
        initiator: Side,
        frame: Option<CloseFrame>,
        /// The peer's close frame arrived (the handshake is complete on our side).
        peer_closed: bool,
    },
    /// The close handshake is over: shutting the stream down (TCP FIN, TLS close_notify)
    /// before reporting the end, so the peer sees an orderly close.
    ShuttingDown {
        closed: Closed,
    },
    /// The peer broke the protocol: our close frame is being flushed, then the stream is
    /// shut down and drained (so the close frame is not lost to a TCP reset), then the
    /// error is handed to the reader.
    Failing {
        error: Option<Error>,
        step: Linger,
    },
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Linger {
    Flush,
    Shutdown,
    Drain,
}

/// An open WebSocket connection over any ghostnet [`Stream`].
///
/// Read with [`recv`](Self::recv) (or as a `futures` `Stream`), write with
/// [`send`](Self::send) / [`feed`](Self::feed) (or as a `Sink`), end with
/// [`close`](Self::close). [`split`](Self::split) gives a cloneable [`Sender`] and a
/// [`Receiver`] for use from several tasks.
///
/// **Reading drives the connection.** Pongs to the peer's pings, the heartbeat, the close
/// handshake and, after `feed`, the final flush all happen while a task waits in `recv`.
/// Keep one task reading, as every WebSocket library requires.
///
/// ```
/// # async fn demo(mut ws: ghostnet_ws::WebSocket) -> ghostnet_ws::Result<()> {
/// use ghostnet_ws::{CloseCode, Message};
///
/// ws.send("hello").await?;
/// while let Some(msg) = ws.recv().await {
///     match msg? {
///         Message::Text(t) if t.as_str() == "bye" => break,
///         m @ (Message::Text(_) | Message::Binary(_)) => ws.send(m).await?, // echo
///         _ => {} // pings are answered automatically
///     }
/// }
/// ws.close(CloseCode::Normal, "done").await?;
/// # Ok(()) }
/// ```
pub struct WebSocket<S = BoxStream> {
    inner: WebSocketStream<Tracked<S>>,
    timer: Timer,
    state: StateTx,
    life: Life,
    /// Something was handed to tungstenite and not flushed yet.
    unflushed: bool,
    role: Role,
    protocol: Option<String>,
    info: ConnectionInfo,
    max_message_size: usize,
    send_queue_bytes: usize,
}

impl<S: Stream> WebSocket<S> {
    /// Wraps a stream on which the opening handshake already happened (by other means
    /// than this crate's [`Acceptor`](crate::Acceptor) or [`Client`](crate::Client)).
    /// `already_read` are bytes read from the stream after the handshake: they are the
    /// start of the WebSocket traffic.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when `config` does not validate.
    ///
    /// ```
    /// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
    /// use ghostnet_transport::{Dial, Listen, MemoryNetwork};
    /// use ghostnet_ws::{Config, Message, Role, WebSocket};
    ///
    /// // Two ends of a connection whose handshake happened elsewhere.
    /// let net = MemoryNetwork::new();
    /// let target = "peer.test:1".parse().unwrap();
    /// let listener = net.listen(&target).unwrap();
    /// let a = net.dialer().dial(&target).await.unwrap();
    /// let (b, _) = listener.accept().await.unwrap();
    /// let mut client = WebSocket::from_raw_socket(a, Vec::new(), Role::Client, Config::default()).await?;
    /// let mut server = WebSocket::from_raw_socket(b, Vec::new(), Role::Server, Config::default()).await?;
    /// client.send("hi").await?;
    /// assert_eq!(server.recv().await.unwrap()?, Message::from("hi"));
    /// # Ok::<_, ghostnet_ws::Error>(()) }).unwrap().unwrap();
    /// ```
    pub async fn from_raw_socket(
        stream: S,
        already_read: Vec<u8>,
        role: Role,
        config: Config,
    ) -> Result<Self> {
        config.validate()?;
        let tungstenite_role = match role {
            Role::Client => tungstenite::protocol::Role::Client,
            Role::Server => tungstenite::protocol::Role::Server,
        };
        let inner = WebSocketStream::from_partially_read(
            Tracked::new(stream),
            already_read,
            tungstenite_role,
            Some(config.to_tungstenite()),
        )
        .await;
        Ok(Self::new(
            inner,
            role,
            &config,
            None,
            StateTx::new(State::Connecting),
        ))
    }

    /// Wraps a handshaken tungstenite stream; `config` is already validated.
    pub(crate) fn new(
        inner: WebSocketStream<Tracked<S>>,
        role: Role,
        config: &Config,
        protocol: Option<String>,
        state: StateTx,
    ) -> Self {
        let info = inner.get_ref().io.info();
        state.set(State::Open);
        Self {
            inner,
            timer: Timer::new(
                config.ping_interval,
                config.pong_timeout,
                config.close_timeout,
            ),
            state,
            life: Life::Open,
            unflushed: false,
            role,
            protocol,
            info,
            max_message_size: config.max_message_size,
            send_queue_bytes: config.send_queue_bytes,
        }
    }
}

// Only I/O bounds from here on, not `Stream`: `Box<dyn Stream + 'a>` implements the I/O
// traits for every `'a`, which keeps futures holding a `WebSocket<BoxStream>` `Send` in
// the eyes of the compiler's higher-ranked checks (e.g. `StreamExt::forward`).
impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// Waits for the next message: text, binary, ping, pong, or the peer's close frame.
    /// `None` once the connection has closed (after a close handshake, or after an error
    /// was returned).
    ///
    /// Pings are answered automatically. Messages queued with [`feed`](Self::feed) are
    /// written when no more input is ready. Cancel-safe: dropping the future loses
    /// nothing.
    ///
    /// # Errors
    ///
    /// What ended the connection: [`Error::Protocol`], [`Error::InvalidUtf8`] or
    /// [`Error::MessageTooLarge`] when the peer broke the rules (the connection was failed
    /// with close code 1002, 1007 or 1009), [`Error::HeartbeatTimeout`],
    /// [`Error::CloseTimeout`], [`Error::Io`]. After an error, `recv` returns `None`.
    pub async fn recv(&mut self) -> Option<Result<Message>> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Sends a message and flushes it (and anything fed before) to the stream. Waits while
    /// the stream cannot take more: a peer that does not read slows the sender down
    /// instead of growing a buffer.
    ///
    /// Sending [`Message::Close`] starts the close handshake, as [`close`](Self::close)
    /// does without waiting for the answer.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`] once the close handshake started or the connection ended;
    /// [`Error::MessageTooLarge`] for a message over
    /// [`Config::max_message_size`](crate::Config::max_message_size) (or a control
    /// message over 125 bytes); [`Error::InvalidMessage`] for a close code that may not be
    /// sent; [`Error::Io`] when the stream failed.
    pub async fn send(&mut self, msg: impl Into<Message>) -> Result<()> {
        self.feed(msg).await?;
        self.flush().await
    }

    /// Queues a message without flushing: it is written once
    /// [`Config::write_buffer_size`](crate::Config::write_buffer_size) bytes are queued,
    /// on [`flush`](Self::flush) or [`send`](Self::send), or when a waiting
    /// [`recv`](Self::recv) finds nothing to read. An echo or broadcast loop that feeds
    /// and then receives writes many messages per system call.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub async fn feed(&mut self, msg: impl Into<Message>) -> Result<()> {
        let msg = msg.into();
        self.check_sendable(&msg)?;
        poll_fn(|cx| self.poll_ready_send(cx)).await?;
        self.start_send(msg)
    }

    /// Writes everything queued to the stream.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the stream failed.
    pub async fn flush(&mut self) -> Result<()> {
        poll_fn(|cx| self.poll_flush_out(cx)).await
    }

    /// Closes the connection: sends a close frame with `code` and `reason` (at most 123
    /// bytes), then reads (and drops) what the peer still sends until its close frame
    /// arrives and the connection ends, for at most
    /// [`Config::close_timeout`](crate::Config::close_timeout). Returns at once if the
    /// connection is already closed.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidMessage`] for a code that may not be sent (1005, 1006, 1015, under
    /// 1000) or a reason over 123 bytes; [`Error::CloseTimeout`] when the peer did not
    /// answer in time; what else ended the connection meanwhile.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<()> {
        if matches!(self.life, Life::Open) {
            let msg = Message::close(code, reason);
            self.check_sendable(&msg)?;
            if let Err(e) = poll_fn(|cx| self.poll_ready_send(cx)).await {
                self.end(Closed::abnormal(Side::Remote, e.to_string()));
                return Err(e);
            }
            self.start_send(msg)?;
        }
        while let Some(r) = self.recv().await {
            r?;
        }
        Ok(())
    }

    /// The connection's state now.
    pub fn state(&self) -> State {
        self.state.get()
    }

    /// A watch on the connection's state, for other tasks: `changed().await` wakes on
    /// every transition, ending with [`State::Closed`] and its close code.
    pub fn watch_state(&self) -> watch::Receiver<State> {
        self.state.subscribe()
    }

    /// The subprotocol both sides agreed on in the opening handshake, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Which end this is.
    pub fn role(&self) -> Role {
        self.role
    }

    /// What the underlying connection is (addresses, transport, TLS ALPN).
    pub fn info(&self) -> &ConnectionInfo {
        &self.info
    }

    /// Splits the connection into a cloneable [`Sender`] and the [`Receiver`] that reads
    /// and also writes what the senders queue (at most
    /// [`Config::send_queue_bytes`](crate::Config::send_queue_bytes) bytes; `send` waits
    /// beyond that). Keep the receiver reading.
    pub fn split(self) -> (Sender, Receiver<S>) {
        split::split(self)
    }

    /// Polls for the next message; [`recv`](Self::recv) is its async form.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message>>> {
        loop {
            match self.life {
                Life::Done => return Poll::Ready(None),
                Life::Failing { .. } => return self.poll_fail(cx),
                Life::ShuttingDown { .. } => return self.poll_shutdown_clean(cx),
                Life::Closing { .. } if self.unflushed => {
                    // Push our close frame (or the reply to theirs) out now, even while
                    // the peer keeps sending.
                    if let Poll::Ready(Err(e)) = self.poll_flush_out(cx) {
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                _ => {}
            }
            // While open, the heartbeat only matters when there is nothing to read (traffic
            // is proof of life), so the timer is polled when the read is pending, not per
            // message. While closing, the close deadline is checked every time: a peer
            // that keeps sending must not hold the connection open.
            if !self.is_open() {
                match self.poll_timer(cx) {
                    Poll::Ready(Some(Ok(_))) | Poll::Pending => {}
                    Poll::Ready(end) => return Poll::Ready(end),
                }
            }
            return match Pin::new(&mut self.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(msg))) => {
                    let msg = Message::from(msg);
                    if let Message::Close(frame) = &msg {
                        self.on_close_frame(frame.clone(), cx);
                    }
                    Poll::Ready(Some(Ok(msg)))
                }
                Poll::Ready(Some(Err(e))) => {
                    let error = Error::from_ws(e);
                    if let Some(code) = error.close_code() {
                        self.start_failing(error, code);
                        continue;
                    }
                    if matches!(error, Error::Io(_))
                        && matches!(
                            self.life,
                            Life::Closing {
                                peer_closed: true,
                                ..
                            }
                        )
                    {
                        // Both close frames were exchanged: how the transport then ends
                        // (a TLS peer that skips close_notify, a reset) changes nothing.
                        self.begin_shutdown();
                        continue;
                    }
                    self.end(Closed::abnormal(Side::Remote, error.to_string()));
                    Poll::Ready(Some(Err(error)))
                }
                Poll::Ready(None) => {
                    self.begin_shutdown();
                    continue;
                }
                Poll::Pending => {
                    if self.is_open() {
                        match self.poll_timer(cx) {
                            Poll::Ready(Some(Ok(_))) => continue, // a ping went out
                            Poll::Ready(end) => return Poll::Ready(end),
                            Poll::Pending => {}
                        }
                    }
                    if self.unflushed
                        && let Poll::Ready(Err(e)) = self.poll_flush_out(cx)
                    {
                        return Poll::Ready(Some(Err(e)));
                    }
                    Poll::Pending
                }
            };
        }
    }

    /// Polls the heartbeat / close timer. `Ready(Some(Ok(_)))`: a heartbeat ping was
    /// queued (poll again); `Ready(Some(Err(_)))`: the connection ended on a timeout.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message>>> {
        let fired = std::task::ready!(self.timer.poll(cx, &mut self.inner.get_mut().received));
        Poll::Ready(Some(match fired {
            Fired::SendPing => {
                self.send_heartbeat();
                Ok(Message::Ping(Bytes::from_static(HEARTBEAT_PAYLOAD)))
            }
            Fired::PongTimeout => {
                let error = Error::HeartbeatTimeout {
                    after: self.timer.pong_timeout(),
                };
                tracing::debug!(peer = ?self.info.peer_addr, "{error}");
                self.end(Closed::abnormal(Side::Local, "no pong in time".into()));
                Err(error)
            }
            Fired::CloseTimeout => {
                let error = Error::CloseTimeout {
                    after: self.timer.close_timeout(),
                };
                self.end(Closed::abnormal(
                    Side::Local,
                    "close handshake timed out".into(),
                ));
                Err(error)
            }
        }))
    }

    /// Refuses what must not reach tungstenite: oversized messages, control payloads over
    /// 125 bytes, close codes that may not be sent.
    pub(crate) fn check_sendable(&self, msg: &Message) -> Result<()> {
        check_sendable(msg, self.max_message_size)
    }

    /// Waits until tungstenite takes another message (it flushes what blocked before).
    pub(crate) fn poll_ready_send(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if !matches!(self.life, Life::Open) {
            return Poll::Ready(Err(Error::Closed));
        }
        match Pin::new(&mut self.inner).poll_ready(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.write_failed(e))),
            other => other.map(|_| Ok(())),
        }
    }

    /// Hands a checked message to tungstenite (which may write it at once).
    pub(crate) fn start_send(&mut self, msg: Message) -> Result<()> {
        if !matches!(self.life, Life::Open) {
            return Err(Error::Closed);
        }
        if let Message::Close(frame) = &msg {
            self.life = Life::Closing {
                initiator: Side::Local,
                frame: frame.clone(),
                peer_closed: false,
            };
            self.state.set(State::Closing);
            self.timer.start_closing();
        }
        self.unflushed = true;
        Pin::new(&mut self.inner)
            .start_send(msg.into())
            .map_err(|e| self.write_failed(e))
    }

    /// Writes and flushes what tungstenite holds.
    pub(crate) fn poll_flush_out(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Ready(Ok(())) => {
                self.unflushed = false;
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => {
                self.unflushed = false;
                Poll::Ready(Err(self.write_failed(e)))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// Whether messages can still be sent.
    pub(crate) fn is_open(&self) -> bool {
        matches!(self.life, Life::Open)
    }

    pub(crate) fn state_tx(&self) -> &StateTx {
        &self.state
    }

    pub(crate) fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    pub(crate) fn send_queue_bytes(&self) -> usize {
        self.send_queue_bytes
    }

    /// A write failed: I/O errors end the connection (the reader sees `None`).
    fn write_failed(&mut self, e: tungstenite::Error) -> Error {
        let error = Error::from_ws(e);
        if matches!(error, Error::Io(_)) {
            self.end(Closed::abnormal(Side::Remote, error.to_string()));
        }
        error
    }

    fn send_heartbeat(&mut self) {
        let ping = tungstenite::Message::Ping(Bytes::from_static(HEARTBEAT_PAYLOAD));
        // No poll_ready: a ping is tiny and tungstenite's write buffer keeps room for one
        // beyond a whole message. If the stream is stuck, the pong timeout decides.
        match Pin::new(&mut self.inner).start_send(ping) {
            Ok(()) => self.unflushed = true,
            Err(e) => tracing::debug!("heartbeat ping not queued: {e}"),
        }
    }

    fn on_close_frame(&mut self, frame: Option<CloseFrame>, cx: &mut Context<'_>) {
        match &mut self.life {
            Life::Open => {
                self.life = Life::Closing {
                    initiator: Side::Remote,
                    frame,
                    peer_closed: true,
                };
                self.state.set(State::Closing);
                self.timer.start_closing();
            }
            Life::Closing { peer_closed, .. } => *peer_closed = true,
            _ => {}
        }
        // tungstenite queued the reply (or, for our own close, nothing): push it out now,
        // so it goes even if the caller stops reading here.
        self.unflushed = true;
        let _ = self.poll_flush_out(cx);
    }

    fn start_failing(&mut self, error: Error, code: CloseCode) {
        tracing::debug!(peer = ?self.info.peer_addr, "failing websocket: {error}");
        let frame = CloseFrame {
            code,
            reason: close_reason(&error).into(),
        };
        // A server MUST close the connection after this; a client may. Queue the close
        // frame whatever the state: tungstenite refuses it if one was already sent.
        let queued = Pin::new(&mut self.inner)
            .start_send(tungstenite::Message::Close(Some(frame.clone())))
            .is_ok();
        self.state.set(State::Closed(Closed {
            code,
            reason: frame.reason.as_str().to_owned(),
            initiator: Side::Local,
            clean: false,
        }));
        self.timer.start_closing();
        self.life = Life::Failing {
            error: Some(error),
            step: if queued {
                Linger::Flush
            } else {
                Linger::Shutdown
            },
        };
    }

    /// Drives a failing connection's close: flush the close frame, shut the stream down,
    /// read until the peer closes; then return the error. Bounded by the close timeout.
    fn poll_fail(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message>>> {
        loop {
            let Life::Failing { error, step } = &mut self.life else {
                return Poll::Ready(None);
            };
            let progress = match step {
                Linger::Flush => Pin::new(&mut self.inner).poll_flush(cx).map(|_| ()),
                Linger::Shutdown => Pin::new(self.inner.get_mut()).poll_shutdown(cx).map(|_| ()),
                Linger::Drain => {
                    let mut scratch = [0u8; 2048];
                    let mut buf = ReadBuf::new(&mut scratch);
                    match Pin::new(self.inner.get_mut()).poll_read(cx, &mut buf) {
                        Poll::Ready(Ok(())) if !buf.filled().is_empty() => continue,
                        other => other.map(|_| ()),
                    }
                }
            };
            let done = match progress {
                Poll::Ready(()) => match step {
                    Linger::Flush => {
                        *step = Linger::Shutdown;
                        false
                    }
                    Linger::Shutdown => {
                        *step = Linger::Drain;
                        false
                    }
                    Linger::Drain => true,
                },
                Poll::Pending => {
                    let mut received = false;
                    matches!(self.timer.poll(cx, &mut received), Poll::Ready(_))
                }
            };
            if done {
                let error = error.take();
                self.life = Life::Done;
                return Poll::Ready(error.map(Err));
            }
            if progress.is_pending() {
                return Poll::Pending;
            }
        }
    }

    /// tungstenite reports the end after a close handshake: shut the stream down next.
    fn begin_shutdown(&mut self) {
        let closed = match &self.life {
            Life::Closing {
                initiator, frame, ..
            } => Closed::from_frame(frame.as_ref(), *initiator, true),
            _ => Closed::abnormal(
                Side::Remote,
                "the connection ended without a close handshake".into(),
            ),
        };
        self.timer.start_closing();
        self.life = Life::ShuttingDown { closed };
    }

    /// Shuts the stream down (bounded by the close timeout), then reports the end.
    fn poll_shutdown_clean(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message>>> {
        let shut = Pin::new(self.inner.get_mut()).poll_shutdown(cx).is_ready();
        let mut received = false;
        if !shut && self.timer.poll(cx, &mut received).is_pending() {
            return Poll::Pending;
        }
        if let Life::ShuttingDown { closed } = std::mem::replace(&mut self.life, Life::Done) {
            self.end(closed);
        }
        Poll::Ready(None)
    }

    fn end(&mut self, closed: Closed) {
        self.state.set(State::Closed(closed));
        self.life = Life::Done;
    }
}

/// See [`WebSocket::check_sendable`]; shared with the split [`Sender`].
pub(crate) fn check_sendable(msg: &Message, max_message_size: usize) -> Result<()> {
    match msg {
        Message::Text(_) | Message::Binary(_) if msg.len() > max_message_size => {
            Err(Error::MessageTooLarge {
                size: msg.len(),
                limit: max_message_size,
            })
        }
        Message::Ping(p) | Message::Pong(p) if p.len() > MAX_CONTROL_PAYLOAD => {
            Err(Error::MessageTooLarge {
                size: p.len(),
                limit: MAX_CONTROL_PAYLOAD,
            })
        }
        Message::Close(Some(f)) if !f.code.is_allowed() => Err(Error::InvalidMessage {
            reason: "close codes 1005, 1006, 1015 and codes under 1000 may not be sent",
        }),
        Message::Close(Some(f)) if f.reason.len() > MAX_CLOSE_REASON => {
            Err(Error::InvalidMessage {
                reason: "a close reason may be at most 123 bytes",
            })
        }
        _ => Ok(()),
    }
}

/// The reason text of the close frame a failed connection sends: short, as it must fit
/// in 123 bytes.
fn close_reason(error: &Error) -> &'static str {
    match error {
        Error::InvalidUtf8 => "invalid utf-8",
        Error::MessageTooLarge { .. } => "message too large",
        _ => "protocol error",
    }
}

impl<S> fmt::Debug for WebSocket<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocket")
            .field("role", &self.role)
            .field("state", &self.state.get())
            .field("protocol", &self.protocol)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> FuturesStream for WebSocket<S> {
    type Item = Result<Message>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_recv(cx)
    }
}

/// `Sink` view: `poll_flush` writes what is queued; `poll_close` sends a close frame
/// without a code and flushes it (the answer comes through the `Stream` side).
impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocket<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.get_mut().poll_ready_send(cx)
    }

    fn start_send(self: Pin<&mut Self>, msg: Message) -> Result<()> {
        let this = self.get_mut();
        this.check_sendable(&msg)?;
        this.start_send(msg)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.get_mut().poll_flush_out(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = self.get_mut();
        if this.is_open() {
            std::task::ready!(this.poll_ready_send(cx))?;
            this.start_send(Message::Close(None))?;
        }
        this.poll_flush_out(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsendable_messages_are_refused_with_reasons() {
        let big = Message::from(vec![0u8; 11]);
        assert!(matches!(
            check_sendable(&big, 10),
            Err(Error::MessageTooLarge {
                size: 11,
                limit: 10
            })
        ));
        assert!(check_sendable(&big, 11).is_ok());
        let ping = Message::Ping(Bytes::from(vec![0u8; 126]));
        assert!(matches!(
            check_sendable(&ping, usize::MAX),
            Err(Error::MessageTooLarge { limit: 125, .. })
        ));
        let bad_code = Message::close(CloseCode::Abnormal, "");
        assert!(matches!(
            check_sendable(&bad_code, 10),
            Err(Error::InvalidMessage { .. })
        ));
        let long = Message::close(CloseCode::Normal, "x".repeat(124));
        assert!(matches!(
            check_sendable(&long, 10),
            Err(Error::InvalidMessage { .. })
        ));
        assert!(check_sendable(&Message::close(CloseCode::from(4000), "app"), 10).is_ok());
    }
}
