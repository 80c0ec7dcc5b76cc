//! Async synchronisation: a cloneable [`Semaphore`] handle, and tokio's `Mutex`, `RwLock`
//! and `Notify`, which already have the API we want.
//!
//! Use these locks (not `std::sync`) only when the guard is held across an `.await`;
//! for short critical sections `std::sync::Mutex` is faster.

use std::sync::Arc;

pub use tokio::sync::{
    Mutex, MutexGuard, Notify, OwnedMutexGuard, OwnedSemaphorePermit, RwLock, RwLockReadGuard,
    RwLockWriteGuard, SemaphorePermit, TryAcquireError,
};

use crate::error::{Error, Result};

/// A counting semaphore. Clones share the same permits; a permit goes back when it is
/// dropped, so an early return or a panic cannot leak one.
///
/// ```
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// use ghostnet_runtime::Semaphore;
///
/// let sem = Semaphore::new(2);
/// let a = sem.acquire().await.unwrap();
/// let b = sem.acquire_many(1).await.unwrap();
/// assert!(sem.try_acquire().is_err()); // both taken
/// drop(a);
/// assert!(sem.try_acquire().is_ok()); // released on drop
/// # drop(b);
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Semaphore {
    inner: Arc<tokio::sync::Semaphore>,
}

impl Semaphore {
    /// The most permits a semaphore can hold; larger values are clamped to it.
    pub const MAX_PERMITS: usize = tokio::sync::Semaphore::MAX_PERMITS;

    /// A semaphore with `permits` permits (at most [`Semaphore::MAX_PERMITS`]).
    pub fn new(permits: usize) -> Self {
        Self {
            inner: Arc::new(tokio::sync::Semaphore::new(permits.min(Self::MAX_PERMITS))),
        }
    }

    /// Waits for one permit (first come, first served). Fails with [`Error::Closed`]
    /// once [`close`](Self::close) was called.
    #[inline]
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>> {
        self.inner.acquire().await.map_err(|_| Error::Closed)
    }

    /// Waits for `n` permits at once; a waiter for many is not starved by waiters for one.
    #[inline]
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>> {
        self.inner.acquire_many(n).await.map_err(|_| Error::Closed)
    }

    /// One permit if one is free now.
    #[inline]
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.inner.try_acquire()
    }

    /// `n` permits if that many are free now.
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.inner.try_acquire_many(n)
    }

    /// Waits for one permit that can move into a spawned task.
    #[inline]
    pub async fn acquire_owned(&self) -> Result<OwnedSemaphorePermit> {
        self.inner
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Closed)
    }

    /// Waits for `n` permits that can move into a spawned task.
    pub async fn acquire_many_owned(&self, n: u32) -> Result<OwnedSemaphorePermit> {
        self.inner
            .clone()
            .acquire_many_owned(n)
            .await
            .map_err(|_| Error::Closed)
    }

    /// Permits free now.
    pub fn available_permits(&self) -> usize {
        self.inner.available_permits()
    }

    /// Adds `n` permits (saturating at [`Semaphore::MAX_PERMITS`]).
    pub fn add_permits(&self, n: usize) {
        let room = Self::MAX_PERMITS - self.inner.available_permits();
        self.inner.add_permits(n.min(room));
    }

    /// Closes the semaphore: waiters and later acquires fail with [`Error::Closed`];
    /// permits already held stay valid.
    pub fn close(&self) {
        self.inner.close();
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn permits_are_released_on_drop() {
        let sem = Semaphore::new(3);
        let p = sem.acquire_many(3).await.unwrap();
        assert_eq!(sem.available_permits(), 0);
        assert!(matches!(sem.try_acquire(), Err(TryAcquireError::NoPermits)));
        drop(p);
        assert_eq!(sem.available_permits(), 3);

        let owned = sem.acquire_owned().await.unwrap();
        let clone = sem.clone();
        tokio::spawn(async move {
            let _p = owned;
            assert_eq!(clone.available_permits(), 2);
        })
        .await
        .unwrap();
        assert_eq!(sem.available_permits(), 3);
        // A panic while holding a permit does not leak it.
        let s2 = sem.clone();
        let r = tokio::spawn(async move {
            let _p = s2.acquire_many_owned(2).await.unwrap();
            panic!("holder panicked");
        })
        .await;
        assert!(r.is_err());
        assert_eq!(sem.available_permits(), 3);
    }

    #[tokio::test]
    async fn waiter_wakes_when_permit_returns() {
        let sem = Semaphore::new(1);
        let held = sem.acquire_owned().await.unwrap();
        let s2 = sem.clone();
        let waiter = tokio::spawn(async move { s2.acquire().await.map(|_| ()) });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(held);
        waiter.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn close_fails_waiters_and_new_acquires() {
        let sem = Semaphore::new(0);
        let s2 = sem.clone();
        let waiter = tokio::spawn(async move { s2.acquire().await.map(|_| ()) });
        tokio::task::yield_now().await;
        sem.close();
        assert!(sem.is_closed());
        assert!(matches!(waiter.await.unwrap(), Err(Error::Closed)));
        assert!(matches!(sem.acquire().await, Err(Error::Closed)));
        assert!(matches!(sem.try_acquire(), Err(TryAcquireError::Closed)));
    }

    #[tokio::test]
    async fn add_permits_saturates() {
        let sem = Semaphore::new(usize::MAX);
        assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
        sem.add_permits(10);
        assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
        let sem = Semaphore::new(0);
        sem.add_permits(2);
        assert!(sem.try_acquire_many(2).is_ok());
    }

    #[tokio::test]
    async fn mutex_rwlock_notify() {
        let m = Arc::new(Mutex::new(0));
        let mut hs = Vec::new();
        for _ in 0..10 {
            let m = m.clone();
            hs.push(tokio::spawn(async move {
                let mut g = m.lock().await;
                let v = *g;
                tokio::task::yield_now().await; // held across an await
                *g = v + 1;
            }));
        }
        for h in hs {
            h.await.unwrap();
        }
        assert_eq!(*m.lock().await, 10);

        let rw = RwLock::new(1);
        {
            let a = rw.read().await;
            let b = rw.read().await;
            assert_eq!(*a + *b, 2);
            assert!(rw.try_write().is_err());
        }
        *rw.write().await = 5;
        assert_eq!(*rw.read().await, 5);

        let n = Arc::new(Notify::new());
        let n2 = n.clone();
        let w = tokio::spawn(async move { n2.notified().await });
        tokio::task::yield_now().await;
        n.notify_one();
        w.await.unwrap();
    }
}
