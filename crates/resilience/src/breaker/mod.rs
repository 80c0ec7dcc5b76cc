//! A circuit breaker: stop calling an endpoint that keeps failing, probe it after a
//! cooldown, and resume when it answers again.

mod window;

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use window::Window;
pub use window::WindowStats;

use crate::error::{Error, Result, invalid};
use crate::retry::{Classify, FailureKind};

/// Default failure ratio that trips the breaker: 0.5.
pub const DEFAULT_FAILURE_RATIO: f64 = 0.5;
/// Default calls in the window before the breaker may trip: 10.
pub const DEFAULT_MIN_CALLS: u32 = 10;
/// Default length of the sliding window: 10 s.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(10);
/// Default time the breaker stays open before probing: 5 s.
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(5);
/// Default probe calls admitted while half-open: 1.
pub const DEFAULT_HALF_OPEN_PROBES: u32 = 1;

/// Buckets the window is kept in; it slides by a tenth of its length.
const BUCKETS: usize = 10;

/// Where a [`CircuitBreaker`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakerState {
    /// Calls go through; outcomes are counted in the sliding window.
    Closed,
    /// Calls are refused at once until the cooldown ends.
    Open,
    /// A few probe calls go through: if they all succeed the breaker closes, if one
    /// fails it opens again.
    HalfOpen,
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half-open",
        })
    }
}

/// Stops calls to something that keeps failing, so it can recover and callers fail
/// fast (or pick another mirror) instead of waiting on timeouts.
///
/// - **Closed**: calls pass; once the window holds at least `min_calls` outcomes and the
///   share of failures reaches `failure_ratio`, the breaker opens.
/// - **Open**: calls fail at once with [`Error::CircuitOpen`] for `cooldown`.
/// - **Half-open**: the next `half_open_probes` calls pass; when all succeed the breaker
///   closes with an empty window, when one fails it opens again. Other calls get
///   [`Error::CircuitHalfOpen`].
///
/// The move from open to half-open happens when someone looks (a call,
/// [`state`](Self::state)), not on a timer. Outcomes of calls that started before a
/// state change are ignored. Time is tokio's, so paused-clock tests are exact. Clones
/// share the breaker.
///
/// | setting | default |
/// |---|---|
/// | `failure_ratio` | 0.5 |
/// | `min_calls` | 10 |
/// | `window` | 10 s |
/// | `cooldown` | 5 s |
/// | `half_open_probes` | 1 |
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use ghostnet_resilience::{BreakerState, CallError, CircuitBreaker, Error};
///
/// let breaker = CircuitBreaker::builder().min_calls(2).build().unwrap();
/// for _ in 0..2 {
///     let r = breaker.call(async { Err::<(), _>("connection refused") }).await;
///     assert!(matches!(r, Err(CallError::Failed(_))));
/// }
/// assert_eq!(breaker.state(), BreakerState::Open);
/// let r = breaker.call(async { Ok::<_, &str>(()) }).await;
/// assert!(matches!(r, Err(CallError::Rejected(Error::CircuitOpen { .. }))));
/// # }
/// ```
#[derive(Clone)]
pub struct CircuitBreaker {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: Config,
    machine: Mutex<Machine>,
    state_tx: watch::Sender<BreakerState>,
}

struct Config {
    name: Option<Arc<str>>,
    failure_ratio: f64,
    min_calls: u32,
    window: Duration,
    cooldown: Duration,
    probes: u32,
}

struct Machine {
    phase: Phase,
    window: Window,
    /// Bumped on every transition, so that permits taken before it do not count after.
    generation: u64,
}

#[derive(Clone, Copy)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { admitted: u32, succeeded: u32 },
}

impl CircuitBreaker {
    /// A breaker with the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder starting from the defaults.
    pub fn builder() -> CircuitBreakerBuilder {
        CircuitBreakerBuilder::default()
    }

    /// The current state (moving from open to half-open if the cooldown is over).
    pub fn state(&self) -> BreakerState {
        let mut m = self.lock();
        self.refresh(&mut m, Instant::now());
        phase_state(&m.phase)
    }

