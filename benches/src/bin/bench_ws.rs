//! The WebSocket suite: ghostnet's echo server (HTTP/1.1 upgrade + ghostnet-ws) against
//! tokio-tungstenite's echo server, driven by the same tokio-tungstenite client
//! (`ghostnet_benches::ws_ops` has the details).
//!
//! - echo round trips per second (one message in flight per connection) and pipelined
//!   messages per second (a window in flight), for 64 B and 64 KiB binary messages, over
//!   1 and 100 connections;
//! - the server's CPU time per echo in the same runs (its thread's user + system time
//!   from /proc): unlike throughput, it does not move with whatever else the machine runs;
//! - server memory per idle connection: RSS growth of a server process holding 1,000
//!   open WebSocket connections, divided by 1,000.
//!
//! Each server has one thread, the load generator another; the two servers alternate
//! A B B A as `shared/bench.md` asks. Prints a JSON array of results;
//! `cargo xtask bench ws` wraps it into `target/bench/ws.json`.
//!
//! `bench_ws --serve-idle ghostnet|peer` is the server process of the memory figure: it
//! prints its address, then answers each `rss` line on stdin with its VmRSS in bytes.
//!
//! `--read-buffer N` sets the ghostnet server's `read_buffer_size` (default: the crate's).
//!
//! `bench_ws --profile ghostnet|peer [SIZE] [N]` runs one server and echoes N messages of
//! SIZE bytes (default 64 B, 10,000) over one connection with 16 in flight, for
//! `valgrind --tool=callgrind`: the inclusive cost of the server's connection task
//! (`Acceptor::upgrade::{{closure}}` or `peer_echo::{{closure}}`) divided by N is the
//! server's instructions per echo.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use std::cell::RefCell;

use ghostnet_benches::report::{BenchResult, Measured, SuiteArgs, alternate, emit, median};
use ghostnet_benches::ws_ops::{
    GHOSTNET_READ_BUFFER, Pattern, Side, echo_exactly, echoes_per_sec, idle_connections, rss_bytes,
    serve, start_server,
};

