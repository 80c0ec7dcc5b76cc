//! Encoding a response: the head with the framing fields we choose, and the body
//! framing (Content-Length checked, chunked, or close-delimited).

use bytes::BufMut;
use http::header::{CONNECTION, CONTENT_LENGTH, DATE, TRANSFER_ENCODING};
use http::{HeaderMap, StatusCode, Version};

use crate::codec::body_length::{parse_decimal, trim_ows};
use crate::codec::chunked::{encode_chunk_head, encode_last_chunk};
use crate::error::{Error, Result};

/// What the encoder needs to know about the exchange besides the response itself.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct EncodeContext<'a> {
    /// The request was HEAD: send the head as for GET, but no body.
    pub head_request: bool,
    /// The request's version: HTTP/1.0 peers get no chunked coding.
    pub request_version: Version,
    /// Whether the connection may stay open (the client's wish and the server's).
    pub keep_alive: bool,
    /// The body's exact length when known (full, empty and file bodies).
    pub body_len: Option<u64>,
    /// The value of the `Date` field (29 bytes, RFC 9110 IMF-fixdate), added unless the
    /// response has one.
    pub date: Option<&'a [u8]>,
}

impl<'a> EncodeContext<'a> {
    /// A context for a keep-alive HTTP/1.1 GET with a body of unknown length.
    pub fn new() -> Self {
        Self {
            head_request: false,
            request_version: Version::HTTP_11,
            keep_alive: true,
            body_len: None,
            date: None,
        }
    }

    /// Sets [`EncodeContext::head_request`].
    pub fn head_request(mut self, yes: bool) -> Self {
        self.head_request = yes;
        self
    }

    /// Sets [`EncodeContext::request_version`].
    pub fn request_version(mut self, v: Version) -> Self {
        self.request_version = v;
        self
    }

    /// Sets [`EncodeContext::keep_alive`].
    pub fn keep_alive(mut self, yes: bool) -> Self {
        self.keep_alive = yes;
        self
    }

    /// Sets [`EncodeContext::body_len`].
    pub fn body_len(mut self, len: Option<u64>) -> Self {
        self.body_len = len;
        self
    }

    /// Sets [`EncodeContext::date`].
    pub fn date(mut self, date: &'a [u8]) -> Self {
        self.date = Some(date);
        self
    }
}

impl Default for EncodeContext<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// How the body after an encoded head is framed; it checks what is sent against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEncoder {
    /// No body may follow (HEAD, 1xx, 204, 304).
    None,
    /// Exactly this many more bytes.
    Length(u64),
    /// Chunked coding.
    Chunked,
    /// Raw bytes until the connection closes (HTTP/1.0 peers, unknown length).
    CloseDelimited,
}

impl BodyEncoder {
    /// Appends the framing before `len` bytes of data, checking it against the length.
    pub fn begin_data(&mut self, dst: &mut Vec<u8>, len: usize) -> Result<()> {
        match self {
            Self::None => {
                if len > 0 {
                    return Err(Error::InvalidResponse {
                        reason: "this response may not have a body (HEAD, 1xx, 204 or 304)",
                    });
                }
            }
            Self::Length(left) => {
                if len as u64 > *left {
                    return Err(Error::BodyLengthMismatch {
                        expected: *left,
                        actual: len as u64,
                    });
                }
                *left -= len as u64;
            }
            Self::Chunked => {
                if len > 0 {
                    encode_chunk_head(dst, len);
                }
            }
            Self::CloseDelimited => {}
        }
        Ok(())
    }

    /// Appends the framing after data of `len` bytes.
    pub fn end_data(&self, dst: &mut Vec<u8>, len: usize) {
        if *self == Self::Chunked && len > 0 {
            dst.put_slice(b"\r\n");
        }
    }

    /// Appends `data` with its framing.
    pub fn encode(&mut self, dst: &mut Vec<u8>, data: &[u8]) -> Result<()> {
        self.begin_data(dst, data.len())?;
        if *self != Self::None {
            dst.put_slice(data);
        }
        self.end_data(dst, data.len());
        Ok(())
    }

