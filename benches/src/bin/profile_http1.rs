//! Instruction counts per request of the ghostnet-http1 server and of hyper, with callgrind.
//!
//! Wall-clock figures on a shared 2-core machine are noisy; user-space instructions per
//! request are not. This binary replays a fixed load against one server (the same routes
//! and runtime as `bench_http1`) and reports, per request, the instructions the server
//! process executed:
//!
//! ```text
//! cargo build --release -p ghostnet-benches --bin profile_http1
//! target/release/profile_http1 --callgrind                  # table for both servers
//! target/release/profile_http1 --callgrind --modes pipelined --kinds ghostnet
//! ```
//!
//! How: `--callgrind` runs `valgrind --tool=callgrind` on `profile_http1 --server KIND`
//! twice, with N and 2N requests; the difference divided by N is the cost of one request,
//! free of process, runtime and connection setup. The server process spawns the load as
//! a child (`--client`), which valgrind does not trace (it runs natively), and exits once
//! the client is done. The callgrind files stay in `--out DIR` (default
//! `target/profile_http1`) for `callgrind_annotate`.
//!
//! Modes (the load, as in `bench_http1`): `keepalive` (each connection sends a request
//! and waits for its response), `pipelined` (16 requests per write), `close` (a new
//! connection per request, `Connection: close`).

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;

use ghostnet::http1::bytes::Bytes;
use ghostnet::http1::http::header::CONTENT_TYPE;
use ghostnet::http1::http::{HeaderValue, Request, Response, StatusCode};
use ghostnet::http1::{Body, Server};
use ghostnet::runtime::{Config, Shutdown, run};
use http_body_util::Full;

/// Every response body; counting it counts responses.
const BODY: &[u8] = b"Hello, World!";
const DEPTH: usize = 16;

#[derive(Debug, Clone)]
struct Opts {
    kinds: Vec<String>,
    modes: Vec<String>,
    requests: usize,
    conns: usize,
    out: PathBuf,
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        argv.iter()
            .position(|a| a == flag)
            .and_then(|i| argv.get(i + 1))
            .cloned()
    };
    let list = |flag: &str, default: &str| -> Vec<String> {
        value(flag)
            .unwrap_or_else(|| default.to_owned())
            .split(',')
            .map(str::to_owned)
            .collect()
    };
    let opts = Opts {
        kinds: list("--kinds", "ghostnet,hyper"),
        modes: list("--modes", "keepalive,pipelined,close"),
        requests: value("--requests").map_or(16_384, |v| v.parse().expect("--requests N")),
        conns: value("--conns").map_or(16, |v| v.parse().expect("--conns N")),
        out: value("--out").map_or_else(|| PathBuf::from("target/profile_http1"), PathBuf::from),
    };
    if let Some(addr) = value("--client") {
        let addr: SocketAddr = addr.parse().expect("--client ADDR");
        client(addr, &opts.modes[0], opts.requests, opts.conns);
    } else if let Some(kind) = value("--server") {
        server(&kind, &opts);
    } else if argv.iter().any(|a| a == "--callgrind") {
        callgrind(&opts);
    } else {
        eprintln!(
            "usage: profile_http1 --callgrind [--kinds ghostnet,hyper] \
             [--modes keepalive,pipelined,close] [--requests N] [--conns C] [--out DIR]\n\
             \x20      profile_http1 --server ghostnet|hyper --modes MODE [--requests N] [--conns C]"
        );
        std::process::exit(2);
    }
}

/// Runs each server under callgrind for N and 2N requests and prints the instructions
/// per request (the difference over N).
fn callgrind(opts: &Opts) {
    std::fs::create_dir_all(&opts.out).expect("create the output directory");
    let exe = std::env::current_exe().expect("own path");
    let n = opts.requests;
    println!(
        "{:<10} {:<10} {:>14} (callgrind, {} conns, marginal over {n} requests)",
        "mode", "server", "instr/request", opts.conns
    );
    for mode in &opts.modes {
        for kind in &opts.kinds {
            let mut totals = [0u64; 2];
            for (i, count) in [n, 2 * n].into_iter().enumerate() {
                let file = opts.out.join(format!("callgrind.{kind}.{mode}.{count}"));
                let status = Command::new("valgrind")
                    .arg("--tool=callgrind")
                    .arg(format!("--callgrind-out-file={}", file.display()))
                    .arg(&exe)
                    .args(["--server", kind, "--modes", mode])
                    .args(["--requests", &count.to_string()])
                    .args(["--conns", &opts.conns.to_string()])
                    .stderr(std::process::Stdio::null())
                    .status()
                    .expect("run valgrind (apt-get install valgrind)");
                assert!(status.success(), "valgrind run failed: {status}");
                totals[i] = total_instructions(&file);
            }
            let per = totals[1].saturating_sub(totals[0]) as f64 / n as f64;
            println!("{mode:<10} {kind:<10} {per:>14.0}");
        }
    }
}

