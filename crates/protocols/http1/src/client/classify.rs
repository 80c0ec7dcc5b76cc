//! How the crate's errors look to a retry policy ([`ghostnet_resilience::Classify`]), so a
//! higher layer (ghostnet-http, a package manager) can retry client calls with backoff.

use ghostnet_resilience::{Classify, FailureKind};

use crate::error::Error;

impl Classify for Error {
    /// Timeouts are [`FailureKind::Timeout`]; a connection that broke (reset, closed
    /// before or during the response, connect failures the transport calls transient) is
    /// [`FailureKind::Transient`]; everything else — bad URLs and requests, malformed
    /// responses, redirect and decoding failures, limits — is
    /// [`FailureKind::Permanent`]: sending the same request again cannot fix it.
    ///
    /// Statuses are not errors: map a response's status with
    /// [`FailureKind::for_status`].
    ///
    /// ```
    /// use ghostnet_http1::Error;
    /// use ghostnet_resilience::{Classify, FailureKind};
    ///
    /// assert_eq!(Error::IncompleteBody.classify(), FailureKind::Transient);
    /// let bad = Error::InvalidRequest { reason: "x" };
    /// assert_eq!(bad.classify(), FailureKind::Permanent);
    /// ```
    fn classify(&self) -> FailureKind {
        match self {
            Self::Timeout { .. } => FailureKind::Timeout,
            Self::Io(e) => e.classify(),
            Self::Connect(e) => e.classify(),
            Self::NoResponse { .. } | Self::IncompleteBody => FailureKind::Transient,
            _ => FailureKind::Permanent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;
    use std::time::Duration;

    #[test]
    fn kinds() {
        let timeout = Error::Timeout {
            what: "response head",
            after: Duration::from_secs(1),
        };
        assert_eq!(timeout.classify(), FailureKind::Timeout);
        let reset = Error::Io(io::ErrorKind::ConnectionReset.into());
        assert_eq!(reset.classify(), FailureKind::Transient);
        let refused = Error::Connect(ghostnet_transport::Error::Connect {
            target: "a:1".into(),
            source: io::ErrorKind::ConnectionRefused.into(),
        });
        assert_eq!(refused.classify(), FailureKind::Transient);
        let no_response = Error::NoResponse {
            method: http::Method::POST,
            not_retried: Some("x"),
            source: None,
        };
        assert_eq!(no_response.classify(), FailureKind::Transient);
        for permanent in [
            Error::InvalidHead { reason: "x" },
            Error::TooManyRedirects {
                limit: 1,
                last: "x".into(),
            },
            Error::BodyTooLarge { limit: 1 },
        ] {
            assert_eq!(permanent.classify(), FailureKind::Permanent, "{permanent}");
        }
    }
}
