//! One rate limit per key (host, user, peer), with memory that does not grow without
//! bound.

use std::fmt;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;

use super::{RateLimit, TokioClock, TokioInstant, insufficient, wait_time};
use crate::error::{Error, Result, invalid};

/// Default number of keys above which a [`KeyedRateLimiter`] forgets idle keys: 10 000.
pub const DEFAULT_CLEANUP_THRESHOLD: usize = 10_000;

/// How often (in operations) the key count is compared with the threshold. Counting the
/// keys visits every map shard, so it is not done on every call.
const CHECK_EVERY: u64 = 64;

type Inner<K> =
    governor::RateLimiter<K, DashMapStateStore<K>, TokioClock, NoOpMiddleware<TokioInstant>>;

/// A rate limit per key: each key gets its own rate and burst, and one busy key does not
/// slow the others.
///
/// Keys whose state is indistinguishable from a fresh key (idle for at least a burst's
/// refill time) are forgotten when the map grows past the cleanup threshold, so a crawl
/// over a million hosts does not keep a million entries. Cleanup is amortised: after one,
/// the next waits until the map has doubled its surviving size.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use ghostnet_resilience::rate::{KeyedRateLimiter, RateLimit};
///
/// let per_host = KeyedRateLimiter::new(RateLimit::per_second(1)).unwrap();
/// per_host.check_key(&"a.example").unwrap();
/// assert!(per_host.check_key(&"a.example").is_err());
/// per_host.check_key(&"b.example").unwrap(); // another host, its own budget
/// per_host.until_key_ready(&"a.example").await; // sleeps 1 s of tokio time
/// # }
/// ```
pub struct KeyedRateLimiter<K: Hash + Eq + Clone> {
    inner: Arc<Shared<K>>,
}

struct Shared<K: Hash + Eq + Clone> {
    limiter: Inner<K>,
    limit: RateLimit,
    threshold: usize,
    ops: AtomicU64,
    /// Key count that triggers the next cleanup.
    cleanup_above: AtomicUsize,
}

impl<K: Hash + Eq + Clone> KeyedRateLimiter<K> {
    /// A per-key limiter for `limit`, cleaning up above [`DEFAULT_CLEANUP_THRESHOLD`] keys.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when `limit` is invalid (see [`RateLimit::validate`]).
    pub fn new(limit: RateLimit) -> Result<Self> {
        Self::with_cleanup_threshold(limit, DEFAULT_CLEANUP_THRESHOLD)
    }

    /// A per-key limiter that forgets idle keys once it holds more than `keys` keys.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for an invalid `limit` or a zero `keys`.
    pub fn with_cleanup_threshold(limit: RateLimit, keys: usize) -> Result<Self> {
        let quota = limit.quota()?;
        if keys == 0 {
            return Err(invalid(
                "cleanup_threshold",
                "is 0; use the number of keys worth keeping, e.g. 10000",
            ));
        }
        Ok(Self {
            inner: Arc::new(Shared {
                limiter: governor::RateLimiter::dashmap_with_clock(quota, TokioClock),
                limit,
                threshold: keys,
                ops: AtomicU64::new(0),
                cleanup_above: AtomicUsize::new(keys),
            }),
        })
    }

    /// Takes one of `key`'s slots if one is free now.
    ///
    /// # Errors
    ///
    /// [`Error::RateLimited`] with the wait until one of `key`'s slots frees up.
    pub fn check_key(&self, key: &K) -> Result<()> {
        let r = self.inner.limiter.check_key(key);
        self.housekeeping();
        r.map_err(|nu| Error::RateLimited {
            retry_in: wait_time(&nu),
        })
    }

    /// Takes `n` of `key`'s slots at once if they are all free (`n = 0` always succeeds).
    ///
    /// # Errors
    ///
    /// [`Error::RateLimited`] when they are not free yet; [`Error::InsufficientCapacity`]
    /// when `n` exceeds the burst, so it never will be.
    pub fn check_key_n(&self, key: &K, n: u32) -> Result<()> {
        let Some(cells) = NonZeroU32::new(n) else {
            return Ok(());
        };
        let r = self.inner.limiter.check_key_n(key, cells);
        self.housekeeping();
        match r {
            Ok(Ok(())) => Ok(()),
            Ok(Err(nu)) => Err(Error::RateLimited {
                retry_in: wait_time(&nu),
            }),
            Err(_) => Err(insufficient(n, self.inner.limit.burst_size())),
        }
    }

