//! A broadcast chat: `GET /` serves a page (ws_chat.html) that connects back over
//! WebSocket to `/ws?name=...`; every line a client sends goes to every client.
//!
//! Run: `cargo run --release --example ws_chat -- --addr 127.0.0.1:8080` and open
//! http://127.0.0.1:8080/ in two browser tabs. Ctrl-C shuts down gracefully.
//!
//! Each connection is split: its [`Receiver`](ghostnet::ws::Receiver) task reads lines,
//! and the broadcaster writes to every client's cloneable
//! [`Sender`](ghostnet::ws::Sender) with `try_send`. A client whose send queue is full
//! reads slower than the room talks; it is disconnected (close code 1008) instead of
//! making the server buffer for it, or slowing everyone else down.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use clap::Parser;
use ghostnet::http1::http::header::{CONTENT_TYPE, HeaderValue};
use ghostnet::http1::http::{Method, Request, Response, StatusCode};
use ghostnet::http1::{Body, Server};
use ghostnet::runtime::{Config, Shutdown, run};
use ghostnet::transport::{TcpListener, TcpOptions};
use ghostnet::ws::{self, Acceptor, CloseCode, Error, Message, Sender, WebSocket};

const PAGE: &str = include_str!("ws_chat.html");
/// Longest line a client may send.
const MAX_LINE: usize = 4096;
/// What one slow client may have queued before it is dropped.
const CLIENT_QUEUE: usize = 256 * 1024;

#[derive(Parser)]
#[command(about = "ghostnet WebSocket chat")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
}

/// Everyone in the room, by connection id.
#[derive(Default)]
struct Room {
    members: Mutex<HashMap<u64, Sender>>,
    next_id: AtomicU64,
}

impl Room {
    fn join(&self, tx: Sender) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, tx);
        id
    }

    fn leave(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Sends `line` to everyone; drops members that cannot keep up.
    fn broadcast(&self, line: &str) {
        let msg = Message::text(line);
        let mut members = self.lock();
        members.retain(|_, tx| match tx.try_send(msg.clone()) {
            Ok(()) => true,
            Err(e) if matches!(e.error(), Error::QueueFull) => {
                let _ = tx.close(CloseCode::Policy, "too slow: messages were piling up");
                false
            }
            Err(_) => false, // gone
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Sender>> {
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args = Args::parse();
    let acceptor = Acceptor::builder()
        .config(
            ws::Config::default()
                .max_message_size(MAX_LINE)
                .max_frame_size(MAX_LINE)
                .send_queue_bytes(CLIENT_QUEUE),
        )
        .build()?;
    let room = Arc::new(Room::default());
    run(Config::for_server(), async move {
        let listener = TcpListener::bind(args.addr, TcpOptions::default())?;
        println!("chat on http://{}/", listener.local_addr());
        let shutdown = Shutdown::new();
        shutdown.trigger_on_signals()?;
        let handler = move |req: Request<Body>| {
            let (acceptor, room) = (acceptor.clone(), room.clone());
            async move { route(req, &acceptor, room) }
        };
        Server::builder()
            .build()
            .serve(listener, handler, shutdown.clone())
            .await?;
        println!("{}", shutdown.shutdown().await);
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    })?
}

fn route(req: Request<Body>, acceptor: &Acceptor, room: Arc<Room>) -> Response<Body> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/") => {
            let mut res = Response::new(Body::from(PAGE));
            res.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            res
        }
        (&Method::GET, "/ws") => {
            let name = name_from(req.uri().query().unwrap_or(""));
            acceptor.upgrade(req, move |socket| chat(socket, name, room))
        }
        _ => {
            let mut res = Response::new(Body::from("not found\n"));
            *res.status_mut() = StatusCode::NOT_FOUND;
            res
        }
    }
}

/// `name=...` from the query, percent-decoded, trimmed, at most 24 characters.
fn name_from(query: &str) -> String {
    let raw = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("name="))
        .unwrap_or("");
    let mut bytes = Vec::with_capacity(raw.len());
    let mut it = raw.bytes();
    while let Some(b) = it.next() {
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex: Vec<u8> = it.by_ref().take(2).collect();
                match std::str::from_utf8(&hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => bytes.push(v),
                    None => bytes.push(b'?'),
                }
            }
            b => bytes.push(b),
        }
    }
    let name: String = String::from_utf8_lossy(&bytes)
        .chars()
        .filter(|c| !c.is_control())
        .take(24)
        .collect();
    match name.trim() {
        "" => "guest".to_owned(),
        n => n.to_owned(),
    }
}

async fn chat(socket: WebSocket, name: String, room: Arc<Room>) {
    let (tx, mut rx) = socket.split();
    let id = room.join(tx);
    room.broadcast(&format!("* {name} joined"));
    while let Some(msg) = rx.recv().await {
        match msg {
            Ok(Message::Text(line)) => {
                let line = line.as_str().trim();
                if !line.is_empty() {
                    room.broadcast(&format!("{name}: {line}"));
                }
            }
            Ok(_) => {} // binary is ignored, pings are answered, close ends the loop
            Err(e) => {
                eprintln!("{name} ({:?}): {e}", rx.info().peer_addr);
                break;
            }
        }
    }
    room.leave(id);
    room.broadcast(&format!("* {name} left"));
}

#[cfg(test)]
mod tests {
    use super::name_from;

    #[test]
    fn names_are_decoded_and_bounded() {
        assert_eq!(name_from("name=Ada%20L"), "Ada L");
        assert_eq!(name_from("x=1&name=b+c"), "b c");
        assert_eq!(name_from(""), "guest");
        assert_eq!(name_from("name=%0a%0d"), "guest");
        assert_eq!(name_from(&format!("name={}", "x".repeat(99))).len(), 24);
    }
}
