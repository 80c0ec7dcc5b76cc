//! `all`: wait for every future, outputs in input order.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::future_set::{FutureSet, IntoFutureSet};

/// Runs every future of `futures` concurrently and returns their outputs in input order.
///
/// ```
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// use std::time::Duration;
/// use ghostnet_runtime::{all, sleep};
///
/// let jobs = [30u64, 10, 20].map(|ms| async move { sleep(Duration::from_millis(ms)).await; ms });
/// assert_eq!(all(jobs).await, vec![30, 10, 20]);
/// # }).unwrap();
/// ```
#[inline]
pub fn all<S: IntoFutureSet>(futures: S) -> All<S::Set, S::Output> {
    let set = futures.into_future_set();
    let len = set.len();
    All {
        set,
        outputs: (0..len).map(|_| None).collect(),
        pending: len,
    }
}

pin_project_lite::pin_project! {
    /// The future returned by [`all`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless awaited"]
    pub struct All<S, T> {
        #[pin]
        set: S,
        outputs: Vec<Option<T>>,
        pending: usize,
    }
}

impl<S, T> Future for All<S, T>
where
    S: FutureSet<Output = T>,
{
    type Output = Vec<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<T>> {
        let this = self.project();
        let mut set = this.set;
        for (i, slot) in this.outputs.iter_mut().enumerate() {
            if slot.is_some() {
                continue; // finished: must not be polled again
            }
            if let Poll::Ready(v) = set.as_mut().poll_at(i, cx) {
                *slot = Some(v);
                *this.pending -= 1;
            }
        }
        if *this.pending == 0 {
            let outputs = std::mem::take(this.outputs);
            return Poll::Ready(outputs.into_iter().flatten().collect());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::time::{Instant, sleep};

    #[tokio::test(start_paused = true)]
    async fn runs_concurrently_in_input_order() {
        let start = Instant::now();
        let v: Vec<_> = (1..=5u64)
            .rev()
            .map(|s| async move {
                sleep(Duration::from_secs(s)).await;
                s
            })
            .collect();
        assert_eq!(all(v).await, vec![5, 4, 3, 2, 1]);
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(5),
            "concurrent, not sequential"
        );

        let t = (async { 1 }, async {
            sleep(Duration::from_secs(1)).await;
            2
        });
        assert_eq!(all(t).await, vec![1, 2]);
    }

    #[tokio::test]
    async fn empty_is_ready() {
        let none: Vec<std::future::Ready<u8>> = Vec::new();
        assert!(all(none).await.is_empty());
    }
}
