//! Parsing a request head: httparse tokenizes, we validate framing, target, Host and
//! connection semantics, and build `http` types over the received bytes without copying.

use std::mem::MaybeUninit;

use bytes::BytesMut;
use http::{Method, Uri, Version};

use crate::codec::body_length::{BodyLength, request_body_length_noted};
use crate::codec::head::{Fields, Scratch, check_partial, map_parse_error};
use crate::codec::limits::{HEADER_SLOTS, Limits};
use crate::error::{Error, Result};

/// A parsed, validated request head.
#[derive(Debug)]
#[non_exhaustive]
pub struct RequestHead {
    /// The method.
    pub method: Method,
    /// The request target.
    pub uri: Uri,
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The header fields, values sharing the receive buffer.
    pub headers: http::HeaderMap,
    /// How the body is delimited.
    pub body: BodyLength,
    /// Whether the client wants the connection kept open after this exchange
    /// (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`).
    pub keep_alive: bool,
    /// `Expect: 100-continue` on an HTTP/1.1 request: the client waits for an interim
    /// `100 Continue` before it sends the body.
    pub expect_continue: bool,
    /// The client asks to switch protocols (`Connection: upgrade` with `Upgrade`) or to
    /// open a tunnel (`CONNECT`).
    pub upgrade: bool,
}

/// Parses one request head from the front of `buf`.
///
/// Returns `Ok(None)` when more bytes are needed (nothing is consumed), `Ok(Some(head))`
/// when a head was parsed (its bytes are split off `buf`, whatever follows stays), or the
/// error a server answers with a 4xx/5xx and a closed connection.
///
/// ```
/// use bytes::BytesMut;
/// use ghostnet_http1::codec::{parse_request_head, BodyLength};
/// use ghostnet_http1::Limits;
///
/// let mut buf = BytesMut::from(&b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"[..]);
/// let head = parse_request_head(&mut buf, &Limits::default()).unwrap().unwrap();
/// assert_eq!(head.uri.path(), "/echo");
/// assert_eq!(head.body, BodyLength::Length(2));
/// assert_eq!(&buf[..], b"hi");
///
/// let mut smuggle = BytesMut::from(&b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1,1\r\n\r\n"[..]);
/// assert!(parse_request_head(&mut smuggle, &Limits::default()).is_err());
/// ```
pub fn parse_request_head(buf: &mut BytesMut, limits: &Limits) -> Result<Option<RequestHead>> {
    parse_with(buf, limits, &mut Scratch::default(), false)
}

