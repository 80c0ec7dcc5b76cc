//! Helpers for the client tests: the crate's own server on TCP or in memory, and raw
//! servers scripted per connection (to misbehave on purpose), which read requests with
//! the crate's own request decoder.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use ghostnet_http1::client::{Client, ClientBuilder};
use ghostnet_http1::codec::{Event, RequestDecoder, RequestHead};
use ghostnet_http1::{Body, Limits, Server, Service};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::{Listen, MemoryDialer, MemoryNetwork, TcpListener, TcpOptions};
use http::{Request, Response};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Guard against hangs in real-clock tests; no assertion depends on it.
pub const GUARD: Duration = Duration::from_secs(20);

/// The crate's server, on a listener of any transport, until dropped.
pub struct TestServer {
    pub base: String,
    shutdown: Shutdown,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

/// The crate's server on 127.0.0.1:0; `base` is `http://127.0.0.1:PORT`.
pub fn serve_tcp<S: Service>(service: S) -> TestServer {
    let listener =
        TcpListener::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::default()).expect("bind");
    let base = format!("http://{}", listener.local_addr());
    let shutdown = Shutdown::new();
    tokio::spawn(
        Server::builder()
            .build()
            .serve(listener, service, shutdown.clone()),
    );
    TestServer { base, shutdown }
}

/// The crate's server on `net` at `host:80`; `base` is `http://host`.
pub fn serve_memory<S: Service>(net: &MemoryNetwork, host: &str, service: S) -> TestServer {
    let listener = net
        .listen(&format!("{host}:80").parse().unwrap())
        .expect("listen");
    let shutdown = Shutdown::new();
    tokio::spawn(
        Server::builder()
            .build()
            .serve(listener, service, shutdown.clone()),
    );
    TestServer {
        base: format!("http://{host}"),
        shutdown,
    }
}

/// A client over TCP with `builder`'s settings.
pub fn tcp_client(builder: ClientBuilder) -> Client {
    builder.build().expect("client")
}

/// A client over `net` with `builder`'s settings.
pub fn memory_client(net: &MemoryNetwork, builder: ClientBuilder) -> Client<MemoryDialer> {
    builder.build_with_dialer(net.dialer()).expect("client")
}

/// One request as a raw server read it.
#[derive(Debug)]
pub struct Req {
    pub head: RequestHead,
    pub body: Bytes,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// The server end of one connection of a raw server.
pub struct Peer<S> {
    pub io: S,
    buf: BytesMut,
    decoder: RequestDecoder,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Peer<S> {
    pub fn new(io: S) -> Self {
        Self {
            io,
            buf: BytesMut::new(),
            decoder: RequestDecoder::new(Limits::default()),
        }
    }

    /// The next whole request; `None` when the client closed or sent garbage.
    pub async fn read_request(&mut self) -> Option<Req> {
        let mut head = None;
        let mut body = BytesMut::new();
        loop {
            match self.decoder.decode(&mut self.buf).ok()? {
                Event::Head(h) => head = Some(h),
                Event::Data(d) => body.extend_from_slice(&d),
                Event::Trailers(_) => {}
                Event::End => {
                    return Some(Req {
                        head: head?,
                        body: body.freeze(),
                    });
                }
                Event::NeedMore => {
                    if self.io.read_buf(&mut self.buf).await.ok()? == 0 {
                        return None;
                    }
                }
            }
        }
    }

    /// Reads only the next request head (the body, if any, stays unread).
    pub async fn read_head(&mut self) -> Option<RequestHead> {
        loop {
            match self.decoder.decode(&mut self.buf).ok()? {
                Event::Head(h) => return Some(h),
                Event::NeedMore => {
                    if self.io.read_buf(&mut self.buf).await.ok()? == 0 {
                        return None;
                    }
                }
                _ => return None,
            }
        }
    }

    /// Bytes received but not decoded yet.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    pub async fn send(&mut self, raw: &[u8]) {
        let _ = self.io.write_all(raw).await;
    }
}

/// What a raw server saw.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub connections: Arc<AtomicUsize>,
    pub requests: Arc<AtomicUsize>,
}

impl Seen {
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
    pub fn request(&self) {
        self.requests.fetch_add(1, Ordering::SeqCst);
    }
}

/// A raw server on any listener: `script(n, peer, seen)` runs for the n-th connection
/// (from 0), each on its own task.
pub fn raw_server<L, F, Fut>(listener: L, script: F) -> Seen
where
    L: Listen,
    F: Fn(usize, Peer<L::Stream>, Seen) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let seen = Seen::default();
    let s = seen.clone();
    tokio::spawn(async move {
        let script = Arc::new(script);
        while let Ok((io, _)) = listener.accept().await {
            let n = s.connections.fetch_add(1, Ordering::SeqCst);
            let (script, s) = (script.clone(), s.clone());
            tokio::spawn(async move { script(n, Peer::new(io), s).await });
        }
    });
    seen
}

/// A raw server on 127.0.0.1:0; returns `http://127.0.0.1:PORT` and what it saw.
pub fn raw_tcp<F, Fut>(script: F) -> (String, Seen)
where
    F: Fn(usize, Peer<tokio::net::TcpStream>, Seen) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener =
        TcpListener::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::default()).expect("bind");
    let base = format!("http://{}", listener.local_addr());
    (base, raw_server(listener, script))
}

/// A raw server on `net` at `host:80`; returns `http://host` and what it saw.
pub fn raw_memory<F, Fut>(net: &MemoryNetwork, host: &str, script: F) -> (String, Seen)
where
    F: Fn(usize, Peer<ghostnet_transport::MemoryStream>, Seen) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = net
        .listen(&format!("{host}:80").parse().unwrap())
        .expect("listen");
    (format!("http://{host}"), raw_server(listener, script))
}

/// A handler answering `hello` to everything.
pub async fn hello(_req: Request<Body>) -> Response<Body> {
    Response::new(Body::from("hello"))
}

/// A handler echoing the request body.
pub async fn echo(req: Request<Body>) -> Response<Body> {
    let body = req.into_body().collect().await.unwrap_or_default();
    Response::new(Body::from(body))
}

/// `HTTP/1.1 200 OK` with `body` and a Content-Length.
pub fn ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
