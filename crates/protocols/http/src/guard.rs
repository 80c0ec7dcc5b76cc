//! What stands between the server and a handler: a panic becomes `500`, a handler
//! that has not answered within the handler timeout gets `503`, so neither leaves a
//! client without an answer.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::StatusCode;
use http::header::{CONNECTION, HeaderValue};
use pin_project_lite::pin_project;

use crate::Response;
use crate::response::status_response;

pin_project! {
    /// Polls `inner`, turning a panic into `Err` with its payload.
    struct CatchPanic<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.project().inner;
        // Not polled again after a panic: Ready(Err) ends the future.
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(poll) => poll.map(Ok),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// Runs `call` (a service's response future) within `limit`, answering `500` if it
/// panics and `503` if it is still running at `limit`. Both answers close an
/// HTTP/1.1 connection, as the request body may be left half read.
pub(crate) async fn guarded<F>(call: F, limit: Option<Duration>) -> Response
where
    F: Future<Output = Response>,
{
    let call = CatchPanic { inner: call };
    let outcome = match limit {
        Some(limit) => match tokio::time::timeout(limit, call).await {
            Ok(outcome) => outcome,
            Err(_) => {
                tracing::warn!(?limit, "handler timed out; answering 503");
                return closing(StatusCode::SERVICE_UNAVAILABLE);
            }
        },
        None => call.await,
    };
    outcome.unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(not a string)");
        tracing::error!(panic = msg, "handler panicked; answering 500");
        closing(StatusCode::INTERNAL_SERVER_ERROR)
    })
}

fn closing(status: StatusCode) -> Response {
    let mut res = status_response(status);
    // HTTP/2 strips this connection-specific header; HTTP/1.1 closes after the answer.
    res.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::Body;

    #[tokio::test]
    async fn answers_pass_through() {
        let res = guarded(async { Response::new(Body::from("ok")) }, None).await;
        assert_eq!(res.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_panic_is_500() {
        let res = guarded(
            async {
                if true {
                    panic!("boom");
                }
                Response::new(Body::empty())
            },
            Some(Duration::from_secs(60)),
        )
        .await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(res.headers()[CONNECTION], "close");
    }

    #[tokio::test(start_paused = true)]
    async fn a_hung_handler_is_503_at_the_limit() {
        let res = guarded(std::future::pending(), Some(Duration::from_secs(60))).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
