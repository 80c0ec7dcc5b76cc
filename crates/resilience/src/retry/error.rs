//! What a retry policy hands back when it stops trying.

use std::fmt;
use std::time::Duration;

use super::classify::{Classify, FailureKind};

/// Why a [`RetryPolicy`](crate::RetryPolicy) stopped trying.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// The failure is of a kind the policy does not retry (see
    /// [`RetryOn`](crate::RetryOn)); permanent failures never are.
    NotRetryable(FailureKind),
    /// Every allowed attempt was used.
    AttemptsExhausted,
    /// The retry budget is empty: many retries recently, most likely an outage.
    BudgetExhausted,
    /// The server asked to wait longer than the policy allows.
    RetryAfterTooLong {
        /// What the server asked for (already capped by the parser).
        retry_after: Duration,
        /// The policy's `max_retry_after`.
        limit: Duration,
    },
    /// Waiting for the next attempt would end past the policy's `max_elapsed`.
    DeadlineExceeded {
        /// Time since the first attempt started, plus the wait that was refused.
        would_be: Duration,
        /// The policy's `max_elapsed`.
        limit: Duration,
    },
}

impl fmt::Display for GiveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotRetryable(kind) => write!(f, "{kind} is not retried by this policy"),
            Self::AttemptsExhausted => f.write_str("every allowed attempt failed"),
            Self::BudgetExhausted => f.write_str(
                "retry budget exhausted: too many retries recently (likely an outage); not adding load",
            ),
            Self::RetryAfterTooLong { retry_after, limit } => write!(
                f,
                "the server asked to retry after {retry_after:?}, longer than the allowed {limit:?}; try later or raise max_retry_after"
            ),
            Self::DeadlineExceeded { would_be, limit } => write!(
                f,
                "retrying would take {would_be:?} in all, past max_elapsed {limit:?}"
            ),
        }
    }
}

/// The last failure of an operation, with how many attempts were made and why the policy
/// stopped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use ghostnet_resilience::{FailureKind, GiveUp, RetryPolicy};
///
/// let policy = RetryPolicy::builder().max_attempts(3).build().unwrap();
/// let err = policy
///     .run(|_attempt| async { Err::<(), _>(FailureKind::Timeout) })
///     .await
///     .unwrap_err();
/// assert_eq!(err.attempts(), 3);
/// assert_eq!(err.reason(), GiveUp::AttemptsExhausted);
/// assert_eq!(err.into_inner(), FailureKind::Timeout);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryError<E> {
    error: E,
    attempts: u32,
    reason: GiveUp,
}

impl<E> RetryError<E> {
    pub(crate) fn new(error: E, attempts: u32, reason: GiveUp) -> Self {
        Self {
            error,
            attempts,
            reason,
        }
    }

    /// The last attempt's error.
    pub fn error(&self) -> &E {
        &self.error
    }

    /// The last attempt's error, by value.
    pub fn into_inner(self) -> E {
        self.error
    }

    /// Attempts made, including the first.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Why the policy stopped.
    pub fn reason(&self) -> GiveUp {
        self.reason
    }
}

impl<E: fmt::Display> fmt::Display for RetryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gave up after {} attempt(s), {}: {}",
            self.attempts, self.reason, self.error
        )
    }
}

impl<E: std::error::Error + 'static> std::error::Error for RetryError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl<E: Classify> Classify for RetryError<E> {
    /// The last error's kind, so nested policies and breakers see the real failure.
    fn classify(&self) -> FailureKind {
        self.error.classify()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn display_and_source() {
        let e = RetryError::new(
            std::io::Error::from(std::io::ErrorKind::ConnectionReset),
            4,
            GiveUp::BudgetExhausted,
        );
        let s = e.to_string();
        assert!(
            s.starts_with("gave up after 4 attempt(s), retry budget exhausted"),
            "{s}"
        );
        assert!(e.source().is_some());
        assert_eq!(e.classify(), FailureKind::Transient);
        let r = GiveUp::RetryAfterTooLong {
            retry_after: Duration::from_secs(600),
            limit: Duration::from_secs(10),
        };
        assert!(r.to_string().contains("raise max_retry_after"));
        assert!(
            GiveUp::NotRetryable(FailureKind::Permanent)
                .to_string()
                .contains("permanent failure is not retried")
        );
    }
}
