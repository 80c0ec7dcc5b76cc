//! Path parameters, shared state and connection facts, reached from the request.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::server::{ConnInfo, ShutdownSignal};

/// The parameters a route pattern bound (`:id`, `*path`), in pattern order. Stored in
/// the request's extensions by the router; read them with [`RequestExt`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(pub(crate) Vec<(Arc<str>, String)>);

impl Params {
    /// The value of `name`, percent-decoded.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| &**k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every `(name, value)` pair, in pattern order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (&**k, v.as_str()))
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the route bound none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

static NO_PARAMS: Params = Params(Vec::new());

/// Typed access to what the router and server put in a request.
///
/// ```
/// use ghostnet_http::{Error, Request, RequestExt, Router, get};
///
/// #[derive(Clone)]
/// struct Greeting(&'static str);
///
/// async fn greet(req: Request) -> Result<String, Error> {
///     let id: u32 = req.param("id")?; // "abc" answers 400
///     let greeting = req.state::<Greeting>().map_or("hello", |g| g.0);
///     Ok(format!("{greeting}, user {id}"))
/// }
///
/// let router = Router::new().route("/users/:id", get(greet)).state(Greeting("hi"));
/// # let _ = router;
/// ```
pub trait RequestExt {
    /// The route's parameters (empty when the request did not go through a router).
    fn params(&self) -> &Params;

    /// The parameter `name`, parsed as `T`.
    ///
    /// # Errors
    ///
    /// [`Error::MissingParam`] (answered 500: the route has no such parameter, a
    /// programming error), [`Error::InvalidParam`] (answered 400) when it does not parse.
    fn param<T>(&self, name: &str) -> Result<T>
    where
        T: FromStr,
        T::Err: std::fmt::Display;

    /// The state of type `T` given to [`Router::state`](crate::Router::state).
    fn state<T: Send + Sync + 'static>(&self) -> Option<&T>;

    /// What the server knows of the connection (peer address, TLS); `None` when the
    /// request did not come through a [`Server`](crate::Server).
    fn conn_info(&self) -> Option<&ConnInfo>;

    /// The client's address, when the transport has addresses.
    fn remote_addr(&self) -> Option<SocketAddr> {
        self.conn_info().and_then(|c| c.remote_addr)
    }

    /// Fires when the serving [`Server`](crate::Server) begins a graceful shutdown;
    /// `None` when the request did not come through one.
    fn shutdown_signal(&self) -> Option<&ShutdownSignal>;
}

impl<B> RequestExt for http::Request<B> {
    fn params(&self) -> &Params {
        self.extensions().get::<Params>().unwrap_or(&NO_PARAMS)
    }

    fn param<T>(&self, name: &str) -> Result<T>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        let value = self.params().get(name).ok_or_else(|| Error::MissingParam {
            name: name.to_owned(),
        })?;
        value.parse().map_err(|e: T::Err| Error::InvalidParam {
            name: name.to_owned(),
            value: value.to_owned(),
            reason: e.to_string(),
        })
    }

    fn state<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.extensions().get::<T>()
    }

    fn conn_info(&self) -> Option<&ConnInfo> {
        self.extensions().get::<ConnInfo>()
    }

    fn shutdown_signal(&self) -> Option<&ShutdownSignal> {
        self.extensions().get::<ShutdownSignal>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_params() {
        let mut req = http::Request::new(());
        req.extensions_mut()
            .insert(Params(vec![(Arc::from("id"), "42".to_owned())]));
        assert_eq!(req.param::<u64>("id").unwrap(), 42);
        assert!(matches!(
            req.param::<u64>("nope"),
            Err(Error::MissingParam { .. })
        ));
        req.extensions_mut()
            .insert(Params(vec![(Arc::from("id"), "x".to_owned())]));
        let e = req.param::<u64>("id").unwrap_err();
        assert!(matches!(e, Error::InvalidParam { .. }));
        assert_eq!(e.status(), Some(http::StatusCode::BAD_REQUEST));
        assert!(http::Request::new(()).params().is_empty());
    }
}
