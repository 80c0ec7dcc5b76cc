//! [`Logger`]: one `tracing` event per request.

use http::StatusCode;
use tokio::time::Instant;

use super::{Middleware, Next};
use crate::handler::BoxFuture;
use crate::router::RequestExt;
use crate::{Request, Response};

/// Logs every request as one `tracing` event with target `ghostnet_http::access`
/// when its response head is ready: `method`, `path`, `status`, `latency_us` (handler
/// time to the response head; a streamed body may take longer), `protocol`
/// (`HTTP/1.1`, `HTTP/2.0`) and `peer`. Level INFO, WARN for 5xx answers.
///
/// ```
/// use ghostnet_http::middleware::Logger;
/// use ghostnet_http::{Request, Router, get};
///
/// let router = Router::new()
///     .route("/", get(|_req: Request| async { "hi" }))
///     .layer(Logger::new()); // first layer: it also times the other middleware
/// # let _ = router;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Logger {
    _private: (),
}

impl Logger {
    /// A request logger.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Middleware for Logger {
    fn call<'a>(&'a self, req: Request, next: Next) -> BoxFuture<'a, Response> {
        Box::pin(async move {
            let start = Instant::now();
            let method = req.method().clone();
            let path = req.uri().path().to_owned();
            let protocol = req.version();
            let peer = req.remote_addr();
            let res = next.run(req).await;
            let status = res.status();
            let latency_us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
            let peer = peer.map(tracing::field::display);
            if status >= StatusCode::INTERNAL_SERVER_ERROR {
                tracing::warn!(
                    target: "ghostnet_http::access",
                    %method, %path, status = status.as_u16(), latency_us, ?protocol, peer,
                    "request failed"
                );
            } else {
                tracing::info!(
                    target: "ghostnet_http::access",
                    %method, %path, status = status.as_u16(), latency_us, ?protocol, peer,
                    "request"
                );
            }
            res
        })
    }
}