    /// Waits until one of `key`'s slots is free, and takes it.
    pub async fn until_key_ready(&self, key: &K) {
        while let Err(Error::RateLimited { retry_in }) = self.check_key(key) {
            tokio::time::sleep(retry_in).await;
        }
    }

    /// Waits until `n` of `key`'s slots are free, and takes them.
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientCapacity`] at once when `n` exceeds the burst.
    pub async fn until_key_n_ready(&self, key: &K, n: u32) -> Result<()> {
        loop {
            match self.check_key_n(key, n) {
                Err(Error::RateLimited { retry_in }) => tokio::time::sleep(retry_in).await,
                other => return other,
            }
        }
    }

    /// Keys currently held.
    pub fn len(&self) -> usize {
        self.inner.limiter.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.inner.limiter.is_empty()
    }

    /// Forgets keys that are indistinguishable from fresh ones, and frees their memory.
    /// Happens by itself above the cleanup threshold; call it to trim sooner.
    pub fn retain_recent(&self) {
        self.inner.limiter.retain_recent();
        self.inner.limiter.shrink_to_fit();
    }

    /// The limit each key gets.
    pub fn limit(&self) -> RateLimit {
        self.inner.limit
    }

    fn housekeeping(&self) {
        let s = &*self.inner;
        if s.ops.fetch_add(1, Ordering::Relaxed) % CHECK_EVERY != CHECK_EVERY - 1 {
            return;
        }
        if s.limiter.len() <= s.cleanup_above.load(Ordering::Relaxed) {
            return;
        }
        self.retain_recent();
        let kept = s.limiter.len();
        // Keys still active survive a cleanup; wait for the map to double before scanning
        // again, so that many active keys do not make every 64th call a full scan.
        s.cleanup_above
            .store(s.threshold.max(kept.saturating_mul(2)), Ordering::Relaxed);
        tracing::debug!(kept, "rate limiter forgot idle keys");
    }
}

impl<K: Hash + Eq + Clone> Clone for KeyedRateLimiter<K> {
    /// Another handle to the same limits.
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<K: Hash + Eq + Clone> fmt::Debug for KeyedRateLimiter<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedRateLimiter")
            .field("limit", &self.inner.limit)
            .field("keys", &self.len())
            .field("cleanup_threshold", &self.inner.threshold)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rejects_zero_threshold() {
        let r = KeyedRateLimiter::<u32>::with_cleanup_threshold(RateLimit::per_second(1), 0);
        assert!(matches!(
            r,
            Err(Error::InvalidConfig {
                field: "cleanup_threshold",
                ..
            })
        ));
        assert!(KeyedRateLimiter::<u32>::new(RateLimit::per_second(0)).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn batches_per_key() {
        let l = KeyedRateLimiter::new(RateLimit::per_second(10).burst(4)).unwrap();
        assert_eq!(
            l.check_key_n(&1, 5),
            Err(Error::InsufficientCapacity {
                requested: 5,
                burst: 4
            })
        );
        l.check_key_n(&1, 0).unwrap();
        l.check_key_n(&1, 4).unwrap();
        l.check_key_n(&2, 4).unwrap();
        let start = tokio::time::Instant::now();
        l.until_key_n_ready(&1, 2).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(200));
        assert!(l.until_key_n_ready(&1, 9).await.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn manual_retain_forgets_idle_keys() {
        let l = KeyedRateLimiter::new(RateLimit::per_second(10)).unwrap();
        for k in 0..50u32 {
            l.check_key(&k).unwrap();
        }
        assert_eq!(l.len(), 50);
        l.retain_recent();
        assert_eq!(l.len(), 50, "keys used just now are kept");
        tokio::time::advance(Duration::from_secs(2)).await;
        l.retain_recent();
        assert!(l.is_empty());
        assert!(format!("{l:?}").contains("keys: 0"));
    }
}