    /// Appends the end of the body (the last chunk and trailers when chunked); fails when
    /// fewer bytes than `Content-Length` were sent.
    pub fn finish(&mut self, dst: &mut Vec<u8>, trailers: Option<&HeaderMap>) -> Result<()> {
        match *self {
            Self::Length(left) if left > 0 => {
                return Err(Error::BodyLengthMismatch {
                    expected: left,
                    actual: 0,
                });
            }
            Self::Chunked => encode_last_chunk(dst, trailers),
            _ => {}
        }
        *self = Self::None;
        Ok(())
    }
}

/// The result of encoding a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EncodedHead {
    /// How to frame the body.
    pub body: BodyEncoder,
    /// Whether the connection stays open after this response.
    pub keep_alive: bool,
}

/// Appends a response head to `dst` and says how to frame the body.
///
/// The framing fields are ours: a `Transfer-Encoding` in `headers` is ignored, a
/// `Content-Length` is kept (and enforced) when valid. `Connection: close` is added when
/// the connection will close; `Connection: keep-alive` for kept HTTP/1.0 connections.
///
/// ```
/// use ghostnet_http1::codec::{encode_response_head, BodyEncoder, EncodeContext};
/// use http::{HeaderMap, StatusCode};
///
/// let mut out = Vec::new();
/// let ctx = EncodeContext::new().body_len(Some(5));
/// let enc = encode_response_head(&mut out, StatusCode::OK, &HeaderMap::new(), &ctx).unwrap();
/// assert_eq!(out, b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n");
/// assert_eq!(enc.body, BodyEncoder::Length(5));
/// ```
pub fn encode_response_head(
    dst: &mut Vec<u8>,
    status: StatusCode,
    headers: &HeaderMap,
    ctx: &EncodeContext<'_>,
) -> Result<EncodedHead> {
    let bodiless = status.is_informational() || status == StatusCode::NO_CONTENT;
    let start = dst.len();
    dst.reserve(128);
    if status == StatusCode::OK {
        // The common case in one copy.
        dst.put_slice(b"HTTP/1.1 200 OK\r\n");
    } else {
        dst.put_slice(b"HTTP/1.1 ");
        dst.put_slice(status.as_str().as_bytes());
        dst.put_u8(b' ');
        dst.put_slice(status.canonical_reason().unwrap_or("").as_bytes());
        dst.put_slice(b"\r\n");
    }
    // One pass: write the fields and note the ones that decide framing and connection
    // handling (no hashed lookups).
    let (mut close, mut keep_alive_token, mut has_date) = (false, false, false);
    let mut user_len: Option<Result<u64>> = None;
    let mut lengths = 0;
    for (name, value) in headers {
        if name == TRANSFER_ENCODING {
            continue;
        }
        if name == CONTENT_LENGTH {
            lengths += 1;
            if bodiless {
                continue;
            }
            user_len.get_or_insert_with(|| parse_decimal(value.as_bytes()));
        } else if name == CONNECTION {
            for token in value.as_bytes().split(|&b| b == b',') {
                let token = trim_ows(token);
                close |= token.eq_ignore_ascii_case(b"close");
                keep_alive_token |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name == DATE {
            has_date = true;
        }
        dst.put_slice(name.as_str().as_bytes());
        dst.put_slice(b": ");
        dst.put_slice(value.as_bytes());
        dst.put_slice(b"\r\n");
    }
    let user_len = match user_len {
        None => None,
        Some(Ok(n)) if lengths == 1 => Some(n),
        Some(_) => {
            dst.truncate(start);
            return Err(Error::InvalidResponse {
                reason: "content-length must be one decimal number",
            });
        }
    };
    if let (Some(user), Some(actual)) = (user_len, ctx.body_len)
        && user != actual
        && !ctx.head_request
        && status != StatusCode::NOT_MODIFIED
    {
        dst.truncate(start);
        return Err(Error::BodyLengthMismatch {
            expected: user,
            actual,
        });
    }
    let mut keep_alive = ctx.keep_alive && !close;

    let body = if bodiless || status == StatusCode::NOT_MODIFIED {
        BodyEncoder::None
    } else if let Some(n) = user_len {
        BodyEncoder::Length(n)
    } else if let Some(n) = ctx.body_len {
        dst.put_slice(b"content-length: ");
        dst.put_slice(itoa::Buffer::new().format(n).as_bytes());
        dst.put_slice(b"\r\n");
        BodyEncoder::Length(n)
    } else if ctx.head_request {
        // Unknown length and no body to send: announce no framing at all.
        BodyEncoder::None
    } else if ctx.request_version == Version::HTTP_11 {
        dst.put_slice(b"transfer-encoding: chunked\r\n");
        BodyEncoder::Chunked
    } else {
        keep_alive = false;
        BodyEncoder::CloseDelimited
    };
    if status != StatusCode::SWITCHING_PROTOCOLS {
        if !keep_alive {
            if !close {
                dst.put_slice(b"connection: close\r\n");
            }
        } else if ctx.request_version == Version::HTTP_10 && !keep_alive_token {
            dst.put_slice(b"connection: keep-alive\r\n");
        }
    }
    if let Some(date) = ctx.date
        && !has_date
    {
        dst.put_slice(b"date: ");
        dst.put_slice(date);
        dst.put_slice(b"\r\n\r\n");
    } else {
        dst.put_slice(b"\r\n");
    }
    let body = if ctx.head_request {
        BodyEncoder::None
    } else {
        body
    };
    Ok(EncodedHead { body, keep_alive })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(
        status: u16,
        headers: &[(&str, &str)],
        ctx: EncodeContext<'_>,
    ) -> (String, EncodedHead) {
        let mut map = HeaderMap::new();
        for (n, v) in headers {
            map.append(
                http::header::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let mut out = Vec::new();
        let e = encode_response_head(&mut out, StatusCode::from_u16(status).unwrap(), &map, &ctx)
            .unwrap();
        (String::from_utf8(out).unwrap(), e)
    }

    #[test]
    fn chooses_framing() {
        let (s, e) = encode(200, &[], EncodeContext::new());
        assert!(s.contains("transfer-encoding: chunked\r\n"), "{s}");
        assert_eq!(e.body, BodyEncoder::Chunked);
        let (s, e) = encode(
            200,
            &[],
            EncodeContext::new().request_version(Version::HTTP_10),
        );
        assert!(s.contains("connection: close\r\n"), "{s}");
        assert_eq!(e.body, BodyEncoder::CloseDelimited);
        assert!(!e.keep_alive);
        let (s, e) = encode(
            204,
            &[("content-length", "3")],
            EncodeContext::new().body_len(Some(0)),
        );
        assert!(!s.contains("content-length"), "{s}");
        assert_eq!(e.body, BodyEncoder::None);
        let (s, e) = encode(
            200,
            &[],
            EncodeContext::new().head_request(true).body_len(Some(13)),
        );
        assert!(s.contains("content-length: 13\r\n"), "{s}");
        assert_eq!(e.body, BodyEncoder::None);
        let (s, _) = encode(
            200,
            &[("transfer-encoding", "gzip")],
            EncodeContext::new().body_len(Some(1)),
        );
        assert!(!s.contains("gzip"), "{s}");
    }

    #[test]
    fn connection_and_date() {
        let ctx = EncodeContext::new()
            .request_version(Version::HTTP_10)
            .body_len(Some(0))
            .date(b"Sun, 06 Nov 1994 08:49:37 GMT");
        let (s, e) = encode(200, &[], ctx);
        assert!(e.keep_alive);
        assert!(s.contains("connection: keep-alive\r\n"), "{s}");
        assert!(s.contains("date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"), "{s}");
        let (s, e) = encode(
            200,
            &[("connection", "close")],
            EncodeContext::new().body_len(Some(0)),
        );
        assert!(!e.keep_alive);
        assert_eq!(s.matches("connection").count(), 1, "{s}");
    }

    #[test]
    fn body_length_is_enforced() {
        let mut enc = BodyEncoder::Length(3);
        let mut out = Vec::new();
        enc.encode(&mut out, b"ab").unwrap();
        let mut copy = enc;
        assert!(matches!(
            copy.finish(&mut out, None),
            Err(Error::BodyLengthMismatch { .. })
        ));
        assert!(enc.encode(&mut out, b"cd").is_err());
        let mut enc = BodyEncoder::Chunked;
        let mut out = Vec::new();
        enc.encode(&mut out, b"hello").unwrap();
        enc.encode(&mut out, b"").unwrap();
        enc.finish(&mut out, None).unwrap();
        assert_eq!(out, b"5\r\nhello\r\n0\r\n\r\n");
        let mut map = HeaderMap::new();
        map.insert("content-length", "4".parse().unwrap());
        let ctx = EncodeContext::new().body_len(Some(5));
        assert!(encode_response_head(&mut Vec::new(), StatusCode::OK, &map, &ctx).is_err());
    }
}
