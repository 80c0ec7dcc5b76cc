//! What a download is asked to do ([`DownloadOptions`]), what it tells while it runs
//! ([`Progress`]) and what it reports at the end ([`DownloadReport`]).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::part_file::parse_sha256;
use crate::error::{Error, Result};

/// Default time allowed to connect and receive the response head: 30 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default lowest speed: 1 KiB/s, held for [`DEFAULT_LOW_SPEED_TIME`].
pub const DEFAULT_LOW_SPEED_LIMIT: u64 = 1024;
/// Default window over which the lowest speed is measured: 30 s.
pub const DEFAULT_LOW_SPEED_TIME: Duration = Duration::from_secs(30);
/// Default largest piece written (and charged to a bandwidth limit) at once: 64 KiB.
pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024;

/// A callback that gets [`Progress`] as bytes arrive.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// How far one download has come.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// Bytes received into the `.part` file (a resumed download starts above zero; the
    /// last 256 KiB at most may still be on their way to the disk).
    pub downloaded: u64,
    /// The file's full size, when the server said.
    pub total: Option<u64>,
    /// Bytes per second received in this run so far.
    pub rate: f64,
}

/// How to download one file.
///
/// ```
/// use std::time::Duration;
/// use ghostnet_pkgmgr::download::DownloadOptions;
///
/// let opts = DownloadOptions::new("out/zstd.pkg.tar.zst")
///     .sha256(&"ab".repeat(32))
///     .unwrap()
///     .low_speed(10_000, Duration::from_secs(20))
///     .on_progress(|p| eprintln!("{} / {:?} bytes at {:.0} B/s", p.downloaded, p.total, p.rate));
/// assert_eq!(opts.dest().to_str(), Some("out/zstd.pkg.tar.zst"));
/// ```
#[derive(Clone)]
pub struct DownloadOptions {
    pub(crate) dest: PathBuf,
    pub(crate) sha256: Option<[u8; 32]>,
    pub(crate) report_sha256: bool,
    pub(crate) durable: bool,
    pub(crate) chunk_size: usize,
    pub(crate) connect_timeout: Duration,
    pub(crate) low_speed_limit: u64,
    pub(crate) low_speed_time: Duration,
    pub(crate) part_dir: Option<PathBuf>,
    pub(crate) on_progress: Option<ProgressFn>,
}

impl DownloadOptions {
    /// Download into `dest` (its `.part` file beside it), with the defaults.
    pub fn new(dest: impl Into<PathBuf>) -> Self {
        Self {
            dest: dest.into(),
            sha256: None,
            report_sha256: false,
            durable: false,
            chunk_size: DEFAULT_CHUNK_SIZE,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            low_speed_limit: DEFAULT_LOW_SPEED_LIMIT,
            low_speed_time: DEFAULT_LOW_SPEED_TIME,
            part_dir: None,
            on_progress: None,
        }
    }

    /// The destination file.
    pub fn dest(&self) -> &std::path::Path {
        &self.dest
    }

    /// The SHA-256 (64 hex digits) the file must have; checked before it is moved into
    /// place.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidChecksum`] when `hex` is not 64 hex digits.
    pub fn sha256(mut self, hex: &str) -> Result<Self> {
        self.sha256 = Some(parse_sha256(hex)?);
        Ok(self)
    }

    /// The SHA-256 as bytes.
    pub fn sha256_bytes(mut self, digest: [u8; 32]) -> Self {
        self.sha256 = Some(digest);
        self
    }

    /// Whether the file is synced to disk before it is renamed into place, so that a
    /// power loss (not just a killed process) cannot leave a file in place with
    /// missing data. Off by default, as in curl, aria2 and the package managers built
    /// on them: the sync costs one disk flush per file (~5 ms each on this machine,
    /// and a 1 GiB file waits for the disk to write it all), and a killed process
    /// loses nothing either way: the kernel has every byte that was written.
    pub fn durable(mut self, yes: bool) -> Self {
        self.durable = yes;
        self
    }

    /// Computes the file's SHA-256 for [`DownloadReport::sha256`] even when no digest
    /// is given to check (off by default: SHA-256 is slower than a fast link on CPUs
    /// without SHA instructions, ~150-400 MB/s, so it is paid only when asked for).
    pub fn report_sha256(mut self, yes: bool) -> Self {
        self.report_sha256 = yes;
        self
    }

    /// The largest piece written, and charged to a bandwidth limit, at once (default
    /// 64 KiB). Larger network reads are split.
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes;
        self
    }

    /// Time allowed to connect and receive the response head (default 30 s). There is
    /// no total deadline: a large file may take hours, see [`low_speed`](Self::low_speed).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Abandon a transfer that stays below `bytes_per_sec` for `window` and continue on
    /// the next mirror (default 1 KiB/s over 30 s, as curl's `--speed-limit`/`--speed-time`).
    /// A limit of 0 turns the check off; a transfer that stalls completely still ends
    /// after `window`.
    pub fn low_speed(mut self, bytes_per_sec: u64, window: Duration) -> Self {
        self.low_speed_limit = bytes_per_sec;
        self.low_speed_time = window;
        self
    }

    /// Keep the `.part` file and its sidecar in `dir` instead of beside the destination.
    pub fn part_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.part_dir = Some(dir.into());
        self
    }

    /// Called as bytes arrive (at most once per written piece).
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.on_progress = Some(Arc::new(f));
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |field, reason: &str| {
            Err(Error::InvalidDownloadConfig {
                field,
                reason: reason.to_owned(),
            })
        };
        if self.chunk_size == 0 {
            return bad("chunk_size", "must be at least 1 byte (e.g. 65536)");
        }
        if self.connect_timeout.is_zero() {
            return bad("connect_timeout", "must be above zero (e.g. 30 s)");
        }
        if self.low_speed_time.is_zero() {
            return bad("low_speed", "the window must be above zero (e.g. 30 s)");
        }
        if self.dest.file_name().is_none() {
            return bad("dest", "must name a file, not a directory");
        }
        Ok(())
    }
}

impl fmt::Debug for DownloadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DownloadOptions")
            .field("dest", &self.dest)
            .field("sha256", &self.sha256.map(|d| super::to_hex(&d)))
            .field("report_sha256", &self.report_sha256)
            .field("durable", &self.durable)
            .field("chunk_size", &self.chunk_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("low_speed_limit", &self.low_speed_limit)
            .field("low_speed_time", &self.low_speed_time)
            .field("part_dir", &self.part_dir)
            .finish_non_exhaustive()
    }
}

/// What a finished download did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadReport {
    /// Where the file is now.
    pub path: PathBuf,
    /// The file's size.
    pub size: u64,
    /// Bytes received in this run (less than `size` when it resumed).
    pub received: u64,
    /// Bytes the `.part` file held when this run started and that were kept.
    pub resumed_from: u64,
    /// The file's SHA-256, lowercase hex: the verified digest when one was given,
    /// the computed one with [`DownloadOptions::report_sha256`], otherwise `None`.
    pub sha256: Option<String>,
    /// The URL the last bytes came from.
    pub url: String,
    /// Attempts beyond the first (same mirror or another).
    pub retries: u32,
    /// Times the download moved on to another mirror.
    pub failovers: u32,
    /// Wall time of this run.
    pub elapsed: Duration,
}