/// [`parse_request_head`] with per-connection scratch space (no allocation per head);
/// `lines_checked` when the caller already refused bare LFs ([`may_be_complete`]),
/// otherwise the line ends are checked here, per line rather than per byte.
///
/// [`may_be_complete`]: crate::codec::head::may_be_complete
pub(crate) fn parse_with(
    buf: &mut BytesMut,
    limits: &Limits,
    scratch: &mut Scratch,
    lines_checked: bool,
) -> Result<Option<RequestHead>> {
    let mut slots = [const { MaybeUninit::uninit() }; HEADER_SLOTS];
    let slots = &mut slots[..limits.header_slots()];
    let mut req = httparse::Request::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_request_with_uninit_headers(
        &mut req,
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
            // An over-long start line is reported as too large, not as a syntax error.
            check_partial(buf, limits)?;
            return Err(map_parse_error(e, limits));
        }
    };
    if len > limits.max_head_bytes {
        return Err(Error::HeadTooLarge {
            limit: limits.max_head_bytes,
        });
    }
    let (Some(method), Some(path), Some(minor)) = (req.method, req.path, req.version) else {
        return Err(Error::InvalidHead {
            reason: "incomplete request line",
        });
    };
    if !lines_checked {
        check_request_line_ends(&buf[..len], method, path, req.headers)?;
    }
    if path.len() > limits.max_uri_bytes {
        return Err(Error::UriTooLong {
            limit: limits.max_uri_bytes,
        });
    }
    let method = Method::from_bytes(method.as_bytes()).map_err(|_| Error::InvalidHead {
        reason: "invalid method",
    })?;
    let base = buf.as_ptr() as usize;
    let path_start = path.as_ptr() as usize - base;
    let path_range = path_start..path_start + path.len();
    scratch.record(&buf[..], req.headers);

    let head = buf.split_to(len).freeze();
    let uri = Uri::from_maybe_shared(head.slice(path_range)).map_err(|_| Error::InvalidHead {
        reason: "invalid request target",
    })?;
    check_target_form(&method, &uri)?;
    let version = if minor == 1 {
        Version::HTTP_11
    } else {
        Version::HTTP_10
    };
    let (headers, fields) = scratch.header_map(&head)?;
    if version == Version::HTTP_11 {
        check_host(&fields)?;
    }
    let body = request_body_length_noted(version, &headers, &fields)?;
    if let Some(max) = limits.max_body_bytes
        && let BodyLength::Length(n) = body
        && n > max
    {
        return Err(Error::BodyTooLarge { limit: max });
    }
    let keep_alive = if version == Version::HTTP_11 {
        !fields.close
    } else {
        fields.keep_alive && !fields.close
    };
    let expect_continue = match (fields.expect_count, fields.expect_continue) {
        (0, _) => false,
        // RFC 9110 10.1.1: ignore 100-continue in HTTP/1.0 requests.
        (1, true) => version == Version::HTTP_11,
        _ => return Err(Error::UnsupportedExpectation),
    };
    let upgrade = method == Method::CONNECT
        || (version == Version::HTTP_11 && fields.upgrade && fields.connection_upgrade);
    Ok(Some(RequestHead {
        method,
        uri,
        version,
        headers,
        body,
        keep_alive,
        expect_continue,
        upgrade,
    }))
}

