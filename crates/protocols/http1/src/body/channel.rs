//! A one-slot body channel with demand: the sender learns when the receiver *wants* the
//! next frame. The server reads a request body from the socket only on demand, which is
//! what makes `Expect: 100-continue` lazy and gives backpressure for free.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::body::Frame;
use crate::error::{Error, Result};

#[derive(Default)]
struct State {
    slot: Option<Result<Frame>>,
    /// The receiver is waiting for a frame.
    want: bool,
    /// The sender finished (cleanly unless `aborted`).
    closed: bool,
    aborted: bool,
    rx_dropped: bool,
    rx_waker: Option<Waker>,
    tx_waker: Option<Waker>,
}

type Shared = Arc<Mutex<State>>;

fn lock(s: &Shared) -> MutexGuard<'_, State> {
    // Every critical section leaves the state consistent; a panic elsewhere cannot
    // poison its meaning.
    s.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The sending half.
pub(crate) struct Sender {
    shared: Shared,
    /// Dropping without `finish` is an error for the receiver (a request body cut off),
    /// or a clean end (a user's streaming response body).
    drop_is_abort: bool,
    finished: bool,
}

/// The receiving half: of a channel, or any `http_body::Body` standing in for one
/// ([`Body::wrap`](crate::Body::wrap)), so the server's streaming path serves both.
pub(crate) struct Receiver {
    inner: Inner,
}

enum Inner {
    Shared(Shared),
    Boxed(BoxBody),
}

/// A foreign body behind the receiver interface.
pub(crate) type BoxBody = std::pin::Pin<
    Box<dyn http_body::Body<Data = bytes::Bytes, Error = crate::body::BoxError> + Send + 'static>,
>;

pub(crate) fn channel(drop_is_abort: bool) -> (Sender, Receiver) {
    let shared: Shared = Arc::default();
    (
        Sender {
            shared: shared.clone(),
            drop_is_abort,
            finished: false,
        },
        Receiver {
            inner: Inner::Shared(shared),
        },
    )
}

impl Sender {
    /// Ready when the receiver wants a frame and the slot is free; `Err` when the
    /// receiver is gone.
    pub(crate) fn poll_want(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let mut s = lock(&self.shared);
        if s.rx_dropped {
            return Poll::Ready(Err(Error::BodyClosed));
        }
        if s.want && s.slot.is_none() {
            return Poll::Ready(Ok(()));
        }
        if !s.tx_waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            s.tx_waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Ready when the slot is free (whether or not the receiver asked yet).
    pub(crate) fn poll_free(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let mut s = lock(&self.shared);
        if s.rx_dropped {
            return Poll::Ready(Err(Error::BodyClosed));
        }
        if s.slot.is_none() {
            return Poll::Ready(Ok(()));
        }
        if !s.tx_waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            s.tx_waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Puts a frame (or an error) in the slot.
    pub(crate) fn send(&mut self, item: Result<Frame>) {
        let mut s = lock(&self.shared);
        s.slot = Some(item);
        s.want = false;
        if let Some(w) = s.rx_waker.take() {
            w.wake();
        }
    }

    /// Whether the receiver is gone.
    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.shared).rx_dropped
    }

    /// Ends the body cleanly.
    pub(crate) fn finish(mut self) {
        self.close(false);
    }

    /// Ends the body with an error for the receiver.
    pub(crate) fn abort(mut self) {
        self.close(true);
    }

    fn close(&mut self, aborted: bool) {
        self.finished = true;
        let mut s = lock(&self.shared);
        s.closed = true;
        s.aborted = aborted;
        if let Some(w) = s.rx_waker.take() {
            w.wake();
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        if !self.finished {
            let abort = self.drop_is_abort;
            self.close(abort);
        }
    }
}

impl Receiver {
    /// A receiver that polls `body` instead of a channel.
    pub(crate) fn boxed(body: BoxBody) -> Self {
        Self {
            inner: Inner::Boxed(body),
        }
    }

