//! [`AurClient`]: `info` for many names at once (batched, concurrent, merged in input
//! order) and `search` by any field, with a client-side rate limit and an ETag cache.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use ghostnet_http1::client::Client;
use ghostnet_resilience::FailureKind;
use ghostnet_resilience::rate::{RateLimit, RateLimiter};
use http::header::{ACCEPT, CONTENT_TYPE, ETAG, IF_NONE_MATCH, RETRY_AFTER};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::cache::{Cached, DEFAULT_CACHE_ENTRIES, EtagCache};
use super::query::{Call, Endpoint};
use super::{PackageInfo, SearchBy, SearchResult, parse_response};
use crate::error::{Error, Result};
use crate::fetch::{FetchError, HttpFetch};

/// The public AUR.
pub const DEFAULT_ENDPOINT: &str = "https://aur.archlinux.org";
/// Names per `info` request. aurweb answers up to 5000 results per request; 100 keeps
/// each response near 100 KiB and lets several batches travel at once.
pub const DEFAULT_BATCH_SIZE: usize = 100;
/// Longest GET URL; a batch whose URL would be longer goes as a POST with a JSON body.
/// Proxies commonly refuse request lines above 8 KiB; this stays well below.
pub const DEFAULT_MAX_URL_LEN: usize = 4000;
/// Requests in flight at once per client.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// The largest response body read.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 32 * 1024 * 1024;
/// The client-side rate limit: bursts of 20, then one request every 30 s (at most
/// 2,900 a day, under the AUR's 4,000 a day per IP even when running all day).
pub const DEFAULT_RATE_LIMIT: RateLimit = RateLimit::every(Duration::from_secs(30)).burst(20);
/// Timeout of a whole request (connect, send, response, body).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest `Retry-After` reported from a 429.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(24 * 3600);

/// What [`AurClient::info`] found: packages in the order their names were given
/// (duplicates once), and the names the AUR does not have.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct InfoResults {
    /// Packages found, in input order.
    pub packages: Vec<PackageInfo>,
    /// Names not found, in input order.
    pub missing: Vec<String>,
}

/// Counters of a client (clones share them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AurStats {
    /// Requests sent.
    pub requests: u64,
    /// Of which `info` batches sent as POST (their URL would have been too long).
    pub posts: u64,
    /// Responses served from the ETag cache after a `304 Not Modified`.
    pub not_modified: u64,
}

/// Settings of an [`AurClient`]; every one has a default.
#[derive(Debug, Clone)]
pub struct AurClientBuilder {
    endpoint: String,
    batch_size: usize,
    max_url_len: usize,
    concurrency: usize,
    rate_limit: Option<RateLimit>,
    cache_entries: usize,
    max_response_bytes: u64,
    request_timeout: Duration,
}

