//! Middleware: code that runs around handlers, as a chain.
//!
//! A [`Middleware`] gets the request and a [`Next`] (the rest of the chain and the
//! handler): it may answer by itself (a 401, a 429, a CORS preflight), or call
//! [`Next::run`] and change the response (headers, compression). Added with
//! [`Router::layer`](crate::Router::layer) (every request, also 404 and 405 answers)
//! or [`MethodRouter::layer`](crate::MethodRouter::layer) (one route's handlers). They
//! run in the order added: the first added sees the request first and the response
//! last.
//!
//! | middleware | what it does |
//! |---|---|
//! | [`Logger`] | one `tracing` event per request: method, path, status, latency, protocol, peer |
//! | [`Auth`] | a closure decides allow / 401 (with a challenge) / 403 |
//! | [`Cors`] | preflight answers and CORS headers for allowed origins |
//! | [`IpRateLimit`] | a rate limit per client IP, 429 with `Retry-After` past it |
//! | [`Compression`] | gzip, br, zstd or deflate by `Accept-Encoding` |
//! | [`from_fn`] | any `async` closure `(Request, Next) -> Response` |

mod auth;
mod compression;
mod cors;
mod log;
mod rate_limit;

use std::future::Future;
use std::sync::Arc;

pub use auth::{Auth, AuthDecision, bearer_token};
pub use compression::{Compression, DEFAULT_MIN_SIZE, Encoding};
pub use cors::{Cors, DEFAULT_MAX_AGE};
pub use log::Logger;
pub use rate_limit::IpRateLimit;

use crate::handler::{BoxFuture, BoxHandler};
use crate::response::IntoResponse;
use crate::{Request, Response};

/// Code that runs around a handler; see the [module docs](self).
///
/// ```
/// use ghostnet_http::handler::BoxFuture;
/// use ghostnet_http::middleware::{Middleware, Next};
/// use ghostnet_http::{Request, Response};
///
/// /// Adds `x-served-by` to every response.
/// struct ServedBy(&'static str);
///
/// impl Middleware for ServedBy {
///     fn call<'a>(&'a self, req: Request, next: Next) -> BoxFuture<'a, Response> {
///         Box::pin(async move {
///             let mut res = next.run(req).await;
///             res.headers_mut().insert("x-served-by", http::HeaderValue::from_static(self.0));
///             res
///         })
///     }
/// }
/// ```
pub trait Middleware: Send + Sync + 'static {
    /// Handles `req`, calling `next.run(req)` to go on down the chain (or not).
    fn call<'a>(&'a self, req: Request, next: Next) -> BoxFuture<'a, Response>;
}

/// The middleware shared by a router or route.
pub(crate) type Chain = Arc<[Arc<dyn Middleware>]>;

/// The rest of a middleware chain and the handler at its end.
pub struct Next {
    chain: Chain,
    pos: usize,
    endpoint: BoxHandler,
}

impl Next {
    pub(crate) fn new(chain: Chain, endpoint: BoxHandler) -> Self {
        Self {
            chain,
            pos: 0,
            endpoint,
        }
    }

    /// Runs the rest of the chain and the handler.
    pub async fn run(mut self, req: Request) -> Response {
        match self.chain.get(self.pos).cloned() {
            Some(m) => {
                self.pos += 1;
                m.call(req, self).await
            }
            None => self.endpoint.call(req).await,
        }
    }
}

impl std::fmt::Debug for Next {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Next")
            .field("remaining", &(self.chain.len() - self.pos))
            .finish()
    }
}

/// A middleware from an `async` closure.
///
/// ```
/// use ghostnet_http::middleware::{from_fn, Next};
/// use ghostnet_http::{Request, Router, get};
///
/// let router = Router::new()
///     .route("/", get(|_req: Request| async { "hi" }))
///     .layer(from_fn(|req: Request, next: Next| async move {
///         let mut res = next.run(req).await;
///         res.headers_mut().insert("x-frame-options", "DENY".parse().unwrap());
///         res
///     }));
/// # let _ = router;
/// ```
pub fn from_fn<F, Fut>(f: F) -> FromFn<F>
where
    F: Fn(Request, Next) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoResponse,
{
    FromFn(f)
}

/// The middleware made by [`from_fn`].
#[derive(Clone, Copy)]
pub struct FromFn<F>(F);

impl<F> std::fmt::Debug for FromFn<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FromFn")
    }
}

impl<F, Fut> Middleware for FromFn<F>
where
    F: Fn(Request, Next) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoResponse,
{
    fn call<'a>(&'a self, req: Request, next: Next) -> BoxFuture<'a, Response> {
        let fut = (self.0)(req, next);
        Box::pin(async move { fut.await.into_response() })
    }
}

/// A handler with middleware around it (route layers).
pub(crate) struct Layered {
    pub(crate) chain: Chain,
    pub(crate) inner: BoxHandler,
}

impl crate::Handler for Layered {
    fn call(&self, req: Request) -> BoxFuture<'static, Response> {
        let next = Next::new(self.chain.clone(), self.inner.clone());
        Box::pin(next.run(req))
    }
}
