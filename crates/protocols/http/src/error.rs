//! The crate's one error type, shared by the server and the client side.

use std::fmt;
use std::io;
use std::time::Duration;

use http::StatusCode;

/// A boxed error from a body producer or another crate.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `ghostnet-http`, on the server side and the client
/// side alike.
///
/// Messages are lowercase, say what happened and what to do. [`Error::status`] is the
/// status a server answers the error with, and `Error` is an
/// [`IntoResponse`](crate::IntoResponse), so handlers can use `?`:
///
/// ```
/// use ghostnet_http::Error;
/// use http::StatusCode;
///
/// let e = Error::InvalidParam { name: "id".into(), value: "x".into(), reason: "invalid digit found in string".into() };
/// assert_eq!(e.status(), Some(StatusCode::BAD_REQUEST));
/// assert!(e.to_string().starts_with("path parameter `id`"));
/// ```
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// The HTTP/1.1 layer failed (connection, malformed message, body read).
    Http1(ghostnet_http1::Error),
    /// The HTTP/2 layer failed (connection, stream reset, protocol error).
    Http2(ghostnet_http2::Error),
    /// The transport failed (accept, TLS).
    Transport(ghostnet_transport::Error),
    /// A read or write failed.
    Io(io::Error),
    /// A body is longer than the limit set for it.
    BodyTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// A body producer failed (a file read, a foreign body, an encoder).
    Body(BoxError),
    /// The body's reader is gone (the peer closed the stream or the connection), so
    /// sending more is pointless.
    BodyClosed,
    /// A route pattern cannot be added to a router.
    InvalidRoute {
        /// The pattern, as given.
        pattern: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The route has no path parameter of that name.
    MissingParam {
        /// The name asked for.
        name: String,
    },
    /// A path parameter does not parse as the type asked for.
    InvalidParam {
        /// The parameter's name.
        name: String,
        /// Its value in the request.
        value: String,
        /// Why it does not parse.
        reason: String,
    },
    /// A configuration value is out of range.
    InvalidConfig {
        /// The option.
        field: &'static str,
        /// What is wrong and what is allowed.
        reason: String,
    },
    /// A Server-Sent Event field holds a character its line format cannot carry.
    InvalidEvent {
        /// `event` or `id`.
        field: &'static str,
    },
    /// A URL cannot be requested: not absolute, no host, an unsupported scheme.
    InvalidUrl {
        /// The URL, as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A request cannot be sent as built (an invalid header name or value).
    InvalidRequest {
        /// What is wrong.
        reason: &'static str,
    },
    /// None of the client's protocols can serve an origin (HTTP/3 only, before QUIC;
    /// HTTP/2 only for an `http://` URL without prior knowledge).
    ProtocolUnavailable {
        /// The origin, e.g. `http://example.com:80`.
        origin: String,
        /// Why, and what to configure instead.
        reason: &'static str,
    },
    /// A body is not the JSON expected, or a value does not serialize as JSON.
    Json(serde_json::Error),
    /// A compressed response body (over any protocol) is corrupt or cut short in its
    /// content coding.
    Decompress {
        /// The content coding.
        encoding: &'static str,
        /// The decoder's error.
        source: io::Error,
    },
    /// A compressed response body expanded to far more bytes than arrived: a
    /// decompression bomb, stopped.
    DecompressionBomb {
        /// The content coding.
        encoding: &'static str,
        /// Encoded bytes received when it was stopped.
        wire: u64,
        /// Decoded bytes produced when it was stopped.
        decoded: u64,
    },
    /// A connection did not show which protocol it speaks in time, or (client) no
    /// response head came within the timeout.
    Timeout {
        /// What was being waited for.
        what: &'static str,
        /// The limit that passed.
        after: Duration,
    },
}

impl Error {
    /// The status a server answers this error with, when it is about the request:
    /// 400 for bad path parameters and malformed bodies, 413 for bodies over a limit,
    /// 408 for slow ones; `None` for errors that are not the client's (500 then).
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Http1(e) => e.status(),
            Self::BodyTooLarge { .. } => Some(StatusCode::PAYLOAD_TOO_LARGE),
            Self::Http2(ghostnet_http2::Error::BodyTooLarge { .. }) => {
                Some(StatusCode::PAYLOAD_TOO_LARGE)
            }
            Self::InvalidParam { .. } => Some(StatusCode::BAD_REQUEST),
            Self::Timeout { .. } => Some(StatusCode::REQUEST_TIMEOUT),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Http1(e) => write!(f, "http/1.1: {e}"),
            Self::Http2(e) => write!(f, "http/2: {e}"),
            Self::Transport(e) => write!(f, "transport: {e}"),
            Self::Io(e) => write!(f, "i/o failed: {e}; check the connection or file"),
            Self::BodyTooLarge { limit } => write!(
                f,
                "body is larger than the limit of {limit} bytes; raise it with Body::with_limit if this body is expected"
            ),
            Self::Body(e) => write!(f, "body failed while it was produced: {e}"),
            Self::BodyClosed => {
                f.write_str("the body's reader is gone (the peer closed the stream); stop sending")
            }
            Self::InvalidRoute { pattern, reason } => {
                write!(f, "invalid route `{pattern}`: {reason}")
            }
            Self::MissingParam { name } => write!(
                f,
                "the route has no path parameter `{name}`; check the name against the route pattern"
            ),
            Self::InvalidParam {
                name,
                value,
                reason,
            } => write!(
                f,
                "path parameter `{name}` = {value:?} is not valid: {reason}"
            ),
            Self::InvalidConfig { field, reason } => write!(f, "invalid {field}: {reason}"),
            Self::InvalidEvent { field } => write!(
                f,
                "server-sent event `{field}` contains a line break or NUL; remove it (only `data` may span lines)"
            ),
            Self::InvalidUrl { url, reason } => write!(f, "cannot request {url:?}: {reason}"),
            Self::InvalidRequest { reason } => write!(f, "invalid request: {reason}"),
            Self::ProtocolUnavailable { origin, reason } => {
                write!(f, "no configured protocol can reach {origin}: {reason}")
            }
            Self::Json(e) => write!(f, "json: {e}; check the body against the expected type"),
            Self::Decompress { encoding, source } => write!(
                f,
                "the {encoding}-encoded response body is corrupt: {source}; turn compression off to get the bytes as sent"
            ),
            Self::DecompressionBomb {
                encoding,
                wire,
                decoded,
            } => write!(
                f,
                "the {encoding}-encoded response body expanded from {wire} to over {decoded} bytes, past the decompression limit; turn compression off to read it as sent"
            ),
            Self::Timeout { what, after } => write!(
                f,
                "timed out after {after:?} waiting for {what}; the peer is too slow or silent"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Http1(e) => Some(e),
            Self::Http2(e) => Some(e),
            Self::Transport(e) => Some(e),
            Self::Io(e) => Some(e),
            Self::Body(e) => Some(&**e),
            Self::Json(e) => Some(e),
            Self::Decompress { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<ghostnet_http1::Error> for Error {
    fn from(e: ghostnet_http1::Error) -> Self {
        match e {
            ghostnet_http1::Error::BodyTooLarge { limit } => Self::BodyTooLarge { limit },
            // The same variants as for HTTP/2 bodies: decoding is not about the protocol.
            ghostnet_http1::Error::Decompress { encoding, source } => {
                Self::Decompress { encoding, source }
            }
            ghostnet_http1::Error::DecompressionBomb {
                encoding,
                wire,
                decoded,
            } => Self::DecompressionBomb {
                encoding,
                wire,
                decoded,
            },
            e => Self::Http1(e),
        }
    }
}

impl From<ghostnet_http2::Error> for Error {
    fn from(e: ghostnet_http2::Error) -> Self {
        match e {
            ghostnet_http2::Error::BodyTooLarge { limit } => Self::BodyTooLarge { limit },
            e => Self::Http2(e),
        }
    }
}

/// A decoding error of an HTTP/2 response body.
impl From<ghostnet_http1::coding::DecodeError<ghostnet_http2::Error>> for Error {
    fn from(e: ghostnet_http1::coding::DecodeError<ghostnet_http2::Error>) -> Self {
        use ghostnet_http1::coding::DecodeError;
        match e {
            DecodeError::Body(e) => e.into(),
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
            // A kind added later: keep its message.
            other => Self::Io(io::Error::other(other.to_string())),
        }
    }
}

impl From<ghostnet_transport::Error> for Error {
    fn from(e: ghostnet_transport::Error) -> Self {
        Self::Transport(e)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_messages() {
        let too_large = Error::from(ghostnet_http1::Error::BodyTooLarge { limit: 5 });
        assert!(matches!(too_large, Error::BodyTooLarge { limit: 5 }));
        assert_eq!(too_large.status(), Some(StatusCode::PAYLOAD_TOO_LARGE));
        assert!(too_large.to_string().contains("5 bytes"));
        assert_eq!(Error::BodyClosed.status(), None);
        let missing = Error::MissingParam { name: "id".into() };
        assert!(missing.to_string().contains("`id`"));
        for e in [
            Error::BodyClosed,
            missing,
            Error::InvalidEvent { field: "id" },
            Error::InvalidConfig {
                field: "min_size",
                reason: "x".into(),
            },
        ] {
            let text = e.to_string();
            assert!(text.starts_with(|c: char| c.is_lowercase()), "{text}");
        }
    }
}
