//! The HTTP/1.1 client benchmark: 1,000 small sequential GETs over one keep-alive
//! connection against one local server, through
//!
//! - ghostnet-http1's `Client` (over the transport pool), the side measured,
//! - reqwest 0.12 (hyper 1 underneath, its default pooled client), the peer, and
//! - hyper-util's legacy pooled `Client`, the second peer (what reqwest builds on, minus
//!   reqwest's own layers),
//!
//! each reading the whole response body. The server is ghostnet-http1's own (the same for
//! every side) on its own thread and current-thread runtime; each client runs on one
//! current-thread runtime, so server and client get one core each. Sides alternate
//! (A B B A ...) as `shared/bench.md` asks; medians of req/s are reported.
//!
//! `--quick` runs fewer, shorter rounds. `--profile ours|reqwest|hyper` runs only that
//! side, 5,000 requests, for `valgrind --tool=callgrind`. Prints a JSON array of results
//! (for `cargo xtask bench`, once registered there).

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use ghostnet::http1::client::Client;
use ghostnet::http1::http::{Request, Response};
use ghostnet::http1::{Body, Server};
use ghostnet::runtime::Shutdown;
use ghostnet::transport::{TcpListener, TcpOptions};
use ghostnet_benches::report::{BenchResult, SuiteArgs, alternate, emit};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

const BODY: &str = "Hello, World!";
const CMD: &str = "cargo run --release -p ghostnet-benches --bin bench_http1_client";

fn main() {
    let args = SuiteArgs::from_env();
    let runs = args.pick(11, 2);
    let requests: u32 = args.pick(1000, 200);
    let addr = start_server();
    let url = format!("http://{addr}/plaintext");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let per_sec = |secs: f64| f64::from(requests) / secs;
    if let Some(side) = profile_side() {
        let secs = match side.as_str() {
            "ours" => rt.block_on(ghostnet_client(&url, 5000)),
            "reqwest" => rt.block_on(reqwest_client(&url, 5000)),
            _ => rt.block_on(hyper_util_client(&url, 5000)),
        };
        println!("{side}: {:.0} req/s", 5000.0 / secs);
        return;
    }

    let ours = || per_sec(rt.block_on(ghostnet_client(&url, requests)));
    let m = alternate(runs, ours, || {
        per_sec(rt.block_on(reqwest_client(&url, requests)))
    });
    let vs_reqwest = BenchResult::new(
        "http1_client_sequential_get_1000",
        "req/s",
        true,
        "reqwest 0.12 (default pooled client, plain http)",
        m,
        CMD,
    );
    let m = alternate(runs, ours, || {
        per_sec(rt.block_on(hyper_util_client(&url, requests)))
    });
    let vs_hyper = BenchResult::new(
        "http1_client_sequential_get_1000_vs_hyper_util",
        "req/s",
        true,
        "hyper-util 0.1 legacy Client (HttpConnector, pooled)",
        m,
        CMD,
    );
    emit(&[vs_reqwest, vs_hyper]);
}

/// The side named by `--profile SIDE`, if any.
fn profile_side() -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == "--profile")?;
    Some(
        args.get(at + 1)
            .cloned()
            .unwrap_or_else(|| "ours".to_owned()),
    )
}

/// ghostnet-http1's server on 127.0.0.1:0, on its own thread and current-thread runtime.
fn start_server() -> SocketAddr {
    ghostnet_benches::server_thread::start(move |tx| async move {
        let listener =
            TcpListener::bind("127.0.0.1:0".parse().expect("addr"), TcpOptions::default())
                .expect("bind");
        tx.send(listener.local_addr()).expect("report addr");
        let hello = |_req: Request<Body>| async {
            Response::builder()
                .header("content-type", "text/plain")
                .body(Body::from(BODY))
                .expect("response")
        };
        let shutdown = Shutdown::new();
        let _ = Server::builder()
            .build()
            .serve(listener, hello, shutdown)
            .await;
    })
}

/// Seconds for `n` GETs after one warm-up request (which opens the connection).
async fn ghostnet_client(url: &str, n: u32) -> f64 {
    let client = Client::new();
    let one = async || {
        let response = client.get(url).await.expect("request");
        response.into_body().bytes().await.expect("body")
    };
    one().await;
    let start = Instant::now();
    let mut body = Bytes::new();
    for _ in 0..n {
        body = one().await;
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(&body[..], BODY.as_bytes());
    let stats = client.http_pool().stats();
    assert_eq!((stats.created, stats.reused), (1, u64::from(n)));
    secs
}

async fn reqwest_client(url: &str, n: u32) -> f64 {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client");
    let one = async || {
        let response = client.get(url).send().await.expect("request");
        response.bytes().await.expect("body")
    };
    one().await;
    let start = Instant::now();
    let mut body = Bytes::new();
    for _ in 0..n {
        body = one().await;
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(&body[..], BODY.as_bytes());
    secs
}

async fn hyper_util_client(url: &str, n: u32) -> f64 {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: HyperClient<_, Empty<Bytes>> =
        HyperClient::builder(TokioExecutor::new()).build(connector);
    let uri: hyper::Uri = url.parse().expect("uri");
    let one = async || {
        let response = client.get(uri.clone()).await.expect("request");
        response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
    };
    one().await;
    let start = Instant::now();
    let mut body = Bytes::new();
    for _ in 0..n {
        body = one().await;
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(&body[..], BODY.as_bytes());
    secs
}
