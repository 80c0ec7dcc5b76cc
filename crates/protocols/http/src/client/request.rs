//! [`RequestBuilder`]: method, URL, headers and body of one request, sent with `.await`
//! (or [`send`](RequestBuilder::send)).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use ghostnet_transport::{Dial, TcpDialer};
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Uri};
use serde::Serialize;

use super::http_client::HttpClient;
use super::response::Response;
use crate::body::Body;
use crate::error::{Error, Result};

/// A request under construction. Await it (it is an [`IntoFuture`]) or call
/// [`send`](Self::send).
///
/// ```no_run
/// # async fn demo() -> ghostnet_http::Result<()> {
/// use ghostnet_http::client::{ClientConfig, HttpClient};
///
/// let client = HttpClient::new(ClientConfig::default())?;
/// let created = client
///     .post("https://api.example.com/items")
///     .header("authorization", "Bearer abc")
///     .json(&serde_json::json!({ "name": "thing" }))
///     .await?;
/// assert!(created.status().is_success());
/// # Ok(()) }
/// ```
#[must_use = "a request does nothing until it is awaited or sent"]
pub struct RequestBuilder<D: Dial + Clone = TcpDialer> {
    client: HttpClient<D>,
    method: Method,
    uri: Result<Uri>,
    headers: HeaderMap,
    body: Payload,
}

impl<D: Dial + Clone> RequestBuilder<D> {
    pub(crate) fn new(client: HttpClient<D>, method: Method, url: &str) -> Self {
        Self {
            client,
            method,
            uri: parse_url(url),
            headers: HeaderMap::new(),
            body: Payload::Bytes(Bytes::new()),
        }
    }

    /// Adds a header field. An invalid name or value fails the request when it is sent.
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        V: TryInto<HeaderValue>,
    {
        match (name.try_into(), value.try_into()) {
            (Ok(n), Ok(v)) => {
                self.headers.append(n, v);
            }
            _ => {
                if self.uri.is_ok() {
                    self.uri = Err(Error::InvalidRequest {
                        reason: "a header name or value is not valid; names are tokens, values visible ASCII",
                    });
                }
            }
        }
        self
    }

    /// Adds every field of `headers`.
    pub fn headers(mut self, headers: HeaderMap) -> Self {
        for (name, value) in headers {
            if let Some(name) = name {
                self.headers.append(name, value);
            }
        }
        self
    }

    /// A body in one piece: it can be sent again on a redirect, a retry or a fallback.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Payload::Bytes(body.into());
        self
    }

    /// A streamed body: sent once, so a request with it is not retried, and a redirect
    /// that would resend it is returned as it is. (A `Body` that is already all in
    /// memory, such as `Body::from(bytes)`, is kept as bytes and can be sent again.)
    pub fn body_stream(mut self, body: Body) -> Self {
        self.body = Payload::from_body(body);
        self
    }

    /// `value` as a JSON body, with `Content-Type: application/json` unless one is set.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(v) => {
                if !self.headers.contains_key(CONTENT_TYPE) {
                    self.headers
                        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
                self.body = Payload::Bytes(v.into());
            }
            Err(e) => {
                if self.uri.is_ok() {
                    self.uri = Err(Error::Json(e));
                }
            }
        }
        self
    }

    /// Sends the request and waits for the response head.
    ///
    /// # Errors
    ///
    /// See [`HttpClient::execute`].
    pub async fn send(self) -> Result<Response> {
        let uri = self.uri?;
        self.client
            .execute_parts(self.method, uri, self.headers, self.body)
            .await
    }
}

impl<D: Dial + Clone> IntoFuture for RequestBuilder<D> {
    type Output = Result<Response>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Response>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl<D: Dial + Clone> fmt::Debug for RequestBuilder<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .field("uri", &self.uri.as_ref().ok())
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

const NOT_ABSOLUTE: &str = "it is not an absolute URL; give one like http://example.com/path";

/// `url` as an absolute URI.
pub(crate) fn parse_url(url: &str) -> Result<Uri> {
    url.parse::<Uri>()
        .ok()
        .filter(is_absolute)
        .ok_or_else(|| Error::InvalidUrl {
            url: url.to_owned(),
            reason: NOT_ABSOLUTE,
        })
}

/// `uri` if it is absolute (has a scheme and an authority), as requests need.
pub(crate) fn absolute(uri: Uri) -> Result<Uri> {
    if is_absolute(&uri) {
        Ok(uri)
    } else {
        Err(Error::InvalidUrl {
            url: uri.to_string(),
            reason: NOT_ABSOLUTE,
        })
    }
}

fn is_absolute(uri: &Uri) -> bool {
    uri.scheme().is_some() && uri.authority().is_some()
}

/// A request body across redirects, retries and protocol fallback: bytes can be sent
/// again, a stream once.
pub(crate) enum Payload {
    Bytes(Bytes),
    Stream(Mutex<Option<Body>>),
}

impl Payload {
    /// Bytes when `body` is all in memory (so it can be sent again), else a stream.
    pub(crate) fn from_body(body: Body) -> Self {
        match body.into_full() {
            Ok(bytes) => Self::Bytes(bytes),
            Err(stream) => Self::Stream(Mutex::new(Some(stream))),
        }
    }

    pub(crate) fn is_replayable(&self) -> bool {
        matches!(self, Self::Bytes(_))
    }

    /// Whether a send can still have the body (bytes, or a stream not yet taken).
    pub(crate) fn is_available(&self) -> bool {
        match self {
            Self::Bytes(_) => true,
            Self::Stream(s) => s.lock().unwrap_or_else(PoisonError::into_inner).is_some(),
        }
    }

    /// The body for one send.
    pub(crate) fn take(&self) -> Result<Body> {
        match self {
            Self::Bytes(b) if b.is_empty() => Ok(Body::empty()),
            Self::Bytes(b) => Ok(Body::from(b.clone())),
            Self::Stream(s) => s
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
                .ok_or(Error::BodyClosed),
        }
    }
}