/// The `summary:` (or `totals:`) line of a callgrind output file: instructions executed.
fn total_instructions(file: &std::path::Path) -> u64 {
    let text = std::fs::read_to_string(file).expect("read the callgrind output");
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no totals in {}", file.display()))
}

/// Server mode: serve on a one-worker runtime (as `bench_http1`), run the load as a
/// child process, exit when it is done.
fn server(kind: &str, opts: &Opts) {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let kind_owned = kind.to_owned();
    std::thread::spawn(move || {
        let config = Config::for_server().worker_threads(1);
        run(config, async move {
            if kind_owned == "hyper" {
                serve_hyper(addr_tx).await;
            } else {
                serve_ghostnet(addr_tx).await;
            }
        })
        .expect("runtime");
    });
    let addr: SocketAddr = addr_rx.recv().expect("server address");
    let exe = std::env::current_exe().expect("own path");
    let status = Command::new(exe)
        .args(["--client", &addr.to_string(), "--modes", &opts.modes[0]])
        .args(["--requests", &opts.requests.to_string()])
        .args(["--conns", &opts.conns.to_string()])
        .status()
        .expect("start the client");
    assert!(status.success(), "client failed: {status}");
    if let Some((user, sys)) = cpu_ticks() {
        // Where the server's time goes (clock ticks of 10 ms: use many requests).
        let per = |t: u64| t as f64 * 10_000.0 / opts.requests as f64;
        eprintln!(
            "server cpu per request: user {:.2} us, system {:.2} us",
            per(user),
            per(sys)
        );
    }
    // Connections and tasks are left to the process exit: their teardown is the same
    // for every request count, so it cancels out of the per-request figure.
    std::process::exit(0);
}

/// User and system CPU time of this process so far, in clock ticks (Linux).
fn cpu_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let mut rest = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    Some((rest.next()?.parse().ok()?, rest.next()?.parse().ok()?))
}

async fn serve_ghostnet(addr_tx: std::sync::mpsc::Sender<SocketAddr>) {
    let listener = ghostnet::transport::TcpListener::bind(
        "127.0.0.1:0".parse().unwrap(),
        ghostnet::transport::TcpOptions::default(),
    )
    .expect("bind");
    addr_tx.send(listener.local_addr()).expect("send address");
    Server::builder()
        .build()
        .serve(listener, ghostnet_handle, Shutdown::new())
        .await
        .expect("serve");
}

async fn ghostnet_handle(req: Request<Body>) -> Response<Body> {
    let mut r = if req.uri().path() == "/plaintext" {
        Response::new(Body::from(BODY))
    } else {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_FOUND;
        r
    };
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    r
}

async fn serve_hyper(addr_tx: std::sync::mpsc::Sender<SocketAddr>) {
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    addr_tx
        .send(listener.local_addr().expect("addr"))
        .expect("send address");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .pipeline_flush(true)
                .serve_connection(TokioIo::new(stream), service_fn(hyper_handle))
                .await;
        });
    }
}

async fn hyper_handle(
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut r = if req.uri().path() == "/plaintext" {
        Response::new(Full::new(Bytes::from_static(BODY)))
    } else {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::NOT_FOUND;
        r
    };
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(r)
}

/// The load: `conns` threads with blocking sockets (the client is not measured, so
/// simple beats fast), `requests` in all.
fn client(addr: SocketAddr, mode: &str, requests: usize, conns: usize) {
    let one = format!("GET /plaintext HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let per_conn = requests / conns;
    let threads: Vec<_> = (0..conns)
        .map(|_| {
            let (mode, one) = (mode.to_owned(), one.clone());
            std::thread::spawn(move || match mode.as_str() {
                "keepalive" => exchange(addr, one.as_bytes(), 1, per_conn),
                "pipelined" => exchange(addr, one.repeat(DEPTH).as_bytes(), DEPTH, per_conn),
                "close" => {
                    let req = format!(
                        "GET /plaintext HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
                    );
                    for _ in 0..per_conn {
                        exchange(addr, req.as_bytes(), 1, 1);
                    }
                }
                other => panic!("unknown mode {other}"),
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
}

/// On one connection, sends `batch` (holding `depth` requests) until `total` responses
/// arrived, waiting for each batch's responses before the next.
fn exchange(addr: SocketAddr, batch: &[u8], depth: usize, total: usize) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let mut buf = vec![0u8; 64 * 1024];
    // The tail of the previous read, so that a body split across reads is still seen.
    let mut carry: Vec<u8> = Vec::new();
    let mut done = 0;
    while done < total {
        s.write_all(batch).expect("send requests");
        let mut seen = 0;
        while seen < depth {
            let n = s.read(&mut buf).expect("read responses");
            assert!(n > 0, "server closed after {done} responses");
            carry.extend_from_slice(&buf[..n]);
            let mut from = 0;
            while let Some(i) = find(&carry[from..], BODY) {
                seen += 1;
                from += i + BODY.len();
            }
            let keep = carry.len().saturating_sub(BODY.len() - 1).max(from);
            carry.drain(..keep);
        }
        done += depth;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
