//! Slowloris, body and silent-connection timeouts, on tokio's paused clock.

mod support;

use std::time::Duration;

use ghostnet_http1::Server;
use http::Method;
use support::{MemServer, echo};
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn slow_head_gets_408_and_a_closed_connection() {
    let builder = Server::builder().header_read_timeout(Duration::from_secs(5));
    let server = MemServer::start(builder, echo);
    let mut c = server.connect().await;
    let start = Instant::now();
    // Slowloris: a byte every second, never finishing the head.
    let drip = async {
        for b in b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if tokio::io::AsyncWriteExt::write_all(&mut c.io, &[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    };
    drip.await;
    let r = c.read(Method::GET).await.expect("a 408 response");
    assert_eq!(r.status(), 408);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed().await);
    // The deadline counts from the first byte, not from the last one.
    assert!(start.elapsed() < Duration::from_secs(60));
}

#[tokio::test(start_paused = true)]
async fn silent_connection_is_closed_after_the_head_timeout() {
    let builder = Server::builder().header_read_timeout(Duration::from_secs(5));
    let server = MemServer::start(builder, echo);
    let mut c = server.connect().await;
    let start = Instant::now();
    assert!(c.is_closed().await);
    assert_eq!(start.elapsed(), Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn stalled_body_gets_408() {
    let builder = Server::builder().body_read_timeout(Duration::from_secs(3));
    let server = MemServer::start(builder, echo);
    let mut c = server.connect().await;
    c.send(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
        .await;
    let start = Instant::now();
    let r = c.read(Method::POST).await.expect("a 408 response");
    assert_eq!(r.status(), 408);
    assert!(String::from_utf8_lossy(&r.body).contains("request body"));
    assert!(c.is_closed().await);
    assert!(start.elapsed() >= Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn slow_but_steady_body_is_accepted() {
    let builder = Server::builder().body_read_timeout(Duration::from_secs(3));
    let server = MemServer::start(builder, echo);
    let mut c = server.connect().await;
    c.send(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        .await;
    // Ten pieces, 2 s apart: 20 s in all, but never 3 s without progress.
    for _ in 0..10 {
        c.send(b"1\r\nx\r\n").await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    c.send(b"0\r\n\r\n").await;
    let r = c.read(Method::POST).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.body, "xxxxxxxxxx");
}
