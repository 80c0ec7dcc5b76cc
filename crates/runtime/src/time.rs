//! Timers: `sleep`, `interval`, `timeout`, `yield_now`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

pub use tokio::task::yield_now;
pub use tokio::time::{Instant, Interval, MissedTickBehavior, Sleep, sleep, sleep_until};

use crate::error::{Error, Result};

/// An [`Interval`] that ticks every `period`, first at once.
///
/// Unlike tokio's default, missed ticks are *delayed* rather than fired in a burst: after
/// a stall, a heartbeat resumes its rhythm instead of sending a volley of pings. A zero
/// `period` is treated as 1 ms instead of panicking.
///
/// ```
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// let mut tick = ghostnet_runtime::interval(std::time::Duration::from_millis(1));
/// tick.tick().await; // immediately
/// tick.tick().await; // ~1 ms later
/// # }).unwrap();
/// ```
pub fn interval(period: Duration) -> Interval {
    let period = if period.is_zero() {
        Duration::from_millis(1)
    } else {
        period
    };
    let mut i = tokio::time::interval(period);
    i.set_missed_tick_behavior(MissedTickBehavior::Delay);
    i
}

/// Runs `fut` for at most `limit`; past that, `fut` is dropped (cancelled) and the result is
/// [`Error::Timeout`].
///
/// ```
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// use std::time::Duration;
/// use ghostnet_runtime::{timeout, Error};
///
/// assert_eq!(timeout(Duration::from_secs(1), async { 5 }).await.unwrap(), 5);
/// let slow = timeout(Duration::from_millis(1), std::future::pending::<()>()).await;
/// assert!(matches!(slow, Err(Error::Timeout(_))));
/// # }).unwrap();
/// ```
#[inline]
pub fn timeout<F: Future>(limit: Duration, fut: F) -> Timeout<F> {
    Timeout {
        inner: tokio::time::timeout(limit, fut),
        limit,
    }
}

pin_project_lite::pin_project! {
    /// The future returned by [`timeout`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless awaited"]
    pub struct Timeout<F> {
        #[pin]
        inner: tokio::time::Timeout<F>,
        limit: Duration,
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.inner.poll(cx) {
            Poll::Ready(Ok(v)) => Poll::Ready(Ok(v)),
            Poll::Ready(Err(_)) => Poll::Ready(Err(Error::Timeout(*this.limit))),
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn timeout_fires_at_the_limit() {
        let start = Instant::now();
        let r = timeout(Duration::from_secs(5), sleep(Duration::from_secs(60))).await;
        assert!(matches!(r, Err(Error::Timeout(d)) if d == Duration::from_secs(5)));
        assert_eq!(start.elapsed(), Duration::from_secs(5));
        assert!(
            Error::Timeout(Duration::from_secs(5))
                .to_string()
                .contains("timed out after 5s")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn timeout_passes_through_in_time() {
        let r = timeout(Duration::from_secs(5), async {
            sleep(Duration::from_secs(4)).await;
            "ok"
        })
        .await;
        assert_eq!(r.unwrap(), "ok");
    }

    #[tokio::test(start_paused = true)]
    async fn interval_delays_missed_ticks() {
        let mut i = interval(Duration::from_secs(1));
        let t0 = Instant::now();
        i.tick().await;
        assert_eq!(t0.elapsed(), Duration::ZERO);
        // Stall for 3.5 periods: the next tick fires once, then the rhythm restarts from it.
        sleep(Duration::from_millis(3500)).await;
        i.tick().await;
        assert_eq!(t0.elapsed(), Duration::from_millis(3500));
        i.tick().await;
        assert_eq!(t0.elapsed(), Duration::from_millis(4500));
        assert_eq!(i.missed_tick_behavior(), MissedTickBehavior::Delay);
    }

    #[tokio::test(start_paused = true)]
    async fn zero_interval_does_not_panic() {
        let mut i = interval(Duration::ZERO);
        i.tick().await;
        i.tick().await;
        assert_eq!(i.period(), Duration::from_millis(1));
    }

    #[tokio::test]
    async fn yield_now_lets_others_run() {
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let f2 = flag.clone();
        let rt_flavor = tokio::runtime::Handle::current().runtime_flavor();
        assert_eq!(rt_flavor, tokio::runtime::RuntimeFlavor::CurrentThread);
        tokio::spawn(async move { f2.store(true, std::sync::atomic::Ordering::SeqCst) });
        yield_now().await;
        assert!(flag.load(std::sync::atomic::Ordering::SeqCst));
    }
}
