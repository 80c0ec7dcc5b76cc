//! A body of `len` bytes made of one shared chunk handed out again and again: both
//! servers send the same body, and producing it costs a reference count, not a copy,
//! so the download measures the protocol stacks.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};

/// Chunk size: what a file or socket reader would typically hand over.
pub const CHUNK: usize = 256 * 1024;

/// `len` bytes of zeros, in [`CHUNK`]-sized frames.
pub struct Repeat {
    chunk: Bytes,
    left: u64,
}

impl Repeat {
    /// A body of `len` bytes.
    pub fn new(len: u64) -> Self {
        Self {
            chunk: Bytes::from(vec![0u8; CHUNK]),
            left: len,
        }
    }
}

impl http_body::Body for Repeat {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let n = self.left.min(CHUNK as u64) as usize;
        self.left -= n as u64;
        Poll::Ready(Some(Ok(Frame::data(self.chunk.slice(..n)))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}
