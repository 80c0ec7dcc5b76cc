//! Sending a [`Body`] on an h2 stream, within the peer's flow-control window.

use std::future::poll_fn;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use h2::{Reason, SendStream};

use super::Body;
use crate::error::{Error, Result};

/// Sends `body` on `stream` and ends the stream (see [`poll_pipe`]). The headers were
/// sent without END_STREAM.
pub(crate) async fn send_body(mut body: Body, mut stream: SendStream<Bytes>) -> Result<()> {
    if let Some(data) = body.take_full() {
        // Already in memory: hand it to h2 whole; h2 sends it as the window opens.
        return stream.send_data(data, true).map_err(Error::from);
    }
    poll_fn(|cx| poll_pipe(&mut body, &mut stream, cx)).await
}

/// Polls the sending of `body` on `stream` to the end, one piece at a time as the
/// peer's window and h2's send buffer allow. A body error resets the stream with `INTERNAL_ERROR`, so the peer never takes a
/// truncated body for a complete one; a reset from the peer stops the producer.
pub(crate) fn poll_pipe(
    body: &mut Body,
    stream: &mut SendStream<Bytes>,
    cx: &mut Context<'_>,
) -> Poll<Result<()>> {
    loop {
        // Wait for room in the send buffer before pulling the next piece, so a fast
        // producer is held back by a slow peer (h2 buffers at most
        // `max_send_buffer_size` per stream before reporting capacity again).
        stream.reserve_capacity(1);
        if stream.capacity() == 0 {
            loop {
                match ready!(stream.poll_capacity(cx)) {
                    Some(Ok(0)) => {}
                    Some(Ok(_)) => break,
                    Some(Err(e)) => return Poll::Ready(Err(e.into())),
                    None => return Poll::Ready(Err(Error::BodyClosed)),
                }
            }
        } else if let Poll::Ready(reason) = stream.poll_reset(cx) {
            let reason = reason.map_err(Error::from)?;
            return Poll::Ready(Err(Error::Reset {
                reason,
                remote: true,
            }));
        }
        match ready!(body.poll_frame(cx)) {
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => {
                    let eos = body.is_end_stream();
                    if data.is_empty() && !eos {
                        continue;
                    }
                    stream.send_data(data, eos)?;
                    if eos {
                        return Poll::Ready(Ok(()));
                    }
                }
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        stream.send_trailers(trailers)?;
                        return Poll::Ready(Ok(()));
                    }
                }
            },
            Some(Err(e)) => {
                stream.send_reset(Reason::INTERNAL_ERROR);
                return Poll::Ready(Err(e));
            }
            None => {
                stream.send_data(Bytes::new(), true)?;
                return Poll::Ready(Ok(()));
            }
        }
    }
}
