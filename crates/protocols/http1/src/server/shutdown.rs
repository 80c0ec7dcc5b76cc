//! The shutdown signal as a flag: checking it is one atomic load.
//!
//! `CancellationToken::is_cancelled` takes a mutex, and so does polling its future, and a
//! connection checks for shutdown on every response and every wait. Instead, the first
//! time the connection waits, the token's future is polled once with a waker of ours that
//! raises a flag (and wakes the connection's task) when the token fires. Until then the
//! token itself is asked, which costs the lock only for connections that never waited.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

pub(crate) struct ShutdownWatch {
    /// Until registration; then the future owns it.
    token: Option<CancellationToken>,
    registered: Option<Registered>,
    fired: bool,
}

struct Registered {
    fut: Pin<Box<WaitForCancellationFutureOwned>>,
    flag: Arc<Flag>,
    /// The task waker last handed to `flag`, compared without taking its lock.
    task: Waker,
}

/// Raised by the token's wake-up; passes it on to the connection's task.
struct Flag {
    raised: AtomicBool,
    task: Mutex<Waker>,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.raised.store(true, Ordering::Release);
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        task.wake();
    }
}

impl ShutdownWatch {
    pub(crate) fn new(token: CancellationToken) -> Self {
        Self {
            token: Some(token),
            registered: None,
            fired: false,
        }
    }

    /// Whether the server is shutting down.
    pub(crate) fn is_triggered(&mut self) -> bool {
        if self.fired {
            return true;
        }
        match &mut self.registered {
            None => {
                self.fired = self.token.as_ref().is_none_or(|t| t.is_cancelled());
            }
            Some(r) => {
                if !r.flag.raised.load(Ordering::Acquire) {
                    return false;
                }
                // Lower the flag first: a wake-up after this poll raises it again.
                r.flag.raised.store(false, Ordering::Relaxed);
                let waker = Waker::from(r.flag.clone());
                self.fired = r
                    .fut
                    .as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_ready();
            }
        }
        self.fired
    }

    /// Ready once the server is shutting down; otherwise the task behind `cx` is woken
    /// when it starts to.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.is_triggered() {
            return Poll::Ready(());
        }
        if let Some(r) = &mut self.registered {
            if !r.task.will_wake(cx.waker()) {
                r.task.clone_from(cx.waker());
                *r.flag.task.lock().unwrap_or_else(PoisonError::into_inner) = cx.waker().clone();
                // A wake-up just before the swap went to the old waker: look again.
                if self.is_triggered() {
                    return Poll::Ready(());
                }
            }
            return Poll::Pending;
        }
        let Some(token) = self.token.take() else {
            return Poll::Ready(());
        };
        let flag = Arc::new(Flag {
            raised: AtomicBool::new(false),
            task: Mutex::new(cx.waker().clone()),
        });
        let mut fut = Box::pin(token.cancelled_owned());
        let waker = Waker::from(flag.clone());
        if fut
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready()
        {
            self.fired = true;
            return Poll::Ready(());
        }
        self.registered = Some(Registered {
            fut,
            flag,
            task: cx.waker().clone(),
        });
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;

    #[tokio::test]
    async fn fires_before_and_after_registration() {
        let token = CancellationToken::new();
        let mut w = ShutdownWatch::new(token.clone());
        assert!(!w.is_triggered());
        // Registered: the token's wake-up reaches the waiting task.
        let waiting = tokio::spawn(async move {
            poll_fn(|cx| w.poll(cx)).await;
            w.is_triggered()
        });
        tokio::task::yield_now().await;
        token.cancel();
        assert!(waiting.await.unwrap());

        let token = CancellationToken::new();
        let mut w = ShutdownWatch::new(token.clone());
        token.cancel();
        assert!(w.is_triggered());
    }

    #[tokio::test]
    async fn a_check_between_waits_sees_the_flag() {
        let token = CancellationToken::new();
        let mut w = ShutdownWatch::new(token.clone());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(w.poll(&mut cx).is_pending());
        assert!(!w.is_triggered());
        token.cancel();
        assert!(w.is_triggered());
        assert!(w.poll(&mut cx).is_ready());
    }
}
