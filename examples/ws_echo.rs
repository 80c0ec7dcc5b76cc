//! A WebSocket echo server on the ghostnet HTTP/1.1 server: `ws://ADDR/` echoes every text
//! and binary message; a plain `GET /` on the same port answers with a line of text.
//! This is the server `cargo xtask interop ws` runs the Autobahn case set against.
//!
//! Run: `cargo run --release --example ws_echo -- --addr 127.0.0.1:9001`, then connect
//! with any WebSocket client, e.g. `python3 -m websockets ws://127.0.0.1:9001/`.
//! Ctrl-C shuts down gracefully.

use std::net::SocketAddr;

use clap::Parser;
use ghostnet::http1::http::header::{CONTENT_TYPE, HeaderValue, SERVER};
use ghostnet::http1::http::{Request, Response};
use ghostnet::http1::{Body, Server};
use ghostnet::runtime::{Config, Shutdown, run};
use ghostnet::transport::{TcpListener, TcpOptions};
use ghostnet::ws::{self, Acceptor, WebSocket};

#[derive(Parser)]
#[command(about = "ghostnet WebSocket echo server")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9001")]
    addr: SocketAddr,
    /// Runtime worker threads (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
    /// Largest message accepted, in MiB (Autobahn's biggest cases need 16).
    #[arg(long, default_value_t = 16)]
    max_message_mib: usize,
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args = Args::parse();
    let mut config = Config::for_server();
    if let Some(n) = args.workers {
        config = config.worker_threads(n);
    }
    let limit = args.max_message_mib << 20;
    let acceptor = Acceptor::builder()
        .config(
            ws::Config::default()
                .max_message_size(limit)
                .max_frame_size(limit),
        )
        .build()?;
    run(config, async move {
        let listener = TcpListener::bind(args.addr, TcpOptions::default())?;
        println!("listening on ws://{}/", listener.local_addr());
        let shutdown = Shutdown::new();
        shutdown.trigger_on_signals()?;
        let handler = move |req: Request<Body>| {
            let acceptor = acceptor.clone();
            async move { handle(&acceptor, req) }
        };
        Server::builder()
            .build()
            .serve(listener, handler, shutdown.clone())
            .await?;
        println!("{}", shutdown.shutdown().await);
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    })?
}

fn handle(acceptor: &Acceptor, req: Request<Body>) -> Response<Body> {
    let mut res = if ws::is_upgrade_request(&req) {
        acceptor.upgrade(req, echo)
    } else {
        let mut res = Response::new(Body::from(
            "ghostnet WebSocket echo server: connect with ws:// to this address\n",
        ));
        res.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        res
    };
    // Autobahn reports name the server under test after this header.
    res.headers_mut()
        .insert(SERVER, HeaderValue::from_static("ghostnet-ws"));
    res
}

/// Echoes text and binary messages. `feed` queues the echo without a write of its own:
/// the next `recv` writes everything queued once no more input is waiting, so a burst of
/// messages is echoed in a few writes.
async fn echo(mut socket: WebSocket) {
    while let Some(msg) = socket.recv().await {
        match msg {
            Ok(m) if m.is_data() => {
                if socket.feed(m).await.is_err() {
                    break;
                }
            }
            Ok(_) => {} // pings are answered by the connection; close ends the loop
            Err(e) => {
                eprintln!("connection from {:?} ended: {e}", socket.info().peer_addr);
                break;
            }
        }
    }
}