    /// The exact length of a wrapped body, when it says.
    pub(crate) fn exact_len(&self) -> Option<u64> {
        match &self.inner {
            Inner::Shared(_) => None,
            Inner::Boxed(b) => b.size_hint().exact(),
        }
    }

    pub(crate) fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame>>> {
        let shared = match &mut self.inner {
            Inner::Shared(shared) => shared,
            Inner::Boxed(body) => return poll_boxed(body, cx),
        };
        let mut s = lock(shared);
        if let Some(item) = s.slot.take() {
            if let Some(w) = s.tx_waker.take() {
                w.wake();
            }
            return Poll::Ready(Some(item));
        }
        if s.closed {
            if s.aborted {
                s.aborted = false; // report once, then end
                return Poll::Ready(Some(Err(Error::BodyClosed)));
            }
            return Poll::Ready(None);
        }
        s.want = true;
        if !s.rx_waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            s.rx_waker = Some(cx.waker().clone());
        }
        if let Some(w) = s.tx_waker.take() {
            w.wake();
        }
        Poll::Pending
    }

    /// Whether the sender is done and nothing is left to take.
    pub(crate) fn is_end(&self) -> bool {
        let shared = match &self.inner {
            Inner::Shared(shared) => shared,
            Inner::Boxed(body) => return body.is_end_stream(),
        };
        let s = lock(shared);
        s.closed && s.slot.is_none() && !s.aborted
    }
}

/// One frame of a wrapped body, as this crate's [`Frame`]. Frames that are neither data
/// nor trailers (none exist in http-body 1.x) are skipped.
fn poll_boxed(body: &mut BoxBody, cx: &mut Context<'_>) -> Poll<Option<Result<Frame>>> {
    loop {
        let frame = match std::task::ready!(body.as_mut().poll_frame(cx)) {
            None => return Poll::Ready(None),
            Some(Err(e)) => return Poll::Ready(Some(Err(Error::Body(e)))),
            Some(Ok(frame)) => frame,
        };
        match frame.into_data() {
            Ok(data) => return Poll::Ready(Some(Ok(Frame::Data(data)))),
            Err(frame) => {
                if let Ok(trailers) = frame.into_trailers() {
                    return Poll::Ready(Some(Ok(Frame::Trailers(trailers))));
                }
            }
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let Inner::Shared(shared) = &self.inner else {
            return;
        };
        let mut s = lock(shared);
        s.rx_dropped = true;
        if let Some(w) = s.tx_waker.take() {
            w.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::future::poll_fn;

    #[tokio::test]
    async fn demand_then_frame_then_end() {
        let (mut tx, mut rx) = channel(true);
        let cx = &mut Context::from_waker(Waker::noop());
        assert!(tx.poll_want(cx).is_pending(), "nobody asked yet");
        assert!(rx.poll_frame(cx).is_pending());
        assert!(tx.poll_want(cx).is_ready(), "the receiver asked");
        tx.send(Ok(Frame::Data(Bytes::from_static(b"x"))));
        assert!(matches!(
            rx.poll_frame(cx),
            Poll::Ready(Some(Ok(Frame::Data(_))))
        ));
        tx.finish();
        assert!(poll_fn(|cx| rx.poll_frame(cx)).await.is_none());
    }

    #[tokio::test]
    async fn dropped_sender_aborts_or_ends() {
        let (tx, mut rx) = channel(true);
        drop(tx);
        assert!(matches!(
            poll_fn(|cx| rx.poll_frame(cx)).await,
            Some(Err(Error::BodyClosed))
        ));
        assert!(poll_fn(|cx| rx.poll_frame(cx)).await.is_none());
        let (tx, mut rx) = channel(false);
        drop(tx);
        assert!(poll_fn(|cx| rx.poll_frame(cx)).await.is_none());
    }

    #[tokio::test]
    async fn dropped_receiver_is_seen() {
        let (mut tx, rx) = channel(true);
        drop(rx);
        assert!(poll_fn(|cx| tx.poll_want(cx)).await.is_err());
        assert!(tx.is_closed());
    }
}
