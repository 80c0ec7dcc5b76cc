//! A retry budget, as in Finagle and tower: retries may add at most a fixed fraction to
//! the load, plus a small floor, so that an outage does not turn every request into
//! `max_attempts` requests.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Result, invalid};

/// Default time a deposit stays in a [`RetryBudget`]: 10 s.
pub const DEFAULT_BUDGET_TTL: Duration = Duration::from_secs(10);
/// Default retries per second a [`RetryBudget`] always allows: 10.
pub const DEFAULT_MIN_RETRIES_PER_SEC: u32 = 10;
/// Default retries per first attempt a [`RetryBudget`] allows: 0.2 (20 % extra load).
pub const DEFAULT_RETRY_RATIO: f64 = 0.2;

/// The window is kept as this many slots, each `ttl / SLOTS` long; a slot's balance is
/// forgotten as a whole when it falls out of the window.
const SLOTS: usize = 10;

/// Withdrawal size in milli-tokens when `retry_ratio > 0`; deposits are this times the
/// ratio, so ratios down to 0.001 keep three significant digits.
const SCALE: f64 = 1000.0;

/// Limits retries to a fraction of recent traffic.
///
/// Each first attempt *deposits* `retry_ratio` tokens, each retry *withdraws* one, and
/// deposits expire after `ttl`. On top, `min_retries_per_sec × ttl` tokens are always
/// available, so a client that sends little can still retry. When the budget is empty,
/// [`RetryPolicy`](crate::RetryPolicy) gives up with
/// [`GiveUp::BudgetExhausted`](crate::GiveUp::BudgetExhausted) instead of sleeping and
/// trying again: under a sustained outage the load stays near `1 + retry_ratio` times the
/// normal load, not `max_attempts` times.
///
/// Clones share one budget; give one budget to every policy that talks to the same
/// service. Time is tokio's, so paused-clock tests are exact.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use ghostnet_resilience::RetryBudget;
///
/// // No floor: only deposits pay for retries.
/// let budget = RetryBudget::new(Duration::from_secs(10), 0, 0.5).unwrap();
/// assert!(!budget.withdraw());
/// budget.deposit();
/// budget.deposit();
/// assert!(budget.withdraw()); // two first attempts at 0.5 pay for one retry
/// assert!(!budget.withdraw());
/// # }
/// ```
#[derive(Clone)]
pub struct RetryBudget {
    inner: Arc<Inner>,
}

struct Inner {
    ttl: Duration,
    min_per_sec: u32,
    ratio: f64,
    /// Milli-tokens added by a deposit.
    deposit: i64,
    /// Milli-tokens taken by a withdrawal.
    withdraw: i64,
    /// Milli-tokens always available (the floor).
    reserve: i64,
    slot_width: Duration,
    ledger: Mutex<Ledger>,
}

struct Ledger {
    slots: [i64; SLOTS],
    current: usize,
    /// When the current slot began; `None` until first use, so that a budget built
    /// outside a runtime never reads the clock there.
    slot_start: Option<Instant>,
}

impl RetryBudget {
    /// A budget where deposits last `ttl` (1 s to 60 s), at least `min_retries_per_sec`
    /// retries per second are always allowed, and each first attempt pays for
    /// `retry_ratio` retries (0 to 1000).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) for a `ttl` out of range, a
    /// ratio that is negative, NaN, infinite or above 1000, or a floor and a ratio that
    /// are both zero (a budget that forbids every retry: use `max_attempts(1)` instead).
    pub fn new(ttl: Duration, min_retries_per_sec: u32, retry_ratio: f64) -> Result<Self> {
        if !(Duration::from_secs(1)..=Duration::from_secs(60)).contains(&ttl) {
            return Err(invalid(
                "ttl",
                format!("is {ttl:?}; use 1 s to 60 s (default 10 s)"),
            ));
        }
        if !retry_ratio.is_finite() || !(0.0..=1000.0).contains(&retry_ratio) {
            return Err(invalid(
                "retry_ratio",
                format!("is {retry_ratio}; use a number from 0 to 1000 (default 0.2)"),
            ));
        }
        if retry_ratio == 0.0 && min_retries_per_sec == 0 {
            return Err(invalid(
                "retry_ratio",
                "and min_retries_per_sec are both 0, which forbids every retry; set max_attempts(1) to disable retries",
            ));
        }
        let (deposit, withdraw) = if retry_ratio == 0.0 {
            (0, 1)
        } else {
            // Whole milli-tokens per deposit, and a withdrawal sized so that
            // deposit / withdraw == retry_ratio.
            let deposit = SCALE as i64;
            let withdraw = (SCALE / retry_ratio).round().max(1.0) as i64;
            (deposit, withdraw)
        };
        let reserve = i64::from(min_retries_per_sec)
            .saturating_mul(withdraw)
            .saturating_mul(ttl.as_millis() as i64)
            / 1000;
        Ok(Self {
            inner: Arc::new(Inner {
                ttl,
                min_per_sec: min_retries_per_sec,
                ratio: retry_ratio,
                deposit,
                withdraw,
                reserve,
                slot_width: ttl / SLOTS as u32,
                ledger: Mutex::new(Ledger {
                    slots: [0; SLOTS],
                    current: 0,
                    slot_start: None,
                }),
            }),
        })
    }

    /// Records a first attempt: adds `retry_ratio` tokens for `ttl`.
    pub fn deposit(&self) {
        let amount = self.inner.deposit;
        if amount == 0 {
            return;
        }
        let mut ledger = self.ledger();
        let current = ledger.current;
        ledger.slots[current] = ledger.slots[current].saturating_add(amount);
    }

