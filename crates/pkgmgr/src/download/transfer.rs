//! One try: one URL, one request (two after a 416 that says the part is stale), the body
//! streamed into the `.part` file, then verification and the move into place.
//!
//! A failed try leaves the part file as it stands (flushed), so the next try, on this
//! mirror or another, resumes it.

use std::time::Duration;

use bytes::Bytes;
use ghostnet_resilience::retry::parse_retry_after_capped;
use ghostnet_resilience::{FailureKind, RateLimiter};
use ghostnet_runtime::Instant;
use http::header::{ACCEPT_ENCODING, IF_RANGE, RANGE, RETRY_AFTER};
use http::{HeaderValue, Request, Uri};

use super::options::{DownloadOptions, Progress};
use super::part_file::{PartFile, PartMeta};
use super::resume::{ResponseAction, classify_response, plan_resume};
use super::validators::Validators;
use crate::error::Error;
use crate::fetch::{FetchError, HttpFetch};
use crate::mirror::MirrorFailure;

/// Counts that span every try of one download.
#[derive(Debug)]
pub(crate) struct RunState {
    pub(crate) started: Instant,
    pub(crate) received: u64,
    /// The longest the part file has been.
    pub(crate) high_water: u64,
}

/// A finished try.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) size: u64,
    pub(crate) sha256: Option<[u8; 32]>,
    pub(crate) received: u64,
}

/// A failed try: the error for the user, what it says about the mirror, and what it
/// tells a retry policy.
#[derive(Debug)]
pub(crate) struct TryError {
    pub(crate) error: Error,
    pub(crate) failure: MirrorFailure,
    pub(crate) kind: FailureKind,
    /// Bytes received in this try before it failed.
    pub(crate) received: u64,
    /// A local file problem: not the mirror's fault, and no other mirror helps.
    pub(crate) local: bool,
}

impl TryError {
    fn new(error: Error, failure: MirrorFailure, kind: FailureKind) -> Self {
        Self {
            error,
            failure,
            kind,
            received: 0,
            local: false,
        }
    }

    fn fetch(url: &Uri, source: FetchError) -> Self {
        let failure = match source.kind() {
            FailureKind::Timeout => MirrorFailure::Timeout,
            _ => MirrorFailure::Connect,
        };
        let kind = source.kind();
        Self::new(
            Error::Fetch {
                url: url.to_string(),
                source,
            },
            failure,
            kind,
        )
    }

    fn io(error: Error) -> Self {
        // A local file problem (disk full, permissions, a part another download
        // holds) is not the mirror's fault and no retry fixes it.
        Self {
            local: true,
            ..Self::new(
                error,
                MirrorFailure::ServerError {
                    status: 0,
                    retry_after: None,
                },
                FailureKind::Permanent,
            )
        }
    }
}

/// What one try needs besides the URL.
pub(crate) struct TryContext<'a> {
    pub(crate) fetch: &'a dyn HttpFetch,
    pub(crate) opts: &'a DownloadOptions,
    pub(crate) limiter: Option<&'a RateLimiter>,
}

/// The longest `Retry-After` taken from a server: 5 min.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(300);