impl Default for AurClientBuilder {
    fn default() -> Self {
        Self {
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            batch_size: DEFAULT_BATCH_SIZE,
            max_url_len: DEFAULT_MAX_URL_LEN,
            concurrency: DEFAULT_CONCURRENCY,
            rate_limit: Some(DEFAULT_RATE_LIMIT),
            cache_entries: DEFAULT_CACHE_ENTRIES,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

impl AurClientBuilder {
    /// The AUR's base URL ([`DEFAULT_ENDPOINT`]); `/rpc/v5/...` is appended.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into();
        self
    }

    /// Names per `info` request ([`DEFAULT_BATCH_SIZE`], 1 to 5000).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }

    /// Longest GET URL before a batch goes as POST ([`DEFAULT_MAX_URL_LEN`]).
    pub fn max_url_len(mut self, n: usize) -> Self {
        self.max_url_len = n;
        self
    }

    /// Requests in flight at once ([`DEFAULT_CONCURRENCY`], at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n;
        self
    }

    /// The client-side rate limit ([`DEFAULT_RATE_LIMIT`]); `None` turns it off (for a
    /// local endpoint).
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Responses kept for `If-None-Match` (256); 0 turns the cache off.
    pub fn cache_entries(mut self, n: usize) -> Self {
        self.cache_entries = n;
        self
    }

    /// The largest response body read ([`DEFAULT_MAX_RESPONSE_BYTES`]).
    pub fn max_response_bytes(mut self, n: u64) -> Self {
        self.max_response_bytes = n;
        self
    }

    /// Timeout of each whole request ([`DEFAULT_REQUEST_TIMEOUT`]) when the client
    /// makes its own HTTP client ([`build`](Self::build)).
    pub fn request_timeout(mut self, t: Duration) -> Self {
        self.request_timeout = t;
        self
    }

    /// A client with its own HTTP/1.1 client over TCP (and TLS for `https`).
    ///
    /// # Errors
    ///
    /// [`Error::AurConfig`] naming the first unusable setting.
    pub fn build(self) -> Result<AurClient> {
        let http = Client::builder()
            .total_timeout(Some(self.request_timeout))
            .user_agent(HeaderValue::from_static(concat!(
                "ghostnet-pkgmgr/",
                env!("CARGO_PKG_VERSION")
            )))
            .build()
            .map_err(|e| Error::AurConfig {
                field: "request_timeout",
                reason: e.to_string(),
            })?;
        self.build_with(http)
    }

    /// A client sending through `http`: any [`HttpFetch`], such as an HTTP/1.1 client
    /// over the in-memory transport, or an in-process fake in tests. Its pool, timeouts
    /// and redirects apply.
    ///
    /// # Errors
    ///
    /// [`Error::AurConfig`] naming the first unusable setting.
    pub fn build_with(self, http: impl HttpFetch + 'static) -> Result<AurClient> {
        let http: Arc<dyn HttpFetch> = Arc::new(http);
        let endpoint = Endpoint::parse(&self.endpoint)?;
        let bad = |field, reason: &str| Error::AurConfig {
            field,
            reason: reason.to_owned(),
        };
        if !(1..=5000).contains(&self.batch_size) {
            return Err(bad("batch_size", "use 1 to 5000 names per request"));
        }
        if self.concurrency == 0 {
            return Err(bad("concurrency", "use at least 1"));
        }
        if self.max_url_len < 64 {
            return Err(bad("max_url_len", "use at least 64 bytes"));
        }
        let limiter = match self.rate_limit {
            None => None,
            Some(limit) => Some(RateLimiter::new(limit).map_err(|e| Error::AurConfig {
                field: "rate_limit",
                reason: e.to_string(),
            })?),
        };
        Ok(AurClient {
            inner: Arc::new(Inner {
                http,
                endpoint,
                batch_size: self.batch_size,
                max_url_len: self.max_url_len,
                permits: Semaphore::new(self.concurrency),
                limiter,
                cache: (self.cache_entries > 0).then(|| EtagCache::new(self.cache_entries)),
                max_response_bytes: self.max_response_bytes,
                requests: AtomicU64::new(0),
                posts: AtomicU64::new(0),
                not_modified: AtomicU64::new(0),
            }),
        })
    }
}

/// An AUR RPC v5 client.
///
/// - [`info`](Self::info) takes any number of names, splits them into batches of
///   [`batch_size`](AurClientBuilder::batch_size), sends the batches concurrently over
///   pooled keep-alive connections (GET while the URL is short, POST with a JSON body
///   otherwise), and merges the answers in input order, reporting missing names.
/// - [`search`](Self::search) by any [`SearchBy`] field.
/// - `type: "error"` answers become [`Error::Aur`], HTTP 429 [`Error::AurRateLimited`]
///   (with `Retry-After`), anything not RPC JSON [`Error::AurFormat`].
/// - A client-side rate limit ([`DEFAULT_RATE_LIMIT`]) and an ETag cache: a repeated
///   request sends `If-None-Match` and a `304` is answered from the cache.
///
/// Clones share the connection pool, limiter, cache and counters.
///
/// ```
/// use ghostnet_pkgmgr::aur::{AurClient, SearchBy};
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// # let server = ghostnet_pkgmgr::aur::testing::AurServer::builder().start().unwrap();
/// # let endpoint = server.endpoint();
/// let aur = AurClient::builder().endpoint(endpoint).build().unwrap();
/// let found = aur.info(&["yay", "no-such-package", "paru"]).await.unwrap();
/// let names: Vec<_> = found.packages.iter().map(|p| p.name.as_str()).collect();
/// assert_eq!(names, ["yay", "paru"]);
/// assert_eq!(found.missing, ["no-such-package"]);
/// let helpers = aur.search("helper", SearchBy::NameDesc).await.unwrap();
/// assert!(helpers.iter().any(|p| p.name == "yay"));
/// # server.stop().await;
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct AurClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: Arc<dyn HttpFetch>,
    endpoint: Endpoint,
    batch_size: usize,
    max_url_len: usize,
    permits: Semaphore,
    limiter: Option<RateLimiter>,
    cache: Option<EtagCache>,
    max_response_bytes: u64,
    requests: AtomicU64,
    posts: AtomicU64,
    not_modified: AtomicU64,
}