/// Refuses bare LFs in a complete head, looking only at line ends. httparse accepts a
/// line ending in CRLF or LF and allows no LF inside a line, so a CR before each line's
/// LF is all there is to check: before the request line (skipped empty lines), after the
/// version, after each field value (past trailing whitespace), and the blank line.
fn check_request_line_ends(
    head: &[u8],
    method: &str,
    path: &str,
    fields: &[httparse::Header<'_>],
) -> Result<()> {
    let bare = || {
        Err(Error::InvalidHead {
            reason: "bare LF where CRLF is required",
        })
    };
    let base = head.as_ptr() as usize;
    let method_start = method.as_ptr() as usize - base;
    if !head[..method_start].chunks(2).all(|pair| pair == b"\r\n") {
        return bare();
    }
    // `SP HTTP/1.x` follows the target; then the line end.
    let version_end = path.as_ptr() as usize - base + path.len() + 9;
    if head.get(version_end) != Some(&b'\r') {
        return bare();
    }
    for field in fields {
        let mut end = field.value.as_ptr() as usize - base + field.value.len();
        while matches!(head.get(end), Some(b' ' | b'\t')) {
            end += 1;
        }
        if head.get(end) != Some(&b'\r') {
            return bare();
        }
    }
    if !head.ends_with(b"\r\n\r\n") {
        return bare();
    }
    Ok(())
}

/// RFC 9112 3.2: origin-form (`/path`), absolute-form (`http://host/path`),
/// authority-form only with CONNECT, asterisk-form only with OPTIONS.
fn check_target_form(method: &Method, uri: &Uri) -> Result<()> {
    let bad = |reason| Err(Error::InvalidHead { reason });
    if method == Method::CONNECT {
        if uri.scheme().is_some() || uri.authority().is_none() || uri.path_and_query().is_some() {
            return bad("CONNECT needs an authority-form target (host:port)");
        }
        return Ok(());
    }
    if uri.scheme().is_some() {
        return Ok(());
    }
    if uri.authority().is_some() {
        return bad("authority-form target is only allowed with CONNECT");
    }
    if uri.path() == "*" {
        if method != Method::OPTIONS {
            return bad("asterisk-form target is only allowed with OPTIONS");
        }
        return Ok(());
    }
    if !uri.path().starts_with('/') {
        return bad("request target must start with /");
    }
    Ok(())
}

/// RFC 9112 3.2: an HTTP/1.1 request carries exactly one Host field, and its value is a
/// plausible `host[:port]` (a value with spaces or slashes would be read differently by
/// different servers, which is how routing is smuggled).
fn check_host(fields: &Fields) -> Result<()> {
    match fields.host_count {
        0 => Err(Error::InvalidHost {
            reason: "the Host field is missing",
        }),
        1 if fields.host_invalid => Err(Error::InvalidHost {
            reason: "the Host value is not a host[:port]",
        }),
        1 => Ok(()),
        _ => Err(Error::InvalidHost {
            reason: "the Host field appears more than once",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Result<Option<RequestHead>> {
        parse_request_head(&mut BytesMut::from(raw), &Limits::default())
    }

    fn err(raw: &[u8]) -> Error {
        parse(raw).expect_err(&String::from_utf8_lossy(raw))
    }

    #[test]
    fn parses_a_simple_get_and_keeps_the_rest() {
        let mut buf = BytesMut::from(&b"GET /a?b=c HTTP/1.1\r\nHost: x:1\r\nX-Y: z\r\n\r\nGET"[..]);
        let head = parse_request_head(&mut buf, &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!(head.method, Method::GET);
        assert_eq!(head.uri.path(), "/a");
        assert_eq!(head.uri.query(), Some("b=c"));
        assert_eq!(head.headers["x-y"], "z");
        assert_eq!(head.body, BodyLength::Empty);
        assert!(head.keep_alive && !head.expect_continue && !head.upgrade);
        assert_eq!(&buf[..], b"GET");
    }

    #[test]
    fn partial_heads_wait() {
        assert!(parse(b"GET / HTTP/1.1\r\nHost: a\r\n").unwrap().is_none());
        assert!(parse(b"").unwrap().is_none());
    }

    #[test]
    fn keep_alive_rules() {
        let ka = |raw: &[u8]| parse(raw).unwrap().unwrap().keep_alive;
        assert!(ka(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        assert!(!ka(
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        ));
        assert!(!ka(b"GET / HTTP/1.0\r\n\r\n"));
        assert!(ka(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
    }

    #[test]
    fn expect_and_upgrade() {
        let h = parse(
            b"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert!(h.expect_continue);
        assert!(matches!(
            err(b"PUT / HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\n\r\n"),
            Error::UnsupportedExpectation
        ));
        let h = parse(
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert!(h.upgrade);
        let h = parse(b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(h.upgrade);
    }

    #[test]
    fn smuggling_shapes_are_refused() {
        let cases: &[&[u8]] = &[
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
            b"POST / HTTP/1.1\nHost: a\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost : a\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length : 1\r\nHost: a\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
            b"GET x HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET a:80 HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n",
        ];
        for raw in cases {
            let e = err(raw);
            assert_eq!(
                e.status(),
                Some(http::StatusCode::BAD_REQUEST),
                "{:?}: {e}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn limits_have_their_statuses() {
        let long = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(9000));
        assert!(matches!(err(long.as_bytes()), Error::UriTooLong { .. }));
        let mut many = String::from("GET / HTTP/1.1\r\nHost: a\r\n");
        for i in 0..100 {
            many += &format!("X-{i}: v\r\n");
        }
        many += "\r\n";
        assert!(matches!(
            err(many.as_bytes()),
            Error::TooManyHeaders { limit: 100 }
        ));
        let big = format!(
            "GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n",
            "v".repeat(70_000)
        );
        assert!(matches!(err(big.as_bytes()), Error::HeadTooLarge { .. }));
        // A partial head over the limit is refused without waiting for the end.
        let big = format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}", "v".repeat(70_000));
        assert!(matches!(err(big.as_bytes()), Error::HeadTooLarge { .. }));
        assert!(matches!(
            err(b"GET / HTTP/2.0\r\n\r\n"),
            Error::UnsupportedVersion
        ));
        let limits = Limits::default().max_body_bytes(Some(10));
        let mut buf =
            BytesMut::from(&b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n"[..]);
        assert!(matches!(
            parse_request_head(&mut buf, &limits),
            Err(Error::BodyTooLarge { limit: 10 })
        ));
    }
}
