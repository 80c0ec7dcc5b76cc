//! The part of an HTTP/1.1 server an h2c upgrade needs, for tests: read one request
//! head, answer `101 Switching Protocols`, hand the connection to
//! `Server::serve_upgrade`. The real one is ghostnet-http1's upgrade hook.

use std::sync::Arc;

use ghostnet_http2::{Body, Server, Service, h2c};
use ghostnet_transport::Stream;
use http::Request;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// Reads the request head byte by byte (so nothing after it is consumed).
pub async fn read_head<S: Stream>(io: &mut S) -> Request<()> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        let n = io.read(&mut b).await.expect("read head");
        assert_eq!(
            n,
            1,
            "EOF in the request head: {:?}",
            String::from_utf8_lossy(&head)
        );
        head.push(b[0]);
    }
    let text = String::from_utf8(head).expect("ASCII head");
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap().split(' ');
    let (method, target) = (first.next().unwrap(), first.next().unwrap());
    let mut req = Request::builder().method(method).uri(target);
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').expect("field");
        req = req.header(name.trim(), value.trim());
    }
    req.body(()).unwrap()
}

/// Serves one HTTP/1.1 connection that must ask for h2c: checks it as an HTTP/1.1
/// server would, answers 101, and serves HTTP/2 from then on.
pub async fn serve_h2c_upgrade<S: Stream, Svc: Service>(
    server: &Server,
    mut io: S,
    service: Arc<Svc>,
    token: CancellationToken,
) -> ghostnet_http2::Result<()> {
    let req = read_head(&mut io).await;
    assert!(h2c::is_upgrade_request(&req), "not an h2c upgrade: {req:?}");
    h2c::upgrade_settings(&req)?;
    let res = h2c::switching_protocols();
    let mut head = format!("HTTP/1.1 {}\r\n", res.status());
    for (name, value) in res.headers() {
        head += &format!("{name}: {}\r\n", value.to_str().unwrap());
    }
    head += "\r\n";
    io.write_all(head.as_bytes()).await.unwrap();
    server
        .serve_upgrade(io, req.map(|()| Body::empty()), service, token)
        .await
}