impl std::fmt::Debug for AurClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AurClient")
            .field("endpoint", &self.inner.endpoint.as_str())
            .field("batch_size", &self.inner.batch_size)
            .finish_non_exhaustive()
    }
}

impl AurClient {
    /// A builder with the defaults.
    pub fn builder() -> AurClientBuilder {
        AurClientBuilder::default()
    }

    /// The endpoint, without a trailing slash.
    pub fn endpoint(&self) -> &str {
        self.inner.endpoint.as_str()
    }

    /// The counters so far.
    pub fn stats(&self) -> AurStats {
        AurStats {
            requests: self.inner.requests.load(Ordering::Relaxed),
            posts: self.inner.posts.load(Ordering::Relaxed),
            not_modified: self.inner.not_modified.load(Ordering::Relaxed),
        }
    }

    /// Looks up `names` (any number). Batches go out concurrently; the first error
    /// ends the call.
    ///
    /// # Errors
    ///
    /// [`Error::Aur`], [`Error::AurRateLimited`], [`Error::AurStatus`],
    /// [`Error::AurFormat`], [`Error::AurUnreachable`].
    pub async fn info<S: AsRef<str>>(&self, names: &[S]) -> Result<InfoResults> {
        let mut seen = HashSet::new();
        let unique: Vec<String> = names
            .iter()
            .map(AsRef::as_ref)
            .filter(|n| seen.insert(*n))
            .map(str::to_owned)
            .collect();
        let mut found: HashMap<String, PackageInfo> = HashMap::with_capacity(unique.len());
        let batches: Vec<Vec<String>> = unique
            .chunks(self.inner.batch_size)
            .map(<[String]>::to_vec)
            .collect();
        if batches.len() == 1 {
            for p in self.inner.info_batch(&batches[0]).await? {
                found.insert(p.name.clone(), p);
            }
        } else {
            let mut set = JoinSet::new();
            for batch in batches {
                let inner = Arc::clone(&self.inner);
                set.spawn(async move { inner.info_batch(&batch).await });
            }
            while let Some(joined) = set.join_next().await {
                let packages = match joined {
                    Ok(r) => r?,
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(e) => {
                        return Err(Error::AurUnreachable {
                            url: self.inner.endpoint.info_post_url(),
                            source: FetchError::new(FailureKind::Transient, e.to_string()),
                        });
                    }
                };
                for p in packages {
                    found.insert(p.name.clone(), p);
                }
            }
        }
        let mut out = InfoResults::default();
        for name in unique {
            match found.remove(&name) {
                Some(p) => out.packages.push(p),
                None => out.missing.push(name),
            }
        }
        Ok(out)
    }

