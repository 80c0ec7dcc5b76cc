//! Channel errors. Failed sends hand the value back so nothing is lost.

use std::fmt;

/// A send failed because the receiver was dropped or closed; the value is returned.
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The value that could not be sent.
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// A `try_send` failed; the value is returned.
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<T> {
    /// The channel is at capacity; retry later or use `send(..).await` for backpressure.
    Full(T),
    /// The receiver was dropped or closed; no send will ever succeed.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The value that could not be sent.
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(v) | Self::Closed(v) => v,
        }
    }
}

/// A `try_recv` found nothing to return.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryRecvError {
    /// No message is buffered now, but senders are still alive.
    Empty,
    /// The channel is closed (or every sender dropped) and every message was received.
    Closed,
}

// Debug without `T: Debug`, like std's channel errors: the payload is usually not printable.
impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
            Self::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed: the receiver was dropped or closed; the value is returned in the error")
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("channel full: wait with `send(..).await` or retry later"),
            Self::Closed(_) => f.write_str(
                "channel closed: the receiver was dropped or closed; the value is returned in the error",
            ),
        }
    }
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("channel empty: no message yet; await `recv()` to wait"),
            Self::Closed => f.write_str("channel closed and drained: no message will arrive"),
        }
    }
}

impl<T> std::error::Error for SendError<T> {}
impl<T> std::error::Error for TrySendError<T> {}
impl std::error::Error for TryRecvError {}

impl<T> From<SendError<T>> for crate::Error {
    fn from(_: SendError<T>) -> Self {
        Self::Closed
    }
}

impl<T> From<tokio::sync::mpsc::error::SendError<T>> for SendError<T> {
    #[inline]
    fn from(e: tokio::sync::mpsc::error::SendError<T>) -> Self {
        Self(e.0)
    }
}

impl<T> From<tokio::sync::mpsc::error::TrySendError<T>> for TrySendError<T> {
    #[inline]
    fn from(e: tokio::sync::mpsc::error::TrySendError<T>) -> Self {
        use tokio::sync::mpsc::error::TrySendError as T;
        match e {
            T::Full(v) => Self::Full(v),
            T::Closed(v) => Self::Closed(v),
        }
    }
}

impl From<tokio::sync::mpsc::error::TryRecvError> for TryRecvError {
    #[inline]
    fn from(e: tokio::sync::mpsc::error::TryRecvError) -> Self {
        match e {
            tokio::sync::mpsc::error::TryRecvError::Empty => Self::Empty,
            tokio::sync::mpsc::error::TryRecvError::Disconnected => Self::Closed,
        }
    }
}
