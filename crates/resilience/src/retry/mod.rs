//! Retrying async operations: [`RetryPolicy`], backoff and jitter, the retry budget,
//! failure classification, and the `Retry-After` parser.

mod backoff;
mod budget;
mod classify;
mod error;
mod retry_after;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

pub use backoff::{Backoff, Jitter};
pub use budget::{
    DEFAULT_BUDGET_TTL, DEFAULT_MIN_RETRIES_PER_SEC, DEFAULT_RETRY_RATIO, RetryBudget,
};
pub use classify::{Classify, FailureKind, RetryOn};
pub use error::{GiveUp, RetryError};
pub use retry_after::{RETRY_AFTER_CAP, parse_retry_after, parse_retry_after_capped};

use crate::error::{Result, invalid};

/// Default attempts, the first included: 3.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// Default delay before the first retry (the exponential cap's start): 100 ms.
pub const DEFAULT_BASE_DELAY: Duration = Duration::from_millis(100);
/// Default longest delay between attempts: 10 s.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(10);
/// Default limit on the time from the first attempt to the start of the last: 15 min.
pub const DEFAULT_MAX_ELAPSED: Duration = Duration::from_secs(15 * 60);

/// What a policy tells its [`on_retry`](RetryPolicyBuilder::on_retry) hook before it
/// sleeps and tries again.
#[non_exhaustive]
pub struct RetryEvent<'a> {
    /// The attempt that just failed (1 = the first).
    pub attempt: u32,
    /// How long the policy sleeps before the next attempt.
    pub delay: Duration,
    /// What kind of failure it was.
    pub kind: FailureKind,
    /// The failure itself.
    pub error: &'a dyn fmt::Display,
}

impl fmt::Debug for RetryEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryEvent")
            .field("attempt", &self.attempt)
            .field("delay", &self.delay)
            .field("kind", &self.kind)
            .field("error", &format_args!("{}", self.error))
            .finish()
    }
}

