//! Task groups: tasks that are joined or cancelled together.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;

use tokio::task::{AbortHandle, Id, JoinSet};

use crate::error::{Error, Result};

/// A set of tasks with one owner. Dropping the group aborts every task still running,
/// so no task outlives the scope that started it.
///
/// ```
/// use ghostnet_runtime::{run, Config, TaskGroup};
///
/// run(Config::for_cli(), async {
///     let mut group = TaskGroup::new();
///     for i in 0..3u32 {
///         group.spawn(async move { i * 10 });
///     }
///     let out: Vec<u32> = group.join_all().await.into_iter().map(Result::unwrap).collect();
///     assert_eq!(out, [0, 10, 20]); // spawn order, whatever the completion order
/// })
/// .unwrap();
/// ```
pub struct TaskGroup<T> {
    set: JoinSet<T>,
    /// Task ids in spawn order, so results can be returned in that order.
    spawned: Vec<Id>,
}

impl<T: Send + 'static> TaskGroup<T> {
    /// An empty group.
    pub fn new() -> Self {
        Self {
            set: JoinSet::new(),
            spawned: Vec::new(),
        }
    }

    /// Spawns `fut` into the group on the current runtime.
    ///
    /// # Panics
    ///
    /// When called outside a runtime.
    #[track_caller]
    pub fn spawn<F>(&mut self, fut: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        let handle = self.set.spawn(fut);
        self.spawned.push(handle.id());
        handle
    }

    /// Tasks not yet joined.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether every task has been joined.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Waits for the next task to finish, in completion order; `None` when the group is empty.
    pub async fn join_next(&mut self) -> Option<Result<T>> {
        self.set.join_next().await.map(|r| r.map_err(Error::from))
    }

    /// Waits for every task and returns each result in spawn order. A failed task
    /// (panic, abort) does not stop the others.
    pub async fn join_all(mut self) -> Vec<Result<T>> {
        let index = self.spawn_index();
        let mut out: Vec<Option<Result<T>>> = (0..self.spawned.len()).map(|_| None).collect();
        while let Some(res) = self.set.join_next_with_id().await {
            let (id, res) = match res {
                Ok((id, v)) => (id, Ok(v)),
                Err(e) => (e.id(), Err(Error::from(e))),
            };
            out[index[&id]] = Some(res);
        }
        out.into_iter()
            .map(|r| r.unwrap_or(Err(Error::Cancelled)))
            .collect()
    }

    /// Maps each task id to its position in spawn order.
    fn spawn_index(&self) -> HashMap<Id, usize> {
        self.spawned
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i))
            .collect()
    }

    /// Asks every task to stop at its next `.await`. Joining afterwards yields
    /// [`Error::Cancelled`] for those that had not finished.
    pub fn abort_all(&mut self) {
        self.set.abort_all();
    }

    /// Aborts every task and waits until all of them have stopped.
    pub async fn shutdown(&mut self) {
        self.set.shutdown().await;
        self.spawned.clear();
    }
}

impl<T, E> TaskGroup<std::result::Result<T, E>>
where
    T: Send + 'static,
    E: Send + 'static,
{
    /// Waits for every task; the first failure (an `Err` output, a panic or an abort)
    /// aborts the rest, waits for them to stop, and is returned. On success the outputs
    /// come back in spawn order.
    ///
    /// ```
    /// use ghostnet_runtime::{run, Config, TaskGroup, TryJoinError};
    ///
    /// run(Config::for_cli(), async {
    ///     let mut group = TaskGroup::new();
    ///     group.spawn(async { Err::<(), _>("disk full") });
    ///     group.spawn(std::future::pending()); // cancelled by the failure above
    ///     assert!(matches!(group.try_join_all().await, Err(TryJoinError::Task("disk full"))));
    /// })
    /// .unwrap();
    /// ```
    pub async fn try_join_all(mut self) -> std::result::Result<Vec<T>, TryJoinError<E>> {
        let index = self.spawn_index();
        let mut out: Vec<Option<T>> = (0..self.spawned.len()).map(|_| None).collect();
        while let Some(res) = self.set.join_next_with_id().await {
            let failure = match res {
                Ok((id, Ok(v))) => {
                    out[index[&id]] = Some(v);
                    continue;
                }
                Ok((_, Err(e))) => TryJoinError::Task(e),
                Err(e) => TryJoinError::Join(Error::from(e)),
            };
            self.set.shutdown().await;
            return Err(failure);
        }
        Ok(out.into_iter().flatten().collect())
    }
}

