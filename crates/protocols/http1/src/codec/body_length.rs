//! How long a message body is (RFC 9112 section 6.3), decided from the framing fields
//! with the strict rules that close request-smuggling doors.

use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, Method, StatusCode, Version};

use crate::error::{Error, Result};

/// How a message body is delimited.
///
/// ```
/// use ghostnet_http1::codec::BodyLength;
/// assert!(BodyLength::Empty.is_empty());
/// assert_eq!(BodyLength::Length(5).exact(), Some(5));
/// assert_eq!(BodyLength::Chunked.exact(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLength {
    /// No body at all.
    Empty,
    /// Exactly this many bytes (`Content-Length`; never 0, which is [`BodyLength::Empty`]).
    Length(u64),
    /// `Transfer-Encoding: chunked`, ended by a zero-size chunk and optional trailers.
    Chunked,
    /// Everything until the connection closes (responses only).
    CloseDelimited,
}

impl BodyLength {
    /// Whether there is no body.
    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Empty)
    }

    /// The exact length when it is known up front (0 for [`BodyLength::Empty`]).
    pub fn exact(&self) -> Option<u64> {
        match self {
            Self::Empty => Some(0),
            Self::Length(n) => Some(*n),
            Self::Chunked | Self::CloseDelimited => None,
        }
    }

    fn from_content_length(n: u64) -> Self {
        if n == 0 { Self::Empty } else { Self::Length(n) }
    }
}

/// The body length of a request (RFC 9112 section 6.3, strict form).
///
/// Refused: `Content-Length` together with `Transfer-Encoding`; `Transfer-Encoding` in
/// HTTP/1.0; chunked not the last coding, or applied twice; any `Content-Length` that is
/// not exactly one field holding one plain decimal number.
///
/// ```
/// use ghostnet_http1::codec::{request_body_length, BodyLength};
/// use http::{HeaderMap, Version};
///
/// let mut h = HeaderMap::new();
/// h.insert("content-length", "12".parse().unwrap());
/// assert_eq!(request_body_length(Version::HTTP_11, &h).unwrap(), BodyLength::Length(12));
/// h.insert("transfer-encoding", "chunked".parse().unwrap());
/// assert!(request_body_length(Version::HTTP_11, &h).is_err()); // CL + TE: smuggling shape
/// ```
pub fn request_body_length(version: Version, headers: &HeaderMap) -> Result<BodyLength> {
    let has_te = headers.contains_key(TRANSFER_ENCODING);
    let content_length = content_length(headers)?;
    if has_te {
        if version == Version::HTTP_10 {
            return Err(Error::AmbiguousFraming {
                reason: "transfer-encoding in an HTTP/1.0 request",
            });
        }
        if content_length.is_some() {
            return Err(Error::AmbiguousFraming {
                reason: "both content-length and transfer-encoding are present",
            });
        }
        return match transfer_coding(headers)? {
            Coding::Chunked => Ok(BodyLength::Chunked),
            Coding::NotChunkedLast => Err(Error::AmbiguousFraming {
                reason: "chunked is not the final transfer coding of a request",
            }),
        };
    }
    Ok(content_length.map_or(BodyLength::Empty, BodyLength::from_content_length))
}

/// [`request_body_length`] from fields noted while parsing (no map lookups unless a
/// `Transfer-Encoding` must be read).
pub(crate) fn request_body_length_noted(
    version: Version,
    headers: &HeaderMap,
    fields: &crate::codec::head::Fields,
) -> Result<BodyLength> {
    let content_length = match (fields.content_length_count, &fields.content_length) {
        (0, _) | (_, None) => None,
        (1, Some(Ok(n))) => Some(*n),
        (1, Some(Err(e))) => return Err(e.duplicate()),
        _ => {
            return Err(Error::InvalidContentLength {
                reason: "the field appears more than once",
            });
        }
    };
    if fields.transfer_encoding {
        return request_body_length(version, headers);
    }
    Ok(content_length.map_or(BodyLength::Empty, BodyLength::from_content_length))
}

/// Whether a response to a `method` request has no content whatever its fields say
/// (RFC 9110 section 6.4.1): HEAD, 1xx, 204, 304, and 2xx to CONNECT. True in every
/// HTTP version, so HTTP/2 clients use it too (say, to know there is nothing to
/// content-decode).
///
/// ```
/// use ghostnet_http1::codec::response_has_no_content;
/// use http::{Method, StatusCode};
///
/// assert!(response_has_no_content(&Method::HEAD, StatusCode::OK));
/// assert!(response_has_no_content(&Method::GET, StatusCode::NOT_MODIFIED));
/// assert!(!response_has_no_content(&Method::GET, StatusCode::OK));
/// ```
pub fn response_has_no_content(method: &Method, status: StatusCode) -> bool {
    method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || (method == Method::CONNECT && status.is_success())
}

