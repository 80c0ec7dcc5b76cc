//! Graceful shutdown: requests in flight finish on both protocols, idle connections
//! close, the accept loop stops.

mod support;

use std::sync::Arc;

use ghostnet_http::{Request, Router, get};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Notify, mpsc};

/// A route that tells the test it started and waits to be released.
fn gated() -> (Router, mpsc::UnboundedReceiver<()>, Arc<Notify>) {
    let (entered_tx, entered) = mpsc::unbounded_channel();
    let gate = Arc::new(Notify::new());
    let g = gate.clone();
    let router = Router::new()
        .route(
            "/slow",
            get(move |_req: Request| {
                let (entered, gate) = (entered_tx.clone(), g.clone());
                async move {
                    let _ = entered.send(());
                    gate.notified().await;
                    "finished"
                }
            }),
        )
        .route("/fast", get(|_req: Request| async { "fast" }));
    (router, entered, gate)
}

#[tokio::test]
async fn in_flight_http1_request_finishes_with_connection_close() {
    let (router, mut entered, gate) = gated();
    let server = support::start(router).await;
    // An idle keep-alive connection: closed by the shutdown.
    let mut idle = server.tcp().await;
    idle.write_all(b"GET /fast HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).ends_with("fast"));

    let mut busy = server.tcp().await;
    busy.write_all(b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    entered.recv().await.unwrap();

    server.shutdown.trigger();
    server.serving.await.unwrap().unwrap(); // the accept loop stopped
    let draining = tokio::spawn({
        let s = server.shutdown.clone();
        async move { s.shutdown().await }
    });
    assert_eq!(
        idle.read(&mut buf).await.unwrap(),
        0,
        "idle connection closed"
    );
    gate.notify_one();
    let raw = support::read_to_close(&mut busy).await;
    let res = support::parse_response(&raw, false);
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "finished");
    assert_eq!(res.header("connection"), Some("close"));
    assert!(draining.await.unwrap().is_clean());
    assert!(
        tokio::net::TcpStream::connect(server.addr).await.is_err(),
        "the listener is closed"
    );
}

#[tokio::test]
async fn in_flight_http2_stream_finishes_after_goaway() {
    let (router, mut entered, gate) = gated();
    let server = support::start(router).await;
    let h2 = server.h2().await;
    let pending = tokio::spawn({
        let h2 = h2.clone();
        async move { support::h2_request(&h2, "GET", "/slow", &[]).await }
    });
    entered.recv().await.unwrap();
    server.shutdown.trigger();
    server.serving.await.unwrap().unwrap();
    let draining = tokio::spawn({
        let s = server.shutdown.clone();
        async move { s.shutdown().await }
    });
    // GOAWAY reaches the client: no new requests on this connection.
    while !h2.is_closed() {
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    gate.notify_one();
    let res = pending.await.unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "finished");
    drop(h2);
    assert!(draining.await.unwrap().is_clean());
}

#[tokio::test]
async fn upgraded_h2c_connections_are_drained_too() {
    let (router, _entered, _gate) = gated();
    let server = support::start(router).await;
    let mut tcp = server.tcp().await;
    tcp.write_all(
        b"GET /fast HTTP/1.1\r\nhost: localhost\r\nconnection: Upgrade, HTTP2-Settings\r\n\
          upgrade: h2c\r\nhttp2-settings: \r\n\r\n",
    )
    .await
    .unwrap();
    let mut got = Vec::new();
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let mut b = [0u8; 1];
        tcp.read_exact(&mut b).await.unwrap();
        got.push(b[0]);
    }
    assert!(got.starts_with(b"HTTP/1.1 101"));
    let mut out = ghostnet_http2::h2c::PREFACE.to_vec();
    out.extend_from_slice(&[0, 0, 0, 0x4, 0, 0, 0, 0, 0]);
    tcp.write_all(&out).await.unwrap();
    // Stream 1 (the upgraded request) is answered first...
    let mut frames = Vec::new();
    while !has_frame(&frames, |kind, flags, stream| {
        kind == 0x0 && flags & 0x1 != 0 && stream == 1
    }) {
        let mut buf = [0u8; 4096];
        let n = tcp.read(&mut buf).await.unwrap();
        assert_ne!(n, 0, "closed before answering stream 1");
        frames.extend_from_slice(&buf[..n]);
    }
    server.shutdown.trigger();
    server.serving.await.unwrap().unwrap();
    // ...then the connection task, tracked by the shutdown, sends GOAWAY.
    loop {
        let mut buf = [0u8; 4096];
        let n = tcp.read(&mut buf).await.unwrap();
        assert_ne!(n, 0, "closed without GOAWAY");
        frames.extend_from_slice(&buf[..n]);
        if has_frame(&frames, |kind, _, _| kind == 0x7) {
            break;
        }
    }
    drop(tcp);
    assert!(server.shutdown.shutdown().await.is_clean());
}

/// Whether the whole frames in `buf` include one matching `(type, flags, stream)`.
fn has_frame(mut buf: &[u8], want: impl Fn(u8, u8, u32) -> bool) -> bool {
    while buf.len() >= 9 {
        let len = (usize::from(buf[0]) << 16) | (usize::from(buf[1]) << 8) | usize::from(buf[2]);
        let stream = u32::from_be_bytes([buf[5] & 0x7f, buf[6], buf[7], buf[8]]);
        if want(buf[3], buf[4], stream) {
            return true;
        }
        if buf.len() < 9 + len {
            return false;
        }
        buf = &buf[9 + len..];
    }
    false
}
