//! How an error tells a retry policy what kind of failure it is.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// What kind of failure an error is: the one thing a [`RetryPolicy`](crate::RetryPolicy)
/// needs to know to decide whether, and when, to try again.
///
/// HTTP clients map a response status with [`FailureKind::for_status`]; network errors
/// implement [`Classify`] directly.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The operation did not finish in time (connect, handshake, read or whole-request
    /// timeout).
    Timeout,
    /// A network failure that a new attempt may well not meet: connection reset, refused,
    /// aborted, unreachable, DNS trouble.
    Transient,
    /// The server answered with a 5xx status that may clear up (500, 502, 503, 504, ...).
    ServerError {
        /// The status code.
        status: u16,
        /// The server's `Retry-After`, if it sent one (common with 503).
        retry_after: Option<Duration>,
    },
    /// The server answered 429 Too Many Requests.
    TooManyRequests {
        /// The server's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    /// Retrying cannot help: bad request, not found, refused certificate, invalid config.
    Permanent,
}

impl FailureKind {
    /// The kind of failure an HTTP status is, with the response's parsed `Retry-After`
    /// (see [`parse_retry_after`](crate::retry::parse_retry_after)).
    ///
    /// 408 is a [`Timeout`](Self::Timeout), 429 [`TooManyRequests`](Self::TooManyRequests),
    /// 5xx a [`ServerError`](Self::ServerError) except 501 (Not Implemented), 505 (HTTP
    /// Version Not Supported) and 511 (Network Authentication Required), which no retry
    /// fixes. Everything else, including statuses that are not failures, is
    /// [`Permanent`](Self::Permanent).
    ///
    /// ```
    /// use std::time::Duration;
    /// use ghostnet_resilience::FailureKind;
    ///
    /// let k = FailureKind::for_status(503, Some(Duration::from_secs(2)));
    /// assert_eq!(k.retry_after(), Some(Duration::from_secs(2)));
    /// assert_eq!(FailureKind::for_status(404, None), FailureKind::Permanent);
    /// ```
    pub fn for_status(status: u16, retry_after: Option<Duration>) -> Self {
        match status {
            408 => Self::Timeout,
            429 => Self::TooManyRequests { retry_after },
            501 | 505 | 511 => Self::Permanent,
            500..=599 => Self::ServerError {
                status,
                retry_after,
            },
            _ => Self::Permanent,
        }
    }

    /// The server-requested wait, for the kinds that carry one.
    pub fn retry_after(&self) -> Option<Duration> {
        match *self {
            Self::ServerError { retry_after, .. } | Self::TooManyRequests { retry_after } => {
                retry_after
            }
            _ => None,
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("timeout"),
            Self::Transient => f.write_str("transient network failure"),
            Self::ServerError { status, .. } => write!(f, "server error {status}"),
            Self::TooManyRequests { .. } => f.write_str("too many requests (429)"),
            Self::Permanent => f.write_str("permanent failure"),
        }
    }
}

impl std::error::Error for FailureKind {}

/// Tells a retry policy what kind of failure an error is.
///
/// Implemented for [`std::io::Error`], [`ghostnet_runtime::Error`] and
/// [`ghostnet_transport::Error`]; a protocol crate implements it for its own error.
///
/// ```
/// use ghostnet_resilience::{Classify, FailureKind};
///
/// #[derive(Debug)]
/// enum FetchError { Status(u16), Io(std::io::Error) }
///
/// impl Classify for FetchError {
///     fn classify(&self) -> FailureKind {
///         match self {
///             FetchError::Status(s) => FailureKind::for_status(*s, None),
///             FetchError::Io(e) => e.classify(),
///         }
///     }
/// }
/// assert_eq!(FetchError::Status(502).classify().retry_after(), None);
/// ```
pub trait Classify {
    /// The kind of failure `self` is.
    fn classify(&self) -> FailureKind;
}

impl Classify for FailureKind {
    fn classify(&self) -> FailureKind {
        *self
    }
}

impl<E: Classify + ?Sized> Classify for &E {
    fn classify(&self) -> FailureKind {
        (**self).classify()
    }
}

impl<E: Classify + ?Sized> Classify for Box<E> {
    fn classify(&self) -> FailureKind {
        (**self).classify()
    }
}

impl<E: Classify + ?Sized> Classify for Arc<E> {
    fn classify(&self) -> FailureKind {
        (**self).classify()
    }
}

