//! The handler interface: one async method from request to response.

use std::future::Future;

use http::{Request, Response};

use crate::body::Body;

/// Turns a request into a response. Implemented for every
/// `Fn(Request<Body>) -> impl Future<Output = Response<Body>>`, so a closure or an
/// `async fn` is a service (the same shape as `ghostnet-http1`'s, so one handler can
/// serve both).
///
/// There is no error type: a handler answers errors with a response (4xx/5xx). A
/// handler that panics answers `500` (or resets the stream when the response head was
/// already sent); the connection and its other streams carry on.
///
/// ```
/// use ghostnet_http2::{Body, Service};
/// use http::{Request, Response, StatusCode};
///
/// async fn hello(req: Request<Body>) -> Response<Body> {
///     match req.uri().path() {
///         "/" => Response::new(Body::from("hi")),
///         _ => Response::builder().status(StatusCode::NOT_FOUND).body(Body::empty()).unwrap(),
///     }
/// }
///
/// fn assert_service<S: Service>(_: &S) {}
/// assert_service(&hello);
/// ```
pub trait Service: Send + Sync + 'static {
    /// Handles one request.
    fn call(&self, req: Request<Body>) -> impl Future<Output = Response<Body>> + Send;
}

impl<F, Fut> Service for F
where
    F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send,
{
    fn call(&self, req: Request<Body>) -> impl Future<Output = Response<Body>> + Send {
        self(req)
    }
}
