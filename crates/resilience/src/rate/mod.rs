//! Rate limiting on [governor] (GCRA, the leaky bucket without a timer), global or per
//! key, driven by tokio time.
//!
//! - [`RateLimit`]: requests per second (or one per period) plus a burst.
//! - [`RateLimiter`]: one limit for everything; [`KeyedRateLimiter`]: one per key (host,
//!   user, peer), with bounded memory.
//! - [`TokioClock`]: governor's clock over tokio time, so paused-clock tests are exact.

mod clock;
mod direct;
mod keyed;

use std::num::NonZeroU32;
use std::time::Duration;

use governor::Quota;

pub use clock::{TokioClock, TokioInstant};
pub use direct::RateLimiter;
pub use keyed::{DEFAULT_CLEANUP_THRESHOLD, KeyedRateLimiter};

use crate::error::{Error, Result, invalid};

/// The most requests per second a [`RateLimit`] can express: one per nanosecond.
const MAX_PER_SECOND: u32 = 1_000_000_000;

/// How fast requests may go: a steady rate plus a burst that may be spent at once.
///
/// After an idle spell the limiter admits `burst` requests immediately, then one every
/// `1 / rate`. Values are checked when a limiter is built.
///
/// ```
/// use std::time::Duration;
/// use ghostnet_resilience::rate::RateLimit;
///
/// let api = RateLimit::per_second(10).burst(20); // 10 req/s, bursts of 20
/// assert_eq!(api.burst_size(), 20);
/// let slow = RateLimit::every(Duration::from_secs(5)); // 1 request per 5 s
/// assert_eq!(slow.burst_size(), 1);
/// assert!(RateLimit::per_second(0).validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimit {
    rate: Rate,
    burst: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Rate {
    PerSecond(u32),
    Every(Duration),
}

impl RateLimit {
    /// `n` requests per second; the burst defaults to `n`.
    pub const fn per_second(n: u32) -> Self {
        Self {
            rate: Rate::PerSecond(n),
            burst: None,
        }
    }

    /// One request per `period`, for rates below one per second; the burst defaults to 1.
    pub const fn every(period: Duration) -> Self {
        Self {
            rate: Rate::Every(period),
            burst: None,
        }
    }

    /// Requests admitted at once after an idle spell.
    pub const fn burst(mut self, n: u32) -> Self {
        self.burst = Some(n);
        self
    }

    /// The burst size: as set, else the per-second rate, else 1.
    pub fn burst_size(&self) -> u32 {
        self.burst.unwrap_or(match self.rate {
            Rate::PerSecond(n) => n,
            Rate::Every(_) => 1,
        })
    }

    /// Checks the values.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a zero rate or period, a rate above 10⁹ per second,
    /// or a zero burst.
    pub fn validate(&self) -> Result<()> {
        self.quota().map(|_| ())
    }

    /// The governor quota, checked.
    pub(crate) fn quota(&self) -> Result<Quota> {
        let burst = NonZeroU32::new(self.burst_size()).ok_or_else(|| match self.burst {
            Some(_) => invalid("burst", "is 0; allow at least 1 request at once"),
            None => invalid("per_second", "is 0; a limiter must admit something"),
        })?;
        let quota = match self.rate {
            Rate::PerSecond(n) if n > MAX_PER_SECOND => {
                return Err(invalid(
                    "per_second",
                    format!("is {n}; at most {MAX_PER_SECOND} (one per nanosecond)"),
                ));
            }
            Rate::PerSecond(n) => match NonZeroU32::new(n) {
                Some(n) => Quota::per_second(n),
                None => {
                    return Err(invalid(
                        "per_second",
                        "is 0; a limiter must admit something",
                    ));
                }
            },
            Rate::Every(period) => Quota::with_period(period).ok_or_else(|| {
                invalid(
                    "every",
                    "is 0; use a positive period, or per_second for fast rates",
                )
            })?,
        };
        Ok(quota.allow_burst(burst))
    }
}

/// How long from now until a refused request would be admitted.
fn wait_time(not_until: &governor::NotUntil<TokioInstant>) -> Duration {
    use governor::clock::Clock;
    not_until.wait_time_from(TokioClock.now())
}

/// The error for a batch larger than the burst.
fn insufficient(requested: u32, burst: u32) -> Error {
    Error::InsufficientCapacity { requested, burst }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(l: RateLimit) -> &'static str {
        match l.validate() {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("{l:?}: expected InvalidConfig, got {other:?}"),
        }
    }

    #[test]
    fn validation() {
        assert_eq!(field(RateLimit::per_second(0)), "per_second");
        assert_eq!(field(RateLimit::per_second(0).burst(5)), "per_second");
        assert_eq!(field(RateLimit::per_second(10).burst(0)), "burst");
        assert_eq!(field(RateLimit::per_second(u32::MAX)), "per_second");
        assert_eq!(field(RateLimit::every(Duration::ZERO)), "every");
        RateLimit::per_second(MAX_PER_SECOND).validate().unwrap();
        RateLimit::every(Duration::from_secs(3600))
            .validate()
            .unwrap();
    }

    #[test]
    fn quota_matches() {
        let q = RateLimit::per_second(10).burst(20).quota().unwrap();
        assert_eq!(q.replenish_interval(), Duration::from_millis(100));
        assert_eq!(q.burst_size().get(), 20);
        let q = RateLimit::every(Duration::from_secs(5)).quota().unwrap();
        assert_eq!(q.replenish_interval(), Duration::from_secs(5));
        assert_eq!(q.burst_size().get(), 1);
        assert_eq!(RateLimit::per_second(7).burst_size(), 7);
    }
}
