//! The TLS part of the transport suite: TLS handshakes per second over loopback TCP,
//! ghostnet's `TlsDialer` + `TlsListener` against tokio-rustls used directly, with
//! identically built rustls configs (ring provider, ECDSA P-256 certificate from a test CA,
//! TLS 1.3). Prints a JSON array of results; `cargo xtask bench transport` wraps it.
//!
//! Ours is the whole stack (TcpDialer + TlsDialer, TcpListener + TlsListener); the peer is
//! tokio's sockets with tokio-rustls. Each side gets one thread: the servers run on a current-thread runtime of their own, the
//! clients (several concurrent dialers) on another. Every connection is a full round trip:
//! the client dials, the server accepts and writes one byte, the client reads it.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use ghostnet::transport::tls::{TlsClientConfig, TlsDialer, TlsListener, TlsServerConfig};
use ghostnet::transport::{
    Dial, Listen, Target, TcpDialer, TcpListener as GhostTcpListener, TcpOptions,
};
use ghostnet_benches::report::{BenchResult, Measured, SuiteArgs, alternate, emit, median};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

const PEER: &str = "tokio-rustls 0.26 (same rustls configs)";
const CMD: &str = "cargo xtask bench transport (bench_transport_tls)";
/// Concurrent dialers; every connection count below is a multiple of it.
const CLIENTS: usize = 8;

fn main() {
    // For profiling one side alone: `--profile ours|peer [--resumed]` runs 2000 connections
    // (e.g. under `valgrind --tool=callgrind`) and prints the rate instead of the suite.
    let argv: Vec<String> = std::env::args().collect();
    if let Some(i) = argv.iter().position(|a| a == "--profile") {
        profile(
            argv.get(i + 1).map(String::as_str),
            argv.iter().any(|a| a == "--resumed"),
        );
        return;
    }
    let args = SuiteArgs::from_env();
    // Many short runs rather than a few long ones: on a shared 2-core machine the load
    // swings within seconds, and alternating often lets both sides see the same swings.
    let runs = args.pick(25, 3);
    let pki = Pki::new();
    let mut results = Vec::new();

    for (name, resumption, n) in [
        ("tls_handshake_full_c8", false, args.pick(400, 80)),
        ("tls_handshake_resumed_c8", true, args.pick(800, 160)),
    ] {
        let servers = Servers::start(&pki);
        let client = Clients::new(&pki, resumption, &servers);
        // Warm up both sides (page faults, allocator, session caches) before measuring.
        client.ours(n / 2);
        client.peer(n / 2);
        // Every run goes to stderr, so a noisy machine shows in the log. Besides the rate,
        // each run notes the CPU time both sides spent per handshake: unlike the rate, it
        // hardly moves when other programs compete for the cores.
        let cpu = [RefCell::new(Vec::new()), RefCell::new(Vec::new())];
        let run = |side: usize| {
            let before = process_cpu_ns();
            let rate = if side == 0 {
                client.ours(n)
            } else {
                client.peer(n)
            };
            if let (Some(a), Some(b)) = (before, process_cpu_ns()) {
                cpu[side]
                    .borrow_mut()
                    .push(b.saturating_sub(a) as f64 / 1000.0 / n as f64);
            }
            let who = ["ghostnet", "peer    "][side];
            eprintln!("{name}: {who} {rate:.0}/s");
            rate
        };
        let m = alternate(runs, || run(0), || run(1));
        results.push(BenchResult::new(name, "handshakes/s", true, PEER, m, CMD));
        let [ours_cpu, peer_cpu] = cpu.map(RefCell::into_inner);
        if ours_cpu.len() == runs && peer_cpu.len() == runs {
            let m = Measured {
                ours: median(&ours_cpu),
                peer: median(&peer_cpu),
                runs,
            };
            results.push(BenchResult::new(
                &format!("{name}_cpu"),
                "us CPU/handshake",
                false,
                PEER,
                m,
                CMD,
            ));
        }
        servers.stop();
    }
    emit(&results);
}

/// CPU time of every thread of this process so far (client and server sides), from
/// `/proc/self/task/*/schedstat` (nanoseconds); `None` where that does not exist.
fn process_cpu_ns() -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

fn profile(side: Option<&str>, resumed: bool) {
    let pki = Pki::new();
    let servers = Servers::start(&pki);
    let client = Clients::new(&pki, resumed, &servers);
    let rate = match side {
        Some("ours") => client.ours(2000),
        Some("peer") => client.peer(2000),
        other => {
            eprintln!("--profile takes `ours` or `peer`, not {other:?}");
            std::process::exit(2);
        }
    };
    servers.stop();
    eprintln!("{rate:.0} handshakes/s");
}

