//! A small HTTP server on ghostnet-http: `GET /plaintext`, `GET /json`, `POST /echo`,
//! speaking HTTP/1.1 and HTTP/2 (h2c with prior knowledge or by upgrade) on one port,
//! and, with `--tls-cert` and `--tls-key`, HTTPS (ALPN `h2` or `http/1.1`) on
//! `--tls-addr`.
//!
//! Run: `cargo run --release --example hello_server -- --addr 127.0.0.1:8080`, then
//! `curl http://127.0.0.1:8080/plaintext`, `curl --http2-prior-knowledge ...`,
//! `curl --http2 ...` (upgrade), or load it with `wrk -t1 -c64 -d5s
//! http://127.0.0.1:8080/plaintext` / `h2load -n 100000 -c 64 -m 10
//! http://127.0.0.1:8080/plaintext`. Ctrl-C shuts down gracefully.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use ghostnet::http::http::header::CONTENT_TYPE;
use ghostnet::http::http::{HeaderValue, StatusCode};
use ghostnet::http::{ALPN, Body, IntoResponse, Request, Response, Router, Server, get, post};
use ghostnet::runtime::{Config, Shutdown, run};
use ghostnet::transport::{TcpListener, TcpOptions, TlsListener, TlsServerConfig};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The command line.
#[derive(Parser)]
#[command(about = "ghostnet-http hello server: HTTP/1.1 + HTTP/2 on one port, optional TLS")]
pub(crate) struct Args {
    /// Cleartext address (HTTP/1.1, h2c prior knowledge, h2c upgrade).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) addr: SocketAddr,
    /// TLS certificate chain (PEM); with --tls-key, also serve HTTPS.
    #[arg(long, requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,
    /// HTTPS address, when a certificate is given.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub(crate) tls_addr: SocketAddr,
    /// Runtime worker threads (default: one per core).
    #[arg(long)]
    pub(crate) workers: Option<usize>,
}

fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let mut config = Config::for_server();
    if let Some(n) = args.workers {
        config = config.worker_threads(n);
    }
    run(config, async move {
        let listeners = bind(&args)?;
        println!(
            "listening on http://{} (HTTP/1.1 and h2c)",
            listeners.plain.local_addr()
        );
        if let Some(tls) = &listeners.tls {
            let addr = tls.inner().local_addr();
            println!("listening on https://{addr} (h2 and http/1.1 by ALPN)");
        }
        let shutdown = Shutdown::new();
        shutdown.trigger_on_signals()?;
        serve(listeners, shutdown.clone()).await?;
        println!("{}", shutdown.shutdown().await);
        Ok::<_, BoxError>(())
    })?
}

/// The routes, the same for every protocol.
pub(crate) fn router() -> Router {
    Router::new()
        .route("/plaintext", get(plaintext))
        .route("/json", get(json))
        .route("/echo", post(echo))
}

/// The bound listeners: cleartext always, TLS when a certificate was given.
pub(crate) struct Listeners {
    pub(crate) plain: TcpListener,
    pub(crate) tls: Option<TlsListener<TcpListener>>,
}

/// Binds `--addr`, and `--tls-addr` with the certificate when one is given (ALPN offers
/// `h2` and `http/1.1`).
pub(crate) fn bind(args: &Args) -> Result<Listeners, BoxError> {
    let plain = TcpListener::bind(args.addr, TcpOptions::default())?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let config = TlsServerConfig::builder()
                .cert_files(cert, key)
                .alpn(ALPN)
                .build()?;
            let tcp = TcpListener::bind(args.tls_addr, TcpOptions::default())?;
            Some(TlsListener::new(tcp, config))
        }
        _ => None,
    };
    Ok(Listeners { plain, tls })
}

/// Serves [`router`] on every listener until `shutdown` fires.
pub(crate) async fn serve(listeners: Listeners, shutdown: Shutdown) -> Result<(), BoxError> {
    let server = Server::builder().build()?;
    let router = router();
    let tls = listeners.tls.map(|listener| {
        tokio::spawn(
            server
                .clone()
                .serve(listener, router.clone(), shutdown.clone()),
        )
    });
    server.serve(listeners.plain, router, shutdown).await?;
    if let Some(tls) = tls {
        tls.await??;
    }
    Ok(())
}

async fn plaintext(_req: Request) -> Response {
    with_type(Body::from("Hello, World!"), "text/plain")
}

async fn json(_req: Request) -> Response {
    with_type(
        Body::from(r#"{"message":"Hello, World!"}"#),
        "application/json",
    )
}

async fn echo(req: Request) -> Response {
    match req.into_body().collect().await {
        Ok(body) => with_type(Body::from(body), "application/octet-stream"),
        Err(e) => (
            e.status().unwrap_or(StatusCode::BAD_REQUEST),
            format!("{e}\n"),
        )
            .into_response(),
    }
}

fn with_type(body: Body, content_type: &'static str) -> Response {
    let mut res = Response::new(body);
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}