type Hook = Arc<dyn Fn(&RetryEvent<'_>) + Send + Sync>;

/// Runs an async operation again when it fails in a way that may clear up.
///
/// Before retry `n` it sleeps per its [`Backoff`] (exponential with full jitter by
/// default), or for the server's `Retry-After` when the failure carries one. It stops at
/// the first failure it does not retry ([`RetryOn`]), after `max_attempts`, when the
/// shared [`RetryBudget`] is empty, when a `Retry-After` exceeds `max_retry_after`, or
/// when the wait would pass `max_elapsed`; the [`RetryError`] says which and how many
/// attempts were made. Clones share the budget and the jitter generator. Sleeps use
/// tokio time, so tests with a paused clock run instantly and exactly.
///
/// | setting | default |
/// |---|---|
/// | `max_attempts` | 3 (first attempt included) |
/// | `backoff` | exponential, full jitter |
/// | `base_delay` / `max_delay` | 100 ms / 10 s |
/// | `max_retry_after` | `max_delay` |
/// | `max_elapsed` | 15 min |
/// | `retry_on` | timeouts, transient network failures, 5xx, 429 |
/// | `budget` | 20 % of first attempts + 10 retries/s, over 10 s |
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::io;
/// use ghostnet_resilience::RetryPolicy;
///
/// let policy = RetryPolicy::default();
/// let body = policy
///     .run(|attempt| async move {
///         if attempt < 3 {
///             Err(io::Error::from(io::ErrorKind::ConnectionReset))
///         } else {
///             Ok("hello")
///         }
///     })
///     .await
///     .unwrap();
/// assert_eq!(body, "hello");
/// # }
/// ```
#[derive(Clone)]
pub struct RetryPolicy {
    inner: Arc<Config>,
}

struct Config {
    max_attempts: u32,
    backoff: Backoff,
    base_delay: Duration,
    max_delay: Duration,
    max_retry_after: Duration,
    max_elapsed: Duration,
    retry_on: RetryOn,
    budget: Option<RetryBudget>,
    jitter: Jitter,
    on_retry: Option<Hook>,
}

impl RetryPolicy {
    /// A builder starting from the defaults.
    pub fn builder() -> RetryPolicyBuilder {
        RetryPolicyBuilder::default()
    }

    /// Runs `op` until it succeeds or the policy gives up. `op` gets the attempt number,
    /// starting at 1, and returns a fresh future each time.
    ///
    /// # Errors
    ///
    /// The last failure, in a [`RetryError`] with the attempt count and the reason.
    pub async fn run<T, E, F, Fut>(&self, mut op: F) -> Result<T, RetryError<E>>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: Classify + fmt::Display,
    {
        let c = &*self.inner;
        let start = Instant::now();
        if let Some(budget) = &c.budget {
            budget.deposit();
        }
        let mut attempt = 1;
        loop {
            let delay = match op(attempt).await {
                Ok(v) => return Ok(v),
                Err(err) => match self.next_delay(attempt, &err, start) {
                    Ok(delay) => delay,
                    Err(reason) => {
                        tracing::debug!(attempts = attempt, %reason, error = %err, "giving up");
                        return Err(RetryError::new(err, attempt, reason));
                    }
                },
            };
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// Decides whether to retry after `attempt` failed with `err`, and how long to wait;
    /// tells the hook and the log when it will retry.
    fn next_delay<E: Classify + fmt::Display>(
        &self,
        attempt: u32,
        err: &E,
        start: Instant,
    ) -> Result<Duration, GiveUp> {
        let c = &*self.inner;
        let kind = err.classify();
        if !c.retry_on.allows(&kind) {
            return Err(GiveUp::NotRetryable(kind));
        }
        if attempt >= c.max_attempts {
            return Err(GiveUp::AttemptsExhausted);
        }
        let delay = match kind.retry_after() {
            // The server's word beats our guess: no jitter below what it asked for.
            Some(retry_after) if retry_after > c.max_retry_after => {
                return Err(GiveUp::RetryAfterTooLong {
                    retry_after,
                    limit: c.max_retry_after,
                });
            }
            Some(retry_after) => retry_after,
            None => self.backoff_delay(attempt),
        };
        let would_be = start.elapsed().saturating_add(delay);
        if would_be > c.max_elapsed {
            return Err(GiveUp::DeadlineExceeded {
                would_be,
                limit: c.max_elapsed,
            });
        }
        // Last, so that a refusal for another reason takes nothing from the budget.
        if let Some(budget) = &c.budget
            && !budget.withdraw()
        {
            return Err(GiveUp::BudgetExhausted);
        }
        tracing::debug!(attempt, ?delay, %kind, error = %err, "retrying");
        if let Some(hook) = &c.on_retry {
            hook(&RetryEvent {
                attempt,
                delay,
                kind,
                error: err,
            });
        }
        Ok(delay)
    }

    /// The delay before retry `retry` (1 = the first retry) when the server sent no
    /// `Retry-After`: the [`Backoff`] cap, jittered for exponential backoff.
    pub fn backoff_delay(&self, retry: u32) -> Duration {
        let c = &*self.inner;
        let cap = c.backoff.cap(retry, c.base_delay, c.max_delay);
        match c.backoff {
            Backoff::Constant => cap,
            Backoff::Exponential => c.jitter.sample(cap),
        }
    }

    /// Attempts, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.inner.max_attempts
    }

    /// The shared retry budget, if the policy has one.
    pub fn budget(&self) -> Option<&RetryBudget> {
        self.inner.budget.as_ref()
    }
}

impl Default for RetryPolicy {
    /// The defaults in the table above, with a budget of its own.
    fn default() -> Self {
        RetryPolicyBuilder::default()
            .build()
            .unwrap_or_else(|_| unreachable!("the default policy is valid"))
    }
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &*self.inner;
        f.debug_struct("RetryPolicy")
            .field("max_attempts", &c.max_attempts)
            .field("backoff", &c.backoff)
            .field("base_delay", &c.base_delay)
            .field("max_delay", &c.max_delay)
            .field("max_retry_after", &c.max_retry_after)
            .field("max_elapsed", &c.max_elapsed)
            .field("retry_on", &c.retry_on)
            .field("budget", &c.budget)
            .field("jitter", &c.jitter)
            .finish_non_exhaustive()
    }
}

/// Builds a [`RetryPolicy`]; [`build`](Self::build) checks the values.
///
/// ```
/// use std::time::Duration;
/// use ghostnet_resilience::{Backoff, Jitter, RetryOn, RetryPolicy};
///
/// let policy = RetryPolicy::builder()
///     .max_attempts(5)
///     .backoff(Backoff::Exponential)
///     .base_delay(Duration::from_millis(200))
///     .max_delay(Duration::from_secs(5))
///     .retry_on(RetryOn::all().timeout(false)) // e.g. a POST
///     .jitter(Jitter::seeded(1))
///     .on_retry(|e| eprintln!("attempt {} failed ({}), retrying in {:?}", e.attempt, e.error, e.delay))
///     .build()
///     .unwrap();
/// assert_eq!(policy.max_attempts(), 5);
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct RetryPolicyBuilder {
    max_attempts: u32,
    backoff: Backoff,
    base_delay: Duration,
    max_delay: Duration,
    max_retry_after: Option<Duration>,
    max_elapsed: Duration,
    retry_on: RetryOn,
    budget: BudgetChoice,
    jitter: Option<Jitter>,
    on_retry: Option<Hook>,
}

enum BudgetChoice {
    /// A fresh default budget per built policy.
    Default,
    Shared(RetryBudget),
    Unlimited,
}

impl Default for RetryPolicyBuilder {
    fn default() -> Self {
        Self {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            backoff: Backoff::default(),
            base_delay: DEFAULT_BASE_DELAY,
            max_delay: DEFAULT_MAX_DELAY,
            max_retry_after: None,
            max_elapsed: DEFAULT_MAX_ELAPSED,
            retry_on: RetryOn::all(),
            budget: BudgetChoice::Default,
            jitter: None,
            on_retry: None,
        }
    }
}

impl RetryPolicyBuilder {
    /// Attempts, the first included (1 = never retry). Default 3.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }

    /// How delays grow. Default [`Backoff::Exponential`].
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The constant delay, or the exponential cap before the first retry. Default 100 ms.
    pub fn base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }

    /// The longest backoff delay. Default 10 s.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// The longest `Retry-After` honoured; a longer one ends the retries with
    /// [`GiveUp::RetryAfterTooLong`] instead of a long sleep. Default: `max_delay`.
    pub fn max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = Some(d);
        self
    }

    /// No retry starts later than this after the first attempt started (operations are
    /// not cut short; wrap them in a timeout for that). Default 15 min.
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = d;
        self
    }

    /// Which kinds of failure to retry. Default: all but permanent ones.
    pub fn retry_on(mut self, on: RetryOn) -> Self {
        self.retry_on = on;
        self
    }

    /// Shares `budget` (clones share state) instead of a fresh default one per policy.
    pub fn budget(mut self, budget: RetryBudget) -> Self {
        self.budget = BudgetChoice::Shared(budget);
        self
    }

    /// No retry budget: only `max_attempts` limits retries. Under an outage, load then
    /// grows `max_attempts` times; prefer a budget for anything talking to a server.
    pub fn without_budget(mut self) -> Self {
        self.budget = BudgetChoice::Unlimited;
        self
    }

    /// The jitter source for exponential backoff. Default [`Jitter::full`].
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = Some(jitter);
        self
    }

    /// Called before each retry's sleep, for logs and metrics (every retry is also
    /// logged at `debug` level with `tracing`). Keep it quick: it runs inline.
    pub fn on_retry(mut self, hook: impl Fn(&RetryEvent<'_>) + Send + Sync + 'static) -> Self {
        self.on_retry = Some(Arc::new(hook));
        self
    }

    /// Checks the values and builds the policy.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) for zero attempts, a zero
    /// base delay, a max delay below the base delay, or a zero `max_elapsed`.
    pub fn build(self) -> Result<RetryPolicy> {
        if self.max_attempts == 0 {
            return Err(invalid(
                "max_attempts",
                "is 0; it counts the first attempt, so use at least 1 (1 = no retries)",
            ));
        }
        if self.base_delay.is_zero() {
            return Err(invalid(
                "base_delay",
                "is 0, which retries in a tight loop; use at least 1 ms (default 100 ms)",
            ));
        }
        if self.max_delay < self.base_delay {
            return Err(invalid(
                "max_delay",
                format!(
                    "({:?}) is below base_delay ({:?}); raise it or lower base_delay",
                    self.max_delay, self.base_delay
                ),
            ));
        }
        if self.max_elapsed.is_zero() {
            return Err(invalid(
                "max_elapsed",
                "is 0, which forbids every retry; set max_attempts(1) to disable retries",
            ));
        }
        Ok(RetryPolicy {
            inner: Arc::new(Config {
                max_attempts: self.max_attempts,
                backoff: self.backoff,
                base_delay: self.base_delay,
                max_delay: self.max_delay,
                max_retry_after: self.max_retry_after.unwrap_or(self.max_delay),
                max_elapsed: self.max_elapsed,
                retry_on: self.retry_on,
                budget: match self.budget {
                    BudgetChoice::Default => Some(RetryBudget::default()),
                    BudgetChoice::Shared(b) => Some(b),
                    BudgetChoice::Unlimited => None,
                },
                jitter: self.jitter.unwrap_or_default(),
                on_retry: self.on_retry,
            }),
        })
    }
}

