//! Spawning tasks and waiting for them.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::{Error, Result};

/// Spawns `fut` on the current runtime and returns a handle to its result.
///
/// Dropping the handle detaches the task (it keeps running), as with tokio. To cancel on
/// drop, use a [`TaskGroup`](crate::TaskGroup).
///
/// # Panics
///
/// When called outside a runtime, like `tokio::spawn`.
///
/// ```
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// let handle = ghostnet_runtime::spawn(async { 40 + 2 });
/// assert_eq!(handle.await.unwrap(), 42);
/// # }).unwrap();
/// ```
#[inline]
#[track_caller]
pub fn spawn<F>(fut: F) -> TaskHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    TaskHandle {
        inner: tokio::spawn(fut),
    }
}

/// Runs blocking code (file I/O, compression, hashing) on the blocking pool.
///
/// ```
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// let sum = ghostnet_runtime::spawn_blocking(|| (1..=10).sum::<u32>()).await.unwrap();
/// assert_eq!(sum, 55);
/// # }).unwrap();
/// ```
#[inline]
#[track_caller]
pub fn spawn_blocking<F, T>(f: F) -> TaskHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    TaskHandle {
        inner: tokio::task::spawn_blocking(f),
    }
}

/// A spawned task. Await it for the task's output, or [`Error::Cancelled`] /
/// [`Error::Panicked`].
#[derive(Debug)]
pub struct TaskHandle<T> {
    inner: tokio::task::JoinHandle<T>,
}

impl<T> TaskHandle<T> {
    /// Asks the task to stop at its next `.await`; awaiting the handle then gives
    /// [`Error::Cancelled`] (or the output if it had already finished).
    pub fn abort(&self) {
        self.inner.abort();
    }

    /// Whether the task has finished (completed, panicked or been cancelled).
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }

    /// A handle that can abort the task without owning its result.
    pub fn abort_handle(&self) -> tokio::task::AbortHandle {
        self.inner.abort_handle()
    }

    /// The underlying tokio handle, for APIs that want one.
    pub fn into_inner(self) -> tokio::task::JoinHandle<T> {
        self.inner
    }
}

impl<T> Future for TaskHandle<T> {
    type Output = Result<T>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match Pin::new(&mut self.inner).poll(cx) {
            Poll::Ready(Ok(v)) => Poll::Ready(Ok(v)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(Error::from(e))),
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn output_abort_and_panic() {
        assert_eq!(spawn(async { 5 }).await.unwrap(), 5);

        let h = spawn(std::future::pending::<()>());
        assert!(!h.is_finished());
        h.abort();
        assert!(matches!(h.await, Err(Error::Cancelled)));

        let h = spawn(async { panic!("boom {}", 1) });
        match h.await {
            Err(Error::Panicked(msg)) => assert_eq!(msg, "boom 1"),
            other => panic!("expected panic error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn is_finished_after_completion() {
        let h = spawn(async {});
        while !h.is_finished() {
            tokio::task::yield_now().await;
        }
        h.await.unwrap();
    }

    #[tokio::test]
    async fn blocking_task_result() {
        assert_eq!(spawn_blocking(|| 3 * 3).await.unwrap(), 9);
    }
}