impl<T: Send + 'static> Default for TaskGroup<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for TaskGroup<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("running", &self.set.len())
            .finish()
    }
}

/// Why [`TaskGroup::try_join_all`] stopped early.
#[derive(Debug)]
pub enum TryJoinError<E> {
    /// A task returned this error.
    Task(E),
    /// A task panicked or was aborted.
    Join(Error),
}

impl<E: fmt::Display> fmt::Display for TryJoinError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Task(e) => write!(f, "a task in the group failed: {e}"),
            Self::Join(e) => write!(f, "a task in the group did not finish: {e}"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for TryJoinError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Task(e) => Some(e),
            Self::Join(e) => Some(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Counts drops, so a test can see that a task's future was dropped (cancelled).
    struct DropCounter(Arc<AtomicUsize>);
    impl Drop for DropCounter {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn join_all_in_spawn_order_with_failures() {
        let mut g = TaskGroup::new();
        g.spawn(async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            1
        });
        g.spawn(async { panic!("second") });
        g.spawn(async { 3 });
        let a = g.spawn(std::future::pending());
        a.abort();
        assert_eq!(g.len(), 4);
        let out = g.join_all().await;
        assert_eq!(out.len(), 4);
        assert_eq!(*out[0].as_ref().unwrap(), 1);
        assert!(matches!(&out[1], Err(Error::Panicked(m)) if m == "second"));
        assert_eq!(*out[2].as_ref().unwrap(), 3);
        assert!(matches!(out[3], Err(Error::Cancelled)));
    }

    #[tokio::test]
    async fn drop_cancels_running_tasks() {
        let dropped = Arc::new(AtomicUsize::new(0));
        let mut g = TaskGroup::new();
        for _ in 0..3 {
            let guard = DropCounter(dropped.clone());
            g.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
        }
        tokio::task::yield_now().await;
        drop(g);
        // Aborted tasks are dropped by the runtime shortly after; wait without timing.
        while dropped.load(Ordering::SeqCst) < 3 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn abort_all_and_shutdown() {
        let dropped = Arc::new(AtomicUsize::new(0));
        let mut g = TaskGroup::new();
        for _ in 0..2 {
            let guard = DropCounter(dropped.clone());
            g.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
        }
        g.abort_all();
        assert!(matches!(g.join_next().await, Some(Err(Error::Cancelled))));
        g.shutdown().await;
        assert!(g.is_empty());
        assert_eq!(dropped.load(Ordering::SeqCst), 2);
        assert!(g.join_next().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn first_error_cancels_the_rest() {
        let dropped = Arc::new(AtomicUsize::new(0));
        let mut g: TaskGroup<std::result::Result<u32, &str>> = TaskGroup::new();
        for _ in 0..3 {
            let guard = DropCounter(dropped.clone());
            g.spawn(async move {
                let _guard = guard;
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(1)
            });
        }
        g.spawn(async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            Err("bad")
        });
        match g.try_join_all().await {
            Err(TryJoinError::Task("bad")) => {}
            other => panic!("unexpected {other:?}"),
        }
        // try_join_all waits for the cancelled tasks to stop before it returns.
        assert_eq!(dropped.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn try_join_all_success_and_panic() {
        let mut g: TaskGroup<std::result::Result<u32, String>> = TaskGroup::new();
        for i in 0..5 {
            g.spawn(async move { Ok(i) });
        }
        assert_eq!(g.try_join_all().await.unwrap(), vec![0, 1, 2, 3, 4]);

        let mut g: TaskGroup<std::result::Result<u32, String>> = TaskGroup::new();
        g.spawn(async { panic!("oops") });
        let err = g.try_join_all().await.unwrap_err();
        assert!(matches!(err, TryJoinError::Join(Error::Panicked(_))));
        assert!(err.to_string().contains("oops"));
    }
}
