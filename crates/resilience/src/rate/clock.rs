//! governor's clock over tokio time, so that rate limits follow a paused test clock.

use std::ops::Add;
use std::time::Duration;

use governor::clock::{Clock, Reference};
use governor::nanos::Nanos;

/// A [`governor::clock::Clock`] that reads [`tokio::time::Instant::now`].
///
/// governor's own clocks read the OS clock, so under tokio's paused clock (tests,
/// simulations) a limiter would never see time pass. With this clock, and sleeps through
/// `tokio::time`, a limiter follows tokio time exactly. Outside a runtime it reads the OS
/// monotonic clock, as tokio does.
///
/// ```
/// use governor::clock::Clock;
/// use ghostnet_resilience::rate::TokioClock;
///
/// let clock = TokioClock;
/// assert!(clock.now() <= clock.now());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokioClock;

impl Clock for TokioClock {
    type Instant = TokioInstant;

    fn now(&self) -> TokioInstant {
        TokioInstant(tokio::time::Instant::now())
    }
}

/// A [`tokio::time::Instant`] as governor's [`Reference`] time.
///
/// A newtype because governor's trait needs `Add<Nanos>`, which cannot be implemented
/// for tokio's type outside tokio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TokioInstant(pub tokio::time::Instant);

impl TokioInstant {
    /// The tokio instant.
    pub fn into_inner(self) -> tokio::time::Instant {
        self.0
    }
}

impl Add<Nanos> for TokioInstant {
    type Output = Self;

    fn add(self, nanos: Nanos) -> Self {
        Self(self.0 + Duration::from(nanos))
    }
}

impl Reference for TokioInstant {
    fn duration_since(&self, earlier: Self) -> Nanos {
        self.0.saturating_duration_since(earlier.0).into()
    }

    fn saturating_sub(&self, duration: Nanos) -> Self {
        Self(self.0.checked_sub(duration.into()).unwrap_or(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn follows_the_paused_clock() {
        let t0 = TokioClock.now();
        tokio::time::advance(Duration::from_millis(1500)).await;
        let t1 = TokioClock.now();
        assert_eq!(
            Duration::from(t1.duration_since(t0)),
            Duration::from_millis(1500)
        );
        assert_eq!(t0.duration_since(t1), Nanos::from(0));
        assert_eq!(t0 + Nanos::from(Duration::from_millis(1500)), t1);
        assert_eq!(t1.saturating_sub(Duration::from_millis(1500).into()), t0);
        assert!(t1.into_inner() > t0.into_inner());
    }
}
