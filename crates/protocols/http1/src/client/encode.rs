//! Encoding a request head, sans-IO: the request line, `Host`, the caller's fields, and
//! the framing fields this client chooses (`Content-Length` or chunked).

use bytes::BufMut;
use http::header::{
    ACCEPT_ENCODING, CONTENT_LENGTH, EXPECT, HOST, HeaderMap, HeaderValue, TRANSFER_ENCODING,
    USER_AGENT,
};
use http::{Method, Uri};

use crate::codec::BodyEncoder;
use crate::codec::body_length::{parse_decimal, trim_ows};
use crate::coding::ACCEPT_ENCODING_VALUE;
use crate::error::{Error, Result};

/// How the request body goes on the wire, decided from the body and the caller's fields.
///
/// ```text
/// caller's Content-Length   body size known   -> framing
/// yes (must match)          any               -> Length(n)
/// no                        Some(n > 0)       -> Length(n)
/// no                        Some(0) / empty   -> Length(0) for POST/PUT/PATCH, else none
/// no                        None (a stream)   -> chunked
/// ```
pub(crate) fn framing(
    method: &Method,
    headers: &HeaderMap,
    body_len: Option<u64>,
) -> Result<BodyEncoder> {
    if let Some(te) = headers.get(TRANSFER_ENCODING)
        && !trim_ows(te.as_bytes()).eq_ignore_ascii_case(b"chunked")
    {
        return Err(Error::InvalidRequest {
            reason: "transfer-encoding other than `chunked` cannot be sent; the client frames the body itself",
        });
    }
    let mut declared = headers.get_all(CONTENT_LENGTH).iter();
    let declared = match (declared.next(), declared.next()) {
        (None, _) => None,
        (Some(v), None) => {
            Some(
                parse_decimal(v.as_bytes()).map_err(|_| Error::InvalidRequest {
                    reason: "the content-length field is not one decimal number",
                })?,
            )
        }
        (Some(_), Some(_)) => {
            return Err(Error::InvalidRequest {
                reason: "the content-length field is given more than once",
            });
        }
    };
    if headers.contains_key(TRANSFER_ENCODING) && declared.is_some() {
        return Err(Error::InvalidRequest {
            reason: "both content-length and transfer-encoding are set; remove one",
        });
    }
    Ok(match (declared, body_len) {
        (Some(d), Some(n)) if d != n => {
            return Err(Error::InvalidRequest {
                reason: "the content-length field differs from the body's length",
            });
        }
        (Some(d), _) => BodyEncoder::Length(d),
        (None, _) if headers.contains_key(TRANSFER_ENCODING) => BodyEncoder::Chunked,
        (None, Some(0)) if expects_body(method) => BodyEncoder::Length(0),
        (None, Some(0)) => BodyEncoder::None,
        (None, Some(n)) => BodyEncoder::Length(n),
        (None, None) => BodyEncoder::Chunked,
    })
}

/// Methods whose requests carry content by definition: an empty one is announced with
/// `Content-Length: 0` (RFC 9110 section 8.6), or some servers wait for a body.
fn expects_body(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH)
}

/// What the client adds to the caller's fields.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Extra<'a> {
    /// `Host`, unless the caller set one.
    pub(crate) host: Option<&'a HeaderValue>,
    /// Send `Accept-Encoding` (the caller did not set one).
    pub(crate) accept_encoding: bool,
    /// `User-Agent`, unless the caller set one.
    pub(crate) user_agent: Option<&'a HeaderValue>,
    /// Add `Expect: 100-continue`.
    pub(crate) expect_continue: bool,
}

