//! The one HTTP seam of this crate: [`HttpFetch`] sends an `http::Request` and returns an
//! `http::Response` whose body streams ([`FetchBody`]).
//!
//! Everything in `ghostnet-pkgmgr` that talks HTTP (downloads, the AUR client, mirror
//! health checks) goes through this trait, so it runs over any client: the HTTP/1.1
//! [`ghostnet_http1::client::Client`] and the unified
//! [`ghostnet_http::client::HttpClient`] (HTTP/2 and HTTP/1.1; both implemented here), or
//! an in-process fake in tests.
//!
//! ```
//! use bytes::Bytes;
//! use ghostnet_pkgmgr::fetch::{FetchBody, FetchFuture, HttpFetch};
//! use http::{Request, Response};
//!
//! /// A fake server that answers every request with "hello".
//! struct Hello;
//!
//! impl HttpFetch for Hello {
//!     fn fetch(&self, _request: Request<Bytes>) -> FetchFuture<'_> {
//!         Box::pin(async { Ok(Response::new(FetchBody::from(Bytes::from("hello")))) })
//!     }
//! }
//!
//! # tokio_test_block_on(async {
//! let response = Hello.fetch(Request::new(Bytes::new())).await.unwrap();
//! assert_eq!(response.into_body().bytes(1024).await.unwrap(), "hello");
//! # });
//! # fn tokio_test_block_on(f: impl std::future::Future<Output = ()>) {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

use std::error::Error as StdError;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use ghostnet_resilience::{Classify, FailureKind};
use http::{Request, Response};

/// The future [`HttpFetch::fetch`] returns: boxed, so the trait stays usable as
/// `dyn HttpFetch`.
pub type FetchFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Response<FetchBody>, FetchError>> + Send + 'a>>;

/// Sends one HTTP request and returns the response as soon as its head has arrived.
///
/// The body of the response streams ([`FetchBody::chunk`]). An implementation follows
/// its own redirect, keep-alive and timeout rules; it must not turn error statuses into
/// errors (the caller reads the status), and must not decode content when the request
/// carries `Accept-Encoding` or `Range` (downloads want the bytes as stored).
pub trait HttpFetch: Send + Sync {
    /// Sends `request` and returns the response head with a streaming body.
    ///
    /// # Errors
    ///
    /// A [`FetchError`] when no response head arrived (connect, timeout, protocol).
    fn fetch(&self, request: Request<Bytes>) -> FetchFuture<'_>;
}

impl<T: HttpFetch + ?Sized> HttpFetch for Arc<T> {
    fn fetch(&self, request: Request<Bytes>) -> FetchFuture<'_> {
        (**self).fetch(request)
    }
}

impl<T: HttpFetch + ?Sized> HttpFetch for &T {
    fn fetch(&self, request: Request<Bytes>) -> FetchFuture<'_> {
        (**self).fetch(request)
    }
}

/// Where the bytes of a [`FetchBody`] come from: a client's response body, a channel,
/// a test fake.
pub trait ChunkSource: Send + Unpin {
    /// The next piece of the body, `None` at its end.
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, FetchError>>>;

    /// The body's length when known (`Content-Length`), for progress.
    fn size_hint(&self) -> Option<u64> {
        None
    }
}

/// Chunks sent through a channel become a body (handy for tests and fakes).
impl ChunkSource for tokio::sync::mpsc::Receiver<Result<Bytes, FetchError>> {
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, FetchError>>> {
        self.poll_recv(cx)
    }
}

/// The streaming body of a fetched response.
pub struct FetchBody {
    source: Box<dyn ChunkSource>,
}

struct Whole(Option<Bytes>);

impl ChunkSource for Whole {
    fn poll_chunk(&mut self, _cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, FetchError>>> {
        Poll::Ready(self.0.take().filter(|b| !b.is_empty()).map(Ok))
    }

    fn size_hint(&self) -> Option<u64> {
        Some(self.0.as_ref().map_or(0, |b| b.len() as u64))
    }
}

impl FetchBody {
    /// A body read from `source`.
    pub fn new(source: impl ChunkSource + 'static) -> Self {
        Self {
            source: Box::new(source),
        }
    }

    /// A body with no bytes.
    pub fn empty() -> Self {
        Self::from(Bytes::new())
    }

    /// The body's length when known.
    pub fn size_hint(&self) -> Option<u64> {
        self.source.size_hint()
    }

    /// Polls for the next piece of the body.
    pub fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, FetchError>>> {
        self.source.poll_chunk(cx)
    }

    /// The next piece of the body, `None` at its end.
    ///
    /// # Errors
    ///
    /// A [`FetchError`] when the body broke off (connection lost, read timeout, fewer
    /// bytes than `Content-Length`).
    pub async fn chunk(&mut self) -> Option<Result<Bytes, FetchError>> {
        poll_fn(|cx| self.source.poll_chunk(cx)).await
    }

    /// The whole body, refusing more than `limit` bytes.
    ///
    /// # Errors
    ///
    /// A [`FetchError`] when the body broke off, or is longer than `limit`
    /// ([`FailureKind::Permanent`]).
    pub async fn bytes(mut self, limit: u64) -> Result<Bytes, FetchError> {
        let mut all = BytesMut::new();
        while let Some(chunk) = self.chunk().await {
            let chunk = chunk?;
            if (all.len() + chunk.len()) as u64 > limit {
                return Err(FetchError::new(
                    FailureKind::Permanent,
                    format!("response body is larger than the {limit}-byte limit"),
                ));
            }
            all.extend_from_slice(&chunk);
        }
        Ok(all.freeze())
    }
}

impl From<Bytes> for FetchBody {
    fn from(bytes: Bytes) -> Self {
        Self::new(Whole(Some(bytes)))
    }
}

impl fmt::Debug for FetchBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FetchBody")
            .field("size_hint", &self.size_hint())
            .finish_non_exhaustive()
    }
}

/// Why a fetch (or the reading of its body) failed, with the [`FailureKind`] a retry
/// policy needs.
#[derive(Clone)]
pub struct FetchError {
    kind: FailureKind,
    message: String,
    source: Option<Arc<dyn StdError + Send + Sync>>,
}

impl FetchError {
    /// An error of `kind` described by `message` (lowercase, says what happened).
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Wraps a client's error, classified by its own [`Classify`] impl.
    pub fn from_error<E: StdError + Classify + Send + Sync + 'static>(error: E) -> Self {
        Self {
            kind: error.classify(),
            message: error.to_string(),
            source: Some(Arc::new(error)),
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    /// The description.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl Classify for FetchError {
    fn classify(&self) -> FailureKind {
        self.kind
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FetchError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .finish()
    }
}

impl StdError for FetchError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

mod http1;
mod http_client;