/// The body length of a response to a `method` request (RFC 9112 section 6.3): none for
/// HEAD, 1xx, 204, 304 and 2xx to CONNECT; chunked; `Content-Length`; or until close.
///
/// ```
/// use ghostnet_http1::codec::{response_body_length, BodyLength};
/// use http::{HeaderMap, Method, StatusCode, Version};
///
/// let h = HeaderMap::new();
/// let len = |m, s| response_body_length(&m, s, Version::HTTP_11, &h).unwrap();
/// assert_eq!(len(Method::GET, StatusCode::OK), BodyLength::CloseDelimited);
/// assert_eq!(len(Method::HEAD, StatusCode::OK), BodyLength::Empty);
/// assert_eq!(len(Method::GET, StatusCode::NOT_MODIFIED), BodyLength::Empty);
/// ```
pub fn response_body_length(
    method: &Method,
    status: StatusCode,
    version: Version,
    headers: &HeaderMap,
) -> Result<BodyLength> {
    if response_has_no_content(method, status) {
        return Ok(BodyLength::Empty);
    }
    let content_length = content_length(headers)?;
    if headers.contains_key(TRANSFER_ENCODING) {
        if content_length.is_some() {
            return Err(Error::AmbiguousFraming {
                reason: "both content-length and transfer-encoding are present",
            });
        }
        if version == Version::HTTP_10 {
            return Err(Error::AmbiguousFraming {
                reason: "transfer-encoding in an HTTP/1.0 response",
            });
        }
        return Ok(match transfer_coding(headers)? {
            Coding::Chunked => BodyLength::Chunked,
            // RFC 9112 6.3 rule 4: a response whose final coding is not chunked is
            // delimited by the connection closing.
            Coding::NotChunkedLast => BodyLength::CloseDelimited,
        });
    }
    Ok(content_length.map_or(BodyLength::CloseDelimited, BodyLength::from_content_length))
}

/// The value of the single `Content-Length` field, if there is one.
///
/// Strict: a second field (even with the same value), a list (`1,1`), signs, inner
/// whitespace, an empty value or a number over `u64` are all refused, because another
/// parser on the path may read them differently.
pub(crate) fn content_length(headers: &HeaderMap) -> Result<Option<u64>> {
    let mut values = headers.get_all(CONTENT_LENGTH).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Error::InvalidContentLength {
            reason: "the field appears more than once",
        });
    }
    parse_decimal(value.as_bytes()).map(Some)
}

/// A plain decimal number: one or more ASCII digits, nothing else, fits in `u64`.
pub(crate) fn parse_decimal(bytes: &[u8]) -> Result<u64> {
    if bytes.is_empty() {
        return Err(Error::InvalidContentLength {
            reason: "the value is empty",
        });
    }
    let mut n: u64 = 0;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return Err(Error::InvalidContentLength {
                reason: "the value is not a plain decimal number (no lists, signs or spaces)",
            });
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .ok_or(Error::InvalidContentLength {
                reason: "the number is too large",
            })?;
    }
    Ok(n)
}

/// What the `Transfer-Encoding` list says about framing.
enum Coding {
    /// chunked, and only chunked: the body is chunked.
    Chunked,
    /// The final coding is not chunked.
    NotChunkedLast,
}

/// Reads every `Transfer-Encoding` field as one comma-separated list of codings.
fn transfer_coding(headers: &HeaderMap) -> Result<Coding> {
    let mut seen_chunked = false;
    let mut last_is_chunked = false;
    let mut other = false;
    let mut any = false;
    for value in headers.get_all(TRANSFER_ENCODING) {
        for coding in value.as_bytes().split(|&b| b == b',') {
            let coding = trim_ows(coding);
            if coding.is_empty() {
                // RFC 9110 5.6.1: empty list elements are ignored.
                continue;
            }
            if !coding.iter().all(|&b| is_tchar(b)) {
                return Err(Error::AmbiguousFraming {
                    reason: "transfer-encoding holds something other than coding names",
                });
            }
            any = true;
            if seen_chunked {
                return Err(Error::AmbiguousFraming {
                    reason: "chunked is not the final transfer coding",
                });
            }
            if coding.eq_ignore_ascii_case(b"chunked") {
                seen_chunked = true;
                last_is_chunked = true;
            } else {
                other = true;
                last_is_chunked = false;
            }
        }
    }
    if !any {
        return Err(Error::AmbiguousFraming {
            reason: "transfer-encoding is empty",
        });
    }
    match (last_is_chunked, other) {
        (true, false) => Ok(Coding::Chunked),
        // gzip, chunked: framing is clear, but we do not decode gzip transfer coding.
        (true, true) => Err(Error::UnsupportedTransferCoding),
        (false, _) => Ok(Coding::NotChunkedLast),
    }
}

