//! A body received from the peer: h2's `RecvStream`, with flow-control capacity given
//! back as the caller takes each piece.

use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_LENGTH;
use http_body::Frame;

use crate::client::InFlight;
use crate::error::{Error, Result};
use crate::io::Activity;

pub(crate) struct Incoming {
    recv: h2::RecvStream,
    content_length: Option<u64>,
    data_done: bool,
    done: bool,
    /// Counts the stream as in flight on a client connection until the body ends.
    guard: Option<InFlight>,
    /// The connection's counters: bytes taken here feed the adaptive window.
    activity: Activity,
}

impl Incoming {
    /// A body for `recv`, announced with the `Content-Length` in `headers` if any (h2
    /// resets the stream when the DATA frames do not match it).
    pub(crate) fn new(recv: h2::RecvStream, headers: &HeaderMap, activity: Activity) -> Self {
        let content_length = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let done = recv.is_end_stream();
        Self {
            recv,
            content_length: if done { Some(0) } else { content_length },
            data_done: done,
            done,
            guard: None,
            activity,
        }
    }

    /// Keeps `guard` until the body ends or is dropped.
    pub(crate) fn with_guard(mut self, guard: InFlight) -> Self {
        if !self.done {
            self.guard = Some(guard);
        }
        self
    }

    pub(crate) fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    pub(crate) fn is_end_stream(&self) -> bool {
        self.done || self.recv.is_end_stream()
    }

    pub(crate) fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>>>> {
        if self.done {
            return Poll::Ready(None);
        }
        if !self.data_done {
            match ready!(self.recv.poll_data(cx)) {
                Some(Ok(data)) => {
                    // The caller has the bytes now: let the peer send as many more. This
                    // is what ties the sender's pace to the reader's.
                    let _ = self.recv.flow_control().release_capacity(data.len());
                    self.activity.record_body(data.len());
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Some(Err(e)) => {
                    self.finish();
                    return Poll::Ready(Some(Err(Error::from(e))));
                }
                None => self.data_done = true,
            }
        }
        let out = match ready!(self.recv.poll_trailers(cx)) {
            Ok(Some(trailers)) => Some(Ok(Frame::trailers(trailers))),
            Ok(None) => None,
            Err(e) => Some(Err(Error::from(e))),
        };
        self.finish();
        Poll::Ready(out)
    }

    fn finish(&mut self) {
        self.done = true;
        self.guard = None;
    }
}
