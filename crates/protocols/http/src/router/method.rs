//! [`MethodRouter`]: one path's handlers by method, with 405 and `Allow`, and HEAD
//! answered by GET.

use std::sync::Arc;

use http::header::{ALLOW, HeaderValue};
use http::{Method, StatusCode};

use crate::handler::{BoxFuture, BoxHandler, Handler};
use crate::middleware::{Layered, Middleware};
use crate::response::status_response;
use crate::{Request, Response};

/// The handlers of one route, by method. Made with [`get`], [`post`], ... and chained:
/// `get(list).post(create)`. A method without a handler is answered
/// `405 Method Not Allowed` with an `Allow` header; `HEAD` is answered by the `GET`
/// handler when there is no `HEAD` one (the server sends the head without the body).
///
/// ```
/// use ghostnet_http::{Request, Router, get};
///
/// async fn list(_: Request) -> &'static str { "[]" }
/// async fn create(_: Request) -> http::StatusCode { http::StatusCode::CREATED }
///
/// let router = Router::new().route("/items", get(list).post(create));
/// # let _ = router;
/// ```
#[derive(Clone, Default)]
pub struct MethodRouter {
    handlers: Vec<(Method, BoxHandler)>,
    any: Option<BoxHandler>,
}

macro_rules! method_fns {
    ($($name:ident => $method:ident),* $(,)?) => {
        $(
            #[doc = concat!("A [`MethodRouter`] answering `", stringify!($method), "` with `handler`.")]
            pub fn $name<H: Handler>(handler: H) -> MethodRouter {
                MethodRouter::default().on(Method::$method, handler)
            }
        )*
        impl MethodRouter {
            $(
                #[doc = concat!("Also answers `", stringify!($method), "` with `handler`.")]
                pub fn $name<H: Handler>(self, handler: H) -> Self {
                    self.on(Method::$method, handler)
                }
            )*
        }
    };
}

method_fns! {
    get => GET,
    post => POST,
    put => PUT,
    delete => DELETE,
    patch => PATCH,
    head => HEAD,
    options => OPTIONS,
}

/// A [`MethodRouter`] answering every method with `handler`.
pub fn any<H: Handler>(handler: H) -> MethodRouter {
    MethodRouter {
        handlers: Vec::new(),
        any: Some(Arc::new(handler)),
    }
}

impl MethodRouter {
    /// Answers `method` with `handler` (replacing an earlier handler for it).
    pub fn on<H: Handler>(mut self, method: Method, handler: H) -> Self {
        self.set(method, Arc::new(handler));
        self
    }

    fn set(&mut self, method: Method, handler: BoxHandler) {
        self.handlers.retain(|(m, _)| *m != method);
        self.handlers.push((method, handler));
    }

    /// Puts `middleware` around every handler added so far (an auth check on the write
    /// routes, say). Handlers added later are not wrapped.
    ///
    /// ```
    /// use ghostnet_http::middleware::{Auth, AuthDecision};
    /// use ghostnet_http::{Request, Router, get, post};
    ///
    /// # async fn list(_: Request) -> &'static str { "" }
    /// # async fn create(_: Request) -> &'static str { "" }
    /// let admin = Auth::new(|req: &Request| match req.headers().get("x-key") {
    ///     Some(k) if k == "secret" => AuthDecision::Allow,
    ///     Some(_) => AuthDecision::Forbidden,
    ///     None => AuthDecision::Unauthorized,
    /// });
    /// let router = Router::new()
    ///     .route("/items", get(list))
    ///     .route("/items", post(create).layer(admin)); // reads stay open
    /// # let _ = router;
    /// ```
    pub fn layer<M: Middleware>(mut self, middleware: M) -> Self {
        let chain: crate::middleware::Chain =
            Arc::new([Arc::new(middleware) as Arc<dyn Middleware>]);
        let wrap = |inner: BoxHandler| -> BoxHandler {
            Arc::new(Layered {
                chain: chain.clone(),
                inner,
            })
        };
        for (_, h) in &mut self.handlers {
            *h = wrap(h.clone());
        }
        self.any = self.any.take().map(wrap);
        self
    }

    /// Adds `other`'s handlers to these (the same path given to
    /// [`Router::route`](crate::Router::route) twice).
    pub(crate) fn merge(&mut self, other: MethodRouter) {
        for (m, h) in other.handlers {
            self.set(m, h);
        }
        if other.any.is_some() {
            self.any = other.any;
        }
    }

    fn handler_for(&self, method: &Method) -> Option<&BoxHandler> {
        let find = |m: &Method| self.handlers.iter().find(|(k, _)| k == m).map(|(_, h)| h);
        find(method)
            .or_else(|| {
                (*method == Method::HEAD)
                    .then(|| find(&Method::GET))
                    .flatten()
            })
            .or(self.any.as_ref())
    }

    /// The `Allow` value: the methods with a handler, and HEAD where GET is.
    fn allow(&self) -> HeaderValue {
        let mut names: Vec<&str> = self.handlers.iter().map(|(m, _)| m.as_str()).collect();
        if names.contains(&"GET") && !names.contains(&"HEAD") {
            names.push("HEAD");
        }
        HeaderValue::from_str(&names.join(", ")).unwrap_or(HeaderValue::from_static(""))
    }
}

impl Handler for MethodRouter {
    fn call(&self, req: Request) -> BoxFuture<'static, Response> {
        match self.handler_for(req.method()) {
            Some(h) => h.call(req),
            None => {
                let mut res = status_response(StatusCode::METHOD_NOT_ALLOWED);
                res.headers_mut().insert(ALLOW, self.allow());
                Box::pin(std::future::ready(res))
            }
        }
    }
}

impl std::fmt::Debug for MethodRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MethodRouter")
            .field("methods", &self.allow())
            .field("any", &self.any.is_some())
            .finish()
    }
}
