//! [`DownloadManager`]: many downloads at once, within a concurrency and a total
//! bandwidth limit, with one aggregated progress stream.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use ghostnet_resilience::{RateLimit, RateLimiter, RetryPolicy};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::downloader::Downloader;
use super::options::{DownloadOptions, DownloadReport, Progress};
use crate::error::{Error, Result};
use crate::fetch::HttpFetch;
use crate::mirror::MirrorManager;

/// Default downloads running at once: 5.
pub const DEFAULT_MAX_CONCURRENT: usize = 5;

/// One file of a batch: where from, and how.
#[derive(Debug, Clone)]
pub struct DownloadRequest {
    source: RequestSource,
    options: DownloadOptions,
}

#[derive(Debug, Clone)]
enum RequestSource {
    Url(String),
    Mirrors(MirrorManager, String),
}

impl DownloadRequest {
    /// Download `url`.
    pub fn url(url: impl Into<String>, options: DownloadOptions) -> Self {
        Self {
            source: RequestSource::Url(url.into()),
            options,
        }
    }

    /// Download `path` from `mirrors` (clones of a manager share its scores).
    pub fn mirrored(
        mirrors: MirrorManager,
        path: impl Into<String>,
        options: DownloadOptions,
    ) -> Self {
        Self {
            source: RequestSource::Mirrors(mirrors, path.into()),
            options,
        }
    }

    /// The options.
    pub fn options(&self) -> &DownloadOptions {
        &self.options
    }
}

/// Where one item of a batch stands.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    /// Waiting for a slot.
    Queued,
    /// Receiving.
    Running,
    /// In place (and verified, if a checksum was given).
    Done,
    /// Failed; see its result.
    Failed,
}

/// One event of a batch's progress stream: what changed for one item, and the totals.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchProgress {
    /// The item that changed (its index in the request list).
    pub item: usize,
    /// Its state.
    pub state: ItemState,
    /// Its progress.
    pub progress: Progress,
    /// Bytes in place or in `.part` files, over all items.
    pub downloaded: u64,
    /// The sum of all sizes, once every item's size is known.
    pub total: Option<u64>,
    /// Items finished (done or failed).
    pub finished: usize,
    /// Items in the batch.
    pub items: usize,
}

/// Runs many downloads over one client: at most `max_concurrent` at once (default 5),
/// optionally within a total bandwidth limit (a token bucket of bytes; every written
/// piece is at most the bucket's burst), with `.part` files in a temporary directory if
/// one is set.
///
/// ```no_run
/// # async fn demo() -> ghostnet_pkgmgr::Result<()> {
/// use ghostnet_http1::client::Client;
/// use ghostnet_pkgmgr::download::{DownloadManager, DownloadOptions, DownloadRequest};
///
/// let manager = DownloadManager::builder()
///     .max_concurrent(8)
///     .bandwidth_limit(Some(10 << 20)) // 10 MiB/s in total
///     .build(Client::new())?;
/// let requests = vec![
///     DownloadRequest::url("http://mirror.example.org/a.tar", DownloadOptions::new("a.tar")),
///     DownloadRequest::url("http://mirror.example.org/b.tar", DownloadOptions::new("b.tar")),
/// ];
/// let results = manager
///     .batch_download_with_progress(requests, |p| eprintln!("{} of {:?}", p.downloaded, p.total))
///     .await;
/// for r in results {
///     match r {
///         Ok(report) => println!("{}: {} bytes", report.path.display(), report.size),
///         Err(e) => eprintln!("{e}"),
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct DownloadManager {
    downloader: Downloader,
    max_concurrent: usize,
    temp_dir: Option<PathBuf>,
    limit: Option<u32>,
}

/// Builds a [`DownloadManager`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct DownloadManagerBuilder {
    max_concurrent: usize,
    bandwidth: Option<u64>,
    temp_dir: Option<PathBuf>,
    retry: Option<RetryPolicy>,
}

impl Default for DownloadManagerBuilder {
    fn default() -> Self {
        Self {
            max_concurrent: DEFAULT_MAX_CONCURRENT,
            bandwidth: None,
            temp_dir: None,
            retry: None,
        }
    }
}

impl DownloadManagerBuilder {
    /// Downloads running at once (default 5).
    pub fn max_concurrent(mut self, n: usize) -> Self {
        self.max_concurrent = n;
        self
    }

    /// Total bytes per second over all downloads (default: none).
    pub fn bandwidth_limit(mut self, bytes_per_sec: Option<u64>) -> Self {
        self.bandwidth = bytes_per_sec;
        self
    }

