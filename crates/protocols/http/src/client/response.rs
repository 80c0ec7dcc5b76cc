//! [`Response`]: what a request returns, over whichever protocol carried it, with a
//! streaming [`ResponseBody`].

use std::fmt;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, StatusCode, Uri, Version};
use serde::de::DeserializeOwned;

use super::config::Protocol;
use super::h2_body::H2Body;
use crate::error::{Error, Result};

/// A response: status, headers and a body that streams as it arrives.
///
/// ```no_run
/// # async fn demo() -> ghostnet_http::Result<()> {
/// use ghostnet_http::client::{ClientConfig, HttpClient};
///
/// let client = HttpClient::new(ClientConfig::default())?;
/// let mut response = client.get("https://example.com/big.iso").await?;
/// println!("{} over {}", response.status(), response.protocol());
/// while let Some(chunk) = response.chunk().await {
///     let chunk = chunk?;
///     // write the chunk somewhere
/// #   let _ = chunk;
/// }
/// # Ok(()) }
/// ```
pub struct Response {
    status: StatusCode,
    version: Version,
    headers: HeaderMap,
    url: Uri,
    protocol: Protocol,
    body: ResponseBody,
}

impl Response {
    pub(crate) fn new(
        parts: http::response::Parts,
        url: Uri,
        protocol: Protocol,
        body: ResponseBody,
    ) -> Self {
        Self {
            status: parts.status,
            version: parts.version,
            headers: parts.headers,
            url,
            protocol,
            body,
        }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The header fields.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The HTTP version of the response, as the protocol layer reported it.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The protocol the response came over.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The URL the response came from: the request's, or the last redirect's.
    pub fn url(&self) -> &Uri {
        &self.url
    }

    /// The body, to stream from.
    pub fn body_mut(&mut self) -> &mut ResponseBody {
        &mut self.body
    }

    /// The body, leaving the head behind.
    pub fn into_body(self) -> ResponseBody {
        self.body
    }

    /// The next piece of the body; `None` at its end.
    pub async fn chunk(&mut self) -> Option<Result<Bytes>> {
        self.body.chunk().await
    }

    /// The whole body, within the client's `max_buffered_body_bytes`.
    ///
    /// # Errors
    ///
    /// [`Error::BodyTooLarge`] over the limit; the protocol's error when the body
    /// breaks off.
    pub async fn bytes(self) -> Result<Bytes> {
        self.body.bytes().await
    }

    /// The whole body as UTF-8 text (invalid sequences replaced).
    ///
    /// # Errors
    ///
    /// As [`bytes`](Self::bytes).
    pub async fn text(self) -> Result<String> {
        let bytes = self.bytes().await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The whole body parsed as JSON into `T`.
    ///
    /// # Errors
    ///
    /// As [`bytes`](Self::bytes), and [`Error::Json`] when the body is not `T` in JSON.
    pub async fn json<T: DeserializeOwned>(self) -> Result<T> {
        let bytes = self.bytes().await?;
        serde_json::from_slice(&bytes).map_err(Error::Json)
    }
}

/// The response as an `http::Response`: status, version and headers as received, the
/// body still streaming. The [`Protocol`] it came over and the final [`Uri`] (after
/// redirects) go into its extensions.
///
/// ```no_run
/// # async fn demo() -> ghostnet_http::Result<()> {
/// use ghostnet_http::client::{ClientConfig, HttpClient, Protocol, ResponseBody};
///
/// let client = HttpClient::new(ClientConfig::default())?;
/// let response: http::Response<ResponseBody> = client.get("http://example.com/").await?.into();
/// let protocol = response.extensions().get::<Protocol>().copied();
/// # let _ = protocol;
/// # Ok(()) }
/// ```
impl From<Response> for http::Response<ResponseBody> {
    fn from(r: Response) -> Self {
        let mut out = http::Response::new(r.body);
        *out.status_mut() = r.status;
        *out.version_mut() = r.version;
        *out.headers_mut() = r.headers;
        out.extensions_mut().insert(r.protocol);
        out.extensions_mut().insert(r.url);
        out
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("protocol", &self.protocol)
            .field("url", &self.url)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

/// A response body over HTTP/1.1 or HTTP/2, read piece by piece with
/// [`chunk`](Self::chunk) or whole with [`bytes`](Self::bytes).
pub struct ResponseBody {
    kind: Kind,
    limit: u64,
}

enum Kind {
    /// Decoded, with its connection going back to the pool at the end.
    H1(ghostnet_http1::client::ResponseBody),
    /// The HTTP/2 stream, decoded the same way, and its share of the connection.
    H2(H2Body),
}

impl ResponseBody {
    pub(crate) fn http1(body: ghostnet_http1::client::ResponseBody, limit: u64) -> Self {
        Self {
            kind: Kind::H1(body),
            limit,
        }
    }

    pub(crate) fn http2(body: H2Body, limit: u64) -> Self {
        Self {
            kind: Kind::H2(body),
            limit,
        }
    }

    /// Sets the most bytes [`bytes`](Self::bytes) buffers (default: the client's
    /// `max_buffered_body_bytes`).
    pub fn with_limit(mut self, max: u64) -> Self {
        self.limit = max;
        self
    }

    /// The body's length, when the response said it (and it is not being decoded).
    pub fn size_hint(&self) -> Option<u64> {
        match &self.kind {
            Kind::H1(b) => b.size_hint(),
            Kind::H2(b) => b.size_hint(),
        }
    }

    /// The content coding being decoded (`gzip`, `br`, `deflate`, `zstd`), if any. The
    /// response's `Content-Encoding` and `Content-Length` fields were removed then, as
    /// they describe the bytes on the wire, not the ones read here.
    pub fn decoded_from(&self) -> Option<&'static str> {
        match &self.kind {
            Kind::H1(b) => b.decoded_from(),
            Kind::H2(b) => b.decoded_from(),
        }
    }

    /// Polls for the next piece of the body; `None` at its end.
    pub fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes>>> {
        match &mut self.kind {
            Kind::H1(b) => b.poll_chunk(cx).map(|c| c.map(|r| r.map_err(Error::from))),
            Kind::H2(b) => b.poll_chunk(cx),
        }
    }

    /// The next piece of the body; `None` at its end.
    pub async fn chunk(&mut self) -> Option<Result<Bytes>> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await
    }

    /// Reads the whole body, within its limit.
    ///
    /// # Errors
    ///
    /// [`Error::BodyTooLarge`] over the limit; the protocol's error when the body
    /// breaks off.
    pub async fn bytes(mut self) -> Result<Bytes> {
        if let Some(len) = self.size_hint()
            && len > self.limit
        {
            return Err(Error::BodyTooLarge { limit: self.limit });
        }
        let mut first: Option<Bytes> = None;
        let mut rest = BytesMut::new();
        let mut total = 0u64;
        while let Some(chunk) = self.chunk().await {
            let chunk = chunk?;
            total += chunk.len() as u64;
            if total > self.limit {
                return Err(Error::BodyTooLarge { limit: self.limit });
            }
            // One chunk (the common small response) is returned without a copy.
            match first.take() {
                None if rest.is_empty() => first = Some(chunk),
                prev => {
                    if let Some(p) = prev {
                        rest.extend_from_slice(&p);
                    }
                    rest.extend_from_slice(&chunk);
                }
            }
        }
        Ok(first.unwrap_or_else(|| rest.freeze()))
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let protocol = match self.kind {
            Kind::H1(_) => Protocol::Http11,
            Kind::H2(_) => Protocol::H2,
        };
        f.debug_struct("ResponseBody")
            .field("protocol", &protocol)
            .field("size_hint", &self.size_hint())
            .field("decoded_from", &self.decoded_from())
            .finish_non_exhaustive()
    }
}
