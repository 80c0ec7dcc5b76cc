//! The crate's one error type, with the close code or HTTP status each error is answered
//! with.

use std::fmt;
use std::io;
use std::time::Duration;

use http::StatusCode;
use tokio_tungstenite::tungstenite;
use tungstenite::error::{CapacityError, ProtocolError};

use crate::message::CloseCode;

/// Everything that can go wrong in `ghostnet-ws`.
///
/// Messages are lowercase, say what happened and, where there is one, what to do.
/// [`Error::close_code`] is the close code a connection is failed with for errors the
/// peer caused; [`Error::status`] is the HTTP status a server answers a bad opening
/// handshake with.
///
/// ```
/// use ghostnet_ws::{CloseCode, Error};
///
/// let e = Error::MessageTooLarge { size: 20 << 20, limit: 16 << 20 };
/// assert_eq!(e.close_code(), Some(CloseCode::Size));
/// assert!(e.to_string().starts_with("message of 20971520 bytes is over the limit"));
/// ```
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// A configuration value cannot be used.
    InvalidConfig {
        /// The offending field.
        field: &'static str,
        /// Why, and what to use instead.
        reason: String,
    },
    /// The URL is not a usable `ws://` or `wss://` URL.
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An extra request header of the client is not a valid HTTP header, or is one the
    /// handshake sets itself.
    InvalidHeader {
        /// The header name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Dialing the server failed (DNS, TCP or TLS).
    Connect(ghostnet_transport::Error),
    /// Dialing (resolution, TCP and TLS) did not finish in time.
    ConnectTimeout {
        /// The target, as dialed.
        target: String,
        /// The limit that passed.
        after: Duration,
    },
    /// A `wss://` URL was dialed with a dialer that produced a stream without TLS.
    InsecureTransport {
        /// The URL.
        url: String,
        /// What the dialer produced (`tcp`, `memory`, ...).
        transport: &'static str,
    },
    /// The opening handshake did not finish in time.
    HandshakeTimeout {
        /// The limit that passed.
        after: Duration,
    },
    /// The server answered the opening handshake with a status other than 101.
    Rejected {
        /// The status the server answered with.
        status: StatusCode,
    },
    /// The server's 101 response breaks RFC 6455: wrong `Sec-WebSocket-Accept`, missing
    /// `Upgrade`/`Connection`, or a subprotocol or extension the client did not offer.
    InvalidResponse {
        /// What is wrong.
        reason: String,
    },
    /// A request is not a valid WebSocket opening handshake (answered with 400).
    InvalidRequest {
        /// What is wrong, e.g. `Sec-WebSocket-Key is not 16 bytes in base64`.
        reason: &'static str,
    },
    /// The client asks for a WebSocket version other than 13 (answered with 426 and
    /// `Sec-WebSocket-Version: 13`).
    UnsupportedVersion {
        /// The version the client asked for.
        version: String,
    },
    /// The origin check refused the request's `Origin` (answered with 403).
    OriginRejected {
        /// The `Origin` header, if the request had a readable one.
        origin: Option<String>,
    },
    /// The HTTP/1.1 server did not hand the connection over: the 101 response was not
    /// sent, or the connection failed first.
    NoUpgrade,
    /// The connection failed while reading or writing.
    Io(io::Error),
    /// The peer broke the WebSocket protocol (the connection is failed with close code
    /// 1002).
    Protocol {
        /// What the peer did, e.g. `received a fragmented control frame`.
        reason: String,
    },
    /// A text message or close reason is not valid UTF-8 (close code 1007).
    InvalidUtf8,
    /// A message or frame is larger than the configured limit (close code 1009 when the
    /// peer sent it; nothing is sent when we would have).
    MessageTooLarge {
        /// Its size in bytes (for a fragmented message, the size so far).
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// No pong, nor any other byte, came within the pong timeout after a heartbeat ping:
    /// the peer or the path to it is considered dead and the connection was dropped.
    HeartbeatTimeout {
        /// The pong timeout that passed.
        after: Duration,
    },
    /// The close handshake did not finish in time; the connection was dropped.
    CloseTimeout {
        /// The close timeout that passed.
        after: Duration,
    },
    /// A message this side wanted to send may not be sent (a close code reserved for
    /// reports, a close reason over 123 bytes).
    InvalidMessage {
        /// What is wrong.
        reason: &'static str,
    },
    /// The connection is closed or closing: nothing more can be sent.
    Closed,
    /// [`Sender::try_send`](crate::Sender::try_send) found the send queue full.
    QueueFull,
    /// The [`Receiver`](crate::Receiver) half of a split connection was dropped: it is
    /// the half that writes queued messages, so nothing more can be sent.
    ReceiverDropped,
}

/// `Result<T, ghostnet_ws::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The close code the connection is failed with when the peer caused this error:
    /// 1002 for protocol violations, 1007 for invalid UTF-8, 1009 for oversized messages.
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            Self::Protocol { .. } => Some(CloseCode::Protocol),
            Self::InvalidUtf8 => Some(CloseCode::Invalid),
            Self::MessageTooLarge { .. } => Some(CloseCode::Size),
            _ => None,
        }
    }

    /// The HTTP status a server answers a refused opening handshake with: 400 for a
    /// malformed request, 426 for an unsupported version, 403 for a refused origin.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::InvalidRequest { .. } => Some(StatusCode::BAD_REQUEST),
            Self::UnsupportedVersion { .. } => Some(StatusCode::UPGRADE_REQUIRED),
            Self::OriginRejected { .. } => Some(StatusCode::FORBIDDEN),
            _ => None,
        }
    }

    /// Whether a time limit (connect, handshake, heartbeat, close) ended the attempt.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            Self::ConnectTimeout { .. }
                | Self::HandshakeTimeout { .. }
                | Self::HeartbeatTimeout { .. }
                | Self::CloseTimeout { .. }
        )
    }

    /// Maps an error of an open connection (read, write, close) from tungstenite.
    pub(crate) fn from_ws(e: tungstenite::Error) -> Self {
        use tungstenite::Error as T;
        match e {
            T::ConnectionClosed | T::AlreadyClosed => Self::Closed,
            T::Io(e) => Self::Io(e),
            T::Capacity(CapacityError::MessageTooLong { size, max_size }) => {
                Self::MessageTooLarge {
                    size,
                    limit: max_size,
                }
            }
            T::Capacity(e) => Self::Protocol {
                reason: e.to_string(),
            },
            T::Protocol(ProtocolError::SendAfterClosing) => Self::Closed,
            T::Protocol(ProtocolError::ResetWithoutClosingHandshake) => Self::Io(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "the peer closed the connection without a close handshake",
            )),
            T::Protocol(p) => Self::Protocol {
                reason: p.to_string(),
            },
            T::Utf8(_) => Self::InvalidUtf8,
            // Unreachable in practice: sends are size-checked and wait for the flush of
            // what blocked, so the cap (write buffer + one message) is never reached.
            T::WriteBufferFull(_) => Self::Io(io::Error::new(
                io::ErrorKind::WouldBlock,
                "the write buffer is full: the peer is not reading",
            )),
            other => Self::Protocol {
                reason: other.to_string(),
            },
        }
    }

    /// Maps an error of the client's opening handshake from tungstenite.
    pub(crate) fn from_handshake(e: tungstenite::Error) -> Self {
        use tungstenite::Error as T;
        match e {
            T::Io(e) => Self::Io(e),
            T::Http(response) => Self::Rejected {
                status: response.status(),
            },
            T::Url(e) => Self::InvalidUrl {
                url: String::new(),
                reason: url_reason(&e),
            },
            T::Protocol(ProtocolError::HandshakeIncomplete) => Self::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection during the opening handshake",
            )),
            T::Protocol(p) => Self::InvalidResponse {
                reason: p.to_string(),
            },
            other => Self::InvalidResponse {
                reason: other.to_string(),
            },
        }
    }
}

