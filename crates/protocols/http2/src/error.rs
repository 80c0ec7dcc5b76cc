//! The crate's one error type.

use std::fmt;
use std::io;
use std::time::Duration;

pub use h2::Reason;

/// A boxed error from user code (a streaming body that failed).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in `ghostnet-http2`.
///
/// Messages are lowercase, say what happened and, where there is one, what to do.
///
/// ```
/// use ghostnet_http2::{Error, Settings};
///
/// let mut settings = Settings::default();
/// settings.max_frame_size = 1024;
/// let err = settings.validate().unwrap_err();
/// assert!(matches!(err, Error::InvalidSettings { field: "max_frame_size", .. }));
/// assert!(err.to_string().contains("16384"));
/// ```
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// A [`Settings`](crate::Settings) field holds a value HTTP/2 or this crate cannot use.
    InvalidSettings {
        /// The offending field.
        field: &'static str,
        /// Why the value was refused and what to use instead.
        reason: String,
    },
    /// Reading from or writing to the connection failed.
    Io(io::Error),
    /// The peer did not complete the HTTP/2 handshake (connection preface and SETTINGS)
    /// within the handshake timeout.
    HandshakeTimeout(Duration),
    /// The peer's first bytes were not the HTTP/2 connection preface: it does not speak
    /// HTTP/2 with prior knowledge (an HTTP/1.1 client, or TLS to a plaintext port).
    InvalidPreface,
    /// TLS negotiated an application protocol other than `h2`.
    AlpnMismatch {
        /// The protocol the peers agreed on, e.g. `http/1.1`.
        alpn: String,
    },
    /// A keepalive PING was not answered within the keepalive timeout; the connection
    /// was closed.
    KeepaliveTimeout(Duration),
    /// The connection was closed (by either side, or because of an earlier error).
    ConnectionClosed,
    /// The peer sent GOAWAY, or this side did because the peer broke the protocol.
    GoAway {
        /// The error code carried by the GOAWAY frame.
        reason: Reason,
        /// Whether the peer sent it (`true`) or this side did (`false`).
        remote: bool,
    },
    /// A stream was reset with RST_STREAM.
    Reset {
        /// The error code carried by the RST_STREAM frame.
        reason: Reason,
        /// Whether the peer sent it (`true`) or this side did (`false`).
        remote: bool,
    },
    /// An HTTP/2 protocol error not covered by the variants above (h2's own message).
    Protocol(h2::Error),
    /// A request or response cannot be sent as HTTP/2 (missing scheme or authority,
    /// malformed headers).
    InvalidMessage {
        /// What is wrong with it.
        reason: String,
    },
    /// A body grew past the limit given to [`Body::collect`](crate::Body::collect).
    BodyTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// A streaming body was ended with an error by its producer.
    Body(BoxError),
    /// The receiving side of a body is gone (the peer reset the stream, or the body was
    /// dropped): stop producing it.
    BodyClosed,
    /// An HTTP/1.1 → h2c upgrade cannot be performed (missing or malformed
    /// `HTTP2-Settings`, a request that cannot become stream 1).
    InvalidUpgrade {
        /// What is wrong.
        reason: String,
    },
    /// The listener failed in a way that will not get better by retrying.
    Accept(ghostnet_transport::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidSettings { field, reason } => {
                write!(f, "invalid HTTP/2 settings: `{field}` {reason}")
            }
            Self::Io(e) => write!(f, "reading or writing the HTTP/2 connection failed: {e}"),
            Self::HandshakeTimeout(d) => write!(
                f,
                "the peer did not complete the HTTP/2 handshake within {d:?}; it may not speak HTTP/2 (raise `handshake_timeout` if it is only slow)"
            ),
            Self::InvalidPreface => f.write_str(
                "the peer did not send the HTTP/2 connection preface; it does not speak HTTP/2 with prior knowledge (use HTTP/1.1, TLS with ALPN h2, or an h2c upgrade)",
            ),
            Self::AlpnMismatch { alpn } => write!(
                f,
                "the TLS handshake negotiated ALPN {alpn:?}, not \"h2\"; offer h2 in the TLS config or serve this connection with HTTP/1.1"
            ),
            Self::KeepaliveTimeout(d) => write!(
                f,
                "keepalive PING not answered within {d:?}; the connection was closed (peer dead or network down)"
            ),
            Self::ConnectionClosed => {
                f.write_str("the HTTP/2 connection is closed; open a new connection")
            }
            Self::GoAway {
                reason,
                remote: true,
            } => write!(
                f,
                "the peer closed the HTTP/2 connection with GOAWAY ({reason}); open a new connection to retry"
            ),
            Self::GoAway {
                reason,
                remote: false,
            } => write!(
                f,
                "the HTTP/2 connection was closed with GOAWAY ({reason}) because the peer broke the protocol"
            ),
            Self::Reset {
                reason,
                remote: true,
            } => write!(f, "the peer reset the HTTP/2 stream ({reason})"),
            Self::Reset {
                reason,
                remote: false,
            } => write!(f, "the HTTP/2 stream was reset locally ({reason})"),
            Self::Protocol(e) => write!(f, "protocol error on the HTTP/2 connection: {e}"),
            Self::InvalidMessage { reason } => {
                write!(f, "message cannot be sent over HTTP/2: {reason}")
            }
            Self::BodyTooLarge { limit } => write!(
                f,
                "body is larger than the {limit}-byte limit; raise it with `Body::with_limit` or read the body in pieces with `Body::data`"
            ),
            Self::Body(e) => write!(f, "the body producer failed: {e}"),
            Self::BodyClosed => f.write_str(
                "the body's receiver is gone (stream reset or body dropped); stop sending",
            ),
            Self::InvalidUpgrade { reason } => write!(
                f,
                "cannot upgrade to h2c: {reason}; answer the request over HTTP/1.1 instead"
            ),
            Self::Accept(e) => write!(f, "the listener failed: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Protocol(e) => Some(e),
            Self::Body(e) => Some(e.as_ref()),
            Self::Accept(e) => Some(e),
            _ => None,
        }
    }
}