    /// A receiver that sees every state change (open to half-open only once someone
    /// looks, see the type's docs).
    pub fn subscribe(&self) -> watch::Receiver<BreakerState> {
        self.inner.state_tx.subscribe()
    }

    /// Calls and failures in the window (counted while closed).
    pub fn stats(&self) -> WindowStats {
        self.lock().window.stats(Instant::now())
    }

    /// Asks to make one call. Report its outcome on the permit; a permit dropped without
    /// an outcome (the call was cancelled) counts for nothing and frees its probe slot.
    ///
    /// # Errors
    ///
    /// [`Error::CircuitOpen`] while open, [`Error::CircuitHalfOpen`] while half-open with
    /// every probe slot taken.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use ghostnet_resilience::CircuitBreaker;
    ///
    /// let breaker = CircuitBreaker::new();
    /// let permit = breaker.acquire().unwrap();
    /// let status = 503; // e.g. from an HTTP response
    /// if status >= 500 { permit.failure() } else { permit.success() }
    /// assert_eq!(breaker.stats().failures, 1);
    /// # }
    /// ```
    pub fn acquire(&self) -> Result<BreakerPermit> {
        let now = Instant::now();
        let mut m = self.lock();
        self.refresh(&mut m, now);
        let generation = m.generation;
        let probe = match &mut m.phase {
            Phase::Closed => false,
            Phase::Open { until } => {
                return Err(Error::CircuitOpen {
                    retry_in: until.saturating_duration_since(now),
                });
            }
            Phase::HalfOpen { admitted, .. } if *admitted < self.inner.cfg.probes => {
                *admitted += 1;
                true
            }
            Phase::HalfOpen { .. } => {
                return Err(Error::CircuitHalfOpen {
                    probes: self.inner.cfg.probes,
                });
            }
        };
        Ok(BreakerPermit {
            breaker: self.clone(),
            generation,
            probe,
            done: false,
        })
    }

