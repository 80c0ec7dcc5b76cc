//! The http1 suite: ghostnet-http1's server against a hyper 1.x server with the same routes,
//! both on a one-worker runtime pinned to core 0, loaded by wrk pinned to core 1.
//!
//! Scenarios: keep-alive plaintext at 64 and 256 connections, 16-deep pipelining, and a
//! new connection per request (`Connection: close`). Each yields a throughput result
//! (req/s) and a p99 latency result (ms). Runs alternate A B B A; medians are reported.
//!
//! The binary is also its own server process: `bench_http1 --serve ghostnet|hyper`
//! listens on 127.0.0.1:0 and prints `listening <addr>`.

use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use ghostnet::http1::bytes::Bytes;
use ghostnet::http1::http::header::CONTENT_TYPE;
use ghostnet::http1::http::{HeaderValue, Method, Request, Response, StatusCode};
use ghostnet::http1::{Body, Server};
use ghostnet::runtime::{Config, Shutdown, run};
use ghostnet_benches::report::{BenchResult, Measured, SuiteArgs, emit, median};
use http_body_util::{BodyExt, Full};

const HYPER: &str = "hyper 1.x (http1::Builder, pipeline_flush on, same routes, 1 worker)";

/// wrk script that sends 16 requests per write and counts every response.
const PIPELINE_LUA: &str = r#"
init = function(args)
  local r = {}
  for i = 1, 16 do r[i] = wrk.format(nil, "/plaintext") end
  req = table.concat(r)
end
request = function() return req end
"#;

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if let Some(i) = argv.iter().position(|a| a == "--serve") {
        let kind = argv.get(i + 1).map_or("ghostnet", String::as_str);
        serve(kind);
        return;
    }
    let args = SuiteArgs::from_env();
    if let Err(e) = ensure_wrk() {
        eprintln!("bench_http1: {e}");
        std::process::exit(1);
    }
    let pin = pinning_available();
    if !pin {
        eprintln!("bench_http1: taskset or a second core missing; running unpinned");
    }
    let ours = ServerProc::start("ghostnet", pin);
    let peer = ServerProc::start("hyper", pin);
    let lua = std::env::temp_dir().join(format!("ghostnet-pipeline-{}.lua", std::process::id()));
    std::fs::write(&lua, PIPELINE_LUA).expect("write the wrk script");
    let lua = lua.display().to_string();

    let secs = args.pick(4, 1);
    let runs = args.pick(3, 1);
    let scenarios: [(&str, u32, Vec<&str>); 4] = [
        ("plaintext_keepalive_c64", 64, vec![]),
        ("plaintext_keepalive_c256", 256, vec![]),
        ("plaintext_pipelined16_c64", 64, vec!["-s", &lua]),
        (
            "plaintext_connection_close_c64",
            64,
            vec!["-H", "Connection: close"],
        ),
    ];
    let mut results = Vec::new();
    for (name, conns, extra) in &scenarios {
        let load = |addr: SocketAddr, secs: u32| wrk(addr, *conns, secs, extra, pin);
        // Warm up both (connection setup, caches, CPU frequency).
        load(ours.addr, 1);
        load(peer.addr, 1);
        let (mut ours_rps, mut ours_p99, mut peer_rps, mut peer_p99) =
            (vec![], vec![], vec![], vec![]);
        for round in 0..runs {
            let mut measure_ours = || {
                let (rps, p99) = load(ours.addr, secs);
                ours_rps.push(rps);
                ours_p99.push(p99);
            };
            let mut measure_peer = || {
                let (rps, p99) = load(peer.addr, secs);
                peer_rps.push(rps);
                peer_p99.push(p99);
            };
            if round % 2 == 0 {
                measure_ours();
                measure_peer();
            } else {
                measure_peer();
                measure_ours();
            }
        }
        let extra_args = extra.join(" ").replace(&lua, "pipeline16.lua");
        let command = format!(
            "taskset -c 1 wrk -t1 -c{conns} -d{secs}s --latency {extra_args} http://127.0.0.1:PORT/plaintext (server: taskset -c 0 bench_http1 --serve ghostnet|hyper)"
        );
        let throughput = Measured {
            ours: median(&ours_rps),
            peer: median(&peer_rps),
            runs,
        };
        let p99 = Measured {
            ours: median(&ours_p99),
            peer: median(&peer_p99),
            runs,
        };
        eprintln!(
            "bench_http1: {name}: {:.0} vs {:.0} req/s, p99 {:.3} vs {:.3} ms",
            throughput.ours, throughput.peer, p99.ours, p99.peer
        );
        results.push(BenchResult::new(
            name, "req/s", true, HYPER, throughput, &command,
        ));
        results.push(BenchResult::new(
            &format!("{name}_p99"),
            "ms",
            false,
            HYPER,
            p99,
            &command,
        ));
    }
    let _ = std::fs::remove_file(&lua);
    drop((ours, peer));
    emit(&results);
}

