//! The one thing the AUR client needs from HTTP: send a request with a small body and
//! read the whole response. Kept behind this seam so the client does not care which
//! HTTP stack (or in-process server) answers.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use ghostnet_http1::Body;
use ghostnet_http1::client::Client;
use ghostnet_transport::Dial;
use http::{Request, Response};

/// What an exchange returns: the response with its whole body, or why there was none.
pub(crate) type Exchanged = Result<Response<Bytes>, String>;

/// A boxed exchange future (object safe, so the client is not generic).
pub(crate) type ExchangeFuture<'a> = Pin<Box<dyn Future<Output = Exchanged> + Send + 'a>>;

/// Sends one request and buffers the response body up to `max_body` bytes.
pub(crate) trait Exchange: Send + Sync + 'static {
    fn exchange(&self, req: Request<Bytes>, max_body: u64) -> ExchangeFuture<'_>;
}

impl<D: Dial + Clone> Exchange for Client<D> {
    fn exchange(&self, req: Request<Bytes>, max_body: u64) -> ExchangeFuture<'_> {
        Box::pin(async move {
            let req = req.map(Body::from);
            let response = self.request(req).await.map_err(|e| e.to_string())?;
            let (parts, body) = response.into_parts();
            let body = body
                .with_limit(max_body)
                .bytes()
                .await
                .map_err(|e| e.to_string())?;
            Ok(Response::from_parts(parts, body))
        })
    }
}
