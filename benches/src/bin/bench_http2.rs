//! The http2 suite: ghostnet-http2 against hyper 1.x, each with its default HTTP/2
//! settings, on the same single-worker runtime.
//!
//! - `h2load -t1 -c64 -m10` and `-m100` (h2c prior knowledge) against each server:
//!   requests per second and p99 latency.
//! - One 1 GiB download over one h2 connection on loopback, our client from our server
//!   against hyper's client from hyper's server: MB/s.
//!
//! Servers run as child processes pinned to core 0 and load (h2load or the download
//! client) to core 1 with `taskset`, per `shared/bench.md`; ours and hyper's alternate.
//! Prints a JSON array of results; `cargo xtask bench http2` wraps it into
//! `target/bench/http2.json`.
//!
//! Helper modes (used by the suite itself): `bench_http2 serve <ghostnet|hyper>` prints
//! its port and serves until stdin closes; `bench_http2 download <side> <port> <bytes>`
//! prints the seconds one download took.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use ghostnet::runtime::Config;
use ghostnet_benches::http2::{Side, clients, h2load, servers};
use ghostnet_benches::report::{BenchResult, SuiteArgs, alternate, emit};

const HYPER: &str = "hyper 1.x (same runtime, default settings)";
const SERVER_CORE: u32 = 0;
const LOAD_CORE: u32 = 1;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("download") => download(&args[1..]),
        _ => suite(SuiteArgs::from_env()),
    }
}

/// One worker, as the suite protocol asks of both sides.
fn runtime() -> Config {
    Config::for_server().worker_threads(1)
}

fn side_arg(s: Option<&String>) -> Side {
    s.and_then(|s| Side::parse(s))
        .expect("side: ghostnet or hyper")
}

fn serve(args: &[String]) {
    let side = side_arg(args.first());
    ghostnet::runtime::run(runtime(), async move {
        tokio::spawn(servers::run(side, |addr| println!("{}", addr.port())));
        // Serve until the suite closes our stdin.
        let _ = tokio::task::spawn_blocking(|| std::io::stdin().lines().count()).await;
    })
    .expect("runtime");
}

fn download(args: &[String]) {
    let side = side_arg(args.first());
    let port: u16 = args.get(1).and_then(|p| p.parse().ok()).expect("port");
    let len: u64 = args.get(2).and_then(|p| p.parse().ok()).expect("bytes");
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let elapsed = ghostnet::runtime::run(runtime(), async move {
        match side {
            Side::Ghostnet => clients::ghostnet(addr, len).await,
            Side::Hyper => clients::hyper(addr, len).await,
        }
    })
    .expect("runtime");
    println!("{}", elapsed.as_secs_f64());
}

/// `taskset -c <core>` when taskset exists, so the sides do not share a core.
fn pinned(core: u32) -> Command {
    if has("taskset") {
        let mut c = Command::new("taskset");
        c.args(["-c", &core.to_string()])
            .arg(std::env::current_exe().expect("own path"));
        c
    } else {
        Command::new(std::env::current_exe().expect("own path"))
    }
}

fn has(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}

/// A server child process; stopped by closing its stdin (and killed if that fails).
struct ServerProcess {
    child: Child,
    port: u16,
}

impl ServerProcess {
    fn start(side: Side) -> Self {
        let mut child = pinned(SERVER_CORE)
            .args(["serve", side.name()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start server process");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("server port");
        let port = line.trim().parse().expect("server printed its port");
        Self { child, port }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn suite(args: SuiteArgs) {
    assert!(
        has("h2load"),
        "h2load is missing: apt-get install -y nghttp2-client"
    );
    let core = has("taskset").then_some(LOAD_CORE);
    // Many short rounds beat few long ones on a noisy machine: the median of 7 pairs.
    let runs = args.pick(7, 1);
    let duration = args.pick(3, 1);
    let ours = ServerProcess::start(Side::Ghostnet);
    let hyper = ServerProcess::start(Side::Hyper);
    let log: PathBuf = std::env::temp_dir().join(format!("bench-http2-{}.log", std::process::id()));
    let mut results = Vec::new();

    for streams in [10u32, 100] {
        let load_args = h2load::args(64, streams, duration);
        let url = |port: u16| format!("http://127.0.0.1:{port}/");
        let command = format!(
            "taskset -c {LOAD_CORE} h2load {} http://127.0.0.1:PORT/ (server: taskset -c {SERVER_CORE}, 1 worker)",
            load_args.join(" ")
        );
        let mut p99 = (Vec::new(), Vec::new());
        let m = alternate(
            runs,
            || {
                let r = h2load::run(core, &load_args, &url(ours.port), &log);
                p99.0.push(r.p99_us);
                r.req_per_sec
            },
            || {
                let r = h2load::run(core, &load_args, &url(hyper.port), &log);
                p99.1.push(r.p99_us);
                r.req_per_sec
            },
        );
        let name = format!("h2load_c64_m{streams}");
        results.push(BenchResult::new(&name, "req/s", true, HYPER, m, &command));
        let lat = ghostnet_benches::report::Measured {
            ours: ghostnet_benches::report::median(&p99.0),
            peer: ghostnet_benches::report::median(&p99.1),
            runs,
        };
        results.push(BenchResult::new(
            &format!("{name}_p99"),
            "us",
            false,
            HYPER,
            lat,
            &command,
        ));
    }
    let _ = std::fs::remove_file(&log);

    // The download: each side's client against its own server.
    let len: u64 = args.pick(1 << 30, 128 << 20);
    let download = |side: Side, server: &ServerProcess| -> f64 {
        let out = pinned(LOAD_CORE)
            .args([
                "download",
                side.name(),
                &server.port.to_string(),
                &len.to_string(),
            ])
            .output()
            .expect("run download client");
        assert!(out.status.success(), "download client failed");
        let secs: f64 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("seconds");
        len as f64 / secs / 1e6
    };
    let m = alternate(
        runs,
        || download(Side::Ghostnet, &ours),
        || download(Side::Hyper, &hyper),
    );
    results.push(BenchResult::new(
        &format!("download_{}mib_one_connection", len >> 20),
        "MB/s",
        true,
        "hyper 1.x client and server (default settings)",
        m,
        &format!(
            "bench_http2 download <side> PORT {len} (client: taskset -c {LOAD_CORE}; server: taskset -c {SERVER_CORE}, 1 worker each)"
        ),
    ));
    drop((ours, hyper));
    emit(&results);
}