/// Runs wrk once; returns requests per second and the p99 latency in ms.
fn wrk(addr: SocketAddr, conns: u32, secs: u32, extra: &[&str], pin: bool) -> (f64, f64) {
    let url = format!("http://{addr}/plaintext");
    let conns = conns.to_string();
    let dur = format!("{secs}s");
    let mut args: Vec<&str> = vec!["-t1", "-c", &conns, "-d", &dur, "--latency"];
    args.extend_from_slice(extra);
    args.push(&url);
    let mut cmd = if pin {
        let mut c = Command::new("taskset");
        c.args(["-c", "1", "wrk"]);
        c
    } else {
        Command::new("wrk")
    };
    let out = cmd.args(&args).output().expect("run wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "wrk failed: {text}");
    assert!(
        !text.contains("Non-2xx"),
        "server answered with errors under load: {text}"
    );
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk output: {text}"));
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .and_then(|v| parse_duration_ms(v.trim()))
        .unwrap_or_else(|| panic!("no 99% latency in wrk output: {text}"));
    (rps, p99)
}

/// wrk's `1.23ms`, `456.00us`, `2.01s` as milliseconds.
fn parse_duration_ms(v: &str) -> Option<f64> {
    let (num, scale) = if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('m') {
        (n, 60_000.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    num.parse::<f64>().ok().map(|n| n * scale)
}

/// Installs wrk when missing (as root), or fails with the exact command.
fn ensure_wrk() -> Result<(), String> {
    let has = |p: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {p}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if has("wrk") {
        return Ok(());
    }
    let cmd = "apt-get update && apt-get install -y --no-install-recommends wrk";
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    if !root {
        return Err(format!("wrk is not installed; run as root: {cmd}"));
    }
    eprintln!("bench_http1: installing wrk");
    let ok = Command::new("sh")
        .args(["-c", &format!("DEBIAN_FRONTEND=noninteractive {cmd}")])
        .status()
        .is_ok_and(|s| s.success());
    if ok && has("wrk") {
        Ok(())
    } else {
        Err(format!("could not install wrk; run as root: {cmd}"))
    }
}

fn pinning_available() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
        && Command::new("taskset").arg("-V").output().is_ok()
}

/// A server child process, killed on drop.
struct ServerProc {
    child: Child,
    addr: SocketAddr,
}

impl ServerProc {
    fn start(kind: &str, pin: bool) -> Self {
        let exe = std::env::current_exe().expect("own path");
        let mut cmd = if pin {
            let mut c = Command::new("taskset");
            c.args(["-c", "0"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let mut child = cmd
            .args(["--serve", kind])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start server process");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("server prints its address");
        let addr = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("{kind} server printed {line:?}"));
        Self { child, addr }
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Server mode: one worker, like the peer.
fn serve(kind: &str) {
    let config = Config::for_server().worker_threads(1);
    let kind = kind.to_owned();
    run(config, async move {
        if kind == "hyper" {
            serve_hyper().await;
        } else {
            serve_ghostnet().await;
        }
    })
    .expect("runtime");
}

async fn serve_ghostnet() {
    let listener = ghostnet::transport::TcpListener::bind(
        "127.0.0.1:0".parse().unwrap(),
        ghostnet::transport::TcpOptions::default(),
    )
    .expect("bind");
    println!("listening {}", listener.local_addr());
    let shutdown = Shutdown::new();
    Server::builder()
        .build()
        .serve(listener, ghostnet_handle, shutdown)
        .await
        .expect("serve");
}

async fn ghostnet_handle(req: Request<Body>) -> Response<Body> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/plaintext") => typed(Body::from("Hello, World!"), "text/plain"),
        (&Method::GET, "/json") => typed(
            Body::from(r#"{"message":"Hello, World!"}"#),
            "application/json",
        ),
        (&Method::POST, "/echo") => match req.into_body().collect().await {
            Ok(b) => typed(Body::from(b), "application/octet-stream"),
            Err(_) => typed(Body::empty(), "text/plain"),
        },
        _ => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
    }
}

fn typed(body: Body, content_type: &'static str) -> Response<Body> {
    let mut r = Response::new(body);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

async fn serve_hyper() {
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    println!("listening {}", listener.local_addr().expect("addr"));
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
    let typed = |body: Bytes, ct: &'static str| {
        let mut r = Response::new(Full::new(body));
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        r
    };
    Ok(match (req.method(), req.uri().path()) {
        (&Method::GET, "/plaintext") => typed(Bytes::from_static(b"Hello, World!"), "text/plain"),
        (&Method::GET, "/json") => typed(
            Bytes::from_static(br#"{"message":"Hello, World!"}"#),
            "application/json",
        ),
        (&Method::POST, "/echo") => {
            let body = req.into_body().collect().await.map(|c| c.to_bytes());
            typed(body.unwrap_or_default(), "application/octet-stream")
        }
        _ => {
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_durations() {
        assert_eq!(parse_duration_ms("456.00us"), Some(0.456));
        assert_eq!(parse_duration_ms("1.50ms"), Some(1.5));
        assert_eq!(parse_duration_ms("2.00s"), Some(2000.0));
        assert_eq!(parse_duration_ms("x"), None);
    }
}