    /// Searches by `by` (`arg` may be empty for [`SearchBy::Maintainer`]: orphans).
    /// Results come in the server's order.
    ///
    /// # Errors
    ///
    /// As [`info`](Self::info); the AUR answers `Query arg too small.` and
    /// `Too many package results.` as [`Error::Aur`].
    pub async fn search(&self, arg: &str, by: SearchBy) -> Result<Vec<SearchResult>> {
        let call = Call::search(&self.inner.endpoint, arg, by);
        self.inner.fetch(call).await
    }
}

impl Inner {
    async fn info_batch(&self, names: &[String]) -> Result<Vec<PackageInfo>> {
        let call = Call::info(&self.endpoint, names, self.max_url_len);
        if call.method == Method::POST {
            self.posts.fetch_add(1, Ordering::Relaxed);
        }
        self.fetch(call).await
    }

    /// One request: rate limit, concurrency permit, `If-None-Match`, status mapping,
    /// parsing. A body is cached only once it parsed.
    async fn fetch<T: DeserializeOwned>(&self, call: Call) -> Result<Vec<T>> {
        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }
        // The semaphore is never closed, so acquiring only waits.
        let _permit = self.permits.acquire().await.ok();
        let cached = self.cache.as_ref().and_then(|c| c.get(&call));
        let response = self.send(&call, cached.as_ref()).await?;
        let status = response.status();
        let etag = response.headers().get(ETAG).cloned();
        match status {
            StatusCode::OK => {
                let body = response.into_body();
                let parsed = parse_response(&body)?;
                if let (Some(cache), Some(etag)) = (&self.cache, etag) {
                    cache.put(&call, Cached { etag, body });
                }
                Ok(parsed)
            }
            StatusCode::NOT_MODIFIED => match cached {
                Some(hit) => {
                    self.not_modified.fetch_add(1, Ordering::Relaxed);
                    parse_response(&hit.body)
                }
                None => Err(Error::AurStatus {
                    url: call.url,
                    status: 304,
                    message: Some(
                        "not modified, but nothing was asked for with If-None-Match".to_owned(),
                    ),
                }),
            },
            StatusCode::TOO_MANY_REQUESTS => Err(Error::AurRateLimited {
                retry_after: retry_after(&response),
            }),
            _ => Err(Error::AurStatus {
                url: call.url,
                status: status.as_u16(),
                message: error_message(response.body()),
            }),
        }
    }

    async fn send(&self, call: &Call, cached: Option<&Cached>) -> Result<Response<Bytes>> {
        let mut req = Request::builder()
            .method(call.method.clone())
            .uri(call.url.as_str())
            .header(ACCEPT, "application/json");
        if call.method == Method::POST {
            req = req.header(CONTENT_TYPE, "application/json");
        }
        if let Some(hit) = cached {
            req = req.header(IF_NONE_MATCH, hit.etag.clone());
        }
        let unreachable = |source: FetchError| Error::AurUnreachable {
            url: call.url.clone(),
            source,
        };
        let req = req.body(call.body.clone()).map_err(|e| {
            unreachable(FetchError::new(
                FailureKind::Permanent,
                format!("the request cannot be built: {e}"),
            ))
        })?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let response = self.http.fetch(req).await.map_err(unreachable)?;
        let (parts, body) = response.into_parts();
        let body = body
            .bytes(self.max_response_bytes)
            .await
            .map_err(unreachable)?;
        Ok(Response::from_parts(parts, body))
    }
}

/// `Retry-After` of a 429, when present and valid.
fn retry_after(response: &Response<Bytes>) -> Option<Duration> {
    let value = response.headers().get(RETRY_AFTER)?;
    ghostnet_resilience::retry::parse_retry_after_capped(
        value.as_bytes(),
        SystemTime::now(),
        RETRY_AFTER_CAP,
    )
    .ok()
}

/// The `error` field of an RPC JSON body, if the body is one.
fn error_message(body: &[u8]) -> Option<String> {
    match parse_response::<serde_json::Value>(body) {
        Err(Error::Aur { message }) => Some(message),
        _ => None,
    }
}
