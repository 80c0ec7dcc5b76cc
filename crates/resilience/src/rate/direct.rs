//! One rate limit for everything that passes through it.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};

use super::{RateLimit, TokioClock, TokioInstant, insufficient, wait_time};
use crate::error::{Error, Result};

type Inner =
    governor::RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<TokioInstant>>;

/// A global rate limiter: requests per second plus a burst, on governor, in tokio time.
///
/// Clones share one limit. [`check`](Self::check) answers at once;
/// [`until_ready`](Self::until_ready) sleeps (tokio time) until a slot is free. Waiters
/// are not queued in order: under contention any of them may win a slot.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::time::Duration;
/// use ghostnet_resilience::rate::{RateLimit, RateLimiter};
///
/// let limiter = RateLimiter::new(RateLimit::per_second(10).burst(20)).unwrap();
/// let start = tokio::time::Instant::now();
/// for _ in 0..21 {
///     limiter.until_ready().await;
/// }
/// // 20 at once, then one per 100 ms.
/// assert_eq!(start.elapsed(), Duration::from_millis(100));
/// assert!(limiter.check().is_err());
/// # }
/// ```
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
    limit: RateLimit,
}

impl RateLimiter {
    /// A limiter for `limit`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when `limit` is invalid (see [`RateLimit::validate`]).
    pub fn new(limit: RateLimit) -> Result<Self> {
        let quota = limit.quota()?;
        Ok(Self {
            inner: Arc::new(governor::RateLimiter::direct_with_clock(quota, TokioClock)),
            limit,
        })
    }

    /// Takes one slot if one is free now.
    ///
    /// # Errors
    ///
    /// [`Error::RateLimited`] with the wait until a slot frees up.
    pub fn check(&self) -> Result<()> {
        self.inner.check().map_err(|nu| Error::RateLimited {
            retry_in: wait_time(&nu),
        })
    }

    /// Takes `n` slots at once if they are all free now (`n = 0` always succeeds).
    ///
    /// # Errors
    ///
    /// [`Error::RateLimited`] when they are not free yet; [`Error::InsufficientCapacity`]
    /// when `n` exceeds the burst, so it never will be.
    pub fn check_n(&self, n: u32) -> Result<()> {
        let Some(cells) = NonZeroU32::new(n) else {
            return Ok(());
        };
        match self.inner.check_n(cells) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(nu)) => Err(Error::RateLimited {
                retry_in: wait_time(&nu),
            }),
            Err(_) => Err(insufficient(n, self.limit.burst_size())),
        }
    }

    /// Waits until a slot is free, and takes it.
    pub async fn until_ready(&self) {
        while let Err(nu) = self.inner.check() {
            tokio::time::sleep(wait_time(&nu)).await;
        }
    }

    /// Waits until `n` slots are free, and takes them.
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientCapacity`] at once when `n` exceeds the burst.
    pub async fn until_n_ready(&self, n: u32) -> Result<()> {
        loop {
            match self.check_n(n) {
                Err(Error::RateLimited { retry_in }) => tokio::time::sleep(retry_in).await,
                other => return other,
            }
        }
    }

    /// The limit this limiter enforces.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::time::Instant;

    #[tokio::test(start_paused = true)]
    async fn check_reports_the_wait() {
        let l = RateLimiter::new(RateLimit::per_second(2).burst(1)).unwrap();
        l.check().unwrap();
        assert_eq!(
            l.check(),
            Err(Error::RateLimited {
                retry_in: Duration::from_millis(500)
            })
        );
        tokio::time::advance(Duration::from_millis(200)).await;
        assert_eq!(
            l.check(),
            Err(Error::RateLimited {
                retry_in: Duration::from_millis(300)
            })
        );
        tokio::time::advance(Duration::from_millis(300)).await;
        l.check().unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn batches() {
        let l = RateLimiter::new(RateLimit::per_second(10).burst(5)).unwrap();
        assert_eq!(
            l.check_n(6),
            Err(Error::InsufficientCapacity {
                requested: 6,
                burst: 5
            })
        );
        assert!(l.until_n_ready(6).await.is_err());
        l.check_n(0).unwrap();
        l.check_n(5).unwrap();
        assert!(matches!(l.check_n(1), Err(Error::RateLimited { .. })));
        let start = Instant::now();
        l.until_n_ready(3).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(300));
    }

    #[tokio::test(start_paused = true)]
    async fn clones_share_the_limit() {
        let a = RateLimiter::new(RateLimit::per_second(1)).unwrap();
        let b = a.clone();
        a.check().unwrap();
        assert!(b.check().is_err());
        assert_eq!(b.limit(), RateLimit::per_second(1));
        assert!(format!("{a:?}").contains("RateLimiter"));
    }
}