impl fmt::Debug for RetryPolicyBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicyBuilder")
            .field("max_attempts", &self.max_attempts)
            .field("backoff", &self.backoff)
            .field("base_delay", &self.base_delay)
            .field("max_delay", &self.max_delay)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn field(r: Result<RetryPolicy>) -> &'static str {
        match r {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    #[test]
    fn rejects_bad_config() {
        let b = RetryPolicy::builder;
        assert_eq!(field(b().max_attempts(0).build()), "max_attempts");
        assert_eq!(field(b().base_delay(Duration::ZERO).build()), "base_delay");
        assert_eq!(
            field(
                b().base_delay(Duration::from_secs(2))
                    .max_delay(Duration::from_secs(1))
                    .build()
            ),
            "max_delay"
        );
        assert_eq!(
            field(b().max_elapsed(Duration::ZERO).build()),
            "max_elapsed"
        );
        let msg = b().max_attempts(0).build().unwrap_err().to_string();
        assert!(msg.contains("1 = no retries"), "{msg}");
    }

    #[test]
    fn defaults() {
        let p = RetryPolicy::default();
        assert_eq!(p.max_attempts(), DEFAULT_MAX_ATTEMPTS);
        assert!(p.budget().is_some());
        let c = &*p.inner;
        assert_eq!(c.base_delay, DEFAULT_BASE_DELAY);
        assert_eq!(c.max_retry_after, DEFAULT_MAX_DELAY);
        assert!(format!("{p:?}").contains("max_elapsed: 900s"));
        // Policies built separately do not share a budget; clones do.
        let q = RetryPolicy::default();
        p.budget().unwrap().withdraw();
        assert_eq!(
            p.clone().budget().unwrap().available() + 1,
            q.budget().unwrap().available()
        );
        assert!(
            RetryPolicy::builder()
                .without_budget()
                .build()
                .unwrap()
                .budget()
                .is_none()
        );
    }

    #[test]
    fn constant_backoff_ignores_jitter() {
        let p = RetryPolicy::builder()
            .backoff(Backoff::Constant)
            .base_delay(Duration::from_millis(250))
            .jitter(Jitter::from_fn(|_| Duration::ZERO))
            .build()
            .unwrap();
        assert!((1..10).all(|n| p.backoff_delay(n) == Duration::from_millis(250)));
    }
}
