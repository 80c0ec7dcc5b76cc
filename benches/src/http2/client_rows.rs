//! The client rows of the suite, all against one ghostnet-http server that speaks
//! HTTP/1.1 and h2c on one port:
//!
//! - `batch_get` of N small GETs over one HTTP/2 connection (ghostnet-http's
//!   `HttpClient`), against N sequential GETs each on a new connection (HTTP/1.1,
//!   `Connection: close`), and against reqwest's HTTP/2 client sending the same N at
//!   once (prior knowledge, one connection).
//! - One large download with `HttpClient` over h2c against the same over HTTP/1.1.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ghostnet::runtime::Shutdown;
use ghostnet::transport::{TcpListener, TcpOptions};
use ghostnet_http::client::{ClientConfig, HttpClient, Protocol};
use ghostnet_http::{Body, Request, RequestExt, Router, Server, get};

use super::HELLO;
use super::repeat::Repeat;

/// Who sends a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batcher {
    /// `HttpClient::batch_get` over h2c.
    Ghostnet,
    /// reqwest 0.12, HTTP/2 prior knowledge, all requests at once.
    Reqwest,
    /// `HttpClient` over HTTP/1.1, one request after the other, each on a new connection.
    Sequential,
}

impl Batcher {
    /// The name on the helper's command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ghostnet => "ghostnet",
            Self::Reqwest => "reqwest",
            Self::Sequential => "sequential",
        }
    }

    /// Parses [`name`](Self::name).
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Ghostnet, Self::Reqwest, Self::Sequential]
            .into_iter()
            .find(|b| b.name() == s)
    }
}

/// Serves `/` (the hello body) and `/download/<bytes>` with ghostnet-http's server
/// (HTTP/1.1 and h2c on one port) on 127.0.0.1:0 until the process ends.
pub async fn serve(ready: impl FnOnce(SocketAddr)) {
    let listener = TcpListener::bind(
        "127.0.0.1:0".parse().expect("address"),
        TcpOptions::default(),
    )
    .expect("bind");
    ready(listener.local_addr());
    let router = Router::new()
        .route("/", get(|_req: Request| async { HELLO }))
        .route(
            "/download/:len",
            get(|req: Request| async move {
                let len: u64 = req.param("len")?;
                Ok::<_, ghostnet_http::Error>(Body::wrap(Repeat::new(len)))
            }),
        );
    let server = Server::builder()
        .http2_settings(super::ghostnet_settings())
        .build()
        .expect("server");
    let _ = server.serve(listener, router, Shutdown::new()).await;
}

/// The time `batcher` takes for `n` GETs of `/` (heads and bodies), client setup
/// excluded, connection setup included, measured after one untimed batch with another
/// client: the first requests of a fresh process pay for page faults and lazy
/// initialisation (~0.4 ms here, for every side alike), which is not what is compared.
pub async fn batch(batcher: Batcher, addr: SocketAddr, n: usize) -> Duration {
    let _warm_up = timed_batch(batcher, addr, n).await;
    timed_batch(batcher, addr, n).await
}

async fn timed_batch(batcher: Batcher, addr: SocketAddr, n: usize) -> Duration {
    let url = format!("http://{addr}/");
    let urls = vec![url.clone(); n];
    match batcher {
        Batcher::Ghostnet => {
            let config = ClientConfig::default()
                .h2_prior_knowledge(true)
                .protocols([Protocol::H2]);
            let client = HttpClient::new(config).expect("client");
            let start = Instant::now();
            for r in client.batch_get(&urls).await {
                let body = r.expect("response").bytes().await.expect("body");
                assert_eq!(body, HELLO);
            }
            start.elapsed()
        }
        Batcher::Reqwest => {
            let client = reqwest::Client::builder()
                .no_proxy()
                .http2_prior_knowledge()
                .build()
                .expect("reqwest client");
            let start = Instant::now();
            let all = futures_util::future::join_all(urls.iter().map(|u| {
                let client = &client;
                async move {
                    let r = client.get(u).send().await.expect("response");
                    r.bytes().await.expect("body")
                }
            }))
            .await;
            let elapsed = start.elapsed();
            assert!(all.iter().all(|b| b == HELLO));
            elapsed
        }
        Batcher::Sequential => {
            let config = ClientConfig::default().protocols([Protocol::Http11]);
            let client = HttpClient::new(config).expect("client");
            let start = Instant::now();
            for u in &urls {
                let r = client
                    .get(u)
                    .header("connection", "close")
                    .await
                    .expect("response");
                assert_eq!(r.bytes().await.expect("body"), HELLO);
            }
            start.elapsed()
        }
    }
}

/// The time `HttpClient` takes to download `len` bytes over `protocol` (h2c or
/// HTTP/1.1), from the request to the last byte.
pub async fn download(protocol: Protocol, addr: SocketAddr, len: u64) -> Duration {
    let config = ClientConfig::default()
        .h2_prior_knowledge(protocol == Protocol::H2)
        .http2(super::ghostnet_settings())
        .protocols([protocol]);
    let client = HttpClient::new(config).expect("client");
    let start = Instant::now();
    let mut response = client
        .get(&format!("http://{addr}{}{len}", super::DOWNLOAD_PATH))
        .await
        .expect("response");
    assert_eq!(response.protocol(), protocol);
    let mut got = 0u64;
    while let Some(chunk) = response.chunk().await {
        got += chunk.expect("body").len() as u64;
    }
    let elapsed = start.elapsed();
    assert_eq!(got, len, "short download");
    elapsed
}
