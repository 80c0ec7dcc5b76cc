//! The crate's one error type.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

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
    /// The AUR (or the proxy in front of it) answered HTTP 429: its rate limit, 4000
    /// requests a day per IP address, was reached.
    AurRateLimited {
        /// How long the server asked to wait (`Retry-After`), if it said.
        retry_after: Option<Duration>,
    },
    /// The AUR answered an HTTP status other than 200, 304 or 429.
    AurStatus {
        /// The URL requested.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The server's `error` message when the body was RPC JSON.
        message: Option<String>,
    },
    /// The AUR endpoint could not be reached, or the exchange broke off.
    AurUnreachable {
        /// The URL requested.
        url: String,
        /// What the HTTP client said.
        source: crate::fetch::FetchError,
    },
    /// An AUR client setting is out of range.
    AurConfig {
        /// The builder method that set it.
        field: &'static str,
        /// Why the value was refused and what to use instead.
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
    /// Another download (in this process or another) is writing the same `.part` file
    /// and did not let go of it within [`PART_LOCK_WAIT`](crate::download::PART_LOCK_WAIT).
    PartInUse {
        /// The `.part` file.
        path: PathBuf,
    },
    /// A mirror manager was built without any mirror.
    NoMirrors,
    /// A mirror base URL cannot be used.
    InvalidMirror {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The same mirror was given twice (compared after normalisation).
    DuplicateMirror {
        /// The normalised base URL.
        url: String,
    },
    /// A path to fetch from the mirrors cannot be used.
    InvalidMirrorPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A mirror manager setting is out of range.
    InvalidMirrorConfig {
        /// The builder method that set it.
        field: &'static str,
        /// Why the value was refused and what to use instead.
        reason: String,
    },
    /// A candidate names a mirror this manager does not have (it came from another
    /// manager).
    UnknownMirror {
        /// The candidate's mirror base URL.
        url: String,
    },
    /// The file is missing (HTTP 404/410) on every mirror asked, or on as many as
    /// `max_not_found` allows. Retrying will not help until the mirrors change.
    NotOnAnyMirror {
        /// The path asked for.
        path: String,
        /// Mirrors that answered "not found".
        mirrors: usize,
    },
    /// Every mirror that may have the file is in cooldown after errors or marked down by
    /// health checks.
    NoMirrorAvailable {
        /// The path asked for.
        path: String,
        /// Mirrors resting after errors.
        cooling: usize,
        /// Mirrors that health checks mark down.
        unhealthy: usize,
        /// How long until the first cooldown ends, if any mirror is cooling.
        retry_in: Option<Duration>,
    },
    /// The mirror health checks could not be started.
    HealthCheck(ghostnet_resilience::Error),
    /// The request failed before a response arrived, or its body broke off
    /// (connect error, timeout, connection lost). What arrived is kept in the `.part` file.
    Fetch {
        /// The URL requested.
        url: String,
        /// What the HTTP client said.
        source: crate::fetch::FetchError,
    },
    /// A transfer stayed below the lowest speed limit for the whole window and was
    /// abandoned (what arrived is kept in the `.part` file).
    TooSlow {
        /// The URL requested.
        url: String,
        /// The rate over the window, bytes/s.
        rate: u64,
        /// The limit, bytes/s.
        limit: u64,
        /// The window.
        window: Duration,
    },
    /// A download setting is out of range.
    InvalidDownloadConfig {
        /// The setting.
        field: &'static str,
        /// Why the value was refused and what to use instead.
        reason: String,
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
            Self::AurRateLimited { retry_after } => {
                f.write_str(
                    "the AUR rate limit was reached (HTTP 429; 4000 requests a day per IP); ",
                )?;
                match retry_after {
                    Some(d) => write!(f, "retry in {}s", d.as_secs_f64().ceil()),
                    None => f.write_str("wait and retry later"),
                }
            }
            Self::AurStatus {
                url,
                status,
                message,
            } => {
                write!(f, "{url} answered HTTP {status}")?;
                if let Some(m) = message {
                    write!(f, ": {m}")?;
                }
                f.write_str("; check the endpoint URL and the query")
            }
            Self::AurUnreachable { url, source } => write!(
                f,
                "could not query the AUR at {url}: {source}; check the network or the endpoint URL"
            ),
            Self::AurConfig { field, reason } => {
                write!(f, "invalid AUR client setting `{field}`: {reason}")
            }
            Self::Io { op, path, source } => {
                write!(f, "could not {op} {}: {source}", path.display())
            }
            Self::PartInUse { path } => write!(
                f,
                "{} is being written by another download; wait for it to finish or stop it",
                path.display()
            ),
            Self::NoMirrors => f.write_str(
                "no mirrors configured; add at least one with `primary(url)` or `fallback(url)`",
            ),
            Self::InvalidMirror { url, reason } => write!(
                f,
                "invalid mirror URL {url:?}: {reason} (expected e.g. `https://mirror.example.org/pkgs/`)"
            ),
            Self::DuplicateMirror { url } => {
                write!(f, "mirror {url} is listed twice; remove the duplicate")
            }
            Self::InvalidMirrorPath { path, reason } => write!(
                f,
                "invalid mirror path {path:?}: {reason} (expected a file path under the mirror base, e.g. `core/os/x86_64/pkg.tar.zst`)"
            ),
            Self::InvalidMirrorConfig { field, reason } => {
                write!(f, "invalid mirror setting `{field}`: {reason}")
            }
            Self::UnknownMirror { url } => write!(
                f,
                "mirror {url} is not managed here; report a candidate to the manager that handed it out"
            ),
            Self::NotOnAnyMirror { path, mirrors } => write!(
                f,
                "{path} was not found on {mirrors} mirror(s); check the name or refresh the package database"
            ),
            Self::NoMirrorAvailable {
                path,
                cooling,
                unhealthy,
                retry_in,
            } => {
                write!(f, "no mirror is available for {path}: ")?;
                match retry_in {
                    Some(d) => write!(
                        f,
                        "{cooling} resting after errors (the first is back in {}s)",
                        d.as_secs_f64().ceil()
                    )?,
                    None => write!(f, "{cooling} resting after errors")?,
                }
                write!(
                    f,
                    ", {unhealthy} down per health checks; wait and retry, or check the network and the mirror list"
                )
            }
            Self::HealthCheck(e) => write!(f, "could not start mirror health checks: {e}"),
            Self::Fetch { url, source } => write!(
                f,
                "fetching {url} failed: {source}; the partial file is kept, run again to resume"
            ),
            Self::TooSlow {
                url,
                rate,
                limit,
                window,
            } => write!(
                f,
                "{url} sent {rate} B/s over {}s, below the {limit} B/s limit; the partial file is kept (add a mirror or lower the limit)",
                window.as_secs_f64()
            ),
            Self::InvalidDownloadConfig { field, reason } => {
                write!(f, "invalid download setting `{field}`: {reason}")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::HealthCheck(e) => Some(e),
            Self::Fetch { source, .. } | Self::AurUnreachable { source, .. } => Some(source),
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
