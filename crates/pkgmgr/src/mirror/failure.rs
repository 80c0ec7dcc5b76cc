//! What went wrong with a transfer from a mirror, as the download loop reports it.

use std::fmt;
use std::time::Duration;

/// Why a transfer from a mirror failed; passed to
/// [`MirrorManager::report_failure`](super::MirrorManager::report_failure).
///
/// | kind | effect on the mirror |
/// |---|---|
/// | `Connect`, `Timeout`, `ServerError`, `LowSpeed` | lowers its score; `failure_threshold` of them in a row start a cooldown |
/// | `ServerError` with `retry_after` | as above, and it rests at least that long (at most `max_cooldown`) |
/// | `NotFound` | none: it is skipped for this path only, for `not_found_ttl` |
/// | `ChecksumMismatch` | serious: cooldown at once for `max_cooldown`, not lifted by health checks |
///
/// ```
/// use std::time::Duration;
/// use ghostnet_pkgmgr::mirror::MirrorFailure;
///
/// assert_eq!(MirrorFailure::for_status(404, None), Some(MirrorFailure::NotFound));
/// assert_eq!(
///     MirrorFailure::for_status(503, Some(Duration::from_secs(30))),
///     Some(MirrorFailure::ServerError { status: 503, retry_after: Some(Duration::from_secs(30)) })
/// );
/// assert_eq!(MirrorFailure::for_status(206, None), None);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MirrorFailure {
    /// No connection: refused, reset before a response, DNS or TLS handshake failure.
    Connect,
    /// Connecting, the response headers or the body took too long.
    Timeout,
    /// An error status that is not about this file: 5xx, 429, 403 and the like.
    ServerError {
        /// The HTTP status code.
        status: u16,
        /// The response's `Retry-After` (parse it with
        /// `ghostnet_resilience::retry::parse_retry_after`), if it had one.
        retry_after: Option<Duration>,
    },
    /// 404 or 410: the file is not on this mirror (not synced yet, or removed). The
    /// mirror stays in use for other paths.
    NotFound,
    /// The transfer ran below the lowest speed limit and was abandoned (see
    /// [`SpeedVerdict`](super::SpeedVerdict)).
    LowSpeed,
    /// The finished file's checksum was wrong: the mirror serves stale or corrupt data.
    ChecksumMismatch,
}

impl MirrorFailure {
    /// The failure an HTTP error status stands for, or `None` below 400.
    ///
    /// 404 and 410 are [`NotFound`](Self::NotFound), 408 is
    /// [`Timeout`](Self::Timeout), every other 4xx and 5xx is
    /// [`ServerError`](Self::ServerError) with the given `retry_after`.
    pub fn for_status(status: u16, retry_after: Option<Duration>) -> Option<Self> {
        match status {
            0..=399 => None,
            404 | 410 => Some(Self::NotFound),
            408 => Some(Self::Timeout),
            _ => Some(Self::ServerError {
                status,
                retry_after,
            }),
        }
    }

    /// Whether this failure counts against the mirror as a whole (everything except
    /// [`NotFound`](Self::NotFound), which is about one path).
    pub fn counts_against_mirror(&self) -> bool {
        !matches!(self, Self::NotFound)
    }
}

impl fmt::Display for MirrorFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect => f.write_str("connect error"),
            Self::Timeout => f.write_str("timeout"),
            Self::ServerError {
                status,
                retry_after: None,
            } => write!(f, "HTTP {status}"),
            Self::ServerError {
                status,
                retry_after: Some(d),
            } => write!(f, "HTTP {status}, retry after {}s", d.as_secs()),
            Self::NotFound => f.write_str("not found"),
            Self::LowSpeed => f.write_str("too slow"),
            Self::ChecksumMismatch => f.write_str("checksum mismatch"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(MirrorFailure::for_status(200, None), None);
        assert_eq!(MirrorFailure::for_status(304, None), None);
        assert_eq!(
            MirrorFailure::for_status(410, None),
            Some(MirrorFailure::NotFound)
        );
        assert_eq!(
            MirrorFailure::for_status(408, None),
            Some(MirrorFailure::Timeout)
        );
        assert_eq!(
            MirrorFailure::for_status(403, None),
            Some(MirrorFailure::ServerError {
                status: 403,
                retry_after: None
            })
        );
        assert!(!MirrorFailure::NotFound.counts_against_mirror());
        assert!(MirrorFailure::LowSpeed.counts_against_mirror());
    }

    #[test]
    fn display() {
        let e = MirrorFailure::ServerError {
            status: 503,
            retry_after: Some(Duration::from_secs(30)),
        };
        assert_eq!(e.to_string(), "HTTP 503, retry after 30s");
        assert_eq!(
            MirrorFailure::ChecksumMismatch.to_string(),
            "checksum mismatch"
        );
    }
}
