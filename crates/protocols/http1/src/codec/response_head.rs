//! Parsing a response head (the client side reuses it), with the same strictness as
//! requests: bare LF, obs-fold, ambiguous framing and bad lengths are refused.

use std::mem::MaybeUninit;

use bytes::BytesMut;
use http::header::CONNECTION;
use http::{HeaderMap, Method, StatusCode, Version};

use crate::codec::body_length::{BodyLength, has_token, response_body_length};
use crate::codec::head::{Scratch, check_line_endings, check_partial, map_parse_error};
use crate::codec::limits::{HEADER_SLOTS, Limits};
use crate::error::{Error, Result};

/// A parsed, validated response head.
#[derive(Debug)]
#[non_exhaustive]
pub struct ResponseHead {
    /// The status code.
    pub status: StatusCode,
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The header fields.
    pub headers: HeaderMap,
    /// How the body is delimited, given the request method.
    pub body: BodyLength,
    /// Whether the connection may carry another request after this response.
    pub keep_alive: bool,
}

/// Parses one response head from the front of `buf`, for a request made with `method`
/// (HEAD and CONNECT change the framing).
///
/// Returns `Ok(None)` when more bytes are needed. A 1xx head other than 101 is an
/// interim response: the final one follows it.
///
/// ```
/// use bytes::BytesMut;
/// use ghostnet_http1::codec::{parse_response_head, BodyLength};
/// use ghostnet_http1::Limits;
/// use http::Method;
///
/// let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"[..]);
/// let head = parse_response_head(&mut buf, &Limits::default(), &Method::GET).unwrap().unwrap();
/// assert_eq!(head.status, 200);
/// assert_eq!(head.body, BodyLength::Chunked);
/// ```
pub fn parse_response_head(
    buf: &mut BytesMut,
    limits: &Limits,
    method: &Method,
) -> Result<Option<ResponseHead>> {
    parse_with(buf, limits, method, &mut Scratch::default(), false)
}

/// [`parse_response_head`] with reusable scratch space; `lines_checked` when the caller
/// already refused bare LFs.
pub(crate) fn parse_with(
    buf: &mut BytesMut,
    limits: &Limits,
    method: &Method,
    scratch: &mut Scratch,
    lines_checked: bool,
) -> Result<Option<ResponseHead>> {
    let mut slots = [const { MaybeUninit::uninit() }; HEADER_SLOTS];
    let slots = &mut slots[..limits.header_slots()];
    let mut res = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut res,
        &buf[..],
        slots,
    );
    let len = match parsed {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            check_partial(buf, limits)?;
            return Ok(None);
        }
        Err(e) => {
            check_partial(buf, limits)?;
            return Err(map_parse_error(e, limits));
        }
    };
    if len > limits.max_head_bytes {
        return Err(Error::HeadTooLarge {
            limit: limits.max_head_bytes,
        });
    }
    if !lines_checked {
        check_line_endings(&buf[..len])?;
    }
    let (Some(code), Some(minor)) = (res.code, res.version) else {
        return Err(Error::InvalidHead {
            reason: "incomplete status line",
        });
    };
    let status = StatusCode::from_u16(code).map_err(|_| Error::InvalidHead {
        reason: "invalid status code",
    })?;
    scratch.record(&buf[..], res.headers);
    let head = buf.split_to(len).freeze();
    let (headers, _) = scratch.header_map(&head)?;
    let version = if minor == 1 {
        Version::HTTP_11
    } else {
        Version::HTTP_10
    };
    let body = response_body_length(method, status, version, &headers)?;
    let keep_alive = body != BodyLength::CloseDelimited
        && if version == Version::HTTP_11 {
            !has_token(&headers, CONNECTION, "close")
        } else {
            has_token(&headers, CONNECTION, "keep-alive")
        };
    Ok(Some(ResponseHead {
        status,
        version,
        headers,
        body,
        keep_alive,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8], method: &Method) -> Result<Option<ResponseHead>> {
        parse_response_head(&mut BytesMut::from(raw), &Limits::default(), method)
    }

    #[test]
    fn framing_by_method_and_status() {
        let h = parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n",
            &Method::GET,
        )
        .unwrap()
        .unwrap();
        assert_eq!(h.body, BodyLength::Length(3));
        assert!(h.keep_alive);
        let h = parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n",
            &Method::HEAD,
        )
        .unwrap()
        .unwrap();
        assert_eq!(h.body, BodyLength::Empty);
        let h = parse(b"HTTP/1.0 200 OK\r\n\r\n", &Method::GET)
            .unwrap()
            .unwrap();
        assert_eq!(h.body, BodyLength::CloseDelimited);
        assert!(!h.keep_alive);
        let h = parse(b"HTTP/1.1 100 Continue\r\n\r\n", &Method::GET)
            .unwrap()
            .unwrap();
        assert!(h.status.is_informational());
    }

    #[test]
    fn strictness() {
        for raw in [
            &b"HTTP/1.1 200 OK\nContent-Length: 1\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
            b"HTTP/1.1 999999 OK\r\n\r\n",
        ] {
            assert!(
                parse(raw, &Method::GET).is_err(),
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
        assert!(
            parse(b"HTTP/1.1 200 OK\r\n", &Method::GET)
                .unwrap()
                .is_none()
        );
    }
}
