//! A streaming body fed from another task: [`BodySender`] and its receiving half.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use http_body::Frame;
use tokio::sync::mpsc;

use crate::error::{Error, Result};

/// Pieces queued between producer and connection. One keeps memory flat while still
/// letting the producer prepare the next piece while the previous one is written.
const QUEUE: usize = 1;

pub(super) fn pair() -> (BodySender, Receiver) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let aborted = Arc::new(AtomicBool::new(false));
    (
        BodySender {
            tx,
            aborted: aborted.clone(),
        },
        Receiver {
            rx,
            aborted,
            done: false,
        },
    )
}

/// Feeds a streaming [`Body`](crate::Body) made by [`Body::channel`](crate::Body::channel).
///
/// ```
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// use ghostnet_http2::{Body, Error};
///
/// let (mut tx, mut body) = Body::channel();
/// tokio::spawn(async move {
///     tx.send_data("partial".into()).await.unwrap();
///     tx.abort(); // the peer sees the stream reset, not a short body
/// });
/// assert_eq!(body.data().await.unwrap().unwrap(), "partial");
/// assert!(matches!(body.data().await, Some(Err(Error::Body(_)))));
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct BodySender {
    tx: mpsc::Sender<Frame<Bytes>>,
    aborted: Arc<AtomicBool>,
}

impl BodySender {
    /// Sends the next piece of data; waits until the connection wants it, so a slow
    /// peer slows the producer down.
    ///
    /// # Errors
    ///
    /// [`Error::BodyClosed`] when the body was dropped (e.g. the peer reset the stream).
    pub async fn send_data(&mut self, data: Bytes) -> Result<()> {
        self.tx
            .send(Frame::data(data))
            .await
            .map_err(|_| Error::BodyClosed)
    }

    /// Sends trailer fields; they end the body.
    ///
    /// # Errors
    ///
    /// [`Error::BodyClosed`] when the body was dropped.
    pub async fn send_trailers(self, trailers: HeaderMap) -> Result<()> {
        self.tx
            .send(Frame::trailers(trailers))
            .await
            .map_err(|_| Error::BodyClosed)
    }

    /// Ends the body with an error: a response or request being sent is reset instead
    /// of ending normally, so the peer cannot mistake it for a complete body.
    pub fn abort(self) {
        self.aborted.store(true, Ordering::Release);
    }

    /// Whether the body's reader is gone; sending would fail.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Waits until the body's reader is gone (the peer reset the stream or the
    /// connection closed): lets a producer stop early.
    pub async fn closed(&self) {
        self.tx.closed().await;
    }
}

/// The body's end of the channel.
pub(crate) struct Receiver {
    rx: mpsc::Receiver<Frame<Bytes>>,
    aborted: Arc<AtomicBool>,
    done: bool,
}

impl Receiver {
    pub(super) fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>>>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.rx.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(frame)) => {
                if frame.is_trailers() {
                    self.done = true;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(None) => {
                self.done = true;
                if self.aborted.load(Ordering::Acquire) {
                    Poll::Ready(Some(Err(Error::Body("the body producer aborted".into()))))
                } else {
                    Poll::Ready(None)
                }
            }
        }
    }

    pub(super) fn is_end_stream(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use crate::Body;

    #[tokio::test]
    async fn drop_ends_abort_fails_trailers_end() {
        let (mut tx, body) = Body::channel();
        tokio::spawn(async move {
            tx.send_data("x".into()).await.unwrap();
        });
        assert_eq!(body.collect().await.unwrap(), "x");

        let (tx, body) = Body::channel();
        tx.abort();
        assert!(body.collect().await.is_err());

        let (mut tx, mut body) = Body::channel();
        tokio::spawn(async move {
            tx.send_data("y".into()).await.unwrap();
            let mut t = http::HeaderMap::new();
            t.insert("grpc-status", "0".parse().unwrap());
            tx.send_trailers(t).await.unwrap();
        });
        assert_eq!(body.data().await.unwrap().unwrap(), "y");
        assert!(body.data().await.is_none());
        assert_eq!(body.trailers().unwrap()["grpc-status"], "0");
        assert!(body.is_end_stream());
    }

    #[tokio::test]
    async fn sender_sees_a_dropped_body() {
        let (mut tx, body) = Body::channel();
        drop(body);
        assert!(tx.is_closed());
        tx.closed().await;
        assert!(matches!(
            tx.send_data("z".into()).await,
            Err(crate::Error::BodyClosed)
        ));
    }
}
