//! A small HTTP/1.1 server on ghostnet-http1: `GET /plaintext`, `GET /json`, `POST /echo`.
//!
//! Run: `cargo run --release --example hello_server -- --addr 127.0.0.1:8080 --workers 2`,
//! then `curl http://127.0.0.1:8080/plaintext` or `wrk -t1 -c64 -d5s
//! http://127.0.0.1:8080/plaintext`. Ctrl-C shuts down gracefully.

use std::net::SocketAddr;

use clap::Parser;
use ghostnet::http1::http::header::CONTENT_TYPE;
use ghostnet::http1::http::{HeaderValue, Method, Request, Response, StatusCode};
use ghostnet::http1::{Body, Server};
use ghostnet::runtime::{Config, Shutdown, run};
use ghostnet::transport::{TcpListener, TcpOptions};

// Private stand-in for ghostnet-transport's TCP listener (one shared file; see its header).
#[allow(unreachable_pub, dead_code)]
#[derive(Parser)]
#[command(about = "ghostnet-http1 hello server")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Runtime worker threads (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args = Args::parse();
    let mut config = Config::for_server();
    if let Some(n) = args.workers {
        config = config.worker_threads(n);
    }
    run(config, async move {
        let listener = TcpListener::bind(args.addr, TcpOptions::default())?;
        println!("listening on http://{}", listener.local_addr());
        let shutdown = Shutdown::new();
        shutdown.trigger_on_signals()?;
        Server::builder()
            .build()
            .serve(listener, handle, shutdown.clone())
            .await?;
        println!("{}", shutdown.shutdown().await);
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    })?
}

async fn handle(req: Request<Body>) -> Response<Body> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/plaintext") => with_type(Body::from("Hello, World!"), "text/plain"),
        (&Method::GET, "/json") => with_type(
            Body::from(r#"{"message":"Hello, World!"}"#),
            "application/json",
        ),
        (&Method::POST, "/echo") => match req.into_body().collect().await {
            Ok(body) => with_type(Body::from(body), "application/octet-stream"),
            Err(e) => status(e.status().unwrap_or(StatusCode::BAD_REQUEST), e.to_string()),
        },
        _ => status(StatusCode::NOT_FOUND, "not found".to_owned()),
    }
}

fn with_type(body: Body, content_type: &'static str) -> Response<Body> {
    let mut res = Response::new(body);
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

fn status(code: StatusCode, text: String) -> Response<Body> {
    let mut res = with_type(Body::from(text + "\n"), "text/plain");
    *res.status_mut() = code;
    res
}
