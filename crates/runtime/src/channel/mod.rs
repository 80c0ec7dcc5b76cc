//! Multi-producer, single-consumer channels with defined close semantics, plus tokio's
//! `oneshot`, `broadcast` and `watch` channels.
//!
//! Closing rules, for [`bounded`] and [`unbounded`] alike:
//!
//! - The receiver closes the channel with `close()` or by being dropped. After that every
//!   send fails with the value handed back ([`SendError`], [`TrySendError::Closed`]).
//! - Messages sent before the close are still delivered: `recv()` drains them, then
//!   returns `None` (and `try_recv()` returns [`TryRecvError::Closed`]).
//! - When every sender is dropped, the receiver drains what is buffered, then gets `None`.
//!
//! ```
//! # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
//! use ghostnet_runtime::channel::{bounded, SendError};
//!
//! let (tx, mut rx) = bounded(8);
//! tx.send(1).await.unwrap();
//! rx.close();
//! assert_eq!(tx.send(2).await, Err(SendError(2))); // the value comes back
//! assert_eq!(rx.recv().await, Some(1));           // buffered before the close
//! assert_eq!(rx.recv().await, None);              // closed and drained
//! # }).unwrap();
//! ```

mod error;

pub use error::{SendError, TryRecvError, TrySendError};
pub use tokio::sync::{broadcast, oneshot, watch};

use tokio::sync::mpsc;

/// A channel that holds at most `capacity` messages; `send` waits for room (backpressure).
///
/// A `capacity` of 0 is treated as 1 (tokio has no rendezvous channel), rather than panicking.
pub fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (Sender { inner: tx }, Receiver { inner: rx })
}

/// A channel without a bound: `send` never waits. Use only when producers are bounded in
/// some other way, or memory grows with a slow receiver.
pub fn unbounded<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (
        UnboundedSender { inner: tx },
        UnboundedReceiver { inner: rx },
    )
}

/// The sending half of a [`bounded`] channel. Clone it for more producers.
#[derive(Debug)]
pub struct Sender<T> {
    inner: mpsc::Sender<T>,
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Sender<T> {
    /// Sends `value`, waiting while the channel is full. Fails, returning the value, once
    /// the receiver is closed or dropped.
    #[inline]
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.inner.send(value).await.map_err(SendError::from)
    }

    /// Sends `value` if there is room right now.
    #[inline]
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.inner.try_send(value).map_err(TrySendError::from)
    }

    /// Whether the receiver has closed the channel or been dropped.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Waits until the receiver closes the channel or is dropped.
    pub async fn closed(&self) {
        self.inner.closed().await;
    }

    /// Free slots right now.
    pub fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    /// The capacity the channel was created with.
    pub fn max_capacity(&self) -> usize {
        self.inner.max_capacity()
    }
}

/// The sending half of an [`unbounded`] channel. Clone it for more producers.
#[derive(Debug)]
pub struct UnboundedSender<T> {
    inner: mpsc::UnboundedSender<T>,
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<T> UnboundedSender<T> {
    /// Sends `value` without waiting. Fails, returning the value, once the receiver is
    /// closed or dropped.
    #[inline]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.inner.send(value).map_err(SendError::from)
    }

    /// Same as [`send`](Self::send): an unbounded channel is never full. Present so code
    /// can switch between bounded and unbounded channels without rewrites.
    #[inline]
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.inner
            .send(value)
            .map_err(|e| TrySendError::Closed(e.0))
    }

    /// Whether the receiver has closed the channel or been dropped.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Waits until the receiver closes the channel or is dropped.
    pub async fn closed(&self) {
        self.inner.closed().await;
    }
}

/// The receiving half of a [`bounded`] channel.
#[derive(Debug)]
pub struct Receiver<T> {
    inner: mpsc::Receiver<T>,
}

/// The receiving half of an [`unbounded`] channel.
#[derive(Debug)]
pub struct UnboundedReceiver<T> {
    inner: mpsc::UnboundedReceiver<T>,
}

/// The receiving API is the same for both kinds of channel.
macro_rules! receiver_api {
    ($ty:ident) => {
        impl<T> $ty<T> {
            /// The next message; `None` once the channel is closed (or every sender is
            /// dropped) and every buffered message was received.
            #[inline]
            pub async fn recv(&mut self) -> Option<T> {
                self.inner.recv().await
            }

            /// Receives up to `limit` buffered messages into `buf`, waiting only when none
            /// is buffered. Returns how many were added; 0 means closed and drained
            /// (or `limit` was 0).
            #[inline]
            pub async fn recv_many(&mut self, buf: &mut Vec<T>, limit: usize) -> usize {
                self.inner.recv_many(buf, limit).await
            }

            /// The next message if one is buffered now.
            #[inline]
            pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
                self.inner.try_recv().map_err(TryRecvError::from)
            }

            /// Closes the channel: further sends fail, buffered messages stay receivable.
            pub fn close(&mut self) {
                self.inner.close();
            }

            /// Whether the channel is closed (by `close()` or because every sender is gone).
            /// Buffered messages may still be waiting.
            pub fn is_closed(&self) -> bool {
                self.inner.is_closed()
            }

            /// Messages buffered now.
            pub fn len(&self) -> usize {
                self.inner.len()
            }

            /// Whether no message is buffered now.
            pub fn is_empty(&self) -> bool {
                self.inner.is_empty()
            }
        }
    };
}

