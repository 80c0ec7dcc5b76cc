//! [`Cors`]: Cross-Origin Resource Sharing (the Fetch standard's CORS protocol).

use std::sync::Arc;
use std::time::Duration;

use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, HeaderMap, HeaderName,
    HeaderValue, ORIGIN, VARY,
};
use http::{Method, StatusCode};

use super::{Middleware, Next};
use crate::handler::BoxFuture;
use crate::response::status_response;
use crate::{Request, Response};

/// Default for [`Cors::max_age`]: browsers may cache a preflight answer 10 minutes.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(600);

/// CORS for browsers: answers preflight requests (`OPTIONS` with
/// `Access-Control-Request-Method`) itself, and adds `Access-Control-Allow-Origin`
/// (and friends) to responses for allowed origins.
///
/// - Origins: a list ([`allow_origin`](Self::allow_origin)) or any
///   ([`allow_any_origin`](Self::allow_any_origin)). The matching origin is echoed
///   (with `Vary: Origin`); `*` is sent only for any-origin without credentials, as
///   browsers refuse `*` with credentials.
/// - A preflight from a disallowed origin, or asking for a method or header not
///   allowed, gets `403` without CORS headers, and the browser blocks the request.
/// - Requests without `Origin` (not from a browser's cross-origin fetch) pass untouched.
///
/// Defaults: no origin, methods `GET, HEAD, POST`, no extra request headers, no
/// credentials, max-age [`DEFAULT_MAX_AGE`].
///
/// ```
/// use std::time::Duration;
/// use ghostnet_http::middleware::Cors;
/// use http::Method;
///
/// let cors = Cors::new()
///     .allow_origin("https://app.example")
///     .allow_methods([Method::GET, Method::POST, Method::DELETE])
///     .allow_headers(["content-type", "authorization"])
///     .allow_credentials(true)
///     .max_age(Duration::from_secs(3600));
/// # let _ = cors;
/// ```
#[derive(Debug, Clone)]
pub struct Cors {
    inner: Arc<Config>,
}

#[derive(Debug, Clone)]
struct Config {
    origins: Vec<HeaderValue>,
    any_origin: bool,
    methods: Vec<Method>,
    headers: Vec<HeaderName>,
    any_header: bool,
    expose: Vec<HeaderName>,
    credentials: bool,
    max_age: Duration,
}

impl Default for Cors {
    fn default() -> Self {
        Self::new()
    }
}

impl Cors {
    /// CORS allowing nothing yet; add origins.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Config {
                origins: Vec::new(),
                any_origin: false,
                methods: vec![Method::GET, Method::HEAD, Method::POST],
                headers: Vec::new(),
                any_header: false,
                expose: Vec::new(),
                credentials: false,
                max_age: DEFAULT_MAX_AGE,
            }),
        }
    }

    fn config(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.inner)
    }

    /// Allows `origin` (`scheme://host[:port]`, compared exactly). A value that is not
    /// a valid header value can never match and is ignored.
    pub fn allow_origin(mut self, origin: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(origin.trim_end_matches('/')) {
            self.config().origins.push(v);
        }
        self
    }

    /// Allows every origin.
    pub fn allow_any_origin(mut self) -> Self {
        self.config().any_origin = true;
        self
    }

    /// The methods a cross-origin request may use (replaces the default list).
    pub fn allow_methods<I: IntoIterator<Item = Method>>(mut self, methods: I) -> Self {
        self.config().methods = methods.into_iter().collect();
        self
    }

    /// Request headers a cross-origin request may send beyond the CORS-safelisted
    /// ones; names that are not valid header names are ignored.
    pub fn allow_headers<'a, I: IntoIterator<Item = &'a str>>(mut self, headers: I) -> Self {
        let names = headers
            .into_iter()
            .filter_map(|h| HeaderName::from_bytes(h.as_bytes()).ok());
        self.config().headers.extend(names);
        self
    }

    /// Allows any request header (the preflight's list is echoed).
    pub fn allow_any_header(mut self) -> Self {
        self.config().any_header = true;
        self
    }

    /// Response headers the browser may show to the page
    /// (`Access-Control-Expose-Headers`); invalid names are ignored.
    pub fn expose_headers<'a, I: IntoIterator<Item = &'a str>>(mut self, headers: I) -> Self {
        let names = headers
            .into_iter()
            .filter_map(|h| HeaderName::from_bytes(h.as_bytes()).ok());
        self.config().expose.extend(names);
        self
    }

    /// Whether cross-origin requests may carry cookies and HTTP auth
    /// (`Access-Control-Allow-Credentials: true`).
    pub fn allow_credentials(mut self, yes: bool) -> Self {
        self.config().credentials = yes;
        self
    }

    /// How long browsers may cache a preflight answer (`Access-Control-Max-Age`).
    pub fn max_age(mut self, age: Duration) -> Self {
        self.config().max_age = age;
        self
    }
}

