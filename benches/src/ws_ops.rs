//! The pieces of the WebSocket suite (`bench_ws`): the two echo servers, the load
//! generator both are measured with, and idle connections for the memory figure.
//!
//! - **ghostnet**: the ghostnet HTTP/1.1 server upgrading with `ghostnet::ws::Acceptor`;
//!   the echo loop feeds each message and lets the next `recv` flush (the pattern
//!   `examples/ws_echo.rs` uses).
//! - **peer**: tokio-tungstenite's own echo server (its `examples/echo-server.rs`):
//!   `accept_async` on a tokio `TcpListener`, `read.try_filter(data).forward(write)`,
//!   default `WebSocketConfig`. `TCP_NODELAY` is set on both sides' sockets: without it
//!   Nagle's algorithm would hold the tail of large echoes and measure the kernel, not
//!   the library.
//! - **load**: one tokio-tungstenite client for both servers, so only the server differs.
//!   Its read buffer fits the message size (8 KiB for small messages): tungstenite
//!   zero-fills the read buffer before every read, and a load generator that spends its
//!   time in memset hides the servers' differences.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt, TryStreamExt, future};
use ghostnet::http1::http::Request;
use ghostnet::http1::{Body, Server};
use ghostnet::runtime::Shutdown;
use ghostnet::transport::{TcpListener as GhostListener, TcpOptions};
use ghostnet::ws::{Acceptor, WebSocket};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Bytes, Message};

/// `read_buffer_size` of the ghostnet server when set (`bench_ws --read-buffer N`), for
/// exploring the trade-off `docs/ws.md` describes; the crate default otherwise.
pub static GHOSTNET_READ_BUFFER: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// ghostnet-http1 + ghostnet-ws.
    Ghostnet,
    /// tokio-tungstenite's echo server.
    Peer,
}

impl Side {
    /// Name on the command line of `bench_ws --serve-idle`.
    pub fn arg(self) -> &'static str {
        match self {
            Self::Ghostnet => "ghostnet",
            Self::Peer => "peer",
        }
    }
}

/// A server started by [`start_server`]: where it listens and which OS thread runs it.
#[derive(Debug, Clone, Copy)]
pub struct Running {
    /// Its address.
    pub addr: SocketAddr,
    /// The Linux thread id of its (only) runtime thread, if known.
    pub tid: Option<u32>,
}

impl Running {
    /// CPU time the server's thread has used so far, in seconds (user + system, from
    /// /proc; 10 ms resolution). CPU time, unlike throughput, does not depend on what
    /// else the machine is running.
    pub fn cpu_secs(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/self/task/{}/stat", self.tid?)).ok()?;
        // After the parenthesised command name come the state (field 3), ..., utime (14)
        // and stime (15).
        let rest = stat.get(stat.rfind(')')? + 2..)?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let utime: u64 = fields.get(11)?.parse().ok()?;
        let stime: u64 = fields.get(12)?.parse().ok()?;
        // USER_HZ is 100 on Linux.
        Some((utime + stime) as f64 / 100.0)
    }
}

/// Starts `side`'s echo server on its own thread with a one-thread runtime.
pub fn start_server(side: Side) -> Running {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let tid = std::fs::read_link("/proc/thread-self")
            .ok()
            .and_then(|p| p.file_name()?.to_str()?.parse().ok());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        rt.block_on(serve(side, move |addr| {
            tx.send(Running { addr, tid }).expect("report address");
        }));
    });
    rx.recv().expect("server address")
}

/// Runs `side`'s echo server on the current runtime until the process ends; `ready`
/// gets its address once it listens.
pub async fn serve(side: Side, ready: impl FnOnce(SocketAddr)) {
    match side {
        Side::Ghostnet => {
            let listener =
                GhostListener::bind("127.0.0.1:0".parse().expect("addr"), TcpOptions::default())
                    .expect("bind");
            ready(listener.local_addr());
            let mut config = ghostnet::ws::Config::default();
            if let Some(n) = GHOSTNET_READ_BUFFER.get() {
                config = config.read_buffer_size(*n);
            }
            let acceptor = Acceptor::builder()
                .config(config)
                .build()
                .expect("acceptor");
            let handler = move |req: Request<Body>| {
                let acceptor = acceptor.clone();
                async move { acceptor.upgrade(req, ghostnet_echo) }
            };
            let _ = Server::builder()
                .build()
                .serve(listener, handler, Shutdown::new())
                .await;
        }
        Side::Peer => {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            ready(listener.local_addr().expect("addr"));
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(peer_echo(stream));
            }
        }
    }
}

async fn ghostnet_echo(mut ws: WebSocket) {
    while let Some(Ok(msg)) = ws.recv().await {
        if msg.is_data() && ws.feed(msg).await.is_err() {
            break;
        }
    }
}

/// tokio-tungstenite's examples/echo-server.rs, verbatim in substance.
async fn peer_echo(stream: TcpStream) {
    let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (write, read) = ws.split();
    let _ = read
        .try_filter(|msg| future::ready(msg.is_text() || msg.is_binary()))
        .forward(write)
        .await;
}

type Client = tokio_tungstenite::WebSocketStream<TcpStream>;

async fn connect(addr: SocketAddr, size: usize) -> Client {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let read_buffer = if size <= 1024 { 8 << 10 } else { 128 << 10 };
    let config = WebSocketConfig::default().read_buffer_size(read_buffer);
    let (ws, _) =
        tokio_tungstenite::client_async_with_config(format!("ws://{addr}/"), stream, Some(config))
            .await
            .expect("websocket handshake");
    ws
}

