//! [`HttpFetch`] for the unified client, [`ghostnet_http::client::HttpClient`]: HTTP/2
//! (TLS with ALPN, or h2c with prior knowledge) and HTTP/1.1 behind one pool, so the AUR
//! client's batches share multiplexed connections and downloads can run over h2.

use std::task::{Context, Poll};

use bytes::Bytes;
use ghostnet_http::client::{HttpClient, ResponseBody};
use ghostnet_transport::Dial;
use http::Request;

use super::{ChunkSource, FetchBody, FetchError, FetchFuture, HttpFetch};

impl ChunkSource for ResponseBody {
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, FetchError>>> {
        ResponseBody::poll_chunk(self, cx).map(|c| c.map(|r| r.map_err(FetchError::from_error)))
    }

    fn size_hint(&self) -> Option<u64> {
        ResponseBody::size_hint(self)
    }
}

impl<D> HttpFetch for HttpClient<D>
where
    D: Dial + Clone + Send + Sync + 'static,
{
    fn fetch(&self, request: Request<Bytes>) -> FetchFuture<'_> {
        // A `Bytes` body stays bytes, which the client can send again on a retry, a
        // redirect or a protocol fallback.
        let request = request.map(ghostnet_http::Body::from);
        Box::pin(async move {
            let response = self
                .execute(request)
                .await
                .map_err(FetchError::from_error)?;
            let response: http::Response<ResponseBody> = response.into();
            Ok(response.map(FetchBody::new))
        })
    }
}
