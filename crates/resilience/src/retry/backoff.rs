//! Delays between attempts: constant, or exponential with full jitter.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rand::rngs::{SmallRng, SysRng};
use rand::{RngExt, SeedableRng};

/// How the delay before each retry grows.
///
/// ```
/// use std::time::Duration;
/// use ghostnet_resilience::Backoff;
///
/// let (base, max) = (Duration::from_millis(100), Duration::from_secs(1));
/// assert_eq!(Backoff::Exponential.cap(1, base, max), Duration::from_millis(100));
/// assert_eq!(Backoff::Exponential.cap(3, base, max), Duration::from_millis(400));
/// assert_eq!(Backoff::Exponential.cap(9, base, max), max);
/// assert_eq!(Backoff::Constant.cap(9, base, max), base);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Backoff {
    /// `base_delay` before every retry, without jitter: for polling something local.
    Constant,
    /// Exponential backoff with *full jitter* (the AWS Architecture Blog's name): before
    /// retry `n` (1-based), a uniformly random delay in
    /// `[0, min(max_delay, base_delay × 2^(n−1))]`. Spreads the retries of many clients
    /// that failed together, so they do not come back in lockstep.
    #[default]
    Exponential,
}

impl Backoff {
    /// The longest delay before retry `retry` (1 = the first retry): the delay itself for
    /// [`Constant`](Self::Constant), the jitter's upper bound for
    /// [`Exponential`](Self::Exponential). Never more than `max`.
    pub fn cap(self, retry: u32, base: Duration, max: Duration) -> Duration {
        match self {
            Self::Constant => base.min(max),
            Self::Exponential => 1u32
                .checked_shl(retry.saturating_sub(1))
                .and_then(|factor| base.checked_mul(factor))
                .map_or(max, |d| d.min(max)),
        }
    }
}

/// Where the random part of [`Backoff::Exponential`] delays comes from.
///
/// Clones share one generator, so a seeded policy gives the same sequence of delays
/// however it is cloned. Tests use [`seeded`](Self::seeded) (reproducible) or
/// [`none`](Self::none) / [`from_fn`](Self::from_fn) (exact delays).
///
/// ```
/// use std::time::Duration;
/// use ghostnet_resilience::Jitter;
///
/// let cap = Duration::from_secs(1);
/// let d = Jitter::seeded(7).sample(cap);
/// assert!(d <= cap);
/// assert_eq!(d, Jitter::seeded(7).sample(cap)); // same seed, same delay
/// assert_eq!(Jitter::none().sample(cap), cap);
/// assert_eq!(Jitter::from_fn(|cap| cap / 2).sample(cap), cap / 2);
/// ```
#[derive(Clone)]
pub struct Jitter {
    source: Arc<Source>,
}

enum Source {
    Random(Mutex<SmallRng>),
    None,
    Custom(Box<dyn Fn(Duration) -> Duration + Send + Sync>),
}

