//! How the crate's errors look to a retry policy ([`ghostnet_resilience::Classify`]).

use ghostnet_resilience::{Classify, FailureKind};

use crate::error::Error;

impl Classify for Error {
    /// Timeouts are [`FailureKind::Timeout`]; broken or refused connections, refused
    /// HTTP/2 streams and graceful GOAWAYs are [`FailureKind::Transient`]; everything
    /// else (bad URLs, malformed responses, limits, configuration) is
    /// [`FailureKind::Permanent`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use ghostnet_http::Error;
    /// use ghostnet_resilience::{Classify, FailureKind};
    ///
    /// let e = Error::Timeout { what: "the response head", after: Duration::from_secs(1) };
    /// assert_eq!(e.classify(), FailureKind::Timeout);
    /// assert_eq!(Error::BodyClosed.classify(), FailureKind::Permanent);
    /// ```
    fn classify(&self) -> FailureKind {
        match self {
            Self::Timeout { .. } => FailureKind::Timeout,
            Self::Http1(e) => e.classify(),
            Self::Http2(e) => classify_h2(e),
            Self::Transport(e) => e.classify(),
            Self::Io(e) => e.classify(),
            _ => FailureKind::Permanent,
        }
    }
}

fn classify_h2(e: &ghostnet_http2::Error) -> FailureKind {
    use ghostnet_http2::Error as H2;
    match e {
        e if e.is_retryable() => FailureKind::Transient,
        H2::HandshakeTimeout(_) | H2::KeepaliveTimeout(_) => FailureKind::Timeout,
        H2::Io(io) => io.classify(),
        H2::ConnectionClosed => FailureKind::Transient,
        _ => FailureKind::Permanent,
    }
}