impl Error {
    /// Whether the request certainly was not processed by the server and can be sent
    /// again on a new connection: the stream was refused (`REFUSED_STREAM`), or the
    /// server closed the connection gracefully (GOAWAY with `NO_ERROR`) before reaching it.
    ///
    /// ```
    /// use ghostnet_http2::{Error, Reason};
    ///
    /// assert!(Error::Reset { reason: Reason::REFUSED_STREAM, remote: true }.is_retryable());
    /// assert!(!Error::Reset { reason: Reason::INTERNAL_ERROR, remote: true }.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Reset { reason, remote } => *remote && *reason == Reason::REFUSED_STREAM,
            Self::GoAway { reason, remote } => *remote && *reason == Reason::NO_ERROR,
            _ => false,
        }
    }

    /// The HTTP/2 error code behind this error, when there is one.
    pub fn reason(&self) -> Option<Reason> {
        match self {
            Self::GoAway { reason, .. } | Self::Reset { reason, .. } => Some(*reason),
            Self::Protocol(e) => e.reason(),
            _ => None,
        }
    }

    pub(crate) fn invalid_settings(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidSettings {
            field,
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid_upgrade(reason: impl Into<String>) -> Self {
        Self::InvalidUpgrade {
            reason: reason.into(),
        }
    }
}

impl From<h2::Error> for Error {
    fn from(e: h2::Error) -> Self {
        if e.is_io() {
            return match e.into_io() {
                Some(io) => Self::Io(io),
                None => Self::ConnectionClosed,
            };
        }
        if e.reason().is_none() {
            // Not I/O and no error code: h2 refused what we asked it to send, which
            // comes from the message itself (malformed headers, ...).
            return Self::InvalidMessage {
                reason: e.to_string(),
            };
        }
        match e.reason() {
            Some(reason) if e.is_go_away() => Self::GoAway {
                reason,
                remote: e.is_remote(),
            },
            Some(reason) if e.is_reset() => Self::Reset {
                reason,
                remote: e.is_remote(),
            },
            _ => Self::Protocol(e),
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
    fn messages_are_lowercase_and_actionable() {
        let cases = [
            Error::invalid_settings("x", "must be positive"),
            Error::HandshakeTimeout(Duration::from_secs(1)),
            Error::InvalidPreface,
            Error::AlpnMismatch {
                alpn: "http/1.1".into(),
            },
            Error::KeepaliveTimeout(Duration::from_secs(1)),
            Error::ConnectionClosed,
            Error::GoAway {
                reason: Reason::NO_ERROR,
                remote: true,
            },
            Error::Reset {
                reason: Reason::CANCEL,
                remote: false,
            },
            Error::BodyTooLarge { limit: 5 },
            Error::BodyClosed,
            Error::invalid_upgrade("no header"),
            Error::Io(io::Error::other("boom")),
            Error::InvalidMessage { reason: "x".into() },
            Error::Body("producer failed".into()),
        ];
        for e in cases {
            let s = e.to_string();
            assert!(s.chars().next().unwrap().is_lowercase(), "{s}");
        }
    }

    #[test]
    fn retryable_only_when_unprocessed() {
        let goaway = |reason, remote| Error::GoAway { reason, remote };
        assert!(goaway(Reason::NO_ERROR, true).is_retryable());
        assert!(!goaway(Reason::PROTOCOL_ERROR, true).is_retryable());
        assert!(!goaway(Reason::NO_ERROR, false).is_retryable());
        assert!(!Error::ConnectionClosed.is_retryable());
        assert_eq!(
            goaway(Reason::ENHANCE_YOUR_CALM, false).reason(),
            Some(Reason::ENHANCE_YOUR_CALM)
        );
    }

    #[test]
    fn io_errors_keep_their_source() {
        let e = Error::from(io::Error::new(io::ErrorKind::ConnectionReset, "reset"));
        assert!(matches!(&e, Error::Io(io) if io.kind() == io::ErrorKind::ConnectionReset));
        assert!(std::error::Error::source(&e).is_some());
    }
}
