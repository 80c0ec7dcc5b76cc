//! What a health check knows about one endpoint, and how a probe result changes it.

use std::time::Duration;

use tokio::time::Instant;

/// The health of one endpoint, as of its last probe.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EndpointStatus<E> {
    /// The endpoint.
    pub endpoint: E,
    /// Whether it is considered up. Flips only after `unhealthy_threshold` failures in a
    /// row (down) or `healthy_threshold` successes in a row (up), so one lost probe does
    /// not take a mirror out of rotation.
    pub healthy: bool,
    /// Failed probes in a row (0 after a success).
    pub consecutive_failures: u32,
    /// Successful probes in a row (0 after a failure).
    pub consecutive_successes: u32,
    /// How long the last successful probe took.
    pub last_latency: Option<Duration>,
    /// Why the last probe failed, if it did.
    pub last_error: Option<String>,
    /// When the last probe finished (tokio time).
    pub last_checked: Option<Instant>,
    /// Probes made so far.
    pub checks: u64,
}

impl<E> EndpointStatus<E> {
    pub(crate) fn new(endpoint: E, healthy: bool) -> Self {
        Self {
            endpoint,
            healthy,
            consecutive_failures: 0,
            consecutive_successes: 0,
            last_latency: None,
            last_error: None,
            last_checked: None,
            checks: 0,
        }
    }

    /// Applies one probe result; returns whether `healthy` flipped.
    pub(crate) fn record(
        &mut self,
        outcome: Result<Duration, String>,
        now: Instant,
        thresholds: Thresholds,
    ) -> bool {
        self.checks += 1;
        self.last_checked = Some(now);
        match outcome {
            Ok(latency) => {
                self.consecutive_successes = self.consecutive_successes.saturating_add(1);
                self.consecutive_failures = 0;
                self.last_latency = Some(latency);
                self.last_error = None;
                if !self.healthy && self.consecutive_successes >= thresholds.healthy {
                    self.healthy = true;
                    return true;
                }
            }
            Err(error) => {
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                self.consecutive_successes = 0;
                self.last_error = Some(error);
                if self.healthy && self.consecutive_failures >= thresholds.unhealthy {
                    self.healthy = false;
                    return true;
                }
            }
        }
        false
    }
}

/// Probes in a row needed to change an endpoint's health.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Thresholds {
    pub(crate) healthy: u32,
    pub(crate) unhealthy: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Thresholds = Thresholds {
        healthy: 2,
        unhealthy: 3,
    };

    #[tokio::test(start_paused = true)]
    async fn hysteresis() {
        let now = Instant::now();
        let mut s = EndpointStatus::new("a", true);
        let ok = || Ok(Duration::from_millis(5));
        let err = || Err("refused".to_owned());
        assert!(!s.record(err(), now, T));
        assert!(!s.record(err(), now, T));
        assert!(!s.record(ok(), now, T), "a success resets the failure run");
        assert!(!s.record(err(), now, T));
        assert!(!s.record(err(), now, T));
        assert!(s.healthy);
        assert!(s.record(err(), now, T), "third failure in a row marks down");
        assert!(!s.healthy);
        assert_eq!(s.last_error.as_deref(), Some("refused"));
        assert!(!s.record(err(), now, T), "already down: no flip");
        assert!(!s.record(ok(), now, T));
        assert!(s.record(ok(), now, T), "second success in a row marks up");
        assert_eq!(s.last_error, None);
        assert_eq!(s.last_latency, Some(Duration::from_millis(5)));
        assert_eq!(s.checks, 9);
        assert_eq!(s.last_checked, Some(now));
        assert_eq!((s.consecutive_successes, s.consecutive_failures), (2, 0));
    }
}
