//! Helpers shared by the integration tests: a ghostnet HTTP/1.1 server with a WebSocket
//! route (over TCP on 127.0.0.1:0 or the in-memory network), and a raw client that speaks
//! bytes, for what a well-behaved client cannot send.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ghostnet_http1::{Body, Server};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::{Dial, Listen, MemoryNetwork, MemoryStream, TcpListener, TcpOptions};
use ghostnet_ws::{Acceptor, WebSocket};
use http::{Request, Response};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Guard against hangs in real-clock tests: no assertion depends on it.
pub const GUARD: Duration = Duration::from_secs(20);

/// The in-memory address the memory servers listen on.
pub const MEM_HOST: &str = "ws.test:80";

/// A server: `GET /plain` answers `plain`, every other request is upgraded by the
/// acceptor and handed to the socket handler.
pub struct TestServer {
    pub addr: Option<SocketAddr>,
    pub net: Option<MemoryNetwork>,
    pub shutdown: Shutdown,
    task: tokio::task::JoinHandle<ghostnet_http1::Result<()>>,
}

fn service<F, Fut>(
    acceptor: Acceptor,
    on_socket: F,
) -> impl Fn(Request<Body>) -> std::pin::Pin<Box<dyn Future<Output = Response<Body>> + Send>>
+ Send
+ Sync
+ 'static
where
    F: Fn(WebSocket) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let on_socket = Arc::new(on_socket);
    move |req: Request<Body>| {
        let acceptor = acceptor.clone();
        let on_socket = on_socket.clone();
        Box::pin(async move {
            if req.uri().path() == "/plain" {
                return Response::new(Body::from("plain"));
            }
            acceptor.upgrade(req, move |ws| on_socket(ws))
        })
    }
}

impl TestServer {
    /// Over TCP on 127.0.0.1:0.
    pub async fn tcp<F, Fut>(acceptor: Acceptor, on_socket: F) -> Self
    where
        F: Fn(WebSocket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener =
            TcpListener::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::default()).unwrap();
        let addr = listener.local_addr();
        let mut s = Self::serve(listener, acceptor, on_socket);
        s.addr = Some(addr);
        s
    }

    /// Over an in-memory network, at [`MEM_HOST`].
    pub async fn memory<F, Fut>(net: &MemoryNetwork, acceptor: Acceptor, on_socket: F) -> Self
    where
        F: Fn(WebSocket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = net.listen(&MEM_HOST.parse().unwrap()).unwrap();
        let mut s = Self::serve(listener, acceptor, on_socket);
        s.net = Some(net.clone());
        s
    }

    fn serve<L, F, Fut>(listener: L, acceptor: Acceptor, on_socket: F) -> Self
    where
        L: Listen,
        F: Fn(WebSocket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let shutdown = Shutdown::with_deadline(Duration::from_secs(5));
        let task = tokio::spawn(Server::builder().build().serve(
            listener,
            service(acceptor, on_socket),
            shutdown.clone(),
        ));
        Self {
            addr: None,
            net: None,
            shutdown,
            task,
        }
    }

    /// `ws://ADDR/path` of a TCP server, `ws://ws.test/path` of a memory one.
    pub fn url(&self, path: &str) -> String {
        match self.addr {
            Some(a) => format!("ws://{a}{path}"),
            None => format!("ws://ws.test{path}"),
        }
    }

    /// A raw connection to the server.
    pub async fn raw(&self) -> Raw<Box<dyn ghostnet_transport::Stream>> {
        let io: Box<dyn ghostnet_transport::Stream> = match (&self.addr, &self.net) {
            (Some(a), _) => Box::new(tokio::net::TcpStream::connect(a).await.unwrap()),
            (None, Some(net)) => {
                Box::new(net.dialer().dial(&MEM_HOST.parse().unwrap()).await.unwrap())
            }
            _ => unreachable!(),
        };
        Raw {
            io,
            buf: Vec::new(),
        }
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        self.task.await.unwrap().unwrap();
    }
}

/// Echoes text and binary messages until the connection ends.
pub async fn echo(mut ws: WebSocket) {
    while let Some(Ok(msg)) = ws.recv().await {
        if msg.is_data() && ws.send(msg).await.is_err() {
            break;
        }
    }
}