/// How the load generator drives each connection.
#[derive(Debug, Clone, Copy)]
pub enum Pattern {
    /// One message out, wait for its echo, repeat.
    RoundTrip,
    /// Keep `window` messages in flight: a new one goes out for each echo that returns.
    Pipelined {
        /// Messages in flight per connection.
        window: usize,
    },
}

/// What one measurement run produced.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// Echoes completed per second.
    pub per_sec: f64,
    /// Server CPU time per echo, in microseconds (NaN if the thread time is unknown).
    pub cpu_us_per_echo: f64,
}

/// Echoes over `conns` connections to `server`, each sending `size`-byte binary messages
/// in `pattern`, measured for `duration` after all connections are open.
pub async fn echoes_per_sec(
    server: Running,
    conns: usize,
    size: usize,
    pattern: Pattern,
    duration: Duration,
) -> Run {
    let addr = server.addr;
    let mut clients = Vec::with_capacity(conns);
    for _ in 0..conns {
        clients.push(connect(addr, size).await);
    }
    let payload = Bytes::from(vec![0xA5u8; size]);
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let cpu_start = server.cpu_secs();
    let start = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|ws| {
            let (done, stop, payload) = (done.clone(), stop.clone(), payload.clone());
            tokio::spawn(drive(ws, pattern, payload, done, stop))
        })
        .collect();
    tokio::time::sleep(duration).await;
    // A slow build (debug, or a loaded machine with 64 KiB messages) may not finish one
    // echo within a short run: wait for the first, so the rate is never zero.
    let give_up = Instant::now() + Duration::from_secs(60);
    while done.load(Ordering::Relaxed) == 0 && Instant::now() < give_up {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let echoed = done.load(Ordering::Relaxed);
    let secs = start.elapsed().as_secs_f64();
    let cpu = match (cpu_start, server.cpu_secs()) {
        (Some(a), Some(b)) => b - a,
        _ => f64::NAN,
    };
    for t in tasks {
        let _ = t.await;
    }
    Run {
        per_sec: echoed as f64 / secs,
        cpu_us_per_echo: cpu * 1e6 / echoed.max(1) as f64,
    }
}

/// Sends `n` messages of `size` bytes over one connection with `window` in flight and
/// waits for every echo: a fixed amount of work, for instruction counts under callgrind.
pub async fn echo_exactly(addr: SocketAddr, size: usize, window: usize, n: u64) {
    let mut ws = connect(addr, size).await;
    let payload = Bytes::from(vec![0xA5u8; size]);
    let (mut sent, mut received) = (0u64, 0u64);
    while sent < n.min(window as u64) {
        ws.feed(Message::Binary(payload.clone()))
            .await
            .expect("feed");
        sent += 1;
    }
    ws.flush().await.expect("flush");
    while received < n {
        match ws.next().await {
            Some(Ok(Message::Binary(_))) => {
                received += 1;
                if sent < n {
                    ws.send(Message::Binary(payload.clone()))
                        .await
                        .expect("send");
                    sent += 1;
                }
            }
            Some(Ok(_)) => {}
            other => panic!("echo connection ended: {other:?}"),
        }
    }
    let _ = ws.close(None).await;
}

async fn drive(
    mut ws: Client,
    pattern: Pattern,
    payload: Bytes,
    done: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) {
    let window = match pattern {
        Pattern::RoundTrip => 1,
        Pattern::Pipelined { window } => window,
    };
    for _ in 0..window {
        ws.feed(Message::Binary(payload.clone()))
            .await
            .expect("feed");
    }
    ws.flush().await.expect("flush");
    let mut in_flight = window;
    while in_flight > 0 {
        match ws.next().await {
            Some(Ok(Message::Binary(b))) => {
                debug_assert_eq!(b.len(), payload.len());
                done.fetch_add(1, Ordering::Relaxed);
                in_flight -= 1;
                if !stop.load(Ordering::Relaxed) {
                    ws.send(Message::Binary(payload.clone()))
                        .await
                        .expect("send");
                    in_flight += 1;
                }
            }
            Some(Ok(_)) => {}
            other => panic!("echo connection ended: {other:?}"),
        }
    }
    let _ = ws.close(None).await;
}

/// Opens `n` WebSocket connections to `addr` with the bare minimum on this side (the
/// opening handshake by hand, no WebSocket state), so that they cost the server, not the
/// measuring process. They stay open while the returned streams live.
pub async fn idle_connections(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    let mut held = Vec::with_capacity(n);
    for i in 0..n {
        let mut s = TcpStream::connect(addr).await.unwrap_or_else(|e| {
            panic!("connection {i} of {n} failed: {e} (raise the open-file limit: ulimit -n)")
        });
        s.write_all(request.as_bytes()).await.expect("send request");
        let mut head = Vec::new();
        let mut byte = [0u8; 512];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let k = s.read(&mut byte).await.expect("read response");
            assert!(k > 0, "server closed connection {i} during the handshake");
            head.extend_from_slice(&byte[..k]);
        }
        assert!(head.starts_with(b"HTTP/1.1 101"), "not upgraded");
        held.push(s);
    }
    held
}

/// This process's resident set size in bytes (`VmRSS` of /proc/self/status), if known.
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