    /// Runs `fut` if the breaker allows it; any `Err` counts as a failure. When refused,
    /// `fut` is dropped without being polled.
    ///
    /// # Errors
    ///
    /// [`CallError::Rejected`] when refused, [`CallError::Failed`] with `fut`'s error.
    pub async fn call<T, E, Fut>(&self, fut: Fut) -> Result<T, CallError<E>>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        self.call_with(fut, Result::is_err).await
    }

    /// Like [`call`](Self::call), with `is_failure` deciding what counts against the
    /// endpoint: e.g. a 404 is an answer from a healthy server, a 503 is not.
    ///
    /// # Errors
    ///
    /// [`CallError::Rejected`] when refused, [`CallError::Failed`] with `fut`'s error.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use ghostnet_resilience::{CircuitBreaker, Classify, FailureKind};
    ///
    /// let breaker = CircuitBreaker::new();
    /// let r = breaker
    ///     .call_with(async { Err::<(), _>(FailureKind::Permanent) }, |r| {
    ///         r.as_ref().is_err_and(|e| e.classify() != FailureKind::Permanent)
    ///     })
    ///     .await;
    /// assert!(r.is_err());
    /// assert_eq!(breaker.stats().failures, 0);
    /// # }
    /// ```
    pub async fn call_with<T, E, Fut>(
        &self,
        fut: Fut,
        is_failure: impl FnOnce(&Result<T, E>) -> bool,
    ) -> Result<T, CallError<E>>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        let permit = self.acquire().map_err(CallError::Rejected)?;
        let result = fut.await;
        if is_failure(&result) {
            permit.failure();
        } else {
            permit.success();
        }
        result.map_err(CallError::Failed)
    }

    fn lock(&self) -> MutexGuard<'_, Machine> {
        // Every critical section leaves the machine consistent: poisoning is harmless.
        self.inner
            .machine
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Open becomes half-open once the cooldown is over.
    fn refresh(&self, m: &mut Machine, now: Instant) {
        if let Phase::Open { until } = m.phase
            && now >= until
        {
            self.transition(
                m,
                Phase::HalfOpen {
                    admitted: 0,
                    succeeded: 0,
                },
            );
        }
    }

    fn record(&self, generation: u64, failure: bool) {
        let now = Instant::now();
        let mut m = self.lock();
        if m.generation != generation {
            return; // started before a state change: says nothing about the new state
        }
        let cfg = &self.inner.cfg;
        match m.phase {
            Phase::Closed => {
                m.window.record(now, failure);
                let stats = m.window.stats(now);
                if failure
                    && stats.calls >= u64::from(cfg.min_calls)
                    && stats.failures as f64 >= cfg.failure_ratio * stats.calls as f64
                {
                    tracing::warn!(
                        breaker = cfg.name.as_deref().unwrap_or(""),
                        calls = stats.calls,
                        failures = stats.failures,
                        "circuit breaker tripped"
                    );
                    self.open(&mut m, now);
                }
            }
            Phase::HalfOpen { .. } if failure => self.open(&mut m, now),
            Phase::HalfOpen {
                admitted,
                succeeded,
            } => {
                let succeeded = succeeded + 1;
                if succeeded >= cfg.probes {
                    m.window.reset();
                    self.transition(&mut m, Phase::Closed);
                } else {
                    m.phase = Phase::HalfOpen {
                        admitted,
                        succeeded,
                    };
                }
            }
            Phase::Open { .. } => {}
        }
    }

    /// A permit dropped without an outcome gives its probe slot back.
    fn release(&self, generation: u64) {
        let mut m = self.lock();
        if m.generation != generation {
            return;
        }
        if let Phase::HalfOpen { admitted, .. } = &mut m.phase {
            *admitted = admitted.saturating_sub(1);
        }
    }

    fn open(&self, m: &mut Machine, now: Instant) {
        let until = now + self.inner.cfg.cooldown;
        self.transition(m, Phase::Open { until });
    }

    fn transition(&self, m: &mut Machine, phase: Phase) {
        let from = phase_state(&m.phase);
        m.phase = phase;
        m.generation += 1;
        let to = phase_state(&m.phase);
        tracing::info!(
            breaker = self.inner.cfg.name.as_deref().unwrap_or(""),
            %from,
            %to,
            "circuit breaker state change"
        );
        // Sent under the lock, so watchers see transitions in order.
        self.inner.state_tx.send_replace(to);
    }
}

fn phase_state(p: &Phase) -> BreakerState {
    match p {
        Phase::Closed => BreakerState::Closed,
        Phase::Open { .. } => BreakerState::Open,
        Phase::HalfOpen { .. } => BreakerState::HalfOpen,
    }
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        CircuitBreakerBuilder::default()
            .build()
            .unwrap_or_else(|_| unreachable!("the default breaker is valid"))
    }
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cfg = &self.inner.cfg;
        // The stored state, without the open -> half-open step `state()` may take:
        // formatting must not change the breaker or wake its watchers.
        let state = phase_state(&self.lock().phase);
        f.debug_struct("CircuitBreaker")
            .field("name", &cfg.name)
            .field("state", &state)
            .field("failure_ratio", &cfg.failure_ratio)
            .field("min_calls", &cfg.min_calls)
            .field("window", &cfg.window)
            .field("cooldown", &cfg.cooldown)
            .field("half_open_probes", &cfg.probes)
            .finish()
    }
}

/// Leave to make one call through a [`CircuitBreaker`]; report the outcome with
/// [`success`](Self::success) or [`failure`](Self::failure).
#[must_use = "report the call's outcome with `success` or `failure`"]
pub struct BreakerPermit {
    breaker: CircuitBreaker,
    generation: u64,
    probe: bool,
    done: bool,
}

impl BreakerPermit {
    /// The call succeeded.
    pub fn success(mut self) {
        self.done = true;
        self.breaker.record(self.generation, false);
    }

    /// The call failed in a way that counts against the endpoint.
    pub fn failure(mut self) {
        self.done = true;
        self.breaker.record(self.generation, true);
    }