/// A valid opening request for `path` with `extra` header lines (each ending in CRLF).
pub fn upgrade_request(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// The accept key for [`upgrade_request`]'s key (RFC 6455 section 1.3).
pub const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// A raw byte client.
pub struct Raw<S> {
    pub io: S,
    buf: Vec<u8>,
}

/// A response head read by [`Raw::read_head`]: status and lowercase headers.
#[derive(Debug)]
pub struct Head {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One frame as read by [`Raw::read_frame`].
#[derive(Debug, PartialEq, Eq)]
pub struct RawFrame {
    pub fin: bool,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

impl RawFrame {
    /// The close code of a close frame.
    pub fn close_code(&self) -> Option<u16> {
        (self.opcode == 8 && self.payload.len() >= 2)
            .then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Raw<S> {
    pub fn new(io: S) -> Self {
        Self {
            io,
            buf: Vec::new(),
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.io.write_all(bytes).await.unwrap();
    }

    /// Sends the opening request and reads the response head; for 101 the head only, for
    /// others also a `Content-Length` body.
    pub async fn handshake(&mut self, path: &str, extra: &str) -> Head {
        self.send(upgrade_request(path, extra).as_bytes()).await;
        self.read_head().await
    }

    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        let n = self.io.read(&mut chunk).await.unwrap_or(0);
        self.buf.extend_from_slice(&chunk[..n]);
        n > 0
    }

    pub async fn read_head(&mut self) -> Head {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8(self.buf[..end].to_vec()).unwrap();
                self.buf.drain(..end + 4);
                let mut lines = head.split("\r\n");
                let status = lines.next().unwrap()[9..12].parse().unwrap();
                let headers: Vec<(String, String)> = lines
                    .map(|l| {
                        let (k, v) = l.split_once(':').unwrap();
                        (k.trim().to_ascii_lowercase(), v.trim().to_owned())
                    })
                    .collect();
                let len: usize = headers
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .map_or(0, |(_, v)| v.parse().unwrap());
                while self.buf.len() < len {
                    assert!(self.fill().await, "eof in body");
                }
                let body = String::from_utf8(self.buf.drain(..len).collect()).unwrap();
                return Head {
                    status,
                    headers,
                    body,
                };
            }
            assert!(self.fill().await, "eof before the response head");
        }
    }

    /// Reads one frame; `None` at end of stream.
    pub async fn read_frame(&mut self) -> Option<RawFrame> {
        loop {
            if let Some((frame, used)) = parse_frame(&self.buf) {
                self.buf.drain(..used);
                return Some(frame);
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    /// Reads frames until a close frame (returned) or the end of the stream (`None`).
    pub async fn read_until_close(&mut self) -> Option<RawFrame> {
        while let Some(f) = self.read_frame().await {
            if f.opcode == 8 {
                return Some(f);
            }
        }
        None
    }

    /// Whether the peer closed the stream (reads to the end, dropping what comes).
    pub async fn reads_to_eof(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        loop {
            match self.io.read(&mut chunk).await {
                Ok(0) => return true,
                Ok(_) => {}
                Err(_) => return true,
            }
        }
    }
}

/// A client frame: masked with key 0x01020304.
pub fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame_with(fin, 0, opcode, payload, true)
}

/// Any frame: `rsv` in bits 4-6 of the first byte, masked or not.
pub fn frame_with(fin: bool, rsv: u8, opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | (rsv << 4) | opcode];
    let mask_bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= 0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        let key = [1u8, 2, 3, 4];
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// A frame header announcing `len` payload bytes, without the payload.
pub fn header_only(opcode: u8, len: u64) -> Vec<u8> {
    let mut out = vec![0x80 | opcode, 0x80 | 127];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&[1, 2, 3, 4]);
    out
}

/// A close frame with a code and reason, masked.
pub fn close_frame(code: u16, reason: &str) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason.as_bytes());
    frame(true, 8, &p)
}

/// Parses a server frame (unmasked) from the start of `buf`.
fn parse_frame(buf: &[u8]) -> Option<(RawFrame, usize)> {
    if buf.len() < 2 {
        return None;
    }
    let fin = buf[0] & 0x80 != 0;
    let opcode = buf[0] & 0x0F;
    let masked = buf[1] & 0x80 != 0;
    let (len, mut at) = match buf[1] & 0x7F {
        126 => (
            u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?) as usize,
            4,
        ),
        127 => (
            u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?) as usize,
            10,
        ),
        n => (n as usize, 2),
    };
    let key = if masked {
        let k: [u8; 4] = buf.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        Some(k)
    } else {
        None
    };
    let mut payload = buf.get(at..at + len)?.to_vec();
    if let Some(k) = key {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= k[i % 4];
        }
    }
    Some((
        RawFrame {
            fin,
            opcode,
            payload,
        },
        at + len,
    ))
}

/// Two ends of an in-memory connection with no handshake: for tests of the connection
/// alone.
pub async fn memory_pair(net: &MemoryNetwork, name: &str) -> (MemoryStream, MemoryStream) {
    let target = format!("{name}:1").parse().unwrap();
    let listener = net.listen(&target).unwrap();
    let a = net.dialer().dial(&target).await.unwrap();
    let (b, _) = listener.accept().await.unwrap();
    (a, b)
}
