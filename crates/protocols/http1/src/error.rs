//! The crate's one error type, and the HTTP status each error is answered with.

use std::fmt;
use std::io;
use std::time::Duration;

use http::StatusCode;

/// Everything that can go wrong in `ghostnet-http1`.
///
/// Messages are lowercase, say what happened and, where there is one, what to do.
/// [`Error::status`] gives the status code a server answers the error with (400 for
/// malformed or ambiguous messages, 413/414/431 for limits, 408 for a slow head).
///
/// ```
/// use ghostnet_http1::Error;
/// use http::StatusCode;
///
/// let e = Error::InvalidContentLength { reason: "it is not a plain decimal number" };
/// assert_eq!(e.status(), Some(StatusCode::BAD_REQUEST));
/// assert!(e.to_string().starts_with("invalid content-length"));
/// ```
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// The connection failed while reading or writing.
    Io(io::Error),
    /// Accepting a connection failed.
    Accept(ghostnet_transport::Error),
    /// A request or status line, or a header field, is not valid HTTP/1.1 syntax.
    InvalidHead {
        /// What is wrong, e.g. `bare LF where CRLF is required`.
        reason: &'static str,
    },
    /// The message asks for an HTTP version other than 1.0 or 1.1.
    UnsupportedVersion,
    /// The message head is larger than [`Limits::max_head_bytes`](crate::Limits).
    HeadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The message has more header fields than [`Limits::max_headers`](crate::Limits).
    TooManyHeaders {
        /// The limit.
        limit: usize,
    },
    /// The request target is longer than [`Limits::max_uri_bytes`](crate::Limits).
    UriTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// A `Content-Length` field is missing its number, repeated, or not a plain number.
    InvalidContentLength {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The message's framing is ambiguous or not allowed (request smuggling shapes):
    /// `Content-Length` with `Transfer-Encoding`, chunked not last, or
    /// `Transfer-Encoding` in HTTP/1.0.
    AmbiguousFraming {
        /// Which rule was broken.
        reason: &'static str,
    },
    /// The message uses a transfer coding this implementation does not decode.
    UnsupportedTransferCoding,
    /// A request lacks the single `Host` field HTTP/1.1 requires.
    InvalidHost {
        /// What is wrong.
        reason: &'static str,
    },
    /// The request's `Expect` field asks for something other than `100-continue`.
    UnsupportedExpectation,
    /// A chunk-size line or chunk delimiter of a chunked body is malformed.
    InvalidChunk {
        /// What is wrong, e.g. `chunk size is not hexadecimal`.
        reason: &'static str,
    },
    /// The chunk extensions of one message add up to more than the limit.
    ChunkExtensionsTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The trailer section of a chunked message is larger than the limit.
    TrailersTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A body is longer than the limit set for it.
    BodyTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The connection closed before the body was complete.
    IncompleteBody,
    /// The peer did not send the message head, or the next piece of the body, in time.
    Timeout {
        /// `request head`, `request body`, ...
        what: &'static str,
        /// The limit that passed.
        after: Duration,
    },
    /// The body can no longer be read: the connection moved on, closed, or the sender
    /// of a channel body was dropped before finishing.
    BodyClosed,
    /// A response body produced a different number of bytes than its `Content-Length`.
    BodyLengthMismatch {
        /// What `Content-Length` promised.
        expected: u64,
        /// What the body produced (at least).
        actual: u64,
    },
    /// A response the handler returned cannot be sent as HTTP/1.1.
    InvalidResponse {
        /// What is wrong.
        reason: &'static str,
    },
    /// The response body failed while it was being produced (e.g. a file read error).
    Body(Box<dyn std::error::Error + Send + Sync>),
    /// No upgrade happened: the response was not `101 Switching Protocols` (or a 2xx to
    /// `CONNECT`), or the connection failed first.
    NoUpgrade,
    /// A request URL cannot be used: not absolute, no host, credentials in it, port 0.
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it, and what to give instead.
        reason: &'static str,
    },
    /// The URL's scheme is not one the client speaks (`http`, `https`).
    UnsupportedScheme {
        /// The scheme as given.
        scheme: String,
    },
    /// Opening a connection failed: name resolution, connect, TLS handshake, or the
    /// connection pool's limits and timeouts.
    Connect(ghostnet_transport::Error),
    /// A request cannot be sent as given (conflicting framing fields, CONNECT, ...).
    InvalidRequest {
        /// What is wrong.
        reason: &'static str,
    },
    /// The connection closed or was reset before any byte of the response arrived. The
    /// client retries this once on a new connection when it is safe (idempotent method,
    /// replayable body, a reused keep-alive connection); otherwise it reports it.
    NoResponse {
        /// The request's method.
        method: http::Method,
        /// Why the request was not sent again, when it was not.
        not_retried: Option<&'static str>,
        /// The I/O error, when the connection reported one rather than closing.
        source: Option<io::Error>,
    },
    /// A redirect chain was longer than the limit.
    TooManyRedirects {
        /// The limit.
        limit: usize,
        /// Where the last redirect pointed.
        last: String,
    },
    /// A redirect's `Location` cannot be followed.
    InvalidRedirect {
        /// The `Location` value (lossily decoded).
        location: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A redirect from `https` to `http` was refused (allow it with
    /// `ClientBuilder::allow_https_downgrade`).
    InsecureRedirect {
        /// The `https` URL that redirected.
        from: String,
        /// The `http` URL it pointed to.
        to: String,
    },
    /// The response body's content coding (gzip, br, deflate, zstd) is corrupt.
    Decompress {
        /// The content coding.
        encoding: &'static str,
        /// The decoder's error.
        source: io::Error,
    },
    /// Decoding a compressed response body produced far more bytes than arrived: a
    /// decompression bomb, stopped at the limit.
    DecompressionBomb {
        /// The content coding.
        encoding: &'static str,
        /// Encoded bytes received when it was stopped.
        wire: u64,
        /// Decoded bytes produced when it was stopped.
        decoded: u64,
    },
    /// A client setting cannot be used.
    InvalidConfig {
        /// The setting, e.g. `request_timeout`.
        field: &'static str,
        /// Why, and what to use instead.
        reason: String,
    },
}

impl Error {
    /// The status code a server answers this error with, or `None` when the error is not
    /// the peer's fault or no response can be sent (I/O, closed body, handler errors).
    pub fn status(&self) -> Option<StatusCode> {
        Some(match self {
            Self::InvalidHead { .. }
            | Self::InvalidContentLength { .. }
            | Self::AmbiguousFraming { .. }
            | Self::InvalidHost { .. }
            | Self::InvalidChunk { .. }
            | Self::ChunkExtensionsTooLarge { .. }
            | Self::TrailersTooLarge { .. }
            | Self::IncompleteBody => StatusCode::BAD_REQUEST,
            Self::UnsupportedVersion => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
            Self::HeadTooLarge { .. } | Self::TooManyHeaders { .. } => {
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            Self::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            Self::UnsupportedTransferCoding => StatusCode::NOT_IMPLEMENTED,
            Self::UnsupportedExpectation => StatusCode::EXPECTATION_FAILED,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Timeout { .. } => StatusCode::REQUEST_TIMEOUT,
            _ => return None,
        })
    }

    /// A copy for a second receiver (the handler's body and the connection both see a
    /// body error); errors that cannot be cloned keep their kind and message.
    pub(crate) fn duplicate(&self) -> Self {
        match self {
            Self::Io(e) => Self::Io(io::Error::new(e.kind(), e.to_string())),
            Self::Accept(e) => Self::Io(io::Error::other(e.to_string())),
            Self::Body(e) => Self::Body(e.to_string().into()),
            Self::InvalidHead { reason } => Self::InvalidHead { reason },
            Self::UnsupportedVersion => Self::UnsupportedVersion,
            Self::HeadTooLarge { limit } => Self::HeadTooLarge { limit: *limit },
            Self::TooManyHeaders { limit } => Self::TooManyHeaders { limit: *limit },
            Self::UriTooLong { limit } => Self::UriTooLong { limit: *limit },
            Self::InvalidContentLength { reason } => Self::InvalidContentLength { reason },
            Self::AmbiguousFraming { reason } => Self::AmbiguousFraming { reason },
            Self::UnsupportedTransferCoding => Self::UnsupportedTransferCoding,
            Self::InvalidHost { reason } => Self::InvalidHost { reason },
            Self::UnsupportedExpectation => Self::UnsupportedExpectation,
            Self::InvalidChunk { reason } => Self::InvalidChunk { reason },
            Self::ChunkExtensionsTooLarge { limit } => {
                Self::ChunkExtensionsTooLarge { limit: *limit }
            }
            Self::TrailersTooLarge { limit } => Self::TrailersTooLarge { limit: *limit },
            Self::BodyTooLarge { limit } => Self::BodyTooLarge { limit: *limit },
            Self::IncompleteBody => Self::IncompleteBody,
            Self::Timeout { what, after } => Self::Timeout {
                what,
                after: *after,
            },
            Self::BodyClosed => Self::BodyClosed,
            Self::BodyLengthMismatch { expected, actual } => Self::BodyLengthMismatch {
                expected: *expected,
                actual: *actual,
            },
            Self::InvalidResponse { reason } => Self::InvalidResponse { reason },
            Self::NoUpgrade => Self::NoUpgrade,
            Self::InvalidUrl { url, reason } => Self::InvalidUrl {
                url: url.clone(),
                reason,
            },
            Self::UnsupportedScheme { scheme } => Self::UnsupportedScheme {
                scheme: scheme.clone(),
            },
            Self::Connect(e) => Self::Io(io::Error::other(e.to_string())),
            Self::InvalidRequest { reason } => Self::InvalidRequest { reason },
            Self::NoResponse {
                method,
                not_retried,
                source,
            } => Self::NoResponse {
                method: method.clone(),
                not_retried: *not_retried,
                source: source
                    .as_ref()
                    .map(|e| io::Error::new(e.kind(), e.to_string())),
            },
            Self::TooManyRedirects { limit, last } => Self::TooManyRedirects {
                limit: *limit,
                last: last.clone(),
            },
            Self::InvalidRedirect { location, reason } => Self::InvalidRedirect {
                location: location.clone(),
                reason,
            },
            Self::InsecureRedirect { from, to } => Self::InsecureRedirect {
                from: from.clone(),
                to: to.clone(),
            },
            Self::Decompress { encoding, source } => Self::Decompress {
                encoding,
                source: io::Error::new(source.kind(), source.to_string()),
            },
            Self::DecompressionBomb {
                encoding,
                wire,
                decoded,
            } => Self::DecompressionBomb {
                encoding,
                wire: *wire,
                decoded: *decoded,
            },
            Self::InvalidConfig { field, reason } => Self::InvalidConfig {
                field,
                reason: reason.clone(),
            },
        }
    }

    /// Whether the error is the peer breaking the protocol (as opposed to I/O failing, a
    /// timeout, or the local side misbehaving).
    pub fn is_protocol(&self) -> bool {
        !matches!(
            self,
            Self::Io(_)
                | Self::Accept(_)
                | Self::Timeout { .. }
                | Self::BodyClosed
                | Self::BodyLengthMismatch { .. }
                | Self::InvalidResponse { .. }
                | Self::Body(_)
                | Self::NoUpgrade
                | Self::InvalidUrl { .. }
                | Self::UnsupportedScheme { .. }
                | Self::Connect(_)
                | Self::InvalidRequest { .. }
                | Self::NoResponse { .. }
                | Self::TooManyRedirects { .. }
                | Self::InsecureRedirect { .. }
                | Self::InvalidConfig { .. }
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "connection i/o failed: {e}"),
            Self::Accept(e) => write!(f, "accepting a connection failed: {e}"),
            Self::InvalidHead { reason } => write!(
                f,
                "invalid message head: {reason} (the peer must send RFC 9112 syntax)"
            ),
            Self::UnsupportedVersion => {
                f.write_str("unsupported http version: only HTTP/1.0 and HTTP/1.1 are served")
            }
            Self::HeadTooLarge { limit } => write!(
                f,
                "message head exceeds {limit} bytes; send smaller headers or raise Limits::max_head_bytes"
            ),
            Self::TooManyHeaders { limit } => write!(
                f,
                "message has more than {limit} header fields; send fewer or raise Limits::max_headers"
            ),
            Self::UriTooLong { limit } => write!(
                f,
                "request target exceeds {limit} bytes; shorten it or raise Limits::max_uri_bytes"
            ),
            Self::InvalidContentLength { reason } => write!(
                f,
                "invalid content-length: {reason} (exactly one field with a decimal number is accepted)"
            ),
            Self::AmbiguousFraming { reason } => write!(
                f,
                "ambiguous message framing: {reason}; refused to prevent request smuggling"
            ),
            Self::UnsupportedTransferCoding => f.write_str(
                "unsupported transfer-encoding: only `chunked` is decoded; send the body chunked or with content-length",
            ),
            Self::InvalidHost { reason } => write!(
                f,
                "invalid host: {reason} (HTTP/1.1 requests carry exactly one Host field)"
            ),
            Self::UnsupportedExpectation => {
                f.write_str("unsupported expect field: only `100-continue` is understood")
            }
            Self::InvalidChunk { reason } => write!(f, "invalid chunked body: {reason}"),
            Self::ChunkExtensionsTooLarge { limit } => write!(
                f,
                "chunk extensions exceed {limit} bytes in one message; raise Limits::max_chunk_extension_bytes if they are legitimate"
            ),
            Self::TrailersTooLarge { limit } => write!(
                f,
                "trailer section exceeds {limit} bytes; raise Limits::max_trailer_bytes if it is legitimate"
            ),
            Self::BodyTooLarge { limit } => write!(
                f,
                "body exceeds the limit of {limit} bytes; send less or raise the limit for this route"
            ),
            Self::IncompleteBody => {
                f.write_str("connection closed before the message body was complete")
            }
            Self::Timeout { what, after } => write!(
                f,
                "timed out after {after:?} waiting for the {what}; the peer is too slow or the timeout too short"
            ),
            Self::BodyClosed => f.write_str(
                "the body can no longer be read: its connection moved on or its sender was dropped",
            ),
            Self::BodyLengthMismatch { expected, actual } => write!(
                f,
                "response body produced {actual} bytes but content-length promised {expected}; make them agree"
            ),
            Self::InvalidResponse { reason } => write!(f, "cannot send the response: {reason}"),
            Self::Body(e) => write!(f, "the response body failed: {e}"),
            Self::NoUpgrade => f.write_str(
                "the connection was not upgraded: answer with 101 Switching Protocols (or 2xx to CONNECT) first",
            ),
            Self::InvalidUrl { url, reason } => write!(f, "invalid URL {url:?}: {reason}"),
            Self::UnsupportedScheme { scheme } => write!(
                f,
                "unsupported URL scheme `{scheme}`: the client speaks http and https"
            ),
            Self::Connect(e) => write!(f, "could not open a connection: {e}"),
            Self::InvalidRequest { reason } => write!(f, "cannot send the request: {reason}"),
            Self::NoResponse {
                method,
                not_retried,
                source,
            } => {
                write!(
                    f,
                    "the connection closed before any response to the {method} request arrived"
                )?;
                if let Some(e) = source {
                    write!(f, " ({e})")?;
                }
                match not_retried {
                    Some(why) => write!(f, "; not retried: {why}"),
                    None => f.write_str("; a retry on a new connection failed the same way"),
                }
            }
            Self::TooManyRedirects { limit, last } => write!(
                f,
                "more than {limit} redirects (the last pointed to {last}); the server may loop, or raise the redirect limit"
            ),
            Self::InvalidRedirect { location, reason } => {
                write!(f, "cannot follow the redirect to {location:?}: {reason}")
            }
            Self::InsecureRedirect { from, to } => write!(
                f,
                "refused to follow a redirect from {from} to plain-http {to}; allow it with ClientBuilder::allow_https_downgrade if that is intended"
            ),
            Self::Decompress { encoding, source } => write!(
                f,
                "the {encoding}-encoded response body is corrupt: {source}"
            ),
            Self::DecompressionBomb {
                encoding,
                wire,
                decoded,
            } => write!(
                f,
                "the {encoding}-encoded response body expanded from {wire} to over {decoded} bytes, past the decompression limit; raise ClientBuilder::max_decompression_ratio if it is legitimate"
            ),
            Self::InvalidConfig { field, reason } => {
                write!(f, "invalid client config: `{field}` {reason}")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Accept(e) | Self::Connect(e) => Some(e),
            Self::Body(e) => Some(e.as_ref()),
            Self::NoResponse {
                source: Some(e), ..
            }
            | Self::Decompress { source: e, .. } => Some(e),
            _ => None,
        }
    }
}

/// A decoding error as this crate reports it: the body's own error as it is.
impl From<crate::coding::DecodeError<Error>> for Error {
    fn from(e: crate::coding::DecodeError<Error>) -> Self {
        use crate::coding::DecodeError;
        match e {
            DecodeError::Body(e) => e,
            DecodeError::Corrupt { encoding, source } => Self::Decompress { encoding, source },
            DecodeError::Bomb {
                encoding,
                wire,
                decoded,
            } => Self::DecompressionBomb {
                encoding,
                wire,
                decoded,
            },
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_messages() {
        assert_eq!(
            Error::HeadTooLarge { limit: 1 }.status(),
            Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
        assert_eq!(
            Error::UriTooLong { limit: 1 }.status(),
            Some(StatusCode::URI_TOO_LONG)
        );
        assert_eq!(
            Error::BodyTooLarge { limit: 1 }.status(),
            Some(StatusCode::PAYLOAD_TOO_LARGE)
        );
        assert_eq!(Error::BodyClosed.status(), None);
        assert!(Error::InvalidChunk { reason: "x" }.is_protocol());
        assert!(!Error::Io(io::ErrorKind::BrokenPipe.into()).is_protocol());
        let msg = Error::TooManyHeaders { limit: 100 }.to_string();
        assert!(msg.contains("raise Limits::max_headers"), "{msg}");
        assert!(msg.chars().next().unwrap().is_lowercase());
    }
}
