//! Graceful shutdown: a token fired by a signal or by hand, a drain with a deadline, then
//! an abort of what is left.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::task::AbortHandle;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tokio_util::task::TaskTracker;

use crate::task::TaskHandle;

/// How long [`Shutdown::shutdown`] lets tasks drain before aborting them.
pub const DEFAULT_DRAIN_DEADLINE: Duration = Duration::from_secs(5);

/// After an abort, how long to wait for aborted tasks to be dropped. A task stuck in
/// blocking code cannot be aborted; this bound keeps shutdown from hanging on it.
const ABORT_GRACE: Duration = Duration::from_secs(1);

/// A shutdown token shared by the tasks of a program (clones share state).
///
/// 1. Something fires it: [`trigger`](Self::trigger), or SIGINT/SIGTERM after
///    [`trigger_on_signals`](Self::trigger_on_signals).
/// 2. Tasks started with [`spawn`](Self::spawn) see it through
///    [`triggered`](Self::triggered) and finish their work (drain).
/// 3. [`shutdown`](Self::shutdown) waits for them up to the deadline (default 5 s), then
///    aborts the rest and reports what happened.
///
/// A second signal during the drain aborts at once, as users expect of a second Ctrl-C.
///
/// ```
/// use std::time::Duration;
/// use ghostnet_runtime::{run, Config, Shutdown};
///
/// run(Config::for_cli(), async {
///     let shutdown = Shutdown::with_deadline(Duration::from_millis(50));
///     let s = shutdown.clone();
///     shutdown.spawn(async move {
///         s.triggered().await; // a worker that drains when asked
///     });
///     shutdown.spawn(std::future::pending::<()>()); // one that never stops
///
///     shutdown.trigger();
///     let report = shutdown.shutdown().await;
///     assert_eq!(report.aborted, 1);
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

struct Inner {
    token: CancellationToken,
    tracker: TaskTracker,
    tasks: Mutex<Tasks>,
    deadline: Duration,
}

#[derive(Default)]
struct Tasks {
    next_key: u64,
    running: HashMap<u64, AbortHandle>,
}

/// What [`Shutdown::shutdown`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Tracked tasks that were still running at the deadline and were aborted.
    pub aborted: usize,
    /// Aborted tasks that had still not stopped after a further grace period (stuck in
    /// blocking code); they end with the runtime.
    pub stuck: usize,
    /// Time from the start of `shutdown` until it returned.
    pub elapsed: Duration,
}

impl ShutdownReport {
    /// Whether every task finished on its own before the deadline.
    pub fn is_clean(&self) -> bool {
        self.aborted == 0
    }
}

impl fmt::Display for ShutdownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_clean() {
            write!(f, "shutdown clean in {:?}", self.elapsed)
        } else {
            write!(
                f,
                "shutdown after {:?}: {} task(s) aborted at the deadline, {} stuck",
                self.elapsed, self.aborted, self.stuck
            )
        }
    }
}

impl Shutdown {
    /// A token with the default drain deadline of 5 s.
    pub fn new() -> Self {
        Self::with_deadline(DEFAULT_DRAIN_DEADLINE)
    }

    /// A token whose [`shutdown`](Self::shutdown) aborts tasks after `deadline`.
    pub fn with_deadline(deadline: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                token: CancellationToken::new(),
                tracker: TaskTracker::new(),
                tasks: Mutex::new(Tasks::default()),
                deadline,
            }),
        }
    }

    /// The drain deadline.
    pub fn deadline(&self) -> Duration {
        self.inner.deadline
    }

    /// Fires the token: every [`triggered`](Self::triggered) future completes. Idempotent.
    pub fn trigger(&self) {
        if !self.inner.token.is_cancelled() {
            tracing::info!("shutdown triggered");
        }
        self.inner.token.cancel();
    }

    /// Whether the token has fired.
    pub fn is_triggered(&self) -> bool {
        self.inner.token.is_cancelled()
    }

    /// Completes when the token fires (at once if it already has).
    pub fn triggered(&self) -> WaitForCancellationFutureOwned {
        self.inner.token.clone().cancelled_owned()
    }

    /// The underlying cancellation token, for libraries that take one. Cancelling it is
    /// the same as [`trigger`](Self::trigger).
    pub fn token(&self) -> CancellationToken {
        self.inner.token.clone()
    }

    /// Spawns a task that [`shutdown`](Self::shutdown) waits for, and aborts at the deadline.
    ///
    /// # Panics
    ///
    /// When called outside a runtime.
    #[track_caller]
    pub fn spawn<F>(&self, fut: F) -> TaskHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // The lock is held across the spawn so that a task finishing at once cannot try to
        // deregister before it is registered.
        let mut tasks = self.lock_tasks();
        let key = tasks.next_key;
        tasks.next_key += 1;
        let deregister = Deregister {
            inner: Arc::downgrade(&self.inner),
            key,
        };
        let handle = crate::spawn(self.inner.tracker.track_future(async move {
            let _deregister = deregister;
            fut.await
        }));
        tasks.running.insert(key, handle.abort_handle());
        handle
    }

    /// Tracked tasks still running.
    pub fn running(&self) -> usize {
        self.inner.tracker.len()
    }

    /// Fires SIGINT or SIGTERM (Ctrl-C on Windows) into this token; a second signal aborts
    /// every tracked task at once.
    ///
    /// # Errors
    ///
    /// [`Error::Signal`](crate::Error::Signal) when the handlers cannot be installed.
    #[cfg(feature = "signal")]
    pub fn trigger_on_signals(&self) -> crate::Result<()> {
        let mut signals = Signals::install()?;
        let this = self.clone();
        crate::spawn(async move {
            tokio::select! {
                () = signals.next() => {}
                () = this.triggered() => {}
            }
            this.trigger();
            signals.next().await;
            tracing::warn!("second shutdown signal: aborting tasks now");
            this.abort_all();
        });
        Ok(())
    }

    /// Aborts every tracked task now.
    pub fn abort_all(&self) -> usize {
        let tasks = self.lock_tasks();
        for h in tasks.running.values() {
            h.abort();
        }
        tasks.running.len()
    }

    /// Fires the token, waits up to the deadline for tracked tasks to finish, aborts the
    /// rest, and reports. Never waits longer than the deadline plus one second.
    pub async fn shutdown(&self) -> ShutdownReport {
        let start = Instant::now();
        self.trigger();
        self.inner.tracker.close();
        let mut aborted = 0;
        if tokio::time::timeout(self.inner.deadline, self.inner.tracker.wait())
            .await
            .is_err()
        {
            aborted = self.abort_all();
            tracing::warn!(
                aborted,
                "shutdown deadline passed: aborted tasks still running"
            );
            let _ = tokio::time::timeout(ABORT_GRACE, self.inner.tracker.wait()).await;
        }
        ShutdownReport {
            aborted,
            stuck: self.inner.tracker.len(),
            elapsed: start.elapsed(),
        }
    }

    fn lock_tasks(&self) -> std::sync::MutexGuard<'_, Tasks> {
        // The map stays consistent even if a holder panicked: every critical section is a
        // single insert, remove or iteration.
        self.inner
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shutdown")
            .field("triggered", &self.is_triggered())
            .field("running", &self.running())
            .field("deadline", &self.inner.deadline)
            .finish()
    }
}

