//! Periodic health checks of a set of endpoints, readable at any time.

mod status;

use std::fmt;
use std::future::Future;
use std::time::Duration;

use ghostnet_runtime::Shutdown;
use tokio::sync::watch;
use tokio::task::AbortHandle;
use tokio::time::Instant;

pub use status::EndpointStatus;
use status::Thresholds;

use crate::error::{Error, Result, invalid};

/// Default time between probe rounds: 10 s.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);
/// Default limit on one probe: 3 s.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// Default failed probes in a row that mark an endpoint down: 3.
pub const DEFAULT_UNHEALTHY_THRESHOLD: u32 = 3;
/// Default successful probes in a row that mark an endpoint up again: 2.
pub const DEFAULT_HEALTHY_THRESHOLD: u32 = 2;

/// Probes a set of endpoints in the background, so a mirror manager or a connection
/// pool can ask "which of these are up?" at any time without waiting.
///
/// Every `interval` (first round at once) every endpoint is probed concurrently with the
/// user's async probe function, each probe bounded by `timeout`. Health flips only after
/// `unhealthy_threshold` failures or `healthy_threshold` successes in a row. Read the
/// state with [`statuses`](Self::statuses), [`healthy`](Self::healthy) or
/// [`status`](Self::status); wait for health changes with [`subscribe`](Self::subscribe).
///
/// The background task stops when the `HealthCheck` is dropped, or when the
/// [`Shutdown`] given to the builder fires (the last statuses stay readable).
///
/// | setting | default |
/// |---|---|
/// | `interval` | 10 s |
/// | `timeout` | 3 s |
/// | `unhealthy_threshold` | 3 |
/// | `healthy_threshold` | 2 |
/// | `start_healthy` | true |
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::time::Duration;
/// use ghostnet_resilience::HealthCheck;
///
/// let mirrors = ["a.example.org", "b.example.org"];
/// let health = HealthCheck::builder(mirrors, |mirror: &'static str| async move {
///     // e.g. a HEAD request; here "b" is down.
///     if mirror.starts_with('a') { Ok(()) } else { Err("connection refused") }
/// })
/// .interval(Duration::from_secs(5))
/// .spawn()
/// .unwrap();
///
/// let mut changes = health.subscribe();
/// changes.changed().await.unwrap(); // after the third failed round, at 10 s
/// assert_eq!(health.healthy(), ["a.example.org"]);
/// let b = health.status(&"b.example.org").unwrap();
/// assert_eq!(b.consecutive_failures, 3);
/// assert_eq!(b.last_error.as_deref(), Some("connection refused"));
/// # }
/// ```
pub struct HealthCheck<E> {
    statuses: watch::Receiver<Vec<EndpointStatus<E>>>,
    task: AbortHandle,
}

impl<E: Clone> HealthCheck<E> {
    /// A builder for checks of `endpoints` with `probe`: an async function that
    /// succeeds when the endpoint is usable. Its error's `Display` becomes
    /// [`EndpointStatus::last_error`].
    pub fn builder<P>(
        endpoints: impl IntoIterator<Item = E>,
        probe: P,
    ) -> HealthCheckBuilder<E, P> {
        HealthCheckBuilder {
            endpoints: endpoints.into_iter().collect(),
            probe,
            interval: DEFAULT_INTERVAL,
            timeout: DEFAULT_PROBE_TIMEOUT,
            thresholds: Thresholds {
                healthy: DEFAULT_HEALTHY_THRESHOLD,
                unhealthy: DEFAULT_UNHEALTHY_THRESHOLD,
            },
            start_healthy: true,
            shutdown: None,
        }
    }

    /// Every endpoint's status, in the order given.
    pub fn statuses(&self) -> Vec<EndpointStatus<E>> {
        self.statuses.borrow().clone()
    }

    /// The endpoints that are up, in the order given.
    pub fn healthy(&self) -> Vec<E> {
        self.statuses
            .borrow()
            .iter()
            .filter(|s| s.healthy)
            .map(|s| s.endpoint.clone())
            .collect()
    }

