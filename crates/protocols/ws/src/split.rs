//! [`WebSocket::split`](crate::WebSocket::split): a cloneable [`Sender`] over a
//! byte-bounded queue, and the [`Receiver`] that reads and writes the queued messages.
//!
//! The receiver stays the one owner of the stream (tungstenite needs both directions to
//! answer pings and close), so there is no lock; a sender only touches the queue. The
//! queue is bounded in bytes by a semaphore: `send` waits for room, so a peer that stops
//! reading stops its senders instead of growing memory.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::Stream as FuturesStream;
use ghostnet_runtime::channel::watch;
use ghostnet_transport::{BoxStream, ConnectionInfo};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError, mpsc};

use crate::error::{Error, Result};
use crate::message::{CloseCode, Message};
use crate::socket::{WebSocket, check_sendable};
use crate::state::State;

/// Bytes a queued message costs on top of its payload, so that empty messages are bounded
/// too (about the size of a queue entry).
const QUEUE_ENTRY_COST: usize = 64;

struct Queued {
    msg: Message,
    // Returned to the budget when the message has been handed to tungstenite.
    _permit: Option<OwnedSemaphorePermit>,
}

pub(crate) fn split<S: AsyncRead + AsyncWrite + Unpin>(ws: WebSocket<S>) -> (Sender, Receiver<S>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let queue_bytes = ws.send_queue_bytes();
    let budget = Arc::new(Semaphore::new(queue_bytes));
    let sender = Sender {
        tx,
        budget: budget.clone(),
        queue_bytes,
        state: ws.state_tx().subscribe(),
        max_message_size: ws.max_message_size(),
    };
    let receiver = Receiver {
        ws,
        rx,
        next: None,
        budget,
    };
    (sender, receiver)
}

/// The sending half of a split [`WebSocket`]: cheap to clone, usable from any task.
///
/// Messages go into a queue bounded by
/// [`Config::send_queue_bytes`](crate::Config::send_queue_bytes); the [`Receiver`]
/// writes them (batched: what is queued together is written together). `send` returns
/// once the message is queued, not when the peer has it.
///
/// ```
/// # async fn demo(ws: ghostnet_ws::WebSocket) {
/// let (tx, mut rx) = ws.split();
/// let ticker = tokio::spawn(async move {
///     for i in 0..3 {
///         if tx.send(format!("tick {i}")).await.is_err() {
///             break; // connection gone
///         }
///     }
/// });
/// while let Some(Ok(msg)) = rx.recv().await {
///     println!("got {msg}");
/// }
/// # let _ = ticker.await;
/// # }
/// ```
#[derive(Clone)]
pub struct Sender {
    tx: mpsc::UnboundedSender<Queued>,
    budget: Arc<Semaphore>,
    queue_bytes: usize,
    state: watch::Receiver<State>,
    max_message_size: usize,
}

impl Sender {
    /// Queues a message, waiting while the queue is full.
    ///
    /// # Errors
    ///
    /// A [`SendError`] handing the message back, with [`Error::Closed`] once the close
    /// handshake started, [`Error::ReceiverDropped`] when the receiver is gone,
    /// [`Error::MessageTooLarge`] or [`Error::InvalidMessage`] for a message that may not
    /// be sent.
    pub async fn send(&self, msg: impl Into<Message>) -> Result<(), SendError> {
        let message = msg.into();
        if let Err(error) = self.check(&message) {
            return Err(SendError { message, error });
        }
        let cost = self.cost(&message);
        match self.budget.clone().acquire_many_owned(cost).await {
            Ok(permit) => self.enqueue(message, Some(permit)),
            Err(_) => Err(SendError {
                message,
                error: Error::ReceiverDropped,
            }),
        }
    }

    /// Queues a message if there is room now: for broadcasters that would rather skip
    /// (or disconnect) a slow peer than wait for it.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send), plus [`Error::QueueFull`] when the queue has no room.
    pub fn try_send(&self, msg: impl Into<Message>) -> Result<(), SendError> {
        let message = msg.into();
        if let Err(error) = self.check(&message) {
            return Err(SendError { message, error });
        }
        match self
            .budget
            .clone()
            .try_acquire_many_owned(self.cost(&message))
        {
            Ok(permit) => self.enqueue(message, Some(permit)),
            Err(TryAcquireError::NoPermits) => Err(SendError {
                message,
                error: Error::QueueFull,
            }),
            Err(TryAcquireError::Closed) => Err(SendError {
                message,
                error: Error::ReceiverDropped,
            }),
        }
    }

