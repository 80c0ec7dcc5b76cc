//! Fetches 100 URLs with `HttpClient::batch_get`, from a server it starts in-process on
//! 127.0.0.1 (or from `--addr`): multiplexed on one HTTP/2 connection (h2c), or with
//! `--http1` spread over pooled HTTP/1.1 connections.
//!
//! Run: `cargo run --release -p ghostnet-http --example batch_fetch -- --count 100`
//! (`--http1`, `--addr 127.0.0.1:8080` to fetch `/item/<n>` from a running server).

use std::net::SocketAddr;
use std::time::Instant;

use ghostnet_http::client::{ClientConfig, HttpClient, Protocol};
use ghostnet_http::{Request, RequestExt, Router, Server, get};
use ghostnet_runtime::{Config, Shutdown, run};
use ghostnet_transport::{TcpListener, TcpOptions};

struct Args {
    count: usize,
    http1: bool,
    addr: Option<SocketAddr>,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        count: 100,
        http1: false,
        addr: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--count" => {
                args.count = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--count takes a number")?;
            }
            "--http1" => args.http1 = true,
            "--addr" => {
                args.addr = Some(
                    it.next()
                        .and_then(|v| v.parse().ok())
                        .ok_or("--addr takes HOST:PORT, e.g. 127.0.0.1:8080")?,
                );
            }
            other => {
                return Err(format!(
                    "unknown argument {other:?}; use --count N, --http1, --addr HOST:PORT"
                ));
            }
        }
    }
    Ok(args)
}

async fn item(req: Request) -> ghostnet_http::Result<String> {
    let n: u64 = req.param("n")?;
    Ok(format!("item {n}\n"))
}

/// The routes the in-process server answers: `GET /item/:n`.
pub(crate) fn router() -> Router {
    Router::new().route("/item/:n", get(item))
}

/// What one batch did.
pub(crate) struct Summary {
    pub(crate) urls: usize,
    pub(crate) ok: usize,
    pub(crate) bytes: usize,
    pub(crate) protocol: Option<Protocol>,
    /// Bodies in input order (failed URLs leave no entry).
    pub(crate) bodies: Vec<String>,
}

/// Fetches `/item/0` .. `/item/<count - 1>` from `addr` with one `batch_get`: over h2c
/// unless `http1`.
pub(crate) async fn fetch(
    addr: SocketAddr,
    count: usize,
    http1: bool,
) -> ghostnet_http::Result<Summary> {
    let config = ClientConfig::default().h2_prior_knowledge(!http1);
    let client = HttpClient::new(config)?;
    let urls: Vec<String> = (0..count)
        .map(|n| format!("http://{addr}/item/{n}"))
        .collect();
    let results = client.batch_get(&urls).await;
    let mut summary = Summary {
        urls: urls.len(),
        ok: 0,
        bytes: 0,
        protocol: None,
        bodies: Vec::new(),
    };
    for (url, result) in urls.iter().zip(results) {
        match result {
            Ok(response) => {
                summary.protocol = Some(response.protocol());
                let body = response.text().await?;
                summary.bytes += body.len();
                summary.bodies.push(body);
                summary.ok += 1;
            }
            Err(e) => eprintln!("{url}: {e}"),
        }
    }
    Ok(summary)
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args = args()?;
    run(Config::for_cli(), async move {
        let shutdown = Shutdown::new();
        let addr = match args.addr {
            Some(addr) => addr,
            None => {
                let listener = TcpListener::bind("127.0.0.1:0".parse()?, TcpOptions::default())?;
                let addr = listener.local_addr();
                let server = Server::builder().build()?;
                tokio::spawn(server.serve(listener, router(), shutdown.clone()));
                println!("serving http://{addr}/item/<n> (HTTP/1.1 and h2c)");
                addr
            }
        };

        let start = Instant::now();
        let summary = fetch(addr, args.count, args.http1).await?;
        let elapsed = start.elapsed();
        println!(
            "{}/{} fetched over {} in {elapsed:?} ({} bytes, {:.0} requests/s)",
            summary.ok,
            summary.urls,
            summary.protocol.map_or("-", |p| p.as_str()),
            summary.bytes,
            summary.ok as f64 / elapsed.as_secs_f64(),
        );
        shutdown.shutdown().await;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    })?
}
