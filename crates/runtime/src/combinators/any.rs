//! `any`: the first success wins; failure only when every future failed.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::future_set::{FutureSet, IntoFutureSet};

/// Waits for the first future of `futures` to return `Ok` and returns it; the others are
/// dropped. If every future fails, returns all their errors in input order (an empty set
/// fails at once with no errors).
///
/// ```
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// use ghostnet_runtime::any;
///
/// // Tuples may mix future types that share an output type.
/// let mirrors = (async { Err::<&str, _>("mirror a: 503") }, async { Ok("mirror b: 200") });
/// assert_eq!(any(mirrors).await, Ok("mirror b: 200"));
///
/// let all_bad = (async { Err::<(), _>(1) }, async { Err(2) });
/// assert_eq!(any(all_bad).await, Err(vec![1, 2]));
/// # }).unwrap();
/// ```
#[inline]
pub fn any<S, T, E>(futures: S) -> Any<S::Set, E>
where
    S: IntoFutureSet<Output = Result<T, E>>,
{
    Any {
        set: futures.into_future_set(),
        errors: Vec::new(),
        failed: 0,
    }
}

pin_project_lite::pin_project! {
    /// The future returned by [`any`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless awaited"]
    pub struct Any<S, E> {
        #[pin]
        set: S,
        // Allocated at the first failure: one slot per future, `Some` once it failed.
        errors: Vec<Option<E>>,
        failed: usize,
    }
}

impl<S, T, E> Future for Any<S, E>
where
    S: FutureSet<Output = Result<T, E>>,
{
    type Output = Result<T, Vec<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut set = this.set;
        let len = set.len();
        for i in 0..len {
            if this.errors.get(i).is_some_and(Option::is_some) {
                continue; // already failed: must not be polled again
            }
            match set.as_mut().poll_at(i, cx) {
                Poll::Ready(Ok(v)) => return Poll::Ready(Ok(v)),
                Poll::Ready(Err(e)) => {
                    if this.errors.is_empty() {
                        this.errors.resize_with(len, || None);
                    }
                    this.errors[i] = Some(e);
                    *this.failed += 1;
                }
                Poll::Pending => {}
            }
        }
        if *this.failed == len {
            let errors = std::mem::take(this.errors);
            return Poll::Ready(Err(errors.into_iter().flatten().collect()));
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::time::sleep;

    #[tokio::test(start_paused = true)]
    async fn first_ok_wins_over_earlier_errors() {
        let futs = [(1, true), (2, false), (5, false)].map(|(s, ok)| async move {
            sleep(Duration::from_secs(s)).await;
            if ok { Ok(s) } else { Err(format!("fail {s}")) }
        });
        // The first to succeed (at 1 s) wins; later failures are never awaited.
        assert_eq!(any(futs).await, Ok(1));

        let futs = [(1, false), (2, true), (3, true)].map(|(s, ok)| async move {
            sleep(Duration::from_secs(s)).await;
            if ok { Ok(s) } else { Err(s) }
        });
        let start = tokio::time::Instant::now();
        assert_eq!(any(futs).await, Ok(2));
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn all_errors_in_input_order() {
        let futs: Vec<_> = [3u64, 1, 2]
            .into_iter()
            .map(|s| async move {
                sleep(Duration::from_secs(s)).await;
                Err::<(), _>(s)
            })
            .collect();
        assert_eq!(any(futs).await, Err(vec![3, 1, 2]));
    }

    #[tokio::test]
    async fn empty_set_fails_at_once() {
        let none: Vec<std::future::Ready<Result<u8, u8>>> = Vec::new();
        assert_eq!(any(none).await, Err(vec![]));
    }
}
