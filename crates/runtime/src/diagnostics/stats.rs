//! A snapshot of a runtime's scheduler metrics.

use std::fmt;
use std::time::Duration;

use tokio::runtime::{Handle, RuntimeFlavor};

/// Scheduler figures of one runtime at one moment.
///
/// ```
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// let stats = ghostnet_runtime::RuntimeStats::current();
/// assert_eq!(stats.workers, 1);
/// println!("{stats}"); // "current-thread runtime: 1 worker, 0 alive tasks, ..."
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeStats {
    /// `current-thread` or `multi-thread`.
    pub flavor: &'static str,
    /// Worker threads.
    pub workers: usize,
    /// Tasks spawned and not yet finished.
    pub alive_tasks: usize,
    /// Tasks waiting in the global (injection) queue.
    pub global_queue_depth: usize,
    /// Time workers spent running tasks, summed over workers, since the runtime started.
    pub busy: Duration,
}

impl RuntimeStats {
    /// Stats of the runtime this is called from.
    ///
    /// # Panics
    ///
    /// When called outside a runtime; use [`RuntimeStats::of`] with a handle there.
    pub fn current() -> Self {
        Self::of(&Handle::current())
    }

    /// Stats of the runtime behind `handle`.
    pub fn of(handle: &Handle) -> Self {
        let m = handle.metrics();
        let workers = m.num_workers();
        Self {
            flavor: match handle.runtime_flavor() {
                RuntimeFlavor::CurrentThread => "current-thread",
                _ => "multi-thread",
            },
            workers,
            alive_tasks: m.num_alive_tasks(),
            global_queue_depth: m.global_queue_depth(),
            busy: (0..workers).map(|w| m.worker_total_busy_duration(w)).sum(),
        }
    }
}

impl fmt::Display for RuntimeStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        write!(
            f,
            "{} runtime: {} worker{}, {} alive task{}, {} queued, busy {:.3}s",
            self.flavor,
            self.workers,
            plural(self.workers),
            self.alive_tasks,
            plural(self.alive_tasks),
            self.global_queue_depth,
            self.busy.as_secs_f64()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_alive_tasks_and_workers() {
        let rt = crate::Config::for_server()
            .worker_threads(2)
            .build()
            .unwrap();
        let stats = RuntimeStats::of(rt.handle());
        assert_eq!(stats.workers, 2);
        assert_eq!(stats.flavor, "multi-thread");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let h = rt.spawn(async move {
            let _ = rx.await;
        });
        assert_eq!(RuntimeStats::of(rt.handle()).alive_tasks, 1);
        tx.send(()).unwrap();
        rt.block_on(h).unwrap();
        // The join can complete a moment before the task is released from the count.
        let s = rt.block_on(async {
            for _ in 0..100_000 {
                let s = RuntimeStats::current();
                if s.alive_tasks == 0 {
                    return s;
                }
                tokio::task::yield_now().await;
            }
            RuntimeStats::current()
        });
        assert_eq!(s.alive_tasks, 0);
        assert!(
            s.to_string()
                .starts_with("multi-thread runtime: 2 workers, 0 alive tasks"),
            "{s}"
        );
    }
}
