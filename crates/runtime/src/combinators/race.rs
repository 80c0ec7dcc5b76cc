//! `race`: the first future to finish wins, the others are dropped.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::future_set::{FutureSet, IntoFutureSet};

/// Waits for the first future of `futures` to finish and returns its output; the others
/// are dropped (cancelled) with the returned future.
///
/// When several are ready at the same poll, the earliest in the set wins (like
/// `select! { biased; .. }`). An empty set never finishes; check for emptiness first.
///
/// ```
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// use std::time::Duration;
/// use ghostnet_runtime::{race, sleep};
///
/// let fast = async { sleep(Duration::from_millis(1)).await; "fast" };
/// let slow = async { sleep(Duration::from_secs(60)).await; "slow" };
/// assert_eq!(race((slow, fast)).await, "fast");
/// # }).unwrap();
/// ```
#[inline]
pub fn race<S: IntoFutureSet>(futures: S) -> Race<S::Set> {
    Race {
        set: futures.into_future_set(),
    }
}

pin_project_lite::pin_project! {
    /// The future returned by [`race`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless awaited"]
    pub struct Race<S> {
        #[pin]
        set: S,
    }
}

impl<S: FutureSet> Future for Race<S> {
    type Output = S::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<S::Output> {
        let mut set = self.project().set;
        for i in 0..set.len() {
            if let Poll::Ready(v) = set.as_mut().poll_at(i, cx) {
                return Poll::Ready(v);
            }
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;
    use tokio::time::sleep;

    struct SetOnDrop(Arc<AtomicBool>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn first_to_finish_wins_and_losers_are_dropped() {
        let dropped = Arc::new(AtomicBool::new(false));
        let guard = SetOnDrop(dropped.clone());
        let loser = async move {
            let _g = guard;
            sleep(Duration::from_secs(10)).await;
            1
        };
        let winner = async {
            sleep(Duration::from_secs(1)).await;
            2
        };
        assert_eq!(race((loser, winner)).await, 2);
        assert!(dropped.load(Ordering::SeqCst));
    }

    #[tokio::test(start_paused = true)]
    async fn arrays_vecs_and_bias() {
        let futs = [3u64, 1, 2].map(|s| async move {
            sleep(Duration::from_secs(s)).await;
            s
        });
        assert_eq!(race(futs).await, 1);

        let v: Vec<_> = (0..10u64)
            .map(|i| async move {
                sleep(Duration::from_millis(100 - i)).await;
                i
            })
            .collect();
        assert_eq!(race(v).await, 9);

        // Both ready at once: the first in the set wins.
        assert_eq!(race((async { "a" }, async { "b" })).await, "a");
    }

    #[tokio::test(start_paused = true)]
    async fn empty_set_stays_pending() {
        let r = tokio::time::timeout(
            Duration::from_secs(1),
            race(Vec::<std::future::Ready<u8>>::new()),
        )
        .await;
        assert!(r.is_err());
    }
}