/// The kind of an OS-level error: timeouts, and the resets and refusals a new connection
/// may not meet.
fn classify_io_kind(kind: io::ErrorKind) -> FailureKind {
    use io::ErrorKind as K;
    match kind {
        // A blocking socket with SO_RCVTIMEO reports its timeout as EAGAIN (WouldBlock).
        K::TimedOut | K::WouldBlock => FailureKind::Timeout,
        K::ConnectionRefused
        | K::ConnectionReset
        | K::ConnectionAborted
        | K::BrokenPipe
        | K::UnexpectedEof
        | K::NotConnected
        | K::HostUnreachable
        | K::NetworkUnreachable
        | K::NetworkDown
        | K::AddrNotAvailable
        | K::Interrupted => FailureKind::Transient,
        _ => FailureKind::Permanent,
    }
}

impl Classify for io::Error {
    /// By [`io::ErrorKind`]; an `io::Error` that wraps a ghostnet transport or runtime
    /// error is classified by the wrapped error, which knows more.
    fn classify(&self) -> FailureKind {
        if let Some(inner) = self.get_ref() {
            if let Some(e) = inner.downcast_ref::<ghostnet_transport::Error>() {
                return e.classify();
            }
            if let Some(e) = inner.downcast_ref::<ghostnet_runtime::Error>() {
                return e.classify();
            }
        }
        classify_io_kind(self.kind())
    }
}

impl Classify for ghostnet_runtime::Error {
    /// [`Timeout`](ghostnet_runtime::Error::Timeout) is a timeout; cancellation, panics,
    /// closed channels and config errors are permanent.
    fn classify(&self) -> FailureKind {
        match self {
            ghostnet_runtime::Error::Timeout(_) => FailureKind::Timeout,
            _ => FailureKind::Permanent,
        }
    }
}

impl Classify for ghostnet_transport::Error {
    /// Connect, handshake and pool timeouts (and I/O errors of kind `TimedOut`) are
    /// timeouts; the rest follows [`is_transient`](ghostnet_transport::Error::is_transient).
    fn classify(&self) -> FailureKind {
        use ghostnet_transport::Error as T;
        match self {
            T::ConnectTimeout { .. } | T::TlsHandshakeTimeout { .. } | T::PoolTimeout { .. } => {
                FailureKind::Timeout
            }
            T::Connect { source, .. } | T::Io { source, .. }
                if source.kind() == io::ErrorKind::TimedOut =>
            {
                FailureKind::Timeout
            }
            e if e.is_transient() => FailureKind::Transient,
            _ => FailureKind::Permanent,
        }
    }
}

impl Classify for crate::Error {
    /// A local rate limit is a 429 from ourselves (its wait is the `Retry-After`); an open
    /// breaker is permanent, because failing fast is its whole point; the rest are
    /// configuration mistakes.
    fn classify(&self) -> FailureKind {
        match self {
            crate::Error::RateLimited { retry_in } => FailureKind::TooManyRequests {
                retry_after: Some(*retry_in),
            },
            _ => FailureKind::Permanent,
        }
    }
}

/// Which kinds of failure a policy retries. All of them by default.
///
/// ```
/// use ghostnet_resilience::{FailureKind, RetryOn};
///
/// let on = RetryOn::all().server_errors(false);
/// assert!(on.allows(&FailureKind::Timeout));
/// assert!(!on.allows(&FailureKind::for_status(503, None)));
/// assert!(!on.allows(&FailureKind::Permanent)); // never retried
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RetryOn {
    timeout: bool,
    transient: bool,
    server_errors: bool,
    too_many_requests: bool,
}

impl RetryOn {
    /// Retry timeouts, transient network failures, 5xx and 429.
    pub const fn all() -> Self {
        Self {
            timeout: true,
            transient: true,
            server_errors: true,
            too_many_requests: true,
        }
    }

    /// Retry nothing; enable kinds one by one with the setters.
    pub const fn none() -> Self {
        Self {
            timeout: false,
            transient: false,
            server_errors: false,
            too_many_requests: false,
        }
    }

    /// Whether to retry [`FailureKind::Timeout`]. Turn off for requests that are not
    /// idempotent: a timed-out request may have been carried out.
    pub const fn timeout(mut self, on: bool) -> Self {
        self.timeout = on;
        self
    }

    /// Whether to retry [`FailureKind::Transient`].
    pub const fn transient(mut self, on: bool) -> Self {
        self.transient = on;
        self
    }

    /// Whether to retry [`FailureKind::ServerError`].
    pub const fn server_errors(mut self, on: bool) -> Self {
        self.server_errors = on;
        self
    }

    /// Whether to retry [`FailureKind::TooManyRequests`].
    pub const fn too_many_requests(mut self, on: bool) -> Self {
        self.too_many_requests = on;
        self
    }

