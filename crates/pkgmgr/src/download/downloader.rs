//! [`Downloader`]: the download loop: tries over mirrors, retries with backoff, resume
//! from the `.part` file at every step.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ghostnet_resilience::{Classify, FailureKind, RateLimiter, RetryPolicy};
use ghostnet_runtime::Instant;
use http::Uri;

use super::options::{DownloadOptions, DownloadReport};
use super::part_file::{PartFile, to_hex};
use super::transfer::{Finished, RunState, TryContext, TryError, try_once};
use crate::error::{Error, Result};
use crate::fetch::HttpFetch;
use crate::mirror::{Candidate, MirrorManager};

/// Default attempts (rounds over the mirrors), the first included: 5. Attempts count
/// only while the part file stops growing (see [`Downloader`]).
pub const DEFAULT_DOWNLOAD_ATTEMPTS: u32 = 5;

/// Bounds the fresh starts of the retry policy after progress (a safety net; progress
/// already bounds them by the file size).
const MAX_POLICY_RUNS: u32 = 10_000;

/// Downloads files over an [`HttpFetch`] client: resumable, verified, with mirror
/// failover and retries.
///
/// A destination that already has the expected SHA-256 is left as it is (no request).
/// Each download streams into `<dest>.part` (with a `.part.meta` sidecar holding the
/// server's validators) and is moved into place only when complete and, if a SHA-256
/// was given, verified. A failure at any byte keeps the part; the next try, on the same
/// mirror or the next, asks for the rest with `Range` (+ `If-Range`).
///
/// Retries follow a [`RetryPolicy`] (5 attempts, exponential backoff, `Retry-After`
/// honoured). When the policy gives up but the part file grew since it started, it
/// starts again: a flaky mirror that drops the connection every few megabytes still
/// gets the file across. With a [`MirrorManager`], one attempt is a round over the usable mirrors:
/// a failing mirror hands over at once to the next, and the policy's backoff applies
/// only when every mirror failed in the round.
///
/// ```no_run
/// # async fn demo() -> ghostnet_pkgmgr::Result<()> {
/// use ghostnet_http1::client::Client;
/// use ghostnet_pkgmgr::download::{DownloadOptions, Downloader};
///
/// let downloader = Downloader::new(Client::new());
/// let report = downloader
///     .download("http://mirror.example.org/iso/big.iso", DownloadOptions::new("big.iso"))
///     .await?;
/// println!("{} bytes in {:?}", report.size, report.elapsed);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Downloader {
    fetch: Arc<dyn HttpFetch>,
    retry: RetryPolicy,
    limiter: Option<Arc<RateLimiter>>,
}

impl Downloader {
    /// A downloader over `fetch` with the default retry policy and no bandwidth limit.
    pub fn new(fetch: impl HttpFetch + 'static) -> Self {
        Self::from_arc(Arc::new(fetch))
    }

    /// A downloader over a shared client.
    pub fn from_arc(fetch: Arc<dyn HttpFetch>) -> Self {
        let retry = RetryPolicy::builder()
            .max_attempts(DEFAULT_DOWNLOAD_ATTEMPTS)
            .build()
            .unwrap_or_default();
        Self {
            fetch,
            retry,
            limiter: None,
        }
    }

