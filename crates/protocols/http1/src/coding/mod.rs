//! Content codings (RFC 9110 section 8.4): which ones a response uses, and
//! [`Decoding`], which decodes gzip, br, deflate and zstd over any
//! [`http_body::Body`] of `Bytes`, with a cap on decompression bombs.
//!
//! The decoding is not tied to HTTP/1.1 framing: this crate's client runs it over its
//! wire bodies, and ghostnet-http runs the same code over HTTP/2 streams.
//!
//! The bomb cap is relative: a body may decode to at most `max_ratio` times the encoded
//! bytes read so far, plus [`BOMB_ALLOWANCE`] so that small, very compressible responses
//! (a page of zeros, a sparse JSON array) pass. It is checked as output is produced, so a
//! bomb is stopped after about that much output, whatever its final size.
//!
//! ```
//! use ghostnet_http1::coding::{Coding, Decoding, DEFAULT_MAX_DECOMPRESSION_RATIO};
//! use http::HeaderMap;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let mut headers = HeaderMap::new();
//! headers.insert("content-encoding", "gzip".parse().unwrap());
//! let coding = Coding::of(&headers).unwrap();
//! // "hi", gzip-compressed.
//! let gz: &[u8] = &[
//!     0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3, 0xcb, 0xc8, 4, 0, 0xac, 0x2a, 0x93, 0xd8, 2, 0, 0, 0,
//! ];
//! let body = ghostnet_http1::Body::from(gz);
//! let mut decoding = Decoding::new(coding, body, DEFAULT_MAX_DECOMPRESSION_RATIO);
//! let mut text = Vec::new();
//! while let Some(chunk) = decoding.chunk().await {
//!     text.extend_from_slice(&chunk.unwrap());
//! }
//! assert_eq!(text, b"hi");
//! assert_eq!((decoding.wire_bytes(), decoding.decoded_bytes()), (22, 2));
//! # });
//! ```

mod decoding;
mod error;
mod reader;

pub use decoding::Decoding;
pub use error::DecodeError;

use http::HeaderMap;
use http::header::CONTENT_ENCODING;

use crate::codec::body_length::trim_ows;

/// Default ratio of decoded to encoded bytes past which a body is taken for a
/// decompression bomb.
pub const DEFAULT_MAX_DECOMPRESSION_RATIO: u64 = 100;

/// Decoded bytes always allowed on top of the ratio: 1 MiB.
pub const BOMB_ALLOWANCE: u64 = 1024 * 1024;

/// The `Accept-Encoding` a client sends when it decodes responses with [`Decoding`]:
/// every coding decoded here, the best compressing first.
pub const ACCEPT_ENCODING_VALUE: &str = "gzip, br, zstd, deflate";

/// A content coding [`Decoding`] decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Coding {
    /// `gzip` (and its old alias `x-gzip`).
    Gzip,
    /// `br`.
    Brotli,
    /// `deflate`: zlib as RFC 9110 says, or raw deflate as some servers send it.
    Deflate,
    /// `zstd`.
    Zstd,
}

impl Coding {
    /// The coding of a message, when it has exactly one that is decoded here. Unknown or
    /// stacked codings give `None`: the caller gets the bytes as sent, and the
    /// `Content-Encoding` field that says what they are.
    ///
    /// ```
    /// use ghostnet_http1::coding::Coding;
    /// use http::HeaderMap;
    ///
    /// let mut h = HeaderMap::new();
    /// h.insert("content-encoding", " BR ".parse().unwrap());
    /// assert_eq!(Coding::of(&h), Some(Coding::Brotli));
    /// h.insert("content-encoding", "gzip, br".parse().unwrap());
    /// assert_eq!(Coding::of(&h), None);
    /// ```
    pub fn of(headers: &HeaderMap) -> Option<Self> {
        let mut values = headers.get_all(CONTENT_ENCODING).iter();
        let value = values.next()?;
        if values.next().is_some() {
            return None;
        }
        Some(match trim_ows(value.as_bytes()) {
            v if v.eq_ignore_ascii_case(b"gzip") || v.eq_ignore_ascii_case(b"x-gzip") => Self::Gzip,
            v if v.eq_ignore_ascii_case(b"br") => Self::Brotli,
            v if v.eq_ignore_ascii_case(b"deflate") => Self::Deflate,
            v if v.eq_ignore_ascii_case(b"zstd") => Self::Zstd,
            _ => return None,
        })
    }

    /// The coding's token, as in `Content-Encoding`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Brotli => "br",
            Self::Deflate => "deflate",
            Self::Zstd => "zstd",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn codings_are_recognised_alone() {
        let of = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(CONTENT_ENCODING, HeaderValue::from_static(v));
            Coding::of(&h)
        };
        assert_eq!(of("gzip"), Some(Coding::Gzip));
        assert_eq!(of(" X-GZIP "), Some(Coding::Gzip));
        assert_eq!(of("br"), Some(Coding::Brotli));
        assert_eq!(of("deflate"), Some(Coding::Deflate));
        assert_eq!(of("zstd"), Some(Coding::Zstd));
        assert_eq!(of("identity"), None);
        assert_eq!(of("gzip, br"), None, "stacked codings are passed through");
        assert_eq!(Coding::of(&HeaderMap::new()), None);
    }
}
