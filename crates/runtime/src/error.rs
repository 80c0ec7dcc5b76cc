//! The crate's one error type.

use std::fmt;
use std::time::Duration;

/// Everything that can go wrong in `ghostnet-runtime`.
///
/// Messages are lowercase, say what happened and, where there is one, what to do.
///
/// ```
/// use ghostnet_runtime::{Config, Error};
///
/// let err = Config::for_server().worker_threads(0).validate().unwrap_err();
/// assert!(matches!(err, Error::InvalidConfig { field: "worker_threads", .. }));
/// assert!(err.to_string().contains("worker_threads"));
/// ```
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// A [`Config`](crate::Config) field holds a value the runtime cannot use.
    InvalidConfig {
        /// The offending field.
        field: &'static str,
        /// Why the value was refused and what to use instead.
        reason: String,
    },
    /// The operating system refused to create the runtime (threads, epoll, timers).
    Build(std::io::Error),
    /// A task was aborted (by `abort`, a task group, or a shutdown deadline) before it finished.
    Cancelled,
    /// A task panicked; the payload's message is kept when it was a string.
    Panicked(String),
    /// An operation did not finish within its time limit.
    Timeout(Duration),
    /// The channel, semaphore or shutdown this operation needed is closed.
    Closed,
    /// Signal handlers (SIGINT/SIGTERM) could not be installed.
    Signal(std::io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidConfig { field, reason } => {
                write!(f, "invalid runtime config: `{field}` {reason}")
            }
            Self::Build(e) => write!(
                f,
                "could not build the runtime: {e} (check thread and file-descriptor limits, e.g. `ulimit -u` and `ulimit -n`)"
            ),
            Self::Cancelled => f.write_str("task was cancelled before it finished"),
            Self::Panicked(msg) => write!(f, "task panicked: {msg}"),
            Self::Timeout(d) => write!(
                f,
                "operation timed out after {d:?}; raise the timeout if the peer is just slow"
            ),
            Self::Closed => {
                f.write_str("closed: the other side was dropped or closed; stop using this handle")
            }
            Self::Signal(e) => write!(
                f,
                "could not install SIGINT/SIGTERM handlers: {e}; trigger the shutdown by hand instead"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Build(e) | Self::Signal(e) => Some(e),
            _ => None,
        }
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        if e.is_cancelled() {
            return Self::Cancelled;
        }
        let payload = e.into_panic();
        Self::Panicked(panic_message(payload.as_ref()))
    }
}

/// The text of a panic payload, when it is a string.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
