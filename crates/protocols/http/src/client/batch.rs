//! [`HttpClient::batch_get`]: many GETs at once, multiplexed on HTTP/2 or spread over
//! pooled HTTP/1.1 connections, each with its own result.

use std::collections::HashMap;
use std::sync::Arc;

use ghostnet_http1::client::origin::Origin;
use ghostnet_transport::Dial;
use http::{HeaderMap, Method, Uri};
use tokio::sync::Semaphore;

use super::config::Protocol;
use super::http_client::HttpClient;
use super::request::{Payload, parse_url};
use super::response::Response;
use crate::error::Result;

impl<D: Dial + Clone> HttpClient<D> {
    /// GETs every URL concurrently; the results come back in the order of `urls`, each
    /// failing on its own (a bad URL or a refused request does not stop the others).
    ///
    /// Requests to one origin run at most as many at a time as its protocol carries well:
    /// over HTTP/2 the streams of one connection (`max_streams_per_connection`, so a
    /// batch to one host shares one connection), over HTTP/1.1 one per pooled connection
    /// (`max_connections_per_host`). When the protocol of an origin is not settled yet
    /// (an `https` origin seen for the first time, with ALPN to ask), its first request
    /// goes alone and settles it.
    ///
    /// Responses arrive with their heads; bodies are read by the caller (an unread HTTP/2
    /// body holds its stream, an unread HTTP/1.1 body its connection).
    ///
    /// ```
    /// use ghostnet_http::client::{ClientConfig, HttpClient};
    /// use ghostnet_http::{Request, RequestExt, Router, Server, get};
    /// use ghostnet_runtime::Shutdown;
    /// use ghostnet_transport::MemoryNetwork;
    ///
    /// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
    /// let net = MemoryNetwork::new();
    /// let listener = net.listen(&"files.test:80".parse().unwrap()).unwrap();
    /// let shutdown = Shutdown::new();
    /// let router = Router::new().route("/:n", get(|req: Request| async move {
    ///     req.param::<u32>("n").map(|n| format!("file {n}"))
    /// }));
    /// tokio::spawn(Server::builder().build().unwrap().serve(listener, router, shutdown.clone()));
    ///
    /// let config = ClientConfig::default().h2_prior_knowledge(true);
    /// let client = HttpClient::with_dialer(config, net.dialer()).unwrap();
    /// let urls: Vec<String> = (0..20).map(|n| format!("http://files.test/{n}")).collect();
    /// let results = client.batch_get(&urls).await;
    /// for (n, result) in results.into_iter().enumerate() {
    ///     assert_eq!(result.unwrap().text().await.unwrap(), format!("file {n}"));
    /// }
    /// shutdown.shutdown().await;
    /// # }).unwrap();
    /// ```
    pub async fn batch_get<U: AsRef<str>>(&self, urls: &[U]) -> Vec<Result<Response>> {
        let parsed: Vec<Result<(Uri, Origin)>> = urls
            .iter()
            .map(|u| {
                let uri = parse_url(u.as_ref())?;
                let origin = Origin::of(&uri)?;
                Ok((uri, origin))
            })
            .collect();
        let mut results: Vec<Option<Result<Response>>> = Vec::with_capacity(urls.len());
        results.resize_with(urls.len(), || None);

        // Origins whose protocol is unknown: their first request goes ahead alone.
        let mut first_of: HashMap<&Origin, usize> = HashMap::new();
        for (i, p) in parsed.iter().enumerate() {
            if let Ok((_, origin)) = p
                && !first_of.contains_key(origin)
                && self.known_protocol(origin).is_none()
            {
                first_of.insert(origin, i);
            }
        }
        let scouts: Vec<(usize, Uri)> = first_of
            .into_values()
            .filter_map(|i| parsed[i].as_ref().ok().map(|(u, _)| (i, u.clone())))
            .collect();
        let scouted = futures_util::future::join_all(
            scouts
                .into_iter()
                .map(|(i, uri)| async move { (i, self.get_uri(uri).await) }),
        )
        .await;
        for (i, r) in scouted {
            results[i] = Some(r);
        }

        // The rest, with a per-origin limit on requests in flight.
        let mut limits: HashMap<&Origin, Arc<Semaphore>> = HashMap::new();
        let mut work = Vec::new();
        for (i, p) in parsed.iter().enumerate() {
            if results[i].is_some() {
                continue;
            }
            match p {
                Err(_) => {}
                Ok((uri, origin)) => {
                    let limit = limits
                        .entry(origin)
                        .or_insert_with(|| Arc::new(Semaphore::new(self.batch_width(origin))))
                        .clone();
                    work.push((i, uri.clone(), limit));
                }
            }
        }
        let done =
            futures_util::future::join_all(work.into_iter().map(|(i, uri, limit)| async move {
                // The semaphore is never closed, so acquiring cannot fail.
                let _permit = limit.acquire_owned().await.ok();
                (i, self.get_uri(uri).await)
            }))
            .await;
        for (i, r) in done {
            results[i] = Some(r);
        }
        results
            .into_iter()
            .zip(parsed)
            .map(|(r, p)| match (r, p) {
                (Some(r), _) => r,
                (None, Err(e)) => Err(e),
                // Every parsed URL was sent above.
                (None, Ok(_)) => Err(crate::Error::InvalidRequest {
                    reason: "the batch skipped this request",
                }),
            })
            .collect()
    }

    /// A GET for an already parsed URI.
    async fn get_uri(&self, uri: Uri) -> Result<Response> {
        self.execute_parts(
            Method::GET,
            uri,
            HeaderMap::new(),
            Payload::Bytes(bytes::Bytes::new()),
        )
        .await
    }

    /// How many requests of a batch run at once against `origin`.
    fn batch_width(&self, origin: &Origin) -> usize {
        let config = self.config();
        let pool = &config.pool;
        match self.known_protocol(origin) {
            Some(Protocol::H2) if config.http2_multiplexing => pool.max_streams_per_connection,
            _ => pool.max_per_host,
        }
        .max(1)
    }
}