impl Jitter {
    /// Uniformly random delays from a generator seeded by the OS. The default.
    ///
    /// Random delays are whole milliseconds (tokio's timer resolution) when the cap is at
    /// least 1 ms.
    pub fn full() -> Self {
        // Without OS entropy (very early boot), fall back to the clock and the process id:
        // jitter needs spread, not secrecy, and this must not panic.
        let rng = SmallRng::try_from_rng(&mut SysRng).unwrap_or_else(|_| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            SmallRng::seed_from_u64(nanos ^ u64::from(std::process::id()).rotate_left(32))
        });
        Self::random(rng)
    }

    /// Uniformly random delays from a generator seeded with `seed`: the same seed gives
    /// the same delays, for reproducible tests and simulations.
    pub fn seeded(seed: u64) -> Self {
        Self::random(SmallRng::seed_from_u64(seed))
    }

    /// No jitter: every exponential delay is its full cap (`base × 2^(n−1)`, capped).
    /// Deterministic, but clients that failed together retry together.
    pub fn none() -> Self {
        Self {
            source: Arc::new(Source::None),
        }
    }

    /// Delays chosen by `f`, given the cap; a result above the cap is cut to the cap.
    pub fn from_fn(f: impl Fn(Duration) -> Duration + Send + Sync + 'static) -> Self {
        Self {
            source: Arc::new(Source::Custom(Box::new(f))),
        }
    }

    fn random(rng: SmallRng) -> Self {
        Self {
            source: Arc::new(Source::Random(Mutex::new(rng))),
        }
    }

    /// A delay in `[0, cap]`.
    pub fn sample(&self, cap: Duration) -> Duration {
        match &*self.source {
            Source::Random(rng) => {
                // A generator's state cannot be left half-updated by a panic elsewhere.
                let mut rng = rng.lock().unwrap_or_else(PoisonError::into_inner);
                // Whole milliseconds, tokio's timer resolution: finer delays would be
                // rounded up by the timer anyway, and this way a paused-clock test sees
                // exactly the delays reported to `on_retry`.
                let max_ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
                if max_ms > 0 {
                    Duration::from_millis(rng.random_range(0..=max_ms)).min(cap)
                } else {
                    Duration::from_nanos(rng.random_range(0..=cap.subsec_nanos().into()))
                }
            }
            Source::None => cap,
            Source::Custom(f) => f(cap).min(cap),
        }
    }
}

impl Default for Jitter {
    fn default() -> Self {
        Self::full()
    }
}

impl fmt::Debug for Jitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match &*self.source {
            Source::Random(_) => "Jitter::Random",
            Source::None => "Jitter::None",
            Source::Custom(_) => "Jitter::Custom",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_millis(100);
    const MAX: Duration = Duration::from_secs(10);

    #[test]
    fn exponential_doubles_then_caps_without_overflow() {
        let caps: Vec<_> = (1..=9)
            .map(|n| Backoff::Exponential.cap(n, BASE, MAX))
            .collect();
        let ms: Vec<u128> = caps.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]);
        for n in [32, 33, 64, u32::MAX] {
            assert_eq!(Backoff::Exponential.cap(n, BASE, MAX), MAX);
        }
        assert_eq!(Backoff::Exponential.cap(0, BASE, MAX), BASE);
        assert_eq!(
            Backoff::Exponential.cap(40, Duration::MAX, Duration::MAX),
            Duration::MAX
        );
    }

    #[test]
    fn constant_is_flat() {
        assert!((1..100).all(|n| Backoff::Constant.cap(n, BASE, MAX) == BASE));
    }

    #[test]
    fn random_jitter_stays_in_bounds_and_spreads() {
        let j = Jitter::seeded(1);
        let samples: Vec<_> = (0..1000).map(|_| j.sample(BASE)).collect();
        assert!(samples.iter().all(|d| *d <= BASE));
        // Full jitter spreads over the whole range: both halves are hit.
        assert!(samples.iter().any(|d| *d < BASE / 4));
        assert!(samples.iter().any(|d| *d > BASE * 3 / 4));
        assert!(samples.iter().all(|d| d.subsec_nanos() % 1_000_000 == 0));
        assert_eq!(j.sample(Duration::ZERO), Duration::ZERO);
        assert!(j.sample(Duration::from_nanos(500)) <= Duration::from_nanos(500));
        let big = Jitter::full().sample(Duration::MAX);
        assert!(big <= Duration::MAX);
    }

    #[test]
    fn clones_share_the_generator() {
        let a = Jitter::seeded(9);
        let b = a.clone();
        let fresh = Jitter::seeded(9);
        let first = fresh.sample(MAX);
        let second = fresh.sample(MAX);
        assert_eq!(a.sample(MAX), first);
        assert_eq!(b.sample(MAX), second);
    }

    #[test]
    fn custom_is_clamped_to_the_cap() {
        let j = Jitter::from_fn(|cap| cap * 3);
        assert_eq!(j.sample(BASE), BASE);
        assert_eq!(format!("{j:?}"), "Jitter::Custom");
    }
}
