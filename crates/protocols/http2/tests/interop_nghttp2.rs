//! Interop with implementations nobody here wrote: nghttp, h2load and curl against our
//! server (prior knowledge and h2c upgrade), and our client against nghttpd.
//!
//! Each test passes with a printed note when its tool is missing; `cargo xtask test`
//! installs nghttp2-client, nghttp2-server and curl so they run in CI.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ghostnet_http2::{Server, Settings, client};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::Listen;
use support::{TestServer, hello_or_echo};

/// The tool's path, or `None` (with a note) when it is not installed.
fn tool(name: &str) -> Option<PathBuf> {
    let dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let found = dirs
        .into_iter()
        .chain(["/usr/sbin".into(), "/usr/bin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        eprintln!(
            "note: skipping, {name} is not installed (apt-get install -y nghttp2-client nghttp2-server curl)"
        );
    }
    found
}

/// Runs a tool off the async runtime and returns its output.
async fn run(path: PathBuf, args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(&path)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", path.display()))
    })
    .await
    .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nghttp_against_our_server() {
    let Some(nghttp) = tool("nghttp") else { return };
    let server = TestServer::tcp(Settings::default(), hello_or_echo).await;
    let url = format!("http://127.0.0.1:{}/", server.port());

    // Verbose frame trace of one GET: SETTINGS exchange, response, clean end.
    let out = run(nghttp.clone(), vec!["-nv".into(), url.clone()]).await;
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains(":status: 200"), "{log}");
    assert!(log.contains("recv SETTINGS frame"), "{log}");
    assert!(!log.contains("PROTOCOL_ERROR"), "{log}");

    // The body, and 100 concurrent streams on one connection.
    let out = run(nghttp.clone(), vec![url.clone()]).await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Hello, World!",
        "{}",
        text(&out)
    );
    let out = run(
        nghttp.clone(),
        vec!["-n".into(), "-m".into(), "100".into(), url.clone()],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));

    // An uploaded file is echoed back byte for byte.
    let dir = std::env::temp_dir().join(format!("gn-h2-nghttp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let upload = dir.join("upload.bin");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&upload, &data).unwrap();
    let out = run(nghttp, vec!["-d".into(), upload.display().to_string(), url]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(out.stdout, data, "echoed upload differs");
    std::fs::remove_dir_all(&dir).unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2load_against_our_server() {
    let Some(h2load) = tool("h2load") else { return };
    let server = TestServer::tcp(Settings::default(), hello_or_echo).await;
    let url = format!("http://127.0.0.1:{}/", server.port());
    let out = run(
        h2load,
        ["-n", "5000", "-c", "8", "-m", "20", &url]
            .map(String::from)
            .to_vec(),
    )
    .await;
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("5000 succeeded, 0 failed, 0 errored"), "{log}");
    assert!(log.contains("status codes: 5000 2xx"), "{log}");
    server.stop().await;
}

/// A TCP server that speaks HTTP/1.1 just far enough to take h2c upgrades.
async fn upgrade_server() -> (u16, Shutdown) {
    let listener = ghostnet_transport::TcpListener::bind(
        "127.0.0.1:0".parse().unwrap(),
        ghostnet_transport::TcpOptions::default(),
    )
    .unwrap();
    let port = listener.local_addr().port();
    let shutdown = Shutdown::new();
    let token = shutdown.token();
    tokio::spawn(async move {
        let server = Server::new(Settings::default()).unwrap();
        let service = Arc::new(hello_or_echo);
        loop {
            let (io, _) = tokio::select! {
                () = token.cancelled() => return,
                r = listener.accept() => r.unwrap(),
            };
            let (server, service, token) = (server.clone(), service.clone(), token.clone());
            tokio::spawn(async move {
                let _ = support::h1shim::serve_h2c_upgrade(&server, io, service, token).await;
            });
        }
    });
    (port, shutdown)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nghttp_h2c_upgrade() {
    let Some(nghttp) = tool("nghttp") else { return };
    let (port, shutdown) = upgrade_server().await;
    let out = run(
        nghttp,
        vec!["-uv".into(), format!("http://127.0.0.1:{port}/up")],
    )
    .await;
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("HTTP Upgrade response"), "{log}");
    assert!(log.contains("Hello, World!"), "{log}");
    assert!(!log.contains("PROTOCOL_ERROR"), "{log}");
    shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_prior_knowledge_and_upgrade() {
    let Some(curl) = tool("curl") else { return };
    let server = TestServer::tcp(Settings::default(), hello_or_echo).await;
    let out = run(
        curl.clone(),
        vec![
            "-sS".into(),
            "--http2-prior-knowledge".into(),
            "-w".into(),
            " %{http_version}".into(),
            format!("http://127.0.0.1:{}/", server.port()),
        ],
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Hello, World! 2",
        "{}",
        text(&out)
    );
    server.stop().await;

    let (port, shutdown) = upgrade_server().await;
    let out = run(
        curl,
        vec![
            "-sS".into(),
            "--http2".into(),
            "-w".into(),
            " %{http_version}".into(),
            format!("http://127.0.0.1:{port}/"),
        ],
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Hello, World! 2",
        "{}",
        text(&out)
    );
    shutdown.trigger();
}

/// nghttpd serving `dir` on a free port; killed on drop.
struct Nghttpd {
    child: std::process::Child,
    port: u16,
}

impl Drop for Nghttpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn nghttpd(path: PathBuf, dir: &std::path::Path) -> Nghttpd {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(path)
        .args([
            "-d",
            &dir.display().to_string(),
            "--address=127.0.0.1",
            "--no-tls",
        ])
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nghttpd");
    // Owned at once, so it is killed and reaped whatever happens next.
    let server = Nghttpd { child, port };
    // Wait until it listens (a startup wait, not a measurement).
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("nghttpd did not start on port {port}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_against_nghttpd() {
    let Some(path) = tool("nghttpd") else { return };
    let dir = std::env::temp_dir().join(format!("gn-h2-nghttpd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big: Vec<u8> = (0..5_000_000u32).map(|i| (i * 7 % 253) as u8).collect();
    std::fs::write(dir.join("big.bin"), &big).unwrap();
    std::fs::write(dir.join("small.txt"), b"small file\n").unwrap();
    let server = nghttpd(path, &dir).await;

    let io = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    let client = client::connect(io, &Settings::default()).await.unwrap();
    let base = format!("http://127.0.0.1:{}", server.port);
    let req = |path: &str| {
        http::Request::get(format!("{base}{path}"))
            .body(ghostnet_http2::Body::empty())
            .unwrap()
    };

    // A 5 MB file, streamed with flow control across many windows.
    let res = client.send(req("/big.bin")).await.unwrap();
    assert_eq!(res.status(), 200);
    let body = res
        .into_body()
        .with_limit(u64::MAX)
        .collect()
        .await
        .unwrap();
    assert!(body == big, "big.bin differs ({} bytes)", body.len());

    // 50 concurrent requests multiplexed on the same connection.
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (client, req) = (client.clone(), req("/small.txt"));
        tasks.push(tokio::spawn(async move {
            client
                .send(req)
                .await
                .unwrap()
                .into_body()
                .collect()
                .await
                .unwrap()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), "small file\n");
    }
    let res = client.send(req("/missing")).await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(!client.is_closed());
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}
