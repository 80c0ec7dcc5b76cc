//! The connection-pool part of the transport suite: 1,000 sequential HTTP/1.1 GETs against
//! one local keep-alive server, over
//!
//! - (a) `ghostnet::transport::pool::Pool` (request bytes written to the pooled stream, a
//!   fixed-size response read back),
//! - (b) a new TCP connection per request (what pooling saves), and
//! - (c) hyper-util's pooled legacy `Client` with `HttpConnector` (the peer).
//!
//! Also the pool's own cost, a checkout and return of an idle in-memory connection,
//! against an absolute target.
//!
//! Server and client each get one thread (current-thread runtimes), the same for every
//! side; (a) alternates with (b) and with (c) as `shared/bench.md` asks. Prints a JSON
//! array of results; `cargo xtask bench transport` wraps it into
//! `target/bench/transport.json`.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use ghostnet::transport::pool::{Pool, PoolKey};
use ghostnet::transport::{Dial, Listen, MemoryNetwork, Target, TcpDialer};
use ghostnet_benches::report::{BenchResult, Measured, SuiteArgs, alternate, emit, median};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok";
const CMD: &str = "cargo xtask bench transport";

fn main() {
    let args = SuiteArgs::from_env();
    let runs = args.pick(11, 2);
    let requests: u32 = args.pick(1000, 200);
    let addr = start_server();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let request = format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes();
    let per_sec = |secs: f64| f64::from(requests) / secs;

    let ours = || per_sec(rt.block_on(pooled(addr, &request, requests)));
    let m = alternate(runs, ours, || {
        per_sec(rt.block_on(hyper_util_client(addr, requests)))
    });
    let vs_hyper = BenchResult::new(
        "pool_http1_sequential_1000",
        "req/s",
        true,
        "hyper-util 0.1 legacy Client (HttpConnector, pooled)",
        m,
        CMD,
    );
    let m = alternate(runs, ours, || {
        per_sec(rt.block_on(fresh_connections(addr, &request, requests)))
    });
    let vs_fresh = BenchResult::new(
        "pool_http1_sequential_1000_vs_new_connection",
        "req/s",
        true,
        "new TCP connection per request",
        m,
        CMD,
    );
    let n = args.pick(1_000_000, 100_000);
    let samples: Vec<f64> = (0..runs)
        .map(|_| rt.block_on(checkout_return_ns(n)))
        .collect();
    let overhead = BenchResult::new(
        "pool_checkout_return_idle",
        "ns/op",
        false,
        "target: under 1 us",
        Measured {
            ours: median(&samples),
            peer: 1000.0,
            runs,
        },
        "cargo xtask bench transport (in-memory connection, no I/O)",
    );
    emit(&[vs_hyper, vs_fresh, overhead]);
}

/// Nanoseconds per `get` + drop of one idle in-memory connection: the pool's own cost
/// (lock, health probe, bookkeeping), without network I/O.
async fn checkout_return_ns(n: u32) -> f64 {
    let net = MemoryNetwork::new();
    let listener = net
        .listen(&"bench:1".parse().expect("target"))
        .expect("listen");
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            held.push(conn);
        }
    });
    let pool = Pool::new(net.dialer());
    let key: PoolKey = "tcp://bench:1".parse().expect("key");
    drop(pool.get(&key).await.expect("first checkout"));
    let start = Instant::now();
    for _ in 0..n {
        drop(pool.get(&key).await.expect("checkout"));
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(n);
    assert_eq!(pool.stats().created, 1);
    server.abort();
    ns
}

/// A minimal keep-alive HTTP/1.1 server on its own thread and runtime: answers every
/// request head (no bodies) with the same fixed response.
fn start_server() -> SocketAddr {
    ghostnet_benches::server_thread::start(move |tx| async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        tx.send(listener.local_addr().expect("addr"))
            .expect("report addr");
        loop {
            let Ok((conn, _)) = listener.accept().await else {
                continue;
            };
            let _ = conn.set_nodelay(true);
            tokio::spawn(serve(conn));
        }
    })
}

async fn serve(mut conn: TcpStream) {
    let mut buf = vec![0u8; 8192];
    let mut filled = 0;
    loop {
        match conn.read(&mut buf[filled..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => filled += n,
        }
        // Answer every complete request head in the buffer.
        while let Some(end) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
            if conn.write_all(RESPONSE).await.is_err() {
                return;
            }
            buf.copy_within(end + 4..filled, 0);
            filled -= end + 4;
        }
        if filled == buf.len() {
            return; // a head larger than 8 KiB: not from our clients
        }
    }
}

/// (a): our pool. Returns seconds for `n` requests after one warm-up request.
async fn pooled(addr: SocketAddr, request: &[u8], n: u32) -> f64 {
    let pool = Pool::new(TcpDialer::new());
    let key = PoolKey::new("http", Target::from(addr)).expect("key");
    let mut response = [0u8; RESPONSE.len()];
    let mut one = async || {
        let mut conn = pool.get(&key).await.expect("checkout");
        conn.write_all(request).await.expect("write");
        conn.read_exact(&mut response).await.expect("read");
    };
    one().await;
    let start = Instant::now();
    for _ in 0..n {
        one().await;
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(response, RESPONSE);
    let stats = pool.stats();
    assert_eq!((stats.created, stats.reused), (1, u64::from(n)));
    secs
}

/// (b): a new TCP connection per request.
async fn fresh_connections(addr: SocketAddr, request: &[u8], n: u32) -> f64 {
    let mut response = [0u8; RESPONSE.len()];
    let start = Instant::now();
    for _ in 0..n {
        let mut conn = TcpDialer::new()
            .dial(&Target::from(addr))
            .await
            .expect("connect");
        conn.write_all(request).await.expect("write");
        conn.read_exact(&mut response).await.expect("read");
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(response, RESPONSE);
    secs
}

/// (c): hyper-util's pooled client. Returns seconds for `n` requests after one warm-up.
async fn hyper_util_client(addr: SocketAddr, n: u32) -> f64 {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let uri: hyper::Uri = format!("http://{addr}/").parse().expect("uri");
    let one = async || {
        let resp = client.get(uri.clone()).await.expect("request");
        resp.into_body().collect().await.expect("body").to_bytes()
    };
    one().await;
    let start = Instant::now();
    let mut body = Bytes::new();
    for _ in 0..n {
        body = one().await;
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(&body[..], b"ok");
    secs
}