    /// Starts the close handshake: queues a close frame (ahead of nothing: queued messages
    /// go first). The [`Receiver`] then ends once the peer answers.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub fn close(&self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        let message = Message::close(code, reason);
        if let Err(error) = self.check(&message) {
            return Err(SendError { message, error });
        }
        // A close frame is tiny and must not wait behind a full queue.
        self.enqueue(message, None)
    }

    /// The connection's state now.
    pub fn state(&self) -> State {
        self.state.borrow().clone()
    }

    /// A watch on the connection's state.
    pub fn watch_state(&self) -> watch::Receiver<State> {
        self.state.clone()
    }

    /// Bytes that can be queued right now without waiting.
    pub fn queue_room(&self) -> usize {
        self.budget.available_permits()
    }

    fn check(&self, message: &Message) -> Result<()> {
        if !self.state.borrow().is_open() {
            return Err(Error::Closed);
        }
        check_sendable(message, self.max_message_size)
    }

    fn cost(&self, message: &Message) -> u32 {
        // Validated: queue_bytes fits in u32. A message above the bound takes all of it.
        let cost = message
            .len()
            .saturating_add(QUEUE_ENTRY_COST)
            .min(self.queue_bytes);
        u32::try_from(cost).unwrap_or(u32::MAX)
    }

    fn enqueue(
        &self,
        message: Message,
        permit: Option<OwnedSemaphorePermit>,
    ) -> Result<(), SendError> {
        self.tx
            .send(Queued {
                msg: message,
                _permit: permit,
            })
            .map_err(|e| SendError {
                message: e.0.msg,
                error: Error::ReceiverDropped,
            })
    }
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("state", &*self.state.borrow())
            .field("queue_room", &self.queue_room())
            .finish()
    }
}

/// The receiving half of a split [`WebSocket`]: reads messages, and writes what the
/// [`Sender`]s queue. Keep it reading; dropping it makes every sender fail with
/// [`Error::ReceiverDropped`].
pub struct Receiver<S = BoxStream> {
    ws: WebSocket<S>,
    rx: mpsc::UnboundedReceiver<Queued>,
    next: Option<Queued>,
    budget: Arc<Semaphore>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Receiver<S> {
    /// Waits for the next message, writing queued ones meanwhile. As
    /// [`WebSocket::recv`].
    pub async fn recv(&mut self) -> Option<Result<Message>> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next message; [`recv`](Self::recv) is its async form.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message>>> {
        self.pump(cx);
        self.ws.poll_recv(cx)
    }

    /// The connection's state now.
    pub fn state(&self) -> State {
        self.ws.state()
    }

    /// A watch on the connection's state.
    pub fn watch_state(&self) -> watch::Receiver<State> {
        self.ws.watch_state()
    }

    /// The agreed subprotocol, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.ws.protocol()
    }

    /// What the underlying connection is.
    pub fn info(&self) -> &ConnectionInfo {
        self.ws.info()
    }

    /// Moves queued messages into tungstenite while it takes them, then flushes the batch.
    fn pump(&mut self, cx: &mut Context<'_>) {
        loop {
            if self.next.is_none() {
                match self.rx.poll_recv(cx) {
                    Poll::Ready(Some(q)) => self.next = Some(q),
                    Poll::Ready(None) | Poll::Pending => break,
                }
            }
            if !self.ws.is_open() {
                // Closing or closed: what is still queued can no longer be sent.
                self.next = None;
                continue;
            }
            match self.ws.poll_ready_send(cx) {
                Poll::Ready(Ok(())) => {
                    if let Some(q) = self.next.take()
                        && let Err(e) = self.ws.start_send(q.msg)
                    {
                        tracing::debug!("queued websocket message not sent: {e}");
                    }
                }
                Poll::Ready(Err(_)) => self.next = None,
                Poll::Pending => return,
            }
        }
        // The queue is empty: write the batch now rather than when reading goes idle, so
        // queued messages are not held back by a peer that keeps sending.
        let _ = self.ws.poll_flush_out(cx);
    }
}

impl<S> Drop for Receiver<S> {
    fn drop(&mut self) {
        // Wake senders waiting for room: nobody will make any.
        self.budget.close();
    }
}

impl<S> fmt::Debug for Receiver<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").field("ws", &self.ws).finish()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> FuturesStream for Receiver<S> {
    type Item = Result<Message>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_recv(cx)
    }
}

/// A message that could not be queued, handed back with the reason.
///
/// ```
/// # async fn demo(tx: ghostnet_ws::Sender) {
/// if let Err(e) = tx.send("hello").await {
///     eprintln!("not sent ({}): {}", e.error(), e.message());
///     let _msg = e.into_message(); // retry elsewhere
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct SendError {
    message: Message,
    error: Error,
}

impl SendError {
    /// The message that was not sent.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// Takes the message back.
    pub fn into_message(self) -> Message {
        self.message
    }

    /// Why it was not sent.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The error alone.
    pub fn into_error(self) -> Error {
        self.error
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} not sent: {}", self.message, self.error)
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<SendError> for Error {
    fn from(e: SendError) -> Self {
        e.error
    }
}