/// Runs one try against `url`.
pub(crate) async fn try_once(
    cx: &TryContext<'_>,
    url: &Uri,
    run: &mut RunState,
) -> Result<Finished, TryError> {
    let opts = cx.opts;
    let (mut part, meta) = PartFile::open_in(&opts.dest, opts.part_dir.as_deref())
        .await
        .map_err(TryError::io)?;
    if opts.sha256.is_none() && !opts.report_sha256 {
        part.skip_checksum();
    }
    part.set_durable(opts.durable);
    let url_text = url.to_string();
    let mut meta = meta.unwrap_or_default();
    let mut allow_restart = true;
    loop {
        // Another mirror's validators prove nothing by themselves: with a checksum to
        // check the result, resume without If-Range (as aria2 does). Without one, send
        // them anyway: rsync'd mirrors share mtimes (and nginx-style ETags built from
        // mtime and size), and a mirror that does not recognise them answers 200 with
        // the whole file, which restarts the part: never a mix of two files.
        let stored = if meta.url != url_text && opts.sha256.is_some() {
            Validators::default()
        } else {
            meta.validators.clone()
        };
        let verified_later = opts.sha256.is_some();
        let plan = plan_resume(part.len(), Some(&stored), verified_later);
        let mut request = Request::get(url.clone());
        // The bytes as stored: no transparent decoding of a .gz that a server labels.
        request = request.header(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        if let Some(range) = &plan.range {
            request = request.header(RANGE, range);
        }
        if let Some(if_range) = &plan.if_range {
            request = request.header(IF_RANGE, if_range);
        }
        let request = request.body(Bytes::new()).map_err(|e| {
            TryError::new(
                Error::InvalidMirror {
                    url: url_text.clone(),
                    reason: e.to_string(),
                },
                MirrorFailure::Connect,
                FailureKind::Permanent,
            )
        })?;
        let response =
            match ghostnet_runtime::timeout(opts.connect_timeout, cx.fetch.fetch(request)).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => return Err(TryError::fetch(url, e)),
                Err(_) => {
                    let e = FetchError::new(
                        FailureKind::Timeout,
                        format!(
                            "no response within the {}s connect timeout",
                            opts.connect_timeout.as_secs_f64()
                        ),
                    );
                    return Err(TryError::fetch(url, e));
                }
            };
        let status = response.status();
        let expected_total = meta.total;
        let action = classify_response(
            &url_text,
            plan.offset,
            expected_total,
            status,
            response.headers(),
        )
        .map_err(|error| match error {
            Error::Status { status, .. } => {
                let retry_after = response.headers().get(RETRY_AFTER).and_then(|v| {
                    parse_retry_after_capped(
                        v.as_bytes(),
                        std::time::SystemTime::now(),
                        RETRY_AFTER_CAP,
                    )
                    .ok()
                });
                let failure = MirrorFailure::for_status(status, retry_after).unwrap_or(
                    MirrorFailure::ServerError {
                        status,
                        retry_after,
                    },
                );
                TryError::new(error, failure, FailureKind::for_status(status, retry_after))
            }
            other => TryError::new(
                other,
                MirrorFailure::ServerError {
                    status: status.as_u16(),
                    retry_after: None,
                },
                FailureKind::Permanent,
            ),
        })?;
        let total = match action {
            ResponseAction::Append { total, .. } => {
                if plan.offset == 0 {
                    part.truncate().await.map_err(TryError::io)?;
                } else {
                    part.prepare_append().await.map_err(TryError::io)?;
                }
                total.or(expected_total)
            }
            ResponseAction::Restart { total } => {
                part.truncate().await.map_err(TryError::io)?;
                total
            }
            ResponseAction::Complete { total } => {
                return finish(part, cx.opts, total, 0).await;
            }
            ResponseAction::RetryFromZero => {
                if !allow_restart {
                    return Err(TryError::new(
                        Error::ContentRange {
                            url: url_text,
                            reason: "416 to a request without a range".into(),
                        },
                        MirrorFailure::ServerError {
                            status: 416,
                            retry_after: None,
                        },
                        FailureKind::Permanent,
                    ));
                }
                // The part does not match the file any more: start it over.
                allow_restart = false;
                part.truncate().await.map_err(TryError::io)?;
                meta = PartMeta::default();
                continue;
            }
        };
        meta = PartMeta {
            url: url_text.clone(),
            validators: Validators::from_headers(response.headers()),
            total,
        };
        part.save_meta(&meta);
        let mut body = response.into_body();
        // On failure what arrived stays for the next try: handed to the kernel, which
        // keeps it even if this process is killed. On success `finish` writes the rest.
        let received = match stream_body(cx, url, &mut body, &mut part, total, run).await {
            Ok(n) => n,
            Err(mut e) => {
                if let Err(flush_error) = part.flush().await {
                    e = TryError::io(flush_error);
                }
                return Err(e);
            }
        };
        if let Some(total) = total
            && part.len() != total
        {
            part.flush().await.map_err(TryError::io)?;
            let e = FetchError::new(
                FailureKind::Transient,
                format!("the body ended at {} of {total} bytes", part.len()),
            );
            let mut e = TryError::fetch(url, e);
            e.received = received;
            return Err(e);
        }
        let size = part.len();
        return finish(part, cx.opts, size, received).await;
    }
}

