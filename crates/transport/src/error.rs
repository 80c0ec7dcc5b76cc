//! The crate's one error type.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong in `ghostnet-transport`.
///
/// Messages are lowercase, say what happened and, where there is one, what to do.
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// A target string could not be parsed.
    InvalidTarget {
        /// What was given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A configuration value cannot be used.
    InvalidConfig {
        /// The offending field.
        field: &'static str,
        /// Why, and what to use instead.
        reason: String,
    },
    /// DNS resolution failed.
    Resolve {
        /// The name that was looked up.
        host: String,
        /// The resolver's error.
        source: io::Error,
    },
    /// Resolution succeeded but returned no usable address.
    NoAddresses {
        /// The name that was looked up.
        host: String,
    },
    /// Connecting failed for every candidate address.
    Connect {
        /// The target, as given.
        target: String,
        /// Why: the error of a single attempt, or for name targets an `AttemptErrors` list
        /// of every address tried (its kind is the most relevant one).
        source: io::Error,
    },
    /// Connecting did not finish in time.
    ConnectTimeout {
        /// The target, as given.
        target: String,
        /// The limit that passed.
        after: Duration,
    },
    /// A socket operation (bind, listen, accept, set option, send, receive) failed.
    Io {
        /// The operation, e.g. `bind 127.0.0.1:0`.
        op: String,
        /// The OS error.
        source: io::Error,
    },
    /// A TLS handshake failed (certificate rejected, no shared protocol, peer alert).
    Tls {
        /// The peer, as given or as accepted.
        peer: String,
        /// The rustls-level reason, already worded for people.
        reason: String,
        /// The underlying error.
        source: io::Error,
    },
    /// A TLS handshake did not finish in time.
    TlsHandshakeTimeout {
        /// The peer.
        peer: String,
        /// The limit that passed.
        after: Duration,
    },
    /// A certificate, key or CA file could not be read or used.
    Certificate {
        /// The file, when there is one.
        path: Option<PathBuf>,
        /// What is wrong.
        reason: String,
    },
    /// Waiting for a pooled connection took longer than the pool's limit.
    PoolTimeout {
        /// The pool key, e.g. `https://example.com:443`.
        key: String,
        /// The limit that passed.
        after: Duration,
    },
    /// The pool was closed while waiting or dialing.
    PoolClosed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidTarget { input, reason } => {
                write!(f, "invalid target {input:?}: {reason}")
            }
            Self::InvalidConfig { field, reason } => {
                write!(f, "invalid transport config: `{field}` {reason}")
            }
            Self::Resolve { host, source } => write!(
                f,
                "could not resolve {host}: {source} (check the name and the DNS settings)"
            ),
            Self::NoAddresses { host } => {
                write!(f, "{host} resolved to no usable address")
            }
            Self::Connect { target, source } => write!(
                f,
                "could not connect to {target}: {source} (is the server running and reachable?)"
            ),
            Self::ConnectTimeout { target, after } => write!(
                f,
                "connecting to {target} timed out after {after:?} (host down, firewalled, or the connect timeout is too short)"
            ),
            Self::Io { op, source } => write!(f, "{op} failed: {source}"),
            Self::Tls { peer, reason, .. } => write!(f, "TLS with {peer} failed: {reason}"),
            Self::TlsHandshakeTimeout { peer, after } => {
                write!(f, "TLS handshake with {peer} timed out after {after:?}")
            }
            Self::Certificate {
                path: Some(p),
                reason,
            } => {
                write!(f, "certificate file {}: {reason}", p.display())
            }
            Self::Certificate { path: None, reason } => write!(f, "certificate: {reason}"),
            Self::PoolTimeout { key, after } => write!(
                f,
                "no connection to {key} became free within {after:?}; raise the per-host limit or the wait timeout"
            ),
            Self::PoolClosed => f.write_str("the connection pool was closed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Resolve { source, .. }
            | Self::Connect { source, .. }
            | Self::Io { source, .. }
            | Self::Tls { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl Error {
    /// An [`Error::Io`] for operation `op`.
    pub fn io(op: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            op: op.into(),
            source,
        }
    }

    /// Whether retrying the operation on a new connection may succeed: timeouts, resets,
    /// refusals. Configuration, certificate and parse errors are not transient.
    pub fn is_transient(&self) -> bool {
        use io::ErrorKind as K;
        match self {
            Self::ConnectTimeout { .. }
            | Self::TlsHandshakeTimeout { .. }
            | Self::PoolTimeout { .. } => true,
            Self::Connect { source, .. } | Self::Io { source, .. } => matches!(
                source.kind(),
                K::ConnectionRefused
                    | K::ConnectionReset
                    | K::ConnectionAborted
                    | K::BrokenPipe
                    | K::TimedOut
                    | K::UnexpectedEof
                    | K::NotConnected
                    | K::HostUnreachable
                    | K::NetworkUnreachable
                    | K::Interrupted
            ),
            Self::Resolve { .. } => true,
            _ => false,
        }
    }
}

impl From<Error> for io::Error {
    /// For code that must speak `io::Error` (e.g. `AsyncRead` impls): keeps the kind of an
    /// underlying OS error, wraps the rest as `Other`.
    fn from(e: Error) -> Self {
        let kind = match &e {
            Error::Connect { source, .. } | Error::Io { source, .. } => source.kind(),
            Error::ConnectTimeout { .. }
            | Error::TlsHandshakeTimeout { .. }
            | Error::PoolTimeout { .. } => io::ErrorKind::TimedOut,
            Error::InvalidTarget { .. } | Error::InvalidConfig { .. } => {
                io::ErrorKind::InvalidInput
            }
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, e)
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