    /// Retries (rounds over the mirrors) follow `policy`.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Every byte this downloader (and its clones) receives is charged to `limiter`
    /// (one cell per byte): a total bandwidth limit.
    pub fn rate_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// Downloads `url` into `opts.dest`.
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidMirror`] when `url` is not an absolute `http`/`https` URL.
    /// - [`Error::Status`] (nothing written), [`Error::Fetch`], [`Error::TooSlow`]
    ///   (the part is kept: run again to resume) after the retries.
    /// - [`Error::ContentRange`] when the server's range does not fit the part.
    /// - [`Error::Checksum`] naming both digests; nothing in place was touched.
    /// - [`Error::Io`] for local file trouble.
    pub async fn download(&self, url: &str, opts: DownloadOptions) -> Result<DownloadReport> {
        let uri = parse_url(url)?;
        self.run(Source::Url(uri), opts).await
    }

    /// Downloads `path` from `mirrors` into `opts.dest`, failing over mid-transfer.
    ///
    /// # Errors
    ///
    /// As [`download`](Self::download), plus [`Error::InvalidMirrorPath`],
    /// [`Error::NotOnAnyMirror`] and [`Error::NoMirrorAvailable`].
    pub async fn download_from(
        &self,
        mirrors: &MirrorManager,
        path: &str,
        opts: DownloadOptions,
    ) -> Result<DownloadReport> {
        self.run(Source::Mirrors { mirrors, path }, opts).await
    }

    async fn run(&self, source: Source<'_>, opts: DownloadOptions) -> Result<DownloadReport> {
        opts.validate()?;
        let started = Instant::now();
        let resumed_from = existing_part_len(&opts).await;
        if resumed_from == 0
            && let Some(report) = already_in_place(&source, &opts, started).await
        {
            return Ok(report);
        }
        let shared = Mutex::new(Shared {
            run: RunState {
                started,
                received: 0,
                high_water: resumed_from,
            },
            tries: 0,
            failovers: 0,
            last_mirror: None,
            last_url: String::new(),
        });
        let cx = TryContext {
            fetch: &*self.fetch,
            opts: &opts,
            limiter: self.limiter.as_deref(),
        };
        // A download that keeps getting further keeps going: when the policy gives up on
        // a retryable failure but the part grew past its longest, it starts afresh. A
        // server that always restarts from zero makes no such progress, so this ends.
        let mut high_water = resumed_from;
        let mut policy_runs = 0u32;
        let outcome = loop {
            policy_runs += 1;
            let outcome = self
                .retry
                .run(|_attempt| round(&cx, &source, &shared))
                .await;
            let grown = shared
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .run
                .high_water;
            match &outcome {
                Err(e)
                    if grown > high_water
                        && policy_runs < MAX_POLICY_RUNS
                        && !matches!(e.error().kind, FailureKind::Permanent) =>
                {
                    high_water = grown;
                }
                _ => break outcome,
            }
        };
        let shared = shared.into_inner().unwrap_or_else(|p| p.into_inner());
        match outcome {
            Ok(done) => Ok(DownloadReport {
                path: opts.dest.clone(),
                size: done.size,
                received: shared.run.received,
                resumed_from: done
                    .size
                    .saturating_sub(shared.run.received)
                    .min(resumed_from),
                sha256: done.sha256.map(|d| to_hex(&d)),
                url: shared.last_url,
                retries: shared.tries.saturating_sub(1),
                failovers: shared.failovers,
                elapsed: started.elapsed(),
            }),
            Err(e) => Err(e.into_inner().error),
        }
    }
}

impl fmt::Debug for Downloader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Downloader")
            .field("retry", &self.retry)
            .field("rate_limited", &self.limiter.is_some())
            .finish_non_exhaustive()
    }
}

/// Where the bytes come from.
enum Source<'a> {
    Url(Uri),
    Mirrors {
        mirrors: &'a MirrorManager,
        path: &'a str,
    },
}

/// State across the rounds of one download.
struct Shared {
    run: RunState,
    tries: u32,
    failovers: u32,
    last_mirror: Option<usize>,
    last_url: String,
}

/// A failed round, as the retry policy sees it.
struct RoundError {
    error: Error,
    kind: FailureKind,
}

impl Classify for RoundError {
    fn classify(&self) -> FailureKind {
        self.kind
    }
}

impl fmt::Display for RoundError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl From<TryError> for RoundError {
    fn from(e: TryError) -> Self {
        Self {
            error: e.error,
            kind: e.kind,
        }
    }
}

/// Errors of the mirror manager itself end the download unless mirrors come back.
fn mirror_error(error: Error) -> RoundError {
    let kind = match &error {
        Error::NoMirrorAvailable {
            retry_in: Some(wait),
            ..
        } => FailureKind::TooManyRequests {
            retry_after: Some(*wait),
        },
        _ => FailureKind::Permanent,
    };
    RoundError { error, kind }
}

/// One try, with the counts kept in `shared` (the lock is not held across awaits).
async fn counted_try(
    cx: &TryContext<'_>,
    url: &Uri,
    mirror: Option<usize>,
    shared: &Mutex<Shared>,
) -> (Result<Finished, TryError>, Duration) {
    let mut run = {
        let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
        s.tries += 1;
        if let (Some(prev), Some(now)) = (s.last_mirror, mirror)
            && prev != now
        {
            s.failovers += 1;
        }
        s.last_mirror = mirror;
        s.last_url = url.to_string();
        RunState {
            started: s.run.started,
            received: s.run.received,
            high_water: s.run.high_water,
        }
    };
    let began = Instant::now();
    let result = try_once(cx, url, &mut run).await;
    shared.lock().unwrap_or_else(|p| p.into_inner()).run = run;
    (result, began.elapsed())
}

/// One attempt of the retry policy: one try of the URL, or one pass over the usable
/// mirrors, each continuing the same part file.
async fn round(
    cx: &TryContext<'_>,
    source: &Source<'_>,
    shared: &Mutex<Shared>,
) -> Result<Finished, RoundError> {
    match source {
        Source::Url(url) => counted_try(cx, url, None, shared)
            .await
            .0
            .map_err(Into::into),
        Source::Mirrors { mirrors, path } => {
            let mut candidate: Candidate = mirrors.best_mirror(path).map_err(mirror_error)?;
            let mut tried = Vec::new();
            loop {
                tried.push(candidate.index());
                let (result, elapsed) =
                    counted_try(cx, candidate.url(), Some(candidate.index()), shared).await;
                match result {
                    Ok(done) => {
                        let _ = mirrors.report_success(&candidate, done.received, elapsed);
                        return Ok(done);
                    }
                    Err(e) if e.local => {
                        // The disk, not the mirror: say nothing of the mirror, try no other.
                        return Err(e.into());
                    }
                    Err(e) => {
                        tracing::debug!(mirror = %candidate.base(), error = %e.error, "mirror failed");
                        if e.received > 0 {
                            let _ = mirrors.report_throughput(&candidate, e.received, elapsed);
                        }
                        let _ = mirrors.report_failure(&candidate, e.failure);
                        let failed = RoundError::from(e);
                        match mirrors.next_after(&candidate) {
                            Ok(next) if !tried.contains(&next.index()) => candidate = next,
                            Ok(_) => return Err(failed),
                            Err(error @ Error::NotOnAnyMirror { .. }) => {
                                return Err(mirror_error(error));
                            }
                            Err(_) => return Err(failed),
                        }
                    }
                }
            }
        }
    }
}

/// A destination that already has the expected SHA-256 (a finished earlier run) is
/// not fetched again. Without a checksum nothing proves it is current, so it is.
async fn already_in_place(
    source: &Source<'_>,
    opts: &DownloadOptions,
    started: Instant,
) -> Option<DownloadReport> {
    let expected = opts.sha256?;
    let dest = opts.dest.clone();
    let (size, actual) = tokio::task::spawn_blocking(move || {
        use sha2::{Digest, Sha256};
        use std::io::Read;
        let mut file = std::fs::File::open(&dest).ok()?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut size = 0u64;
        loop {
            let n = file.read(&mut buf).ok()?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            size += n as u64;
        }
        Some((size, <[u8; 32]>::from(hasher.finalize())))
    })
    .await
    .ok()??;
    if actual != expected {
        return None;
    }
    let url = match source {
        Source::Url(u) => u.to_string(),
        Source::Mirrors { path, .. } => (*path).to_owned(),
    };
    Some(DownloadReport {
        path: opts.dest.clone(),
        size,
        received: 0,
        resumed_from: size,
        sha256: Some(to_hex(&actual)),
        url,
        retries: 0,
        failovers: 0,
        elapsed: started.elapsed(),
    })
}

async fn existing_part_len(opts: &DownloadOptions) -> u64 {
    let part = PartFile::path_for(&opts.dest, opts.part_dir.as_deref());
    tokio::fs::metadata(&part).await.map_or(0, |m| m.len())
}

fn parse_url(url: &str) -> Result<Uri> {
    let invalid = |reason: &str| Error::InvalidMirror {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let uri: Uri = url.parse().map_err(|_| invalid("not a URL"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(invalid("only http:// and https:// URLs can be downloaded")),
    }
    if uri.host().is_none() {
        return Err(invalid("no host"));
    }
    Ok(uri)
}
