//! `multipart/byteranges` bodies (RFC 9110 §14.6): several ranges of a file in one
//! response, each with its own `Content-Type` and `Content-Range`.

use std::collections::VecDeque;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::ops::Range;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;

use crate::body::Body;
use crate::error::Error;

/// A boundary no file is likely to contain: a process-wide counter mixed with the
/// std library's randomly keyed hasher.
pub(crate) fn boundary() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("ghostnet-{:016x}", h.finish())
}

/// The body: part heads as bytes, part data as file ranges (so each range is read, or
/// sent, like any file body), and the closing delimiter.
pub(crate) fn body(
    file: &File,
    ranges: &[Range<u64>],
    len: u64,
    content_type: &str,
    boundary: &str,
) -> std::io::Result<Body> {
    let mut parts = VecDeque::with_capacity(ranges.len() * 2 + 1);
    for (i, r) in ranges.iter().enumerate() {
        let head = format!(
            "{}--{boundary}\r\ncontent-type: {content_type}\r\ncontent-range: bytes {}-{}/{len}\r\n\r\n",
            if i == 0 { "" } else { "\r\n" },
            r.start,
            r.end - 1,
        );
        parts.push_back(Body::from(head));
        parts.push_back(Body::file_range(
            file.try_clone()?,
            r.start,
            r.end - r.start,
        ));
    }
    parts.push_back(Body::from(format!("\r\n--{boundary}--\r\n")));
    let total = parts.iter().filter_map(Body::size_hint).sum();
    Ok(Body::wrap(Chain { parts, total }))
}

/// Bodies one after another.
struct Chain {
    parts: VecDeque<Body>,
    /// Bytes left, for an exact size hint (so the response has `Content-Length`).
    total: u64,
}

impl http_body::Body for Chain {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Error>>> {
        while let Some(part) = self.parts.front_mut() {
            match std::task::ready!(part.poll_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Some(d) = frame.data_ref() {
                        self.total = self.total.saturating_sub(d.len() as u64);
                    }
                    return Poll::Ready(Some(Ok(frame)));
                }
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => {
                    self.parts.pop_front();
                }
            }
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.parts.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn parts_and_length() {
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, b"0123456789").unwrap();
        let body = body(&f, &[0..2, 8..10], 10, "text/plain", "XYZ").unwrap();
        let hint = body.size_hint().unwrap();
        let got = body.collect().await.unwrap();
        assert_eq!(got.len() as u64, hint);
        assert_eq!(
            std::str::from_utf8(&got).unwrap(),
            "--XYZ\r\ncontent-type: text/plain\r\ncontent-range: bytes 0-1/10\r\n\r\n01\
             \r\n--XYZ\r\ncontent-type: text/plain\r\ncontent-range: bytes 8-9/10\r\n\r\n89\
             \r\n--XYZ--\r\n"
        );
        assert_ne!(boundary(), boundary());
    }
}