    /// Whether this is a half-open probe.
    pub fn is_probe(&self) -> bool {
        self.probe
    }
}

impl Drop for BreakerPermit {
    fn drop(&mut self) {
        if !self.done && self.probe {
            self.breaker.release(self.generation);
        }
    }
}

impl fmt::Debug for BreakerPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BreakerPermit")
            .field("probe", &self.probe)
            .finish_non_exhaustive()
    }
}

/// What [`CircuitBreaker::call`] returns on failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError<E> {
    /// The breaker refused the call ([`Error::CircuitOpen`] or [`Error::CircuitHalfOpen`]);
    /// it was not made.
    Rejected(Error),
    /// The call was made and failed.
    Failed(E),
}

impl<E> CallError<E> {
    /// Whether the breaker refused the call.
    pub fn is_rejected(&self) -> bool {
        matches!(self, Self::Rejected(_))
    }

    /// The call's own error, if it was made.
    pub fn into_failed(self) -> Option<E> {
        match self {
            Self::Failed(e) => Some(e),
            Self::Rejected(_) => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for CallError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rejected(e) => e.fmt(f),
            Self::Failed(e) => e.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for CallError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Rejected(e) => Some(e),
            Self::Failed(e) => Some(e),
        }
    }
}

impl<E: Classify> Classify for CallError<E> {
    /// A refusal is permanent (retrying into an open breaker defeats it); a failure is
    /// whatever the error says.
    fn classify(&self) -> FailureKind {
        match self {
            Self::Rejected(e) => e.classify(),
            Self::Failed(e) => e.classify(),
        }
    }
}

/// Builds a [`CircuitBreaker`]; [`build`](Self::build) checks the values.
///
/// ```
/// use std::time::Duration;
/// use ghostnet_resilience::CircuitBreaker;
///
/// let breaker = CircuitBreaker::builder()
///     .name("mirror.example.org")
///     .failure_ratio(0.5)
///     .min_calls(20)
///     .window(Duration::from_secs(30))
///     .cooldown(Duration::from_secs(10))
///     .half_open_probes(3)
///     .build()
///     .unwrap();
/// # let _ = breaker;
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct CircuitBreakerBuilder {
    name: Option<Arc<str>>,
    failure_ratio: f64,
    min_calls: u32,
    window: Duration,
    cooldown: Duration,
    probes: u32,
}

impl Default for CircuitBreakerBuilder {
    fn default() -> Self {
        Self {
            name: None,
            failure_ratio: DEFAULT_FAILURE_RATIO,
            min_calls: DEFAULT_MIN_CALLS,
            window: DEFAULT_WINDOW,
            cooldown: DEFAULT_COOLDOWN,
            probes: DEFAULT_HALF_OPEN_PROBES,
        }
    }
}

impl CircuitBreakerBuilder {
    /// A name for logs, e.g. the host. Default none.
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Share of failed calls in the window that opens the breaker, above 0 and at most 1.
    /// Default 0.5.
    pub fn failure_ratio(mut self, ratio: f64) -> Self {
        self.failure_ratio = ratio;
        self
    }

    /// Calls the window must hold before the breaker may open, so that one failure out
    /// of one call does not trip it. Default 10.
    pub fn min_calls(mut self, n: u32) -> Self {
        self.min_calls = n;
        self
    }

    /// How far back outcomes count. Default 10 s.
    pub fn window(mut self, d: Duration) -> Self {
        self.window = d;
        self
    }

    /// How long the breaker stays open before probing. Default 5 s.
    pub fn cooldown(mut self, d: Duration) -> Self {
        self.cooldown = d;
        self
    }

    /// Probe calls admitted while half-open; all must succeed to close. Default 1.
    pub fn half_open_probes(mut self, n: u32) -> Self {
        self.probes = n;
        self
    }

