//! Helpers shared by the `pool_*` integration tests: small HTTP/1.1-shaped servers
//! (in-memory and on 127.0.0.1), a TCP dialer, and a dialer that counts open connections.

#![allow(dead_code, unreachable_pub)]

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use ghostnet_transport::{
    ConnectionInfo, Dial, Error, Listen, MemoryNetwork, Result, Stream, Target,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

pub const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: test\r\n\r\n";
pub const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// How a test server treats a connection after answering.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// Keep it open for the next request.
    KeepAlive,
    /// Close it right after each response (without saying so in a header).
    CloseAfterResponse,
    /// Close it when no request came for this long.
    CloseWhenIdle(Duration),
    /// Answer, then send one byte nobody asked for.
    TrailingGarbage,
}

/// Serves one connection: fixed-size requests, fixed responses.
pub async fn serve_conn<S: AsyncRead + AsyncWrite + Unpin>(mut conn: S, mode: Mode) {
    let mut req = [0u8; REQUEST.len()];
    loop {
        let read = match mode {
            Mode::CloseWhenIdle(idle) => {
                match tokio::time::timeout(idle, conn.read_exact(&mut req)).await {
                    Ok(r) => r,
                    Err(_) => return, // idle too long: close
                }
            }
            _ => conn.read_exact(&mut req).await,
        };
        if read.is_err() || req != REQUEST {
            return;
        }
        if conn.write_all(RESPONSE).await.is_err() {
            return;
        }
        match mode {
            Mode::CloseAfterResponse => return,
            Mode::TrailingGarbage => {
                let _ = conn.write_all(b"!").await;
            }
            _ => {}
        }
    }
}

/// An in-memory server at `name:80`; returns its target.
pub fn memory_server(net: &MemoryNetwork, name: &str, mode: Mode) -> Target {
    let target: Target = format!("{name}:80").parse().unwrap();
    let listener = net.listen(&target).unwrap();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            tokio::spawn(serve_conn(conn, mode));
        }
    });
    target
}

/// A server on 127.0.0.1 port 0; returns its target. It stops with the test's runtime.
pub async fn tcp_server(mode: Mode) -> Target {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            tokio::spawn(serve_conn(conn, mode));
        }
    });
    Target::from(addr)
}

/// One request/response exchange.
pub async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(conn: &mut S) -> io::Result<()> {
    conn.write_all(REQUEST).await?;
    let mut resp = [0u8; RESPONSE.len()];
    conn.read_exact(&mut resp).await?;
    if resp != RESPONSE {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "wrong response"));
    }
    Ok(())
}

/// The tiny TCP dialer the tests use (the real one is written elsewhere).
#[derive(Debug, Clone, Copy)]
pub struct TcpDial;

impl Dial for TcpDial {
    type Stream = TcpStream;

    async fn dial(&self, target: &Target) -> Result<TcpStream> {
        TcpStream::connect(target.to_string())
            .await
            .map_err(|source| Error::Connect {
                target: target.to_string(),
                source,
            })
    }
}

/// Counts connections of the dialer it wraps: dials, open now, most open at once.
#[derive(Debug, Clone, Default)]
pub struct Gauge {
    pub dials: Arc<AtomicUsize>,
    pub open: Arc<AtomicUsize>,
    pub max_open: Arc<AtomicUsize>,
}

impl Gauge {
    pub fn dials(&self) -> usize {
        self.dials.load(Ordering::SeqCst)
    }
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }
    pub fn max_open(&self) -> usize {
        self.max_open.load(Ordering::SeqCst)
    }
}

/// A dialer that counts (see [`Gauge`]) and can be slowed down or made to hang.
#[derive(Debug, Clone)]
pub struct Counting<D> {
    pub inner: D,
    pub gauge: Gauge,
    /// Sleep this long before dialing.
    pub delay: Duration,
    /// Never finish dialing.
    pub hang: bool,
}

impl<D> Counting<D> {
    pub fn new(inner: D) -> Self {
        Self {
            inner,
            gauge: Gauge::default(),
            delay: Duration::ZERO,
            hang: false,
        }
    }
}

impl<D: Dial> Dial for Counting<D> {
    type Stream = Counted<D::Stream>;

    async fn dial(&self, target: &Target) -> Result<Counted<D::Stream>> {
        self.gauge.dials.fetch_add(1, Ordering::SeqCst);
        if self.hang {
            std::future::pending::<()>().await;
        }
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let stream = self.inner.dial(target).await?;
        let now = self.gauge.open.fetch_add(1, Ordering::SeqCst) + 1;
        self.gauge.max_open.fetch_max(now, Ordering::SeqCst);
        Ok(Counted {
            stream,
            gauge: self.gauge.clone(),
        })
    }
}

/// A stream that decrements its gauge when closed (dropped).
#[derive(Debug)]
pub struct Counted<S> {
    stream: S,
    gauge: Gauge,
}

impl<S> Drop for Counted<S> {
    fn drop(&mut self) {
        self.gauge.open.fetch_sub(1, Ordering::SeqCst);
    }
}

impl<S: Stream> Stream for Counted<S> {
    fn info(&self) -> ConnectionInfo {
        self.stream.info()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Polls `fut` once with a no-op waker.
pub fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    Pin::new(fut).poll(&mut cx)
}

/// Lets every other ready task run (a few rounds), e.g. so servers see a close.
pub async fn settle() {
    for _ in 0..8 {
        tokio::task::yield_now().await;
    }
}

/// Waits (yielding) until `cond` holds; panics after many rounds instead of hanging.
pub async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if cond() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("gave up waiting until {what}");
}