    /// The status of `endpoint`, if it is one of the checked endpoints.
    pub fn status(&self, endpoint: &E) -> Option<EndpointStatus<E>>
    where
        E: PartialEq,
    {
        self.statuses
            .borrow()
            .iter()
            .find(|s| s.endpoint == *endpoint)
            .cloned()
    }

    /// A receiver notified whenever an endpoint goes up or down; its value always holds
    /// the latest statuses (latencies and counters update without a notification).
    pub fn subscribe(&self) -> watch::Receiver<Vec<EndpointStatus<E>>> {
        let mut rx = self.statuses.clone();
        rx.mark_unchanged();
        rx
    }

    /// Whether the background task is still probing.
    pub fn is_running(&self) -> bool {
        !self.task.is_finished()
    }
}

impl<E> Drop for HealthCheck<E> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<E: fmt::Debug> fmt::Debug for HealthCheck<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthCheck")
            .field("statuses", &*self.statuses.borrow())
            .field("running", &!self.task.is_finished())
            .finish()
    }
}

/// Builds a [`HealthCheck`]; [`spawn`](Self::spawn) checks the values and starts it.
#[must_use = "a builder does nothing until `spawn` is called"]
pub struct HealthCheckBuilder<E, P> {
    endpoints: Vec<E>,
    probe: P,
    interval: Duration,
    timeout: Duration,
    thresholds: Thresholds,
    start_healthy: bool,
    shutdown: Option<Shutdown>,
}

impl<E, P> HealthCheckBuilder<E, P> {
    /// Time between the starts of probe rounds. Default 10 s. A round that takes longer
    /// (slow probes) delays the next one instead of overlapping it.
    pub fn interval(mut self, d: Duration) -> Self {
        self.interval = d;
        self
    }

    /// Limit on each probe; a probe that takes longer fails. Default 3 s.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Failed probes in a row that mark an endpoint down. Default 3.
    pub fn unhealthy_threshold(mut self, n: u32) -> Self {
        self.thresholds.unhealthy = n;
        self
    }

    /// Successful probes in a row that mark an endpoint up. Default 2.
    pub fn healthy_threshold(mut self, n: u32) -> Self {
        self.thresholds.healthy = n;
        self
    }

    /// Whether endpoints count as up before any probe. Default true (use them until they
    /// prove bad); with false, each needs `healthy_threshold` successes first.
    pub fn start_healthy(mut self, healthy: bool) -> Self {
        self.start_healthy = healthy;
        self
    }

    /// Stops the checks when `shutdown` fires; the task is tracked by it, so
    /// [`Shutdown::shutdown`] waits for it.
    pub fn shutdown(mut self, shutdown: &Shutdown) -> Self {
        self.shutdown = Some(shutdown.clone());
        self
    }

    /// Checks the values and starts probing in a background task.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a zero interval, timeout or threshold;
    /// [`Error::NoRuntime`] outside a tokio runtime.
    pub fn spawn<Fut, T, PE>(self) -> Result<HealthCheck<E>>
    where
        E: Clone + fmt::Debug + Send + Sync + 'static,
        P: Fn(E) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<T, PE>> + Send + 'static,
        T: 'static,
        PE: fmt::Display + 'static,
    {
        if self.interval.is_zero() {
            return Err(invalid("interval", "is 0; use e.g. 10 s"));
        }
        if self.timeout.is_zero() {
            return Err(invalid(
                "timeout",
                "is 0, so every probe would fail; use e.g. 3 s",
            ));
        }
        if self.thresholds.unhealthy == 0 {
            return Err(invalid(
                "unhealthy_threshold",
                "is 0; use at least 1 (default 3)",
            ));
        }
        if self.thresholds.healthy == 0 {
            return Err(invalid(
                "healthy_threshold",
                "is 0; use at least 1 (default 2)",
            ));
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::NoRuntime);
        }
        let initial = self
            .endpoints
            .iter()
            .map(|e| EndpointStatus::new(e.clone(), self.start_healthy))
            .collect();
        let (tx, rx) = watch::channel(initial);
        let checker = Checker {
            endpoints: self.endpoints,
            probe: self.probe,
            interval: self.interval,
            timeout: self.timeout,
            thresholds: self.thresholds,
            tx,
        };
        let task = match self.shutdown {
            Some(shutdown) => {
                let stop = shutdown.clone();
                shutdown.spawn(checker.run(async move { stop.triggered().await }))
            }
            None => ghostnet_runtime::spawn(checker.run(std::future::pending())),
        };
        Ok(HealthCheck {
            statuses: rx,
            task: task.abort_handle(),
        })
    }
}

