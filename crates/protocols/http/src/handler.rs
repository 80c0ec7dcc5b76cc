//! [`Handler`]: one route's request → response function, and [`Service`]: what a
//! [`Server`](crate::Server) runs.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::response::IntoResponse;
use crate::{Request, Response};

/// A boxed, `Send` future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a route runs: implemented for every `Fn(Request) -> impl Future<Output = impl
/// IntoResponse>` (closures and `async fn`s), for [`Router`](crate::Router) (a router
/// can be another's fallback) and for [`ServeDir`](crate::files::ServeDir).
///
/// ```
/// use ghostnet_http::{Handler, Request};
///
/// async fn hello(_req: Request) -> &'static str {
///     "hello"
/// }
/// fn assert_handler<H: Handler>(_: &H) {}
/// assert_handler(&hello);
/// ```
pub trait Handler: Send + Sync + 'static {
    /// Handles one request.
    fn call(&self, req: Request) -> BoxFuture<'static, Response>;
}

impl<F, Fut> Handler for F
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoResponse,
{
    fn call(&self, req: Request) -> BoxFuture<'static, Response> {
        let fut = self(req);
        Box::pin(async move { fut.await.into_response() })
    }
}

/// A shared, type-erased handler.
pub(crate) type BoxHandler = Arc<dyn Handler>;

/// What a [`Server`](crate::Server) runs for every request, over HTTP/1.1 and HTTP/2
/// alike. Implemented for [`Router`](crate::Router) and for every
/// `Fn(Request) -> impl Future<Output = Response>`, without boxing its future.
///
/// ```
/// use ghostnet_http::{Body, Request, Response, Service};
///
/// async fn hello(_req: Request) -> Response {
///     Response::new(Body::from("hello"))
/// }
/// fn assert_service<S: Service>(_: &S) {}
/// assert_service(&hello);
/// ```
pub trait Service: Send + Sync + 'static {
    /// Handles one request.
    fn call(&self, req: Request) -> impl Future<Output = Response> + Send;
}

impl<F, Fut> Service for F
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response> + Send,
{
    fn call(&self, req: Request) -> impl Future<Output = Response> + Send {
        self(req)
    }
}