    /// Takes the token for one retry; `false` (and nothing taken) when the budget is empty.
    pub fn withdraw(&self) -> bool {
        let withdraw = self.inner.withdraw;
        let mut ledger = self.ledger();
        if self.balance(&ledger) < withdraw {
            return false;
        }
        let current = ledger.current;
        ledger.slots[current] -= withdraw;
        true
    }

    /// Retries the budget would allow right now.
    pub fn available(&self) -> u64 {
        let ledger = self.ledger();
        u64::try_from(self.balance(&ledger) / self.inner.withdraw).unwrap_or(0)
    }

    /// How long a deposit lasts.
    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }

    /// Retries per second always allowed.
    pub fn min_retries_per_sec(&self) -> u32 {
        self.inner.min_per_sec
    }

    /// Retries each first attempt pays for.
    pub fn retry_ratio(&self) -> f64 {
        self.inner.ratio
    }

    fn balance(&self, ledger: &Ledger) -> i64 {
        ledger
            .slots
            .iter()
            .fold(self.inner.reserve, |sum, s| sum.saturating_add(*s))
    }

    /// The ledger, with slots older than `ttl` forgotten.
    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        // Every critical section leaves the ledger consistent, so poisoning is harmless.
        let mut ledger = self
            .inner
            .ledger
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let width = self.inner.slot_width;
        let start = *ledger.slot_start.get_or_insert(now);
        let steps = now.saturating_duration_since(start).as_nanos() / width.as_nanos();
        if steps >= SLOTS as u128 {
            ledger.slots = [0; SLOTS];
            ledger.slot_start = Some(now);
        } else if steps > 0 {
            for _ in 0..steps {
                ledger.current = (ledger.current + 1) % SLOTS;
                let current = ledger.current;
                ledger.slots[current] = 0;
            }
            // `steps < SLOTS`, so the cast is exact.
            ledger.slot_start = Some(start + width * steps as u32);
        }
        ledger
    }
}

impl Default for RetryBudget {
    /// 10 s ttl, 10 retries/s floor, 0.2 retries per first attempt (tower's defaults).
    fn default() -> Self {
        Self::new(
            DEFAULT_BUDGET_TTL,
            DEFAULT_MIN_RETRIES_PER_SEC,
            DEFAULT_RETRY_RATIO,
        )
        .unwrap_or_else(|_| unreachable!("the default budget is valid"))
    }
}

impl fmt::Debug for RetryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryBudget")
            .field("ttl", &self.inner.ttl)
            .field("min_retries_per_sec", &self.inner.min_per_sec)
            .field("retry_ratio", &self.inner.ratio)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn rejects_bad_config() {
        let field = |r: Result<RetryBudget>| match r {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("expected InvalidConfig, got {other:?}"),
        };
        let ttl = DEFAULT_BUDGET_TTL;
        assert_eq!(field(RetryBudget::new(Duration::ZERO, 10, 0.2)), "ttl");
        assert_eq!(
            field(RetryBudget::new(Duration::from_secs(61), 10, 0.2)),
            "ttl"
        );
        for bad in [f64::NAN, f64::INFINITY, -0.1, 1000.5] {
            assert_eq!(field(RetryBudget::new(ttl, 10, bad)), "retry_ratio");
        }
        assert_eq!(field(RetryBudget::new(ttl, 0, 0.0)), "retry_ratio");
        let d = RetryBudget::default();
        assert_eq!(
            (d.ttl(), d.min_retries_per_sec(), d.retry_ratio()),
            (ttl, 10, 0.2)
        );
        assert!(format!("{d:?}").contains("retry_ratio: 0.2"));
    }

    #[tokio::test(start_paused = true)]
    async fn floor_allows_min_per_sec_times_ttl_then_refills() {
        let b = RetryBudget::new(Duration::from_secs(10), 3, 0.0).unwrap();
        assert_eq!(b.available(), 30);
        let granted = (0..100).filter(|_| b.withdraw()).count();
        assert_eq!(granted, 30);
        assert_eq!(b.available(), 0);
        // Withdrawals expire with their slot, like deposits.
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(!b.withdraw());
        tokio::time::advance(Duration::from_secs(6)).await;
        assert_eq!(b.available(), 30);
    }

    #[tokio::test(start_paused = true)]
    async fn deposits_pay_for_a_fraction_of_retries_and_expire() {
        let b = RetryBudget::new(Duration::from_secs(10), 0, 0.2).unwrap();
        for _ in 0..100 {
            b.deposit();
        }
        assert_eq!(b.available(), 20);
        assert_eq!((0..50).filter(|_| b.withdraw()).count(), 20);
        for _ in 0..10 {
            b.deposit();
        }
        assert_eq!(b.available(), 2);
        tokio::time::advance(Duration::from_secs(11)).await;
        assert_eq!(b.available(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn slots_slide_one_at_a_time() {
        let b = RetryBudget::new(Duration::from_secs(10), 0, 1.0).unwrap();
        b.deposit(); // slot at t=0
        tokio::time::advance(Duration::from_secs(5)).await;
        b.deposit(); // slot at t=5
        assert_eq!(b.available(), 2);
        tokio::time::advance(Duration::from_millis(5500)).await; // t=10.5: first expired
        assert_eq!(b.available(), 1);
        tokio::time::advance(Duration::from_secs(5)).await; // t=15.5: both expired
        assert_eq!(b.available(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn clones_share_the_budget() {
        let a = RetryBudget::new(Duration::from_secs(1), 2, 0.0).unwrap();
        let b = a.clone();
        assert!(a.withdraw());
        assert!(b.withdraw());
        assert!(!a.withdraw());
    }
}
