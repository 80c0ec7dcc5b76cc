//! One lazily re-armed timer per connection for every timeout it has.
//!
//! Moving a tokio timer costs a trip through the timer wheel; a keep-alive connection would
//! do that on every request. Instead the deadline is a plain `Instant`: the timer is moved
//! only when the deadline comes *earlier*, and when it fires early (the deadline moved
//! later meanwhile) it is re-armed once. A busy connection touches the wheel about once per
//! timeout period, not once per request. The timer itself is made on the first wait, so a
//! connection that never waits never allocates one.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::time::{Instant, Sleep, sleep_until};

pub(crate) struct Deadline {
    sleep: Option<Pin<Box<Sleep>>>,
    target: Option<Instant>,
    /// The waker the armed timer will wake: polling again with the same one is skipped.
    registered: Option<Waker>,
}

impl Deadline {
    pub(crate) fn new() -> Self {
        Self {
            sleep: None,
            target: None,
            registered: None,
        }
    }

    /// Expires `after` from now.
    pub(crate) fn set_after(&mut self, after: Duration) {
        self.set_at(Instant::now() + after);
    }

    /// Expires at `at`.
    pub(crate) fn set_at(&mut self, at: Instant) {
        self.target = Some(at);
        if let Some(sleep) = &mut self.sleep
            && sleep.deadline() > at
        {
            sleep.as_mut().reset(at);
            self.registered = None;
        }
    }

    pub(crate) fn is_armed(&self) -> bool {
        self.target.is_some()
    }

    pub(crate) fn clear(&mut self) {
        self.target = None;
    }

    /// Ready once the deadline has passed; never while disarmed.
    pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            let Some(target) = self.target else {
                return Poll::Pending;
            };
            let sleep = self
                .sleep
                .get_or_insert_with(|| Box::pin(sleep_until(target)));
            if !sleep.is_elapsed()
                && self
                    .registered
                    .as_ref()
                    .is_some_and(|w| w.will_wake(cx.waker()))
            {
                // Armed with this task's waker already: it will wake us when it fires.
                return Poll::Pending;
            }
            if sleep.as_mut().poll(cx).is_pending() {
                self.registered = Some(cx.waker().clone());
                return Poll::Pending;
            }
            if Instant::now() >= target {
                return Poll::Ready(());
            }
            sleep.as_mut().reset(target);
            self.registered = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;

    #[tokio::test(start_paused = true)]
    async fn fires_at_the_latest_deadline() {
        let mut d = Deadline::new();
        let start = Instant::now();
        d.set_after(Duration::from_secs(1));
        tokio::time::sleep(Duration::from_millis(500)).await;
        d.set_after(Duration::from_secs(1)); // moved later: no reset now
        poll_fn(|cx| d.poll_expired(cx)).await;
        assert_eq!(start.elapsed(), Duration::from_millis(1500));
    }

    #[tokio::test(start_paused = true)]
    async fn disarmed_never_fires() {
        let mut d = Deadline::new();
        d.set_after(Duration::from_millis(10));
        assert!(d.is_armed());
        d.clear();
        let r =
            tokio::time::timeout(Duration::from_secs(5), poll_fn(|cx| d.poll_expired(cx))).await;
        assert!(r.is_err());
    }
}