receiver_api!(Receiver);
receiver_api!(UnboundedReceiver);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bounded_backpressure_and_try_send() {
        let (tx, mut rx) = bounded(2);
        assert_eq!(tx.max_capacity(), 2);
        tx.try_send(1).unwrap();
        tx.send(2).await.unwrap();
        assert_eq!(tx.capacity(), 0);
        assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));

        // A send on a full channel waits until the receiver makes room.
        let tx2 = tx.clone();
        let pending = tokio::spawn(async move { tx2.send(3).await });
        tokio::task::yield_now().await;
        assert!(!pending.is_finished());
        assert_eq!(rx.recv().await, Some(1));
        pending.await.unwrap().unwrap();
        assert_eq!(rx.len(), 2);
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(rx.try_recv(), Ok(3));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }

    #[tokio::test]
    async fn zero_capacity_is_one() {
        let (tx, mut rx) = bounded(0);
        tx.try_send(1).unwrap();
        assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
        assert_eq!(rx.recv().await, Some(1));
    }

    #[tokio::test]
    async fn close_then_send_then_drain() {
        let (tx, mut rx) = bounded(4);
        tx.send("a").await.unwrap();
        tx.send("b").await.unwrap();
        assert!(!tx.is_closed());
        rx.close();
        assert!(rx.is_closed());
        assert!(tx.is_closed());
        tx.closed().await;
        assert_eq!(tx.send("c").await, Err(SendError("c")));
        assert_eq!(tx.try_send("d"), Err(TrySendError::Closed("d")));
        assert_eq!(rx.recv().await, Some("a"));
        assert_eq!(rx.try_recv(), Ok("b"));
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        assert_eq!(rx.recv().await, None, "stays closed");
    }

    #[tokio::test]
    async fn senders_dropped_means_drain_then_none() {
        let (tx, mut rx) = bounded(4);
        let tx2 = tx.clone();
        tx.send(1).await.unwrap();
        tx2.send(2).await.unwrap();
        drop(tx);
        assert!(!rx.is_closed(), "one sender left");
        drop(tx2);
        assert!(rx.is_closed());
        let mut buf = Vec::new();
        assert_eq!(rx.recv_many(&mut buf, 10).await, 2);
        assert_eq!(buf, [1, 2]);
        assert_eq!(rx.recv_many(&mut buf, 10).await, 0);
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test]
    async fn receiver_dropped_fails_send_with_value() {
        let (tx, rx) = bounded::<String>(1);
        drop(rx);
        let err = tx.send("kept".to_owned()).await.unwrap_err();
        assert_eq!(err.into_inner(), "kept");
        assert!(err_display_is_actionable(&SendError(())));
    }

    fn err_display_is_actionable<E: std::fmt::Display>(e: &E) -> bool {
        e.to_string().contains("receiver was dropped or closed")
    }

    #[tokio::test]
    async fn unbounded_semantics() {
        let (tx, mut rx) = unbounded();
        for i in 0..1000 {
            tx.send(i).unwrap();
        }
        tx.try_send(1000).unwrap();
        assert_eq!(rx.len(), 1001);
        rx.close();
        assert_eq!(tx.send(7), Err(SendError(7)));
        assert_eq!(tx.try_send(8), Err(TrySendError::Closed(8)));
        let mut n = 0;
        while let Some(v) = rx.recv().await {
            assert_eq!(v, n);
            n += 1;
        }
        assert_eq!(n, 1001);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }

    #[tokio::test]
    async fn multi_producer_delivers_everything() {
        let (tx, mut rx) = bounded(16);
        for p in 0..4u32 {
            let tx = tx.clone();
            tokio::spawn(async move {
                for i in 0..250u32 {
                    tx.send(p * 1000 + i).await.unwrap();
                }
            });
        }
        drop(tx);
        let mut got = Vec::new();
        while let Some(v) = rx.recv().await {
            got.push(v);
        }
        got.sort_unstable();
        let want: Vec<u32> = (0..4)
            .flat_map(|p| (0..250).map(move |i| p * 1000 + i))
            .collect();
        assert_eq!(got, want);
    }

    #[tokio::test]
    async fn error_into_crate_error() {
        let e: crate::Error = SendError(1).into();
        assert!(matches!(e, crate::Error::Closed));
    }
}