/// Removes a finished task's abort handle, so the map holds only running tasks.
struct Deregister {
    inner: std::sync::Weak<Inner>,
    key: u64,
}

impl Drop for Deregister {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            inner
                .tasks
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .running
                .remove(&self.key);
        }
    }
}

/// SIGINT + SIGTERM on Unix, Ctrl-C elsewhere.
#[cfg(feature = "signal")]
struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

#[cfg(feature = "signal")]
impl Signals {
    fn install() -> crate::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                int: signal(SignalKind::interrupt()).map_err(crate::Error::Signal)?,
                term: signal(SignalKind::terminate()).map_err(crate::Error::Signal)?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.int.recv() => tracing::info!("SIGINT received"),
            _ = self.term.recv() => tracing::info!("SIGTERM received"),
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[tokio::test(start_paused = true)]
    async fn drains_cooperative_tasks_without_abort() {
        let s = Shutdown::new();
        assert_eq!(s.deadline(), DEFAULT_DRAIN_DEADLINE);
        let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for _ in 0..3 {
            let (s2, done) = (s.clone(), done.clone());
            s.spawn(async move {
                s2.triggered().await;
                tokio::time::sleep(Duration::from_secs(1)).await; // finishing work
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            });
        }
        tokio::task::yield_now().await;
        assert_eq!(s.running(), 3);
        assert!(!s.is_triggered());
        let report = s.shutdown().await;
        assert!(report.is_clean(), "{report}");
        assert_eq!(done.load(std::sync::atomic::Ordering::SeqCst), 3);
        assert_eq!(s.running(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn aborts_at_the_deadline() {
        let s = Shutdown::with_deadline(Duration::from_secs(2));
        let stubborn = s.spawn(std::future::pending::<()>());
        let polite = {
            let s2 = s.clone();
            s.spawn(async move { s2.triggered().await })
        };
        let start = tokio::time::Instant::now();
        let report = s.shutdown().await;
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        assert_eq!(report.aborted, 1);
        assert_eq!(report.stuck, 0);
        assert!(report.to_string().contains("1 task(s) aborted"));
        assert!(matches!(stubborn.await, Err(Error::Cancelled)));
        polite.await.unwrap();
    }

    #[tokio::test]
    async fn finished_tasks_are_forgotten() {
        let s = Shutdown::new();
        for i in 0..100 {
            assert_eq!(s.spawn(async move { i }).await.unwrap(), i);
        }
        assert!(s.lock_tasks().running.is_empty());
        assert_eq!(s.running(), 0);
    }

    #[tokio::test]
    async fn trigger_is_idempotent_and_shared() {
        let s = Shutdown::new();
        let t = s.token();
        let waiter = tokio::spawn(s.triggered());
        s.trigger();
        s.trigger();
        assert!(t.is_cancelled());
        waiter.await.unwrap();
        // An external cancel of the token counts as a trigger.
        let s = Shutdown::new();
        s.token().cancel();
        assert!(s.is_triggered());
    }

    #[cfg(all(feature = "signal", unix))]
    #[tokio::test]
    async fn sigterm_fires_the_token() {
        let s = Shutdown::new();
        s.trigger_on_signals().unwrap();
        // Sent with the `kill` program, so the test needs no unsafe code.
        let status = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        s.triggered().await;
        assert!(s.is_triggered());
    }
}