const CMD: &str = "cargo xtask bench ws";
const PEER: &str = "tokio-tungstenite 0.30 echo server (accept_async, split + forward)";
const IDLE_CONNECTIONS: usize = 1000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let read_buffer: Option<usize> = args
        .iter()
        .position(|a| a == "--read-buffer")
        .and_then(|i| args.get(i + 1)?.parse().ok());
    if let Some(n) = read_buffer {
        let _ = GHOSTNET_READ_BUFFER.set(n);
    }
    let side_arg = |i: usize| match args.get(i + 1).map(String::as_str) {
        Some("ghostnet") => Side::Ghostnet,
        Some("peer") => Side::Peer,
        other => panic!("expected ghostnet or peer, got {other:?}"),
    };
    if let Some(i) = args.iter().position(|a| a == "--serve-idle") {
        serve_idle(side_arg(i));
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--profile") {
        let size = args.get(i + 2).and_then(|s| s.parse().ok()).unwrap_or(64);
        let n = args
            .get(i + 3)
            .and_then(|s| s.parse().ok())
            .unwrap_or(10_000);
        let addr = start_server(side_arg(i)).addr;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("client runtime");
        rt.block_on(echo_exactly(addr, size, 16, n));
        eprintln!("echoes: {n}");
        return;
    }
    let suite = SuiteArgs::from_env();
    // Enough alternating runs for steady medians on a shared 2-core machine; the suite
    // stays under three minutes.
    let runs = suite.pick(9, 1);
    let duration = suite.pick(Duration::from_millis(800), Duration::from_millis(150));
    let ours = start_server(Side::Ghostnet);
    let peer = start_server(Side::Peer);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");

    let mut results = Vec::new();
    let scenarios = [
        ("rtt", "rt/s", 64, 1, Pattern::RoundTrip),
        ("rtt", "rt/s", 64, 100, Pattern::RoundTrip),
        ("rtt", "rt/s", 64 << 10, 1, Pattern::RoundTrip),
        ("rtt", "rt/s", 64 << 10, 100, Pattern::RoundTrip),
        ("msgs", "msg/s", 64, 1, Pattern::Pipelined { window: 16 }),
        ("msgs", "msg/s", 64, 100, Pattern::Pipelined { window: 16 }),
        (
            "msgs",
            "msg/s",
            64 << 10,
            1,
            Pattern::Pipelined { window: 4 },
        ),
        (
            "msgs",
            "msg/s",
            64 << 10,
            100,
            Pattern::Pipelined { window: 4 },
        ),
    ];
    for (kind, unit, size, conns, pattern) in scenarios {
        let measure = |server| rt.block_on(echoes_per_sec(server, conns, size, pattern, duration));
        // Warm both up (connections, allocator, caches) before the alternating runs.
        let _ = measure(ours);
        let _ = measure(peer);
        let cpu_ours = RefCell::new(Vec::new());
        let cpu_peer = RefCell::new(Vec::new());
        let m = alternate(
            runs,
            || {
                let r = measure(ours);
                cpu_ours.borrow_mut().push(r.cpu_us_per_echo);
                r.per_sec
            },
            || {
                let r = measure(peer);
                cpu_peer.borrow_mut().push(r.cpu_us_per_echo);
                r.per_sec
            },
        );
        let cpu = Measured {
            ours: median(&cpu_ours.borrow()),
            peer: median(&cpu_peer.borrow()),
            runs,
        };
        let size_name = if size >= 1024 {
            format!("{}KiB", size >> 10)
        } else {
            format!("{size}B")
        };
        let window = match pattern {
            Pattern::RoundTrip => String::new(),
            Pattern::Pipelined { window } => format!("_w{window}"),
        };
        let name = format!("ws_echo_{kind}_{size_name}_c{conns}{window}");
        eprintln!(
            "bench_ws: {name}: {:.0} vs {:.0} {unit}, server {:.2} vs {:.2} us/echo",
            m.ours, m.peer, cpu.ours, cpu.peer
        );
        results.push(BenchResult::new(&name, unit, true, PEER, m, CMD));
        // Thread time has 10 ms resolution: a run too short to register any is skipped.
        if cpu.ours.is_finite() && cpu.peer.is_finite() && cpu.ours > 0.0 && cpu.peer > 0.0 {
            results.push(BenchResult::new(
                &format!("{name}_server_cpu"),
                "us/echo",
                false,
                PEER,
                cpu,
                "cargo xtask bench ws (server thread user+system time / echoes)",
            ));
        }
    }

    let mem_runs = suite.pick(3, 1);
    let idle = suite.pick(IDLE_CONNECTIONS, 200);
    let m = alternate(
        mem_runs,
        || idle_kib_per_connection(Side::Ghostnet, idle),
        || idle_kib_per_connection(Side::Peer, idle),
    );
    eprintln!(
        "bench_ws: idle memory: {:.1} vs {:.1} KiB per connection",
        m.ours, m.peer
    );
    results.push(BenchResult::new(
        &format!("ws_idle_memory_per_connection_{idle}"),
        "KiB/conn",
        false,
        PEER,
        m,
        "cargo xtask bench ws (server RSS growth with N idle connections / N)",
    ));
    emit(&results);
}

/// Server-side memory per idle connection, in KiB: a fresh server process, its RSS
/// before and after `n` connections are opened and settled.
fn idle_kib_per_connection(side: Side, n: usize) -> f64 {
    let exe = std::env::current_exe().expect("own path");
    let mut child = Command::new(exe);
    child.args(["--serve-idle", side.arg()]);
    if let Some(n) = GHOSTNET_READ_BUFFER.get() {
        child.args(["--read-buffer", &n.to_string()]);
    }
    let mut child = child
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the idle server");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("address line");
    let addr = line.trim().parse().expect("address");
    let mut rss = || {
        writeln!(stdin, "rss").expect("ask for rss");
        let mut line = String::new();
        stdout.read_line(&mut line).expect("rss line");
        line.trim().parse::<f64>().expect("rss")
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let before = rss();
    let held = rt.block_on(async {
        let held = idle_connections(addr, n).await;
        // Let every server task make its first read and go idle.
        tokio::time::sleep(Duration::from_millis(300)).await;
        held
    });
    let after = rss();
    drop(held);
    let _ = child.kill();
    let _ = child.wait();
    (after - before) / n as f64 / 1024.0
}

/// The child process of the memory figure.
fn serve_idle(side: Side) {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        rt.block_on(serve(side, |addr| {
            println!("{addr}");
            std::io::stdout().flush().expect("stdout");
        }));
    });
    for line in std::io::stdin().lock().lines() {
        match line.as_deref() {
            Ok("rss") => {
                println!("{}", rss_bytes().unwrap_or(0));
                std::io::stdout().flush().expect("stdout");
            }
            _ => break,
        }
    }
}
