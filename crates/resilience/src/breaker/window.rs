//! The sliding window of call outcomes a circuit breaker judges by.

use std::time::Duration;

use tokio::time::Instant;

/// Outcomes over the last `window`, kept in `n` buckets of `window / n` each: a bucket is
/// dropped as a whole once it is `n` buckets old, so the window slides in steps of one
/// bucket and costs `O(n)` memory however many calls there are.
pub(crate) struct Window {
    buckets: Vec<Bucket>,
    width_nanos: u128,
    origin: Instant,
}

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    /// Which bucket-width period since `origin` this bucket holds.
    epoch: u64,
    calls: u64,
    failures: u64,
}

/// Calls and failures in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct WindowStats {
    /// Calls recorded (successes and failures).
    pub calls: u64,
    /// Failed calls among them.
    pub failures: u64,
}

impl WindowStats {
    /// `failures / calls`, 0 when there were no calls.
    pub fn failure_ratio(&self) -> f64 {
        if self.calls == 0 {
            0.0
        } else {
            self.failures as f64 / self.calls as f64
        }
    }
}

impl Window {
    pub(crate) fn new(window: Duration, buckets: usize, now: Instant) -> Self {
        let buckets = buckets.max(1);
        Self {
            buckets: vec![Bucket::default(); buckets],
            width_nanos: (window.as_nanos() / buckets as u128).max(1),
            origin: now,
        }
    }

    fn epoch(&self, now: Instant) -> u64 {
        let e = now.saturating_duration_since(self.origin).as_nanos() / self.width_nanos;
        u64::try_from(e).unwrap_or(u64::MAX)
    }

    pub(crate) fn record(&mut self, now: Instant, failure: bool) {
        let epoch = self.epoch(now);
        let n = self.buckets.len();
        let b = &mut self.buckets[(epoch % n as u64) as usize];
        if b.epoch != epoch {
            *b = Bucket {
                epoch,
                ..Bucket::default()
            };
        }
        b.calls += 1;
        b.failures += u64::from(failure);
    }

    pub(crate) fn stats(&self, now: Instant) -> WindowStats {
        let epoch = self.epoch(now);
        let n = self.buckets.len() as u64;
        self.buckets
            .iter()
            .filter(|b| epoch - b.epoch.min(epoch) < n)
            .fold(WindowStats::default(), |s, b| WindowStats {
                calls: s.calls + b.calls,
                failures: s.failures + b.failures,
            })
    }

    pub(crate) fn reset(&mut self) {
        self.buckets.fill(Bucket::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn slides_bucket_by_bucket() {
        let t0 = Instant::now();
        let mut w = Window::new(Duration::from_secs(10), 10, t0);
        w.record(t0, true);
        w.record(t0 + Duration::from_millis(500), false);
        w.record(t0 + Duration::from_secs(5), true);
        let at = |s| w.stats(t0 + Duration::from_millis(s));
        assert_eq!(
            at(5000),
            WindowStats {
                calls: 3,
                failures: 2
            }
        );
        assert_eq!(
            at(9999),
            WindowStats {
                calls: 3,
                failures: 2
            }
        );
        // The first bucket ([0 s, 1 s)) leaves the window at 10 s.
        assert_eq!(
            at(10_000),
            WindowStats {
                calls: 1,
                failures: 1
            }
        );
        assert_eq!(at(15_000), WindowStats::default());
        assert_eq!(at(5000).failure_ratio(), 2.0 / 3.0);
        assert_eq!(WindowStats::default().failure_ratio(), 0.0);
    }

    #[tokio::test(start_paused = true)]
    async fn reused_bucket_starts_fresh() {
        let t0 = Instant::now();
        let mut w = Window::new(Duration::from_secs(1), 4, t0);
        w.record(t0, true);
        let later = t0 + Duration::from_secs(1); // same slot, next lap
        w.record(later, false);
        assert_eq!(
            w.stats(later),
            WindowStats {
                calls: 1,
                failures: 0
            }
        );
        w.reset();
        assert_eq!(w.stats(later), WindowStats::default());
    }
}