    /// Keep `.part` files here instead of beside their destinations (for items whose
    /// options do not name a directory of their own).
    pub fn temp_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.temp_dir = Some(dir.into());
        self
    }

    /// The retry policy of every download.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// A manager over `fetch`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidDownloadConfig`] for zero concurrency or a bandwidth limit of 0
    /// or above 4 GiB/s.
    pub fn build(self, fetch: impl HttpFetch + 'static) -> Result<DownloadManager> {
        let bad = |field, reason: &str| Error::InvalidDownloadConfig {
            field,
            reason: reason.to_owned(),
        };
        if self.max_concurrent == 0 {
            return Err(bad("max_concurrent", "must be at least 1 (default 5)"));
        }
        let mut downloader = Downloader::new(fetch);
        if let Some(policy) = self.retry {
            downloader = downloader.retry_policy(policy);
        }
        let mut limit = None;
        if let Some(rate) = self.bandwidth {
            let rate = u32::try_from(rate)
                .ok()
                .filter(|r| *r > 0)
                .ok_or_else(|| bad("bandwidth_limit", "must be between 1 B/s and 4 GiB/s"))?;
            let limiter = RateLimiter::new(RateLimit::per_second(rate))
                .map_err(|e| bad("bandwidth_limit", &e.to_string()))?;
            downloader = downloader.rate_limiter(Arc::new(limiter));
            limit = Some(rate);
        }
        Ok(DownloadManager {
            downloader,
            max_concurrent: self.max_concurrent,
            temp_dir: self.temp_dir,
            limit,
        })
    }
}

/// Latest progress of every item, for the totals.
struct Totals {
    items: Vec<(u64, Option<u64>, ItemState)>,
}

impl Totals {
    fn event(&mut self, item: usize, state: ItemState, progress: Progress) -> BatchProgress {
        self.items[item] = (progress.downloaded, progress.total, state);
        let downloaded = self.items.iter().map(|i| i.0).sum();
        let total = self.items.iter().map(|i| i.1).sum::<Option<u64>>();
        let finished = self
            .items
            .iter()
            .filter(|i| matches!(i.2, ItemState::Done | ItemState::Failed))
            .count();
        BatchProgress {
            item,
            state,
            progress,
            downloaded,
            total,
            finished,
            items: self.items.len(),
        }
    }
}

impl DownloadManager {
    /// A builder with the defaults.
    pub fn builder() -> DownloadManagerBuilder {
        DownloadManagerBuilder::default()
    }

    /// The downloader every item goes through.
    pub fn downloader(&self) -> &Downloader {
        &self.downloader
    }

    /// Downloads every request, at most `max_concurrent` at once; one result per
    /// request, in request order.
    pub async fn batch_download(
        &self,
        requests: Vec<DownloadRequest>,
    ) -> Vec<Result<DownloadReport>> {
        self.batch_download_with_progress(requests, |_| {}).await
    }

    /// As [`batch_download`](Self::batch_download), calling `on_progress` with every
    /// change of any item and the batch totals (one stream for the whole batch).
    pub async fn batch_download_with_progress(
        &self,
        requests: Vec<DownloadRequest>,
        on_progress: impl Fn(BatchProgress) + Send + Sync + 'static,
    ) -> Vec<Result<DownloadReport>> {
        let on_progress = Arc::new(on_progress);
        let totals = Arc::new(Mutex::new(Totals {
            items: vec![(0, None, ItemState::Queued); requests.len()],
        }));
        let slots = Arc::new(Semaphore::new(self.max_concurrent));
        let mut set = JoinSet::new();
        let n = requests.len();
        for (item, request) in requests.into_iter().enumerate() {
            let downloader = self.downloader.clone();
            let slots = Arc::clone(&slots);
            let totals = Arc::clone(&totals);
            let on_progress = Arc::clone(&on_progress);
            let mut options = request.options;
            if options.part_dir.is_none() {
                options.part_dir.clone_from(&self.temp_dir);
            }
            let user = options.on_progress.take();
            let emit = {
                let totals = Arc::clone(&totals);
                let on_progress = Arc::clone(&on_progress);
                move |state, progress| {
                    let event = totals
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .event(item, state, progress);
                    on_progress(event);
                }
            };
            let emit = Arc::new(emit);
            let running = Arc::clone(&emit);
            options = options.on_progress(move |p| {
                if let Some(f) = &user {
                    f(p);
                }
                running(ItemState::Running, p);
            });
            set.spawn(async move {
                // The semaphore is never closed, so a permit always comes.
                let _permit = slots.acquire_owned().await.ok();
                let result = match request.source {
                    RequestSource::Url(url) => downloader.download(&url, options).await,
                    RequestSource::Mirrors(mirrors, path) => {
                        downloader.download_from(&mirrors, &path, options).await
                    }
                };
                let last = totals.lock().unwrap_or_else(|p| p.into_inner()).items[item];
                match &result {
                    Ok(report) => emit(
                        ItemState::Done,
                        Progress {
                            downloaded: report.size,
                            total: Some(report.size),
                            rate: 0.0,
                        },
                    ),
                    Err(_) => emit(
                        ItemState::Failed,
                        Progress {
                            downloaded: last.0,
                            total: last.1,
                            rate: 0.0,
                        },
                    ),
                }
                (item, result)
            });
        }
        let mut results: Vec<Option<Result<DownloadReport>>> = (0..n).map(|_| None).collect();
        while let Some(joined) = set.join_next().await {
            if let Ok((item, result)) = joined {
                results[item] = Some(result);
            }
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(Error::InvalidDownloadConfig {
                        field: "batch",
                        reason: "the download task panicked; this is a bug".into(),
                    })
                })
            })
            .collect()
    }
}

impl fmt::Debug for DownloadManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DownloadManager")
            .field("max_concurrent", &self.max_concurrent)
            .field("temp_dir", &self.temp_dir)
            .field("bandwidth_limit", &self.limit)
            .finish_non_exhaustive()
    }
}
