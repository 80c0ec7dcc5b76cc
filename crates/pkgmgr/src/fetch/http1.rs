//! [`HttpFetch`] for the HTTP/1.1 client, [`ghostnet_http1::client::Client`].

use std::task::{Context, Poll};

use bytes::Bytes;
use ghostnet_http1::Body;
use ghostnet_http1::client::{Client, ResponseBody};
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

impl<D> HttpFetch for Client<D>
where
    D: Dial + Clone + Send + Sync + 'static,
{
    fn fetch(&self, request: Request<Bytes>) -> FetchFuture<'_> {
        let request = request.map(Body::from);
        Box::pin(async move {
            let response = self
                .request(request)
                .await
                .map_err(FetchError::from_error)?;
            Ok(response.map(FetchBody::new))
        })
    }
}