impl<E: fmt::Debug, P> fmt::Debug for HealthCheckBuilder<E, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthCheckBuilder")
            .field("endpoints", &self.endpoints)
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .field("thresholds", &self.thresholds)
            .field("start_healthy", &self.start_healthy)
            .finish_non_exhaustive()
    }
}

/// The background task's state.
struct Checker<E, P> {
    endpoints: Vec<E>,
    probe: P,
    interval: Duration,
    timeout: Duration,
    thresholds: Thresholds,
    tx: watch::Sender<Vec<EndpointStatus<E>>>,
}

impl<E, P> Checker<E, P>
where
    E: Clone + fmt::Debug,
{
    /// Probes every round until `stop` completes.
    async fn run<Fut, T, PE>(self, stop: impl Future<Output = ()>)
    where
        P: Fn(E) -> Fut,
        Fut: Future<Output = std::result::Result<T, PE>>,
        PE: fmt::Display,
    {
        let mut tick = ghostnet_runtime::interval(self.interval);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                biased;
                () = &mut stop => break,
                _ = tick.tick() => {}
            }
            let round: Vec<_> = self
                .endpoints
                .iter()
                .map(|e| self.probe_one(e.clone()))
                .collect();
            let results = tokio::select! {
                biased;
                () = &mut stop => break,
                results = ghostnet_runtime::all(round) => results,
            };
            self.apply(results);
        }
        tracing::debug!("health check stopped");
    }

    /// One probe: how long it took, or why it failed.
    async fn probe_one<Fut, T, PE>(&self, endpoint: E) -> std::result::Result<Duration, String>
    where
        P: Fn(E) -> Fut,
        Fut: Future<Output = std::result::Result<T, PE>>,
        PE: fmt::Display,
    {
        let start = Instant::now();
        match ghostnet_runtime::timeout(self.timeout, (self.probe)(endpoint)).await {
            Ok(Ok(_)) => Ok(start.elapsed()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(timed_out) => Err(timed_out.to_string()),
        }
    }

    fn apply(&self, results: Vec<std::result::Result<Duration, String>>) {
        let now = Instant::now();
        let thresholds = self.thresholds;
        // Readers see the new counters at once; only flips wake subscribers.
        self.tx.send_if_modified(|statuses| {
            let mut flipped = false;
            for (status, outcome) in statuses.iter_mut().zip(results) {
                if status.record(outcome, now, thresholds) {
                    flipped = true;
                    if status.healthy {
                        tracing::info!(endpoint = ?status.endpoint, "endpoint is up");
                    } else {
                        tracing::warn!(
                            endpoint = ?status.endpoint,
                            error = status.last_error.as_deref().unwrap_or(""),
                            failures = status.consecutive_failures,
                            "endpoint is down"
                        );
                    }
                }
            }
            flipped
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(_: u32) -> std::future::Ready<std::result::Result<(), String>> {
        std::future::ready(Ok(()))
    }

    #[test]
    fn outside_a_runtime() {
        let r = HealthCheck::builder([1u32], probe).spawn();
        assert!(matches!(r, Err(Error::NoRuntime)));
    }

    #[tokio::test]
    async fn rejects_bad_config() {
        let field = |b: HealthCheckBuilder<u32, fn(u32) -> _>| match b.spawn() {
            Err(Error::InvalidConfig { field, .. }) => field,
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("accepted"),
        };
        let b = || HealthCheck::builder([1u32], probe as fn(u32) -> _);
        assert_eq!(field(b().interval(Duration::ZERO)), "interval");
        assert_eq!(field(b().timeout(Duration::ZERO)), "timeout");
        assert_eq!(field(b().unhealthy_threshold(0)), "unhealthy_threshold");
        assert_eq!(field(b().healthy_threshold(0)), "healthy_threshold");
        assert!(format!("{:?}", b()).contains("interval: 10s"));
    }
}