impl Config {
    fn origin_allowed(&self, origin: &HeaderValue) -> bool {
        self.any_origin || self.origins.iter().any(|o| o == origin)
    }

    /// The `Access-Control-Allow-Origin` value for an allowed `origin`.
    fn allow_origin_value(&self, origin: &HeaderValue) -> HeaderValue {
        if self.any_origin && !self.credentials {
            HeaderValue::from_static("*")
        } else {
            origin.clone()
        }
    }

    fn common_headers(&self, origin: &HeaderValue, headers: &mut HeaderMap) {
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, self.allow_origin_value(origin));
        if self.credentials {
            headers.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if !(self.any_origin && !self.credentials) {
            // The answer depends on the Origin: caches must keep one per origin.
            headers.append(VARY, HeaderValue::from_static("Origin"));
        }
    }

    fn preflight(&self, req: &Request, origin: &HeaderValue) -> Response {
        let forbidden = || status_response(StatusCode::FORBIDDEN);
        if !self.origin_allowed(origin) {
            return forbidden();
        }
        let Some(method) = req
            .headers()
            .get(ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        else {
            return forbidden();
        };
        if !self.methods.contains(&method) {
            return forbidden();
        }
        let requested = req
            .headers()
            .get_all(ACCESS_CONTROL_REQUEST_HEADERS)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect::<Vec<_>>();
        if !self.any_header
            && !requested.iter().all(|h| {
                self.headers
                    .iter()
                    .any(|a| a.as_str().eq_ignore_ascii_case(h))
            })
        {
            return forbidden();
        }
        let mut res = status_response(StatusCode::NO_CONTENT);
        let headers = res.headers_mut();
        self.common_headers(origin, headers);
        let methods: Vec<&str> = self.methods.iter().map(Method::as_str).collect();
        if let Ok(v) = HeaderValue::from_str(&methods.join(", ")) {
            headers.insert(ACCESS_CONTROL_ALLOW_METHODS, v);
        }
        let allow_headers = if self.any_header {
            requested.join(", ")
        } else {
            let names: Vec<&str> = self.headers.iter().map(HeaderName::as_str).collect();
            names.join(", ")
        };
        if !allow_headers.is_empty()
            && let Ok(v) = HeaderValue::from_str(&allow_headers)
        {
            headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, v);
        }
        headers.insert(
            ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from(self.max_age.as_secs()),
        );
        headers.append(
            VARY,
            HeaderValue::from_static(
                "Access-Control-Request-Method, Access-Control-Request-Headers",
            ),
        );
        res
    }
}

impl Middleware for Cors {
    fn call<'a>(&'a self, req: Request, next: Next) -> BoxFuture<'a, Response> {
        let Some(origin) = req.headers().get(ORIGIN).cloned() else {
            return Box::pin(next.run(req));
        };
        let config = &*self.inner;
        if req.method() == Method::OPTIONS
            && req.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD)
        {
            return Box::pin(std::future::ready(config.preflight(&req, &origin)));
        }
        Box::pin(async move {
            let mut res = next.run(req).await;
            if config.origin_allowed(&origin) {
                let headers = res.headers_mut();
                config.common_headers(&origin, headers);
                if !config.expose.is_empty() {
                    let names: Vec<&str> = config.expose.iter().map(HeaderName::as_str).collect();
                    if let Ok(v) = HeaderValue::from_str(&names.join(", ")) {
                        headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, v);
                    }
                }
            }
            res
        })
    }
}