    /// Checks the values and builds the breaker.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a failure ratio outside (0, 1] or NaN, zero
    /// `min_calls`, a zero window or cooldown, or zero probes.
    pub fn build(self) -> Result<CircuitBreaker> {
        let r = self.failure_ratio;
        if !(r > 0.0 && r <= 1.0) {
            return Err(invalid(
                "failure_ratio",
                format!("is {r}; use a share above 0 and at most 1, e.g. 0.5"),
            ));
        }
        if self.min_calls == 0 {
            return Err(invalid(
                "min_calls",
                "is 0; use at least 1 (default 10) so a single failure cannot trip the breaker",
            ));
        }
        if self.window.is_zero() {
            return Err(invalid("window", "is 0; use e.g. 10 s"));
        }
        if self.cooldown.is_zero() {
            return Err(invalid("cooldown", "is 0; use e.g. 5 s"));
        }
        if self.probes == 0 {
            return Err(invalid(
                "half_open_probes",
                "is 0, so the breaker could never close again; use at least 1",
            ));
        }
        let (state_tx, _) = watch::channel(BreakerState::Closed);
        Ok(CircuitBreaker {
            inner: Arc::new(Inner {
                machine: Mutex::new(Machine {
                    phase: Phase::Closed,
                    window: Window::new(self.window, BUCKETS, Instant::now()),
                    generation: 0,
                }),
                state_tx,
                cfg: Config {
                    name: self.name,
                    failure_ratio: r,
                    min_calls: self.min_calls,
                    window: self.window,
                    cooldown: self.cooldown,
                    probes: self.probes,
                },
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(b: CircuitBreakerBuilder) -> &'static str {
        match b.build() {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    #[test]
    fn rejects_bad_config() {
        let b = CircuitBreaker::builder;
        for r in [0.0, -1.0, 1.01, f64::NAN, f64::INFINITY] {
            assert_eq!(field(b().failure_ratio(r)), "failure_ratio");
        }
        assert_eq!(field(b().min_calls(0)), "min_calls");
        assert_eq!(field(b().window(Duration::ZERO)), "window");
        assert_eq!(field(b().cooldown(Duration::ZERO)), "cooldown");
        assert_eq!(field(b().half_open_probes(0)), "half_open_probes");
        b().failure_ratio(1.0).build().unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn stale_outcomes_are_ignored() {
        let b = CircuitBreaker::builder().min_calls(1).build().unwrap();
        let slow = b.acquire().unwrap(); // started while closed
        b.acquire().unwrap().failure(); // trips
        assert_eq!(b.state(), BreakerState::Open);
        tokio::time::advance(DEFAULT_COOLDOWN).await;
        assert_eq!(b.state(), BreakerState::HalfOpen);
        // The old call's success must not close the breaker without a probe.
        slow.success();
        assert_eq!(b.state(), BreakerState::HalfOpen);
    }

    #[tokio::test(start_paused = true)]
    async fn dropped_probe_frees_its_slot() {
        let b = CircuitBreaker::builder().min_calls(1).build().unwrap();
        b.acquire().unwrap().failure();
        tokio::time::advance(DEFAULT_COOLDOWN).await;
        let probe = b.acquire().unwrap();
        assert!(probe.is_probe());
        assert_eq!(
            b.acquire().unwrap_err(),
            Error::CircuitHalfOpen { probes: 1 }
        );
        drop(probe); // e.g. the request was cancelled
        b.acquire().unwrap().success();
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(format!("{b:?}").contains("state: Closed"));
    }

    #[test]
    fn call_error_accessors() {
        let rejected: CallError<std::io::Error> =
            CallError::Rejected(Error::CircuitHalfOpen { probes: 1 });
        assert!(rejected.is_rejected());
        assert_eq!(rejected.classify(), FailureKind::Permanent);
        assert!(rejected.to_string().contains("half-open"));
        assert!(rejected.into_failed().is_none());
        let failed = CallError::Failed(std::io::Error::from(std::io::ErrorKind::TimedOut));
        assert_eq!(failed.classify(), FailureKind::Timeout);
        assert!(failed.into_failed().is_some());
        assert_eq!(BreakerState::HalfOpen.to_string(), "half-open");
    }
}
