//! The two clients, each downloading one large body over a fresh connection.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ghostnet::http2::{Body, client};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::DOWNLOAD_PATH;

/// Downloads `len` bytes with ghostnet-http2's client; returns the time from the request
/// to the last byte.
pub async fn ghostnet(addr: SocketAddr, len: u64) -> Duration {
    let io = connect(addr).await;
    let client = client::connect(io, &super::ghostnet_settings())
        .await
        .expect("handshake");
    let req = http::Request::get(format!("http://{addr}{DOWNLOAD_PATH}{len}"))
        .body(Body::empty())
        .expect("request");
    let start = Instant::now();
    let mut body = client.send(req).await.expect("response").into_body();
    let mut got = 0u64;
    while let Some(chunk) = body.data().await {
        got += chunk.expect("body").len() as u64;
    }
    let elapsed = start.elapsed();
    assert_eq!(got, len, "short download");
    elapsed
}

/// Downloads `len` bytes with hyper's HTTP/2 client.
pub async fn hyper(addr: SocketAddr, len: u64) -> Duration {
    let io = connect(addr).await;
    let (mut send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io))
            .await
            .expect("handshake");
    tokio::spawn(conn);
    let req = http::Request::get(format!("http://{addr}{DOWNLOAD_PATH}{len}"))
        .body(Empty::<Bytes>::new())
        .expect("request");
    let start = Instant::now();
    let mut body = send.send_request(req).await.expect("response").into_body();
    let mut got = 0u64;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("body").into_data() {
            got += data.len() as u64;
        }
    }
    let elapsed = start.elapsed();
    assert_eq!(got, len, "short download");
    elapsed
}

async fn connect(addr: SocketAddr) -> tokio::net::TcpStream {
    let io = tokio::net::TcpStream::connect(addr).await.expect("connect");
    io.set_nodelay(true).expect("nodelay");
    io
}