/// A test CA and a server certificate for 127.0.0.1, as PEM.
struct Pki {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

impl Pki {
    fn new() -> Self {
        let ca_key = rcgen::KeyPair::generate().expect("CA key");
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let ca_cert = ca.self_signed(&ca_key).expect("CA cert");
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let key = rcgen::KeyPair::generate().expect("leaf key");
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .expect("leaf params")
            .signed_by(&key, &issuer)
            .expect("leaf cert");
        Self {
            ca_pem: ca_cert.pem(),
            cert_pem: leaf.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// A server config; every call builds a new, identical one (so the two sides share no
    /// session cache).
    fn server(&self) -> TlsServerConfig {
        TlsServerConfig::builder()
            .cert_pem(&self.cert_pem, &self.key_pem)
            .build()
            .expect("server config")
    }

    fn client(&self, resumption: bool) -> TlsClientConfig {
        TlsClientConfig::builder()
            .webpki_roots(false)
            .extra_ca_pem(&self.ca_pem)
            .resumption(resumption)
            .build()
            .expect("client config")
    }
}

/// Both servers on one thread: ours (`TlsListener`) and the peer (tokio-rustls accept loop).
struct Servers {
    ours: SocketAddr,
    peer: SocketAddr,
    stop: oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Servers {
    fn start(pki: &Pki) -> Self {
        let ours_config = pki.server();
        // The peer gets a config built the same way, used through tokio-rustls directly.
        let peer_config = pki.server().rustls_config().clone();
        let (addrs_tx, addrs_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(async move {
                // Ours is the whole ghostnet stack: TcpListener + TlsListener, TcpDialer + TlsDialer.
                let ours =
                    GhostTcpListener::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::default())
                        .expect("bind");
                let peer = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                addrs_tx
                    .send((ours.local_addr(), peer.local_addr().unwrap()))
                    .expect("send addresses");
                tokio::spawn(serve_ours(TlsListener::new(ours, ours_config)));
                tokio::spawn(serve_peer(peer, peer_config.into()));
                let _ = stopped.await;
            });
        });
        let (ours, peer) = addrs_rx.recv().expect("server addresses");
        Self {
            ours,
            peer,
            stop,
            thread,
        }
    }

    fn stop(self) {
        let _ = self.stop.send(());
        self.thread.join().expect("server thread");
    }
}

/// Ours: every accepted (already handshaken) connection gets one byte.
async fn serve_ours(listener: TlsListener<GhostTcpListener>) {
    while let Ok((mut s, _)) = listener.accept().await {
        tokio::spawn(async move {
            let _ = s.write_all(b"!").await;
            let _ = s.flush().await;
        });
    }
}

/// The peer: the classic tokio-rustls server loop, a task per connection.
async fn serve_peer(listener: TcpListener, acceptor: tokio_rustls::TlsAcceptor) {
    while let Ok((tcp, _)) = listener.accept().await {
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            if let Ok(mut s) = acceptor.accept(tcp).await {
                let _ = s.write_all(b"!").await;
                let _ = s.flush().await;
            }
        });
    }
}

/// The client side: one thread, `CLIENTS` concurrent dialers.
struct Clients {
    rt: tokio::runtime::Runtime,
    ours: Arc<TlsDialer<TcpDialer>>,
    ours_target: Target,
    peer: tokio_rustls::TlsConnector,
    peer_addr: SocketAddr,
}

impl Clients {
    fn new(pki: &Pki, resumption: bool, servers: &Servers) -> Self {
        Self {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("client runtime"),
            ours: Arc::new(TlsDialer::new(TcpDialer::new(), pki.client(resumption))),
            ours_target: Target::from(servers.ours),
            peer: pki.client(resumption).rustls_config().clone().into(),
            peer_addr: servers.peer,
        }
    }

    /// Handshakes per second with `TlsDialer`.
    fn ours(&self, n: usize) -> f64 {
        let dialer = self.ours.clone();
        let target = self.ours_target.clone();
        self.measure(n, move || {
            let dialer = dialer.clone();
            let target = target.clone();
            async move {
                let mut s = dialer.dial(&target).await.expect("ghostnet dial");
                let mut b = [0u8; 1];
                s.read_exact(&mut b).await.expect("ghostnet read");
            }
        })
    }

    /// Handshakes per second with tokio-rustls directly.
    fn peer(&self, n: usize) -> f64 {
        let connector = self.peer.clone();
        let addr = self.peer_addr;
        self.measure(n, move || {
            let connector = connector.clone();
            async move {
                let tcp = TcpStream::connect(addr).await.expect("peer connect");
                let _ = tcp.set_nodelay(true);
                let name = ServerName::IpAddress(addr.ip().into());
                let mut s = connector.connect(name, tcp).await.expect("peer handshake");
                let mut b = [0u8; 1];
                s.read_exact(&mut b).await.expect("peer read");
            }
        })
    }

    /// Runs `n` connections made by `one`, `CLIENTS` at a time; returns connections/s.
    fn measure<F, Fut>(&self, n: usize, one: F) -> f64
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let per_client = n.div_ceil(CLIENTS);
        let one = Arc::new(one);
        self.rt.block_on(async move {
            let start = Instant::now();
            let mut clients = JoinSet::new();
            for _ in 0..CLIENTS {
                let one = one.clone();
                clients.spawn(async move {
                    for _ in 0..per_client {
                        one().await;
                    }
                });
            }
            while let Some(r) = clients.join_next().await {
                r.expect("client task");
            }
            (per_client * CLIENTS) as f64 / start.elapsed().as_secs_f64()
        })
    }
}
