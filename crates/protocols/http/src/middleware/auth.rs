//! [`Auth`]: a closure decides whether a request may pass.

use std::sync::Arc;

use http::StatusCode;
use http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};

use super::{Middleware, Next};
use crate::handler::BoxFuture;
use crate::response::status_response;
use crate::{Request, Response};

/// What an [`Auth`] check decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthDecision {
    /// Let the request through.
    Allow,
    /// No (valid) credentials: `401` with a `WWW-Authenticate` challenge.
    Unauthorized,
    /// Credentials are valid but not enough: `403`.
    Forbidden,
}

type Check = dyn Fn(&Request) -> AuthDecision + Send + Sync;

/// An authorization hook: a closure sees each request and allows it, or answers
/// `401 Unauthorized` (with `WWW-Authenticate`, `Bearer` unless
/// [`challenge`](Self::challenge) says otherwise) or `403 Forbidden`.
///
/// The check is synchronous (a token comparison, a signature check); for a lookup that
/// must wait, write a [`from_fn`](super::from_fn) middleware.
///
/// ```
/// use ghostnet_http::middleware::{bearer_token, Auth, AuthDecision};
/// use ghostnet_http::Request;
///
/// let auth = Auth::new(|req: &Request| match bearer_token(req) {
///     Some("admin-token") => AuthDecision::Allow,
///     Some(_) => AuthDecision::Forbidden,
///     None => AuthDecision::Unauthorized,
/// })
/// .challenge(r#"Bearer realm="api""#);
/// # let _ = auth;
/// ```
#[derive(Clone)]
pub struct Auth {
    check: Arc<Check>,
    challenge: HeaderValue,
}

impl Auth {
    /// A hook running `check` on every request.
    pub fn new<F>(check: F) -> Self
    where
        F: Fn(&Request) -> AuthDecision + Send + Sync + 'static,
    {
        Self {
            check: Arc::new(check),
            challenge: HeaderValue::from_static("Bearer"),
        }
    }

    /// The `WWW-Authenticate` value sent with `401` (default `Bearer`). A value that is
    /// not a valid header value is ignored (the default stays).
    pub fn challenge(mut self, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.challenge = v;
        }
        self
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("challenge", &self.challenge)
            .finish_non_exhaustive()
    }
}

impl Middleware for Auth {
    fn call<'a>(&'a self, req: Request, next: Next) -> BoxFuture<'a, Response> {
        match (self.check)(&req) {
            AuthDecision::Allow => Box::pin(next.run(req)),
            AuthDecision::Unauthorized => {
                let mut res = status_response(StatusCode::UNAUTHORIZED);
                res.headers_mut()
                    .insert(WWW_AUTHENTICATE, self.challenge.clone());
                Box::pin(std::future::ready(res))
            }
            AuthDecision::Forbidden => {
                Box::pin(std::future::ready(status_response(StatusCode::FORBIDDEN)))
            }
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header, if the request has one.
///
/// ```
/// use ghostnet_http::middleware::bearer_token;
///
/// let req = http::Request::get("/").header("authorization", "Bearer abc").body(()).unwrap();
/// assert_eq!(bearer_token(&req), Some("abc"));
/// ```
pub fn bearer_token<B>(req: &http::Request<B>) -> Option<&str> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens() {
        let req = |v: &str| {
            http::Request::get("/")
                .header("authorization", v)
                .body(())
                .unwrap()
        };
        assert_eq!(bearer_token(&req("bearer  x ")), Some("x"));
        assert_eq!(bearer_token(&req("Basic x")), None);
        assert_eq!(bearer_token(&req("Bearer")), None);
        assert_eq!(bearer_token(&req("Bearer ")), None);
        assert_eq!(bearer_token(&http::Request::new(())), None);
    }
}