/// Appends the request head to `dst`. The caller's `Content-Length` and
/// `Transfer-Encoding` are replaced by what `body` says (see [`framing`]).
pub(crate) fn encode_request_head(
    dst: &mut Vec<u8>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: BodyEncoder,
    extra: Extra<'_>,
) -> Result<()> {
    if *method == Method::CONNECT {
        return Err(Error::InvalidRequest {
            reason: "CONNECT tunnels are not supported by this client",
        });
    }
    dst.reserve(128 + headers.len() * 32);
    dst.put_slice(method.as_str().as_bytes());
    dst.put_u8(b' ');
    match uri.path_and_query().map(|p| p.as_str()) {
        None | Some("") => dst.put_u8(b'/'),
        Some(pq) => {
            if pq.starts_with('?') {
                dst.put_u8(b'/');
            }
            dst.put_slice(pq.as_bytes());
        }
    }
    dst.put_slice(b" HTTP/1.1\r\n");
    if let Some(host) = extra.host
        && !headers.contains_key(HOST)
    {
        field(dst, b"host", host.as_bytes());
    }
    for (name, value) in headers {
        if name == CONTENT_LENGTH || name == TRANSFER_ENCODING {
            continue;
        }
        field(dst, name.as_str().as_bytes(), value.as_bytes());
    }
    if let Some(ua) = extra.user_agent
        && !headers.contains_key(USER_AGENT)
    {
        field(dst, b"user-agent", ua.as_bytes());
    }
    if extra.accept_encoding && !headers.contains_key(ACCEPT_ENCODING) {
        field(dst, b"accept-encoding", ACCEPT_ENCODING_VALUE.as_bytes());
    }
    if extra.expect_continue && !headers.contains_key(EXPECT) {
        field(dst, b"expect", b"100-continue");
    }
    match body {
        BodyEncoder::Length(n) => {
            field(
                dst,
                b"content-length",
                itoa::Buffer::new().format(n).as_bytes(),
            );
        }
        BodyEncoder::Chunked => field(dst, b"transfer-encoding", b"chunked"),
        BodyEncoder::None | BodyEncoder::CloseDelimited => {}
    }
    dst.put_slice(b"\r\n");
    Ok(())
}

fn field(dst: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    dst.put_slice(name);
    dst.put_slice(b": ");
    dst.put_slice(value);
    dst.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(method: Method, uri: &str, fields: &[(&str, &str)], body: BodyEncoder) -> String {
        let mut h = HeaderMap::new();
        for (n, v) in fields {
            h.append(
                http::header::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let host = HeaderValue::from_static("a.test");
        let mut out = Vec::new();
        let extra = Extra {
            host: Some(&host),
            accept_encoding: true,
            ..Extra::default()
        };
        encode_request_head(&mut out, &method, &uri.parse().unwrap(), &h, body, extra).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn request_line_and_fields() {
        assert_eq!(
            head(Method::GET, "http://a.test", &[], BodyEncoder::None),
            "GET / HTTP/1.1\r\nhost: a.test\r\naccept-encoding: gzip, br, zstd, deflate\r\n\r\n"
        );
        let s = head(
            Method::POST,
            "http://a.test/p?q=1",
            &[
                ("host", "other"),
                ("accept-encoding", "identity"),
                ("content-length", "9"),
            ],
            BodyEncoder::Length(3),
        );
        assert_eq!(
            s,
            "POST /p?q=1 HTTP/1.1\r\nhost: other\r\naccept-encoding: identity\r\ncontent-length: 3\r\n\r\n"
        );
        let s = head(Method::PUT, "http://a.test/x", &[], BodyEncoder::Chunked);
        assert!(s.ends_with("transfer-encoding: chunked\r\n\r\n"), "{s}");
    }

    #[test]
    fn framing_rules() {
        let none = HeaderMap::new();
        let f = |m: Method, h: &HeaderMap, len| framing(&m, h, len);
        assert_eq!(f(Method::GET, &none, Some(0)).unwrap(), BodyEncoder::None);
        assert_eq!(
            f(Method::POST, &none, Some(0)).unwrap(),
            BodyEncoder::Length(0)
        );
        assert_eq!(
            f(Method::POST, &none, Some(7)).unwrap(),
            BodyEncoder::Length(7)
        );
        assert_eq!(f(Method::POST, &none, None).unwrap(), BodyEncoder::Chunked);
        let mut cl = HeaderMap::new();
        cl.insert(CONTENT_LENGTH, HeaderValue::from_static("5"));
        assert_eq!(f(Method::PUT, &cl, None).unwrap(), BodyEncoder::Length(5));
        assert!(f(Method::PUT, &cl, Some(4)).is_err());
        let mut te = HeaderMap::new();
        te.insert(TRANSFER_ENCODING, HeaderValue::from_static("gzip"));
        assert!(f(Method::PUT, &te, None).is_err());
        te.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        assert_eq!(f(Method::PUT, &te, Some(3)).unwrap(), BodyEncoder::Chunked);
        te.insert(CONTENT_LENGTH, HeaderValue::from_static("3"));
        assert!(f(Method::PUT, &te, Some(3)).is_err());
        let mut bad = HeaderMap::new();
        bad.insert(CONTENT_LENGTH, HeaderValue::from_static("1,1"));
        assert!(f(Method::PUT, &bad, None).is_err());
    }

    #[test]
    fn connect_is_refused() {
        let mut out = Vec::new();
        let e = encode_request_head(
            &mut out,
            &Method::CONNECT,
            &"http://a.test/".parse().unwrap(),
            &HeaderMap::new(),
            BodyEncoder::None,
            Extra::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("CONNECT"), "{e}");
    }
}