/// Whether a comma-separated header list (e.g. `Connection`) contains `token`,
/// ignoring case and optional whitespace.
pub(crate) fn has_token(headers: &HeaderMap, name: http::header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.as_bytes()
            .split(|&b| b == b',')
            .any(|t| trim_ows(t).eq_ignore_ascii_case(token.as_bytes()))
    })
}

/// Strips optional whitespace (SP and HTAB) from both ends.
pub(crate) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// RFC 9110 tchar: the characters of a token.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(fields: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in fields {
            h.append(
                http::header::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn req(fields: &[(&str, &str)]) -> Result<BodyLength> {
        request_body_length(Version::HTTP_11, &headers(fields))
    }

    #[test]
    fn content_length_forms() {
        assert_eq!(req(&[]).unwrap(), BodyLength::Empty);
        assert_eq!(req(&[("content-length", "0")]).unwrap(), BodyLength::Empty);
        assert_eq!(
            req(&[("content-length", "007")]).unwrap(),
            BodyLength::Length(7)
        );
        assert_eq!(
            req(&[("content-length", "18446744073709551615")]).unwrap(),
            BodyLength::Length(u64::MAX)
        );
        for bad in [
            "",
            "1,1",
            "+1",
            "-1",
            "1 1",
            "0x10",
            "1.0",
            "18446744073709551616",
            "abc",
        ] {
            assert!(
                matches!(
                    req(&[("content-length", bad)]),
                    Err(Error::InvalidContentLength { .. })
                ),
                "{bad:?} accepted"
            );
        }
        assert!(req(&[("content-length", "1"), ("content-length", "1")]).is_err());
    }

    #[test]
    fn transfer_encoding_forms() {
        assert_eq!(
            req(&[("transfer-encoding", "chunked")]).unwrap(),
            BodyLength::Chunked
        );
        assert_eq!(
            req(&[("transfer-encoding", "  CHUNKED , ")]).unwrap(),
            BodyLength::Chunked
        );
        for bad in [
            "chunked, gzip",
            "gzip",
            "chunked, chunked",
            "",
            " , ",
            "chunked;q=1",
            "\"chunked\"",
        ] {
            assert!(
                matches!(
                    req(&[("transfer-encoding", bad)]),
                    Err(Error::AmbiguousFraming { .. })
                ),
                "{bad:?} accepted"
            );
        }
        assert!(matches!(
            req(&[("transfer-encoding", "gzip, chunked")]),
            Err(Error::UnsupportedTransferCoding)
        ));
        // Split over two fields, chunked first: not last.
        assert!(
            req(&[
                ("transfer-encoding", "chunked"),
                ("transfer-encoding", "gzip")
            ])
            .is_err()
        );
        assert!(req(&[("transfer-encoding", "chunked"), ("content-length", "5")]).is_err());
        assert!(
            request_body_length(
                Version::HTTP_10,
                &headers(&[("transfer-encoding", "chunked")])
            )
            .is_err()
        );
    }

    #[test]
    fn response_rules() {
        let get = Method::GET;
        let h = headers(&[("content-length", "5")]);
        let r = |m: &Method, s: u16, h: &HeaderMap| {
            response_body_length(m, StatusCode::from_u16(s).unwrap(), Version::HTTP_11, h)
        };
        assert_eq!(r(&get, 200, &h).unwrap(), BodyLength::Length(5));
        assert_eq!(r(&Method::HEAD, 200, &h).unwrap(), BodyLength::Empty);
        assert_eq!(r(&get, 100, &h).unwrap(), BodyLength::Empty);
        assert_eq!(r(&get, 204, &h).unwrap(), BodyLength::Empty);
        assert_eq!(r(&get, 304, &h).unwrap(), BodyLength::Empty);
        assert_eq!(r(&Method::CONNECT, 200, &h).unwrap(), BodyLength::Empty);
        let te = headers(&[("transfer-encoding", "gzip")]);
        assert_eq!(r(&get, 200, &te).unwrap(), BodyLength::CloseDelimited);
        let te = headers(&[("transfer-encoding", "chunked")]);
        assert_eq!(r(&get, 200, &te).unwrap(), BodyLength::Chunked);
        assert_eq!(
            r(&get, 200, &HeaderMap::new()).unwrap(),
            BodyLength::CloseDelimited
        );
    }

    #[test]
    fn tokens() {
        let h = headers(&[("connection", "Keep-Alive, Upgrade")]);
        assert!(has_token(&h, http::header::CONNECTION, "upgrade"));
        assert!(has_token(&h, http::header::CONNECTION, "keep-alive"));
        assert!(!has_token(&h, http::header::CONNECTION, "close"));
        assert_eq!(trim_ows(b" \tx \t"), b"x");
    }
}
