//! Limits answer with their status codes and close the connection.

mod support;

use ghostnet_http1::{Limits, Server};
use http::Method;
use support::{Client, TestServer, echo, raw_exchange};

#[tokio::test]
async fn head_limits() {
    let server = TestServer::start(echo).await;
    let mut many = String::from("GET / HTTP/1.1\r\nHost: a\r\n");
    for i in 0..120 {
        many += &format!("X-{i}: v\r\n");
    }
    many += "\r\n";
    let out = raw_exchange(server.addr, many.as_bytes()).await;
    assert!(out.starts_with("HTTP/1.1 431 "), "{out}");

    let big = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n",
        "v".repeat(70 * 1024)
    );
    let out = raw_exchange(server.addr, big.as_bytes()).await;
    assert!(out.starts_with("HTTP/1.1 431 "), "{out}");

    let long = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "u".repeat(9 * 1024));
    let out = raw_exchange(server.addr, long.as_bytes()).await;
    assert!(out.starts_with("HTTP/1.1 414 "), "{out}");

    let out = raw_exchange(server.addr, b"GET / HTTP/3.0\r\nHost: a\r\n\r\n").await;
    assert!(out.starts_with("HTTP/1.1 505 "), "{out}");

    let out = raw_exchange(
        server.addr,
        b"GET / HTTP/1.1\r\nHost: a\r\nExpect: tea\r\n\r\n",
    )
    .await;
    assert!(out.starts_with("HTTP/1.1 417 "), "{out}");
    server.stop().await;
}

#[tokio::test]
async fn configured_limits_apply() {
    let limits = Limits::default().max_headers(3).max_uri_bytes(10);
    let server = TestServer::start_with(Server::builder().limits(limits), echo).await;
    let out = raw_exchange(
        server.addr,
        b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
    )
    .await;
    assert!(out.starts_with("HTTP/1.1 431 "), "{out}");
    let out = raw_exchange(server.addr, b"GET /0123456789 HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert!(out.starts_with("HTTP/1.1 414 "), "{out}");
    let mut c = Client::new(server.connect().await);
    c.send(b"GET /ok HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert_eq!(c.read(Method::GET).await.unwrap().status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn declared_body_over_the_server_limit_is_refused_before_the_handler() {
    let limits = Limits::default().max_body_bytes(Some(100));
    let server = TestServer::start_with(Server::builder().limits(limits), echo).await;
    let out = raw_exchange(
        server.addr,
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n",
    )
    .await;
    assert!(out.starts_with("HTTP/1.1 413 "), "{out}");
    // Chunked bodies are counted as they arrive.
    let chunk = format!(
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n80\r\n{}\r\n0\r\n\r\n",
        "x".repeat(128)
    );
    let out = raw_exchange(server.addr, chunk.as_bytes()).await;
    assert!(out.starts_with("HTTP/1.1 413 "), "{out}");
    server.stop().await;
}

#[tokio::test]
async fn buffered_body_limit_defaults_to_2_mib_and_is_per_route() {
    let server = TestServer::start(|req: http::Request<ghostnet_http1::Body>| async move {
        let small = req.uri().path() == "/small";
        let body = req.into_body();
        let body = if small { body.with_limit(4) } else { body };
        match body.collect().await {
            Ok(b) => http::Response::new(ghostnet_http1::Body::from(b.len().to_string())),
            Err(e) => http::Response::builder()
                .status(e.status().unwrap())
                .body(ghostnet_http1::Body::empty())
                .unwrap(),
        }
    })
    .await;
    let mut c = Client::new(server.connect().await);
    c.send(b"POST /small HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
        .await;
    assert_eq!(c.read(Method::POST).await.unwrap().status(), 413);
    let big = vec![b'x'; 2 * 1024 * 1024 + 1];
    let mut c = Client::new(server.connect().await);
    c.send(
        format!(
            "POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n",
            big.len()
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(c.read(Method::POST).await.unwrap().status(), 413);
    let mut c = Client::new(server.connect().await);
    c.send(b"POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
        .await;
    assert_eq!(c.read(Method::POST).await.unwrap().body, "5");
    server.stop().await;
}