    /// Whether a failure of `kind` is retried. [`FailureKind::Permanent`] never is.
    pub fn allows(&self, kind: &FailureKind) -> bool {
        match kind {
            FailureKind::Timeout => self.timeout,
            FailureKind::Transient => self.transient,
            FailureKind::ServerError { .. } => self.server_errors,
            FailureKind::TooManyRequests { .. } => self.too_many_requests,
            FailureKind::Permanent => false,
        }
    }
}

impl Default for RetryOn {
    fn default() -> Self {
        Self::all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn io_kinds() {
        let k = |kind| io::Error::from(kind).classify();
        assert_eq!(k(io::ErrorKind::TimedOut), FailureKind::Timeout);
        assert_eq!(k(io::ErrorKind::ConnectionReset), FailureKind::Transient);
        assert_eq!(k(io::ErrorKind::ConnectionRefused), FailureKind::Transient);
        assert_eq!(k(io::ErrorKind::NotFound), FailureKind::Permanent);
        assert_eq!(k(io::ErrorKind::PermissionDenied), FailureKind::Permanent);
    }

    #[test]
    fn io_error_wrapping_a_ghostnet_error_uses_it() {
        // The transport keeps `Other` as the io kind for pool timeouts, but it is a timeout.
        let wrapped = io::Error::other(ghostnet_transport::Error::PoolTimeout {
            key: "k".into(),
            after: Duration::from_secs(1),
        });
        assert_eq!(wrapped.classify(), FailureKind::Timeout);
        let rt = io::Error::other(ghostnet_runtime::Error::Timeout(Duration::from_secs(1)));
        assert_eq!(rt.classify(), FailureKind::Timeout);
    }

    #[test]
    fn runtime_errors() {
        use ghostnet_runtime::Error as R;
        assert_eq!(
            R::Timeout(Duration::from_secs(1)).classify(),
            FailureKind::Timeout
        );
        assert_eq!(R::Cancelled.classify(), FailureKind::Permanent);
        assert_eq!(R::Closed.classify(), FailureKind::Permanent);
    }

    #[test]
    fn transport_errors() {
        use ghostnet_transport::Error as T;
        let connect = |kind| T::Connect {
            target: "h:1".into(),
            source: io::Error::from(kind),
        };
        assert_eq!(
            connect(io::ErrorKind::ConnectionRefused).classify(),
            FailureKind::Transient
        );
        assert_eq!(
            connect(io::ErrorKind::TimedOut).classify(),
            FailureKind::Timeout
        );
        assert_eq!(
            T::ConnectTimeout {
                target: "h:1".into(),
                after: Duration::from_secs(1)
            }
            .classify(),
            FailureKind::Timeout
        );
        assert_eq!(
            T::Certificate {
                path: Some(PathBuf::from("x.pem")),
                reason: "bad".into()
            }
            .classify(),
            FailureKind::Permanent
        );
        assert_eq!(
            T::Resolve {
                host: "h".into(),
                source: io::Error::other("servfail")
            }
            .classify(),
            FailureKind::Transient
        );
    }

    #[test]
    fn statuses() {
        assert_eq!(FailureKind::for_status(408, None), FailureKind::Timeout);
        assert_eq!(
            FailureKind::for_status(429, None),
            FailureKind::TooManyRequests { retry_after: None }
        );
        for s in [500, 502, 503, 504, 599] {
            assert!(matches!(
                FailureKind::for_status(s, None),
                FailureKind::ServerError { status, .. } if status == s
            ));
        }
        for s in [200, 400, 404, 501, 505, 511] {
            assert_eq!(FailureKind::for_status(s, None), FailureKind::Permanent);
        }
    }

    #[test]
    fn retry_on_filters() {
        let none = RetryOn::none();
        let kinds = [
            FailureKind::Timeout,
            FailureKind::Transient,
            FailureKind::for_status(503, None),
            FailureKind::for_status(429, None),
        ];
        assert!(kinds.iter().all(|k| RetryOn::all().allows(k)));
        assert!(kinds.iter().all(|k| !none.allows(k)));
        assert!(none.transient(true).allows(&FailureKind::Transient));
        assert!(!RetryOn::all().timeout(false).allows(&FailureKind::Timeout));
        assert!(!RetryOn::all().too_many_requests(false).allows(&kinds[3]));
    }

    #[test]
    fn own_errors() {
        let limited = crate::Error::RateLimited {
            retry_in: Duration::from_millis(100),
        };
        assert_eq!(
            limited.classify().retry_after(),
            Some(Duration::from_millis(100))
        );
        assert_eq!(
            crate::Error::CircuitOpen {
                retry_in: Duration::from_secs(1)
            }
            .classify(),
            FailureKind::Permanent
        );
    }
}
