//! The background task that closes idle-expired and dead connections, so a pool nobody
//! uses does not hold sockets (and server slots) forever. Checkouts also evict lazily,
//! so correctness never depends on this task having run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::oneshot;

use super::core::{Core, Flavor};

/// Whether the reaper of a pool runs, and how to stop it.
#[derive(Debug, Default)]
pub(crate) struct Reaper {
    /// Started, or stopped for good: no (new) task is wanted.
    started: AtomicBool,
    /// Dropping the sender stops the task at once.
    stop: Mutex<Option<oneshot::Sender<()>>>,
}

impl Reaper {
    /// Stops the task if it runs, and keeps it from starting.
    pub(crate) fn stop(&self) {
        let mut slot = self.stop.lock().unwrap_or_else(PoisonError::into_inner);
        self.started.store(true, Ordering::Release);
        slot.take();
    }
}

impl<F: Flavor> Core<F> {
    /// Starts the reaper on the current tokio runtime, once. Outside a runtime nothing
    /// starts (eviction then happens only on checkout) and the next call tries again.
    pub(crate) fn start_reaper(self: &Arc<Self>) {
        if self.reaper.started.load(Ordering::Acquire) {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut slot = self
            .reaper
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.reaper.started.load(Ordering::Acquire) {
            return;
        }
        self.reaper.started.store(true, Ordering::Release);
        let (tx, rx) = oneshot::channel();
        *slot = Some(tx);
        drop(slot);
        // Weak: the task must not keep the pool alive.
        rt.spawn(run(Arc::downgrade(self), rx, self.config().reap_period()));
    }
}

async fn run<F: Flavor>(core: Weak<Core<F>>, mut stop: oneshot::Receiver<()>, period: Duration) {
    loop {
        ghostnet_runtime::select! {
            biased;
            _ = &mut stop => return,
            () = ghostnet_runtime::sleep(period) => {}
        }
        let Some(core) = core.upgrade() else {
            return;
        };
        core.reap();
    }
}