/// Verifies and moves into place.
async fn finish(
    part: PartFile,
    opts: &DownloadOptions,
    size: u64,
    received: u64,
) -> Result<Finished, TryError> {
    match part.finish(opts.sha256.as_ref()).await {
        Ok(sha256) => Ok(Finished {
            size,
            sha256,
            received,
        }),
        Err(error @ Error::Checksum { .. }) => {
            let mut e = TryError::new(
                error,
                MirrorFailure::ChecksumMismatch,
                FailureKind::Permanent,
            );
            e.received = received;
            Err(e)
        }
        Err(error) => Err(TryError::io(error)),
    }
}

/// Streams `body` into `part`, in pieces of at most the chunk size (and the rate
/// limiter's burst), watching the lowest speed. Returns the bytes received.
async fn stream_body(
    cx: &TryContext<'_>,
    url: &Uri,
    body: &mut crate::fetch::FetchBody,
    part: &mut PartFile,
    total: Option<u64>,
    run: &mut RunState,
) -> Result<u64, TryError> {
    let opts = cx.opts;
    let piece = match cx.limiter {
        Some(l) => opts
            .chunk_size
            .min(usize::try_from(l.limit().burst_size()).unwrap_or(usize::MAX)),
        None => opts.chunk_size,
    }
    .max(1);
    let mut received = 0u64;
    let mut window_start = Instant::now();
    let mut window_bytes = 0u64;
    let fail = |e: TryError, received: u64| TryError { received, ..e };
    loop {
        let deadline = window_start + opts.low_speed_time;
        let next = tokio::time::timeout_at(deadline, body.chunk())
            .await
            .map_err(|_| ());
        let chunk = match next {
            Ok(Some(Ok(chunk))) => Some(chunk),
            Ok(Some(Err(e))) => return Err(fail(TryError::fetch(url, e), received)),
            Ok(None) => return Ok(received),
            Err(()) => None,
        };
        if let Some(mut rest) = chunk {
            while !rest.is_empty() {
                let slice = rest.split_to(piece.min(rest.len()));
                if let Some(limiter) = cx.limiter {
                    let n = u32::try_from(slice.len()).unwrap_or(u32::MAX);
                    let waited = Instant::now();
                    // `n` is at most the burst, so this waits rather than fails.
                    let _ = limiter.until_n_ready(n).await;
                    // Our own throttling is not the mirror's slowness.
                    window_start += waited.elapsed();
                }
                let n = slice.len() as u64;
                part.write(slice)
                    .await
                    .map_err(|e| fail(TryError::io(e), received))?;
                received += n;
                window_bytes += n;
                run.received += n;
                run.high_water = run.high_water.max(part.len());
                if let Some(f) = &opts.on_progress {
                    let secs = run.started.elapsed().as_secs_f64();
                    f(Progress {
                        downloaded: part.len(),
                        total,
                        rate: if secs > 0.0 {
                            run.received as f64 / secs
                        } else {
                            0.0
                        },
                    });
                }
            }
        }
        let now = Instant::now();
        if now >= window_start + opts.low_speed_time {
            let secs = now
                .duration_since(window_start)
                .as_secs_f64()
                .max(f64::EPSILON);
            let rate = (window_bytes as f64 / secs) as u64;
            if rate < opts.low_speed_limit || window_bytes == 0 {
                let e = TryError::new(
                    Error::TooSlow {
                        url: url.to_string(),
                        rate,
                        limit: opts.low_speed_limit,
                        window: opts.low_speed_time,
                    },
                    MirrorFailure::LowSpeed,
                    FailureKind::Timeout,
                );
                return Err(fail(e, received));
            }
            window_start = now;
            window_bytes = 0;
        }
    }
}
