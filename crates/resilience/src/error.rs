//! The crate's one error type.

use std::fmt;
use std::time::Duration;

/// Everything that can go wrong in `ghostnet-resilience` itself.
///
/// The failures of *your* operations are handed back unchanged, wrapped with what the
/// policy did: [`RetryError`](crate::RetryError) from a retry, [`CallError`](crate::CallError)
/// from a circuit breaker. Messages are lowercase, say what happened and what to do.
///
/// ```
/// use ghostnet_resilience::{Error, RetryPolicy};
///
/// let err = RetryPolicy::builder().max_attempts(0).build().unwrap_err();
/// assert!(matches!(err, Error::InvalidConfig { field: "max_attempts", .. }));
/// assert!(err.to_string().contains("max_attempts"));
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A configuration value cannot be used.
    InvalidConfig {
        /// The offending field.
        field: &'static str,
        /// Why the value was refused and what to use instead.
        reason: String,
    },
    /// A `Retry-After` header value is neither delta-seconds nor an HTTP-date.
    InvalidRetryAfter {
        /// The value as received (lossily decoded, truncated to 64 bytes).
        value: String,
    },
    /// The rate limiter has no capacity right now.
    RateLimited {
        /// How long until the next request would be admitted.
        retry_in: Duration,
    },
    /// More permits were asked for at once than the burst size: that can never succeed.
    InsufficientCapacity {
        /// Permits asked for.
        requested: u32,
        /// The limiter's burst size.
        burst: u32,
    },
    /// The circuit breaker is open: the call was refused without being tried.
    CircuitOpen {
        /// How long until the breaker lets a probe call through.
        retry_in: Duration,
    },
    /// The circuit breaker is half-open and every probe slot is taken.
    CircuitHalfOpen {
        /// Probe calls the breaker admits while half-open.
        probes: u32,
    },
    /// A background task (a health check) was started outside a tokio runtime.
    NoRuntime,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidConfig { field, reason } => {
                write!(f, "invalid resilience config: `{field}` {reason}")
            }
            Self::InvalidRetryAfter { value } => write!(
                f,
                "invalid Retry-After value {value:?}: expected delta-seconds (`120`) or an HTTP-date (`Sun, 06 Nov 1994 08:49:37 GMT`)"
            ),
            Self::RateLimited { retry_in } => write!(
                f,
                "rate limit reached; the next request is admitted in {retry_in:?} (wait with `until_ready` or send less)"
            ),
            Self::InsufficientCapacity { requested, burst } => write!(
                f,
                "asked for {requested} permits at once but the burst is {burst}; this can never succeed, raise the burst or ask for fewer"
            ),
            Self::CircuitOpen { retry_in } => write!(
                f,
                "circuit breaker is open after repeated failures: failing fast; a probe call is allowed in {retry_in:?}"
            ),
            Self::CircuitHalfOpen { probes } => write!(
                f,
                "circuit breaker is half-open and its {probes} probe call(s) are taken; try again shortly or use another endpoint"
            ),
            Self::NoRuntime => f.write_str(
                "no tokio runtime: start background tasks from inside a runtime (e.g. within `ghostnet_runtime::run`)",
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An [`Error::InvalidConfig`] for `field`.
pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidConfig {
        field,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_lowercase_and_actionable() {
        let all = [
            invalid("max_delay", "must not be zero"),
            Error::InvalidRetryAfter { value: "x".into() },
            Error::RateLimited {
                retry_in: Duration::from_millis(100),
            },
            Error::InsufficientCapacity {
                requested: 30,
                burst: 20,
            },
            Error::CircuitOpen {
                retry_in: Duration::from_secs(5),
            },
            Error::CircuitHalfOpen { probes: 1 },
            Error::NoRuntime,
        ];
        for e in all {
            let s = e.to_string();
            assert!(s.starts_with(|c: char| c.is_lowercase()), "{s}");
        }
        assert!(
            Error::InsufficientCapacity {
                requested: 30,
                burst: 20
            }
            .to_string()
            .contains("raise the burst")
        );
    }
}