fn url_reason(e: &tungstenite::error::UrlError) -> &'static str {
    use tungstenite::error::UrlError as U;
    match e {
        U::UnsupportedUrlScheme => "the scheme must be ws:// or wss://",
        U::EmptyHostName | U::NoHostName => "the URL has no host",
        U::NoPathOrQuery => "the URL has no path",
        _ => "tungstenite could not use it",
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidConfig { field, reason } => {
                write!(f, "invalid websocket config `{field}`: {reason}")
            }
            Self::InvalidUrl { url, reason } => {
                write!(
                    f,
                    "invalid websocket url {url:?}: {reason} (expected e.g. ws://host:port/path)"
                )
            }
            Self::InvalidHeader { name, reason } => {
                write!(f, "invalid request header {name:?}: {reason}")
            }
            Self::Connect(e) => write!(f, "could not connect: {e}"),
            Self::ConnectTimeout { target, after } => write!(
                f,
                "connecting to {target} did not finish within {after:?}; check that the server \
                 is up and reachable, or raise connect_timeout"
            ),
            Self::InsecureTransport { url, transport } => write!(
                f,
                "refusing to open {url} over {transport}: wss:// needs a TLS dialer \
                 (ghostnet_transport::tls::TlsDialer)"
            ),
            Self::HandshakeTimeout { after } => write!(
                f,
                "the websocket opening handshake did not finish within {after:?}; the server \
                 may not speak websocket at this url, or raise handshake_timeout"
            ),
            Self::Rejected { status } => write!(
                f,
                "the server refused the websocket upgrade with {status}; check the url path and \
                 what the server requires (subprotocol, origin, authentication)"
            ),
            Self::InvalidResponse { reason } => write!(
                f,
                "the server's upgrade response is not valid websocket: {reason}"
            ),
            Self::InvalidRequest { reason } => {
                write!(f, "not a valid websocket upgrade request: {reason}")
            }
            Self::UnsupportedVersion { version } => write!(
                f,
                "unsupported websocket version {version:?}: only version 13 (RFC 6455) is spoken"
            ),
            Self::OriginRejected { origin: Some(o) } => {
                write!(f, "origin {o:?} is not allowed to open a websocket here")
            }
            Self::OriginRejected { origin: None } => write!(
                f,
                "a websocket without an origin is not allowed here; the origin check requires one"
            ),
            Self::NoUpgrade => write!(
                f,
                "the http/1.1 connection was not handed over: answer the request with the 101 \
                 response from accept() and keep the connection open"
            ),
            Self::Io(e) => write!(f, "websocket connection failed: {e}"),
            Self::Protocol { reason } => write!(
                f,
                "the peer broke the websocket protocol ({reason}); the connection was failed \
                 with close code 1002"
            ),
            Self::InvalidUtf8 => write!(
                f,
                "the peer sent text that is not valid utf-8; the connection was failed with \
                 close code 1007"
            ),
            Self::MessageTooLarge { size, limit } => write!(
                f,
                "message of {size} bytes is over the limit of {limit} bytes; raise \
                 Config::max_message_size (on both ends) if such messages are expected"
            ),
            Self::HeartbeatTimeout { after } => write!(
                f,
                "the peer did not answer a heartbeat ping within {after:?}; the connection was \
                 dropped as dead"
            ),
            Self::CloseTimeout { after } => write!(
                f,
                "the peer did not finish the close handshake within {after:?}; the connection \
                 was dropped"
            ),
            Self::InvalidMessage { reason } => write!(f, "cannot send this message: {reason}"),
            Self::Closed => write!(f, "the websocket connection is closed; open a new one"),
            Self::QueueFull => write!(
                f,
                "the send queue is full: the peer reads slower than messages are sent; wait \
                 with send() or raise Config::send_queue_bytes"
            ),
            Self::ReceiverDropped => write!(
                f,
                "the receiving half of this websocket was dropped; it writes queued messages, \
                 so keep it alive and keep reading from it"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Connect(e) => Some(e),
            Self::Io(e) => Some(e),
            _ => None,
        }
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
    fn peer_errors_map_to_close_codes() {
        let utf8 = Error::from_ws(tungstenite::Error::Utf8("bad".into()));
        assert!(matches!(utf8, Error::InvalidUtf8));
        assert_eq!(utf8.close_code(), Some(CloseCode::Invalid));
        let big = Error::from_ws(tungstenite::Error::Capacity(
            CapacityError::MessageTooLong {
                size: 10,
                max_size: 5,
            },
        ));
        assert!(matches!(big, Error::MessageTooLarge { size: 10, limit: 5 }));
        assert_eq!(big.close_code(), Some(CloseCode::Size));
        let proto = Error::from_ws(tungstenite::Error::Protocol(
            ProtocolError::FragmentedControlFrame,
        ));
        assert_eq!(proto.close_code(), Some(CloseCode::Protocol));
        assert!(matches!(
            Error::from_ws(tungstenite::Error::ConnectionClosed),
            Error::Closed
        ));
        assert_eq!(Error::Closed.close_code(), None);
    }

    #[test]
    fn handshake_errors_map_to_statuses() {
        let e = Error::InvalidRequest { reason: "no key" };
        assert_eq!(e.status(), Some(StatusCode::BAD_REQUEST));
        let v = Error::UnsupportedVersion {
            version: "8".into(),
        };
        assert_eq!(v.status(), Some(StatusCode::UPGRADE_REQUIRED));
        assert!(v.to_string().contains("only version 13"));
        let o = Error::OriginRejected {
            origin: Some("https://evil.test".into()),
        };
        assert_eq!(o.status(), Some(StatusCode::FORBIDDEN));
    }

    #[test]
    fn messages_are_lowercase_and_actionable() {
        let errors = [
            Error::HandshakeTimeout {
                after: Duration::from_secs(10),
            },
            Error::HeartbeatTimeout {
                after: Duration::from_secs(20),
            },
            Error::Closed,
            Error::ReceiverDropped,
            Error::InvalidUtf8,
        ];
        for e in errors {
            let s = e.to_string();
            assert!(s.chars().next().unwrap().is_lowercase(), "{s}");
            assert!(e.is_timeout() == s.contains("within"), "{s}");
        }
    }
}
