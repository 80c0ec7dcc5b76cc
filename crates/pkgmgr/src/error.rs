//! The crate's one error type.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in `ghostnet-pkgmgr`.
///
/// Messages are lowercase, say what happened and, where there is one, what to do.
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// The server answered with an error status. Nothing of the body was written.
    Status {
        /// The URL requested.
        url: String,
        /// The HTTP status code.
        status: u16,
    },
    /// A range response does not fit the request: wrong start, or a total size that
    /// differs from what the partial file was started with.
    ContentRange {
        /// The URL requested.
        url: String,
        /// What did not fit.
        reason: String,
    },
    /// The finished file's SHA-256 is not the expected one. The file already in place (if
    /// any) was not touched; the partial download was removed.
    Checksum {
        /// The file that was being downloaded.
        path: PathBuf,
        /// The digest asked for (lowercase hex).
        expected: String,
        /// The digest of what arrived (lowercase hex).
        actual: String,
    },
    /// A SHA-256 given by the user is not 64 hex digits.
    InvalidChecksum {
        /// What was given.
        input: String,
    },
    /// The AUR answered with `type: "error"`.
    Aur {
        /// The server's message, e.g. `Too many package results.`.
        message: String,
    },
    /// An AUR response is not the RPC v5 format (an HTML error page, a proxy's answer).
    AurFormat {
        /// What the JSON parser said.
        reason: String,
    },
    /// A file operation failed.
    Io {
        /// What was being done, e.g. `create`, `rename`.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status { url, status } => write!(
                f,
                "{url} answered HTTP {status}; nothing was written (try another mirror or check the URL)"
            ),
            Self::ContentRange { url, reason } => write!(
                f,
                "{url} sent a range that does not fit the partial file: {reason}; delete the .part file to start over"
            ),
            Self::Checksum {
                path,
                expected,
                actual,
            } => write!(
                f,
                "sha256 mismatch for {}: expected {expected}, got {actual}; the download was discarded and nothing in place was changed",
                path.display()
            ),
            Self::InvalidChecksum { input } => write!(
                f,
                "invalid sha256 {input:?}: expected 64 hexadecimal digits"
            ),
            Self::Aur { message } => write!(
                f,
                "the AUR refused the query: {message} (narrow the search or split the request)"
            ),
            Self::AurFormat { reason } => write!(
                f,
                "the AUR answer is not RPC v5 JSON ({reason}); check the endpoint URL"
            ),
            Self::Io { op, path, source } => {
                write!(f, "could not {op} {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
