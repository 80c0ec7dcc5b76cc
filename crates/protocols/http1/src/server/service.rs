//! The handler interface: one async method from request to response.

use std::future::Future;

use http::{Request, Response};

use crate::body::Body;

/// Turns a request into a response. Implemented for every
/// `Fn(Request<Body>) -> impl Future<Output = Response<Body>>`, so a closure or an `async fn`
/// is a service; a router comes from a higher crate.
///
/// There is no error type: a handler answers errors with a response (4xx/5xx). Malformed
/// requests never reach it; the server answers them itself.
///
/// ```
/// use ghostnet_http1::{Body, Service};
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
