//! [`Router`]: requests to handlers by method and path (rules on `Router` itself).

mod method;
mod params;
mod path;

use std::future::Future;
use std::sync::Arc;

use http::StatusCode;

pub use method::{MethodRouter, any, delete, get, head, options, patch, post, put};
pub use params::{Params, RequestExt};
pub(crate) use path::segments as path_segments;

use crate::error::Result;
use crate::handler::{BoxFuture, BoxHandler, Handler, Service};
use crate::middleware::{Chain, Middleware, Next};
use crate::response::status_response;
use crate::{Request, Response};

/// Routes requests to handlers by path and method, through a middleware chain.
///
/// - Paths: literal segments, `:name` parameters and a trailing `*name` wildcard
///   (`/users/:id`, `/static/*path`); literals win over parameters, parameters over
///   wildcards. Values are percent-decoded; read them with
///   [`RequestExt::param`](crate::RequestExt::param).
/// - Methods: [`get`](crate::get), [`post`](crate::post), ... chained on a
///   [`MethodRouter`]. An unknown path is `404` (or the [fallback](Router::fallback)),
///   a known path with another method `405` with `Allow`; `HEAD` is served by `GET`.
/// - State: [`Router::state`] values are cloned into every request
///   ([`RequestExt::state`](crate::RequestExt::state)).
/// - Middleware: [`Router::layer`] wraps every request, [`MethodRouter::layer`] one
///   route's handlers.
///
/// Trailing slashes matter: `/users/` is not `/users`. A path that does not decode to
/// UTF-8 is answered `400`.
///
/// ```
/// use ghostnet_http::middleware::Logger;
/// use ghostnet_http::{Error, Request, RequestExt, Router, get};
///
/// async fn user(req: Request) -> Result<String, Error> {
///     let id: u64 = req.param("id")?;
///     Ok(format!("user {id}"))
/// }
///
/// let router = Router::new()
///     .route("/", get(|_req: Request| async { "home" }))
///     .route("/users/:id", get(user))
///     .layer(Logger::new());
/// // Serve it with `Server::serve(listener, router, shutdown)`.
/// # let _ = router;
/// ```
#[derive(Clone)]
pub struct Router {
    table: Arc<Table>,
    chain: Chain,
    state: Arc<http::Extensions>,
}

#[derive(Clone, Default)]
struct Table {
    root: path::Node,
    endpoints: Vec<MethodRouter>,
    fallback: Option<BoxHandler>,
}

impl Router {
    /// A router with no routes: everything is `404`.
    pub fn new() -> Self {
        Self {
            table: Arc::default(),
            chain: Arc::new([]),
            state: Arc::default(),
        }
    }

    /// Answers `pattern` with `methods` (merged with an earlier route of the same
    /// pattern, so `get` and `post` can be added separately).
    ///
    /// # Panics
    ///
    /// When `pattern` is invalid (see [`try_route`](Self::try_route)): routes are
    /// written by the programmer, so this is found by the first test run.
    #[track_caller]
    pub fn route(self, pattern: &str, methods: MethodRouter) -> Self {
        match self.try_route(pattern, methods) {
            Ok(router) => router,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`route`](Self::route) without the panic.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRoute`](crate::Error::InvalidRoute) when the pattern does not
    /// start with `/`, a wildcard is not last, a parameter name is empty, not
    /// `[A-Za-z0-9_]`, repeated, or differs from another route's parameter at the same
    /// position.
    pub fn try_route(mut self, pattern: &str, methods: MethodRouter) -> Result<Self> {
        let table = Arc::make_mut(&mut self.table);
        let next = table.endpoints.len();
        let idx = table.root.insert(pattern, next)?;
        if idx == next {
            table.endpoints.push(methods);
        } else {
            table.endpoints[idx].merge(methods);
        }
        Ok(self)
    }

    /// Answers requests no route matches with `handler` instead of `404` (a static
    /// file tree at the root, another router, a custom page).
    pub fn fallback<H: Handler>(mut self, handler: H) -> Self {
        Arc::make_mut(&mut self.table).fallback = Some(Arc::new(handler));
        self
    }

    /// Adds `middleware` around every request, including `404` and `405` answers.
    /// Middleware runs in the order added: the first sees the request first.
    pub fn layer<M: Middleware>(mut self, middleware: M) -> Self {
        let mut chain: Vec<Arc<dyn Middleware>> = self.chain.iter().cloned().collect();
        chain.push(Arc::new(middleware));
        self.chain = chain.into();
        self
    }

    /// Shares `value` with every handler: each request gets a clone in its extensions,
    /// read with [`RequestExt::state`](crate::RequestExt::state). Use an `Arc` for
    /// anything larger than a few words.
    pub fn state<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        Arc::make_mut(&mut self.state).insert(value);
        self
    }

    /// Routes one request through the middleware and the table.
    fn dispatch(&self, mut req: Request) -> BoxFuture<'static, Response> {
        if !self.state.is_empty() {
            req.extensions_mut().extend((*self.state).clone());
        }
        if self.chain.is_empty() {
            return self.table.call(req);
        }
        let next = Next::new(self.chain.clone(), self.table.clone());
        Box::pin(next.run(req))
    }
}

impl Default for Router {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("routes", &self.table.endpoints.len())
            .field("middleware", &self.chain.len())
            .field("fallback", &self.table.fallback.is_some())
            .finish()
    }
}

impl Handler for Table {
    fn call(&self, mut req: Request) -> BoxFuture<'static, Response> {
        let mut params = Vec::new();
        let found = match path::segments(req.uri().path()) {
            Some(segments) => self.root.find(&segments, &mut params),
            None => {
                let res = status_response(StatusCode::BAD_REQUEST);
                return Box::pin(std::future::ready(res));
            }
        };
        match found {
            Some(idx) => {
                if !params.is_empty() {
                    req.extensions_mut().insert(Params(params));
                }
                self.endpoints[idx].call(req)
            }
            None => match &self.fallback {
                Some(f) => f.call(req),
                None => Box::pin(std::future::ready(status_response(StatusCode::NOT_FOUND))),
            },
        }
    }
}

impl Handler for Router {
    fn call(&self, req: Request) -> BoxFuture<'static, Response> {
        self.dispatch(req)
    }
}

impl Service for Router {
    fn call(&self, req: Request) -> impl Future<Output = Response> + Send {
        self.dispatch(req)
    }
}
