//! [`H2Body`]: the body of an HTTP/2 response, content-decoded when the client asked for
//! compression (with the same decoder as HTTP/1.1: ghostnet-http1's `coding`), holding
//! its share of the connection until the stream ends.

use std::task::{Context, Poll};

use bytes::Bytes;
use ghostnet_http1::codec::response_has_no_content;
use ghostnet_http1::coding::{
    ACCEPT_ENCODING_VALUE, Coding, DEFAULT_MAX_DECOMPRESSION_RATIO, DecodeError, Decoding,
};
use ghostnet_transport::pool::Shared;
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, RANGE};
use http::{HeaderMap, HeaderValue, Method};

use super::h2_pool::H2Conn;
use crate::error::{Error, Result};

/// Whether a request asks for compression the client decodes itself, and if so adds
/// `Accept-Encoding` to it. As over HTTP/1.1: not when the caller set `Accept-Encoding`
/// (they want the bytes as sent) nor for ranges (offsets are into the encoded body).
pub(crate) fn ask_for_compression(compression: bool, headers: &mut HeaderMap) -> bool {
    let ask = compression && !headers.contains_key(ACCEPT_ENCODING) && !headers.contains_key(RANGE);
    if ask {
        headers.insert(
            ACCEPT_ENCODING,
            HeaderValue::from_static(ACCEPT_ENCODING_VALUE),
        );
    }
    ask
}

/// The body of an HTTP/2 response, decoded from its `Content-Encoding` when the client
/// asked for compression and there is content to decode.
pub(crate) struct H2Body {
    data: Data,
    /// Kept until the stream ends (one request per connection); `None` with
    /// multiplexing, where h2 itself bounds the streams open at once.
    share: Option<Shared<H2Conn>>,
}

enum Data {
    Plain(ghostnet_http2::Body),
    Decoding(Box<Decoding<ghostnet_http2::Body>>),
}

impl H2Body {
    /// The body of a response to `method` whose head is `parts`. When it is decoded, its
    /// `Content-Encoding` and `Content-Length` fields are removed: they describe the
    /// bytes on the wire, not the ones read.
    pub(crate) fn new(
        method: &Method,
        parts: &mut http::response::Parts,
        body: ghostnet_http2::Body,
        decompress: bool,
        share: Option<Shared<H2Conn>>,
    ) -> Self {
        // HEAD, 204, 304 may name a coding but carry nothing to decode.
        let coding = Coding::of(&parts.headers).filter(|_| {
            decompress && !response_has_no_content(method, parts.status) && !body.is_end_stream()
        });
        let data = match coding {
            Some(coding) => {
                parts.headers.remove(CONTENT_ENCODING);
                parts.headers.remove(CONTENT_LENGTH);
                Data::Decoding(Box::new(Decoding::new(
                    coding,
                    body,
                    DEFAULT_MAX_DECOMPRESSION_RATIO,
                )))
            }
            None => Data::Plain(body),
        };
        Self { data, share }
    }

    /// The body's length, when the response said it and it is not decoded.
    pub(crate) fn size_hint(&self) -> Option<u64> {
        match &self.data {
            Data::Plain(b) => b.size_hint(),
            Data::Decoding(_) => None,
        }
    }

    /// The content coding being decoded, if any.
    pub(crate) fn decoded_from(&self) -> Option<&'static str> {
        match &self.data {
            Data::Plain(_) => None,
            Data::Decoding(d) => Some(d.coding().name()),
        }
    }

    /// Polls for the next piece of the body; `None` at its end.
    pub(crate) fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes>>> {
        let next = match &mut self.data {
            Data::Plain(b) => poll_data(b, cx).map(|c| c.map(|r| r.map_err(DecodeError::Body))),
            Data::Decoding(d) => d.poll_chunk(cx),
        };
        match next {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(data))) => Poll::Ready(Some(Ok(data))),
            Poll::Ready(None) => {
                // The stream is done: its slot on the connection is free.
                self.share.take();
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                if let DecodeError::Body(h2) = &e
                    && let Some(mut s) = self.share.take()
                    && !h2.is_retryable()
                    && h2.reason().is_none()
                {
                    s.mark_broken();
                }
                self.share.take();
                Poll::Ready(Some(Err(Error::from(e))))
            }
        }
    }
}

/// The next data of the stream, skipping trailers (the body keeps them).
fn poll_data(
    body: &mut ghostnet_http2::Body,
    cx: &mut Context<'_>,
) -> Poll<Option<std::result::Result<Bytes, ghostnet_http2::Error>>> {
    loop {
        let frame = match body.poll_frame(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
            Poll::Ready(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            return Poll::Ready(Some(Ok(data)));
        }
    }
}
