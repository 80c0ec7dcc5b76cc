//! Request and response bodies: lengths, chunked with trailers, bodiless statuses,
//! `Expect: 100-continue`, streaming, draining unread bodies.

mod support;

use bytes::Bytes;
use ghostnet_http1::Body;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use support::{Client, TestServer, echo, hello, raw_exchange};

#[tokio::test]
async fn chunked_request_with_trailers_reaches_the_handler() {
    let server = TestServer::start(|mut req: Request<Body>| async move {
        let body = req.body_mut();
        let mut data = Vec::new();
        while let Some(d) = body.data().await {
            data.extend_from_slice(&d.unwrap());
        }
        let t = body
            .trailers()
            .map(|t| t["x-sum"].to_str().unwrap().to_owned());
        Response::new(Body::from(format!(
            "{}|{}",
            String::from_utf8(data).unwrap(),
            t.unwrap_or_default()
        )))
    })
    .await;
    let mut c = Client::new(server.connect().await);
    c.send(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\nX-Sum: 9\r\n\r\n")
        .await;
    assert_eq!(c.read(Method::POST).await.unwrap().body, "wikipedia|9");
    server.stop().await;
}

#[tokio::test]
async fn unread_small_body_is_drained_and_the_connection_kept() {
    let server = TestServer::start(hello).await;
    let mut c = Client::new(server.connect().await);
    c.send(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloPOST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .await;
    for m in [Method::POST, Method::POST, Method::GET] {
        let r = c.read(m).await.unwrap();
        assert_eq!(r.body, "hello");
        assert!(r.head.keep_alive);
    }
    server.stop().await;
}

#[tokio::test]
async fn unread_large_body_closes_the_connection() {
    let server = TestServer::start(hello).await;
    let mut c = Client::new(server.connect().await);
    c.send(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\nabc")
        .await;
    let r = c.read(Method::POST).await.unwrap();
    assert_eq!(r.body, "hello");
    assert!(c.is_closed().await);
    server.stop().await;
}

#[tokio::test]
async fn bodiless_responses() {
    let server = TestServer::start(|req: Request<Body>| async move {
        let status = match req.uri().path() {
            "/204" => StatusCode::NO_CONTENT,
            "/304" => StatusCode::NOT_MODIFIED,
            _ => StatusCode::OK,
        };
        Response::builder()
            .status(status)
            .body(Body::from("thirteen byte"))
            .unwrap()
    })
    .await;
    let out = raw_exchange(
        server.addr,
        b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET /204 HTTP/1.1\r\nHost: a\r\n\r\nGET /304 HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .await;
    let parts: Vec<&str> = out.split("HTTP/1.1 ").skip(1).collect();
    assert_eq!(parts.len(), 4, "{out}");
    assert!(
        parts[0].starts_with("200") && parts[0].contains("content-length: 13\r\n"),
        "{}",
        parts[0]
    );
    assert!(
        parts[0].ends_with("\r\n\r\n"),
        "HEAD carried a body: {}",
        parts[0]
    );
    assert!(
        parts[1].starts_with("204") && !parts[1].contains("content-length"),
        "{}",
        parts[1]
    );
    assert!(parts[1].ends_with("\r\n\r\n"), "{}", parts[1]);
    assert!(
        parts[2].starts_with("304") && parts[2].ends_with("\r\n\r\n"),
        "{}",
        parts[2]
    );
    assert!(parts[3].ends_with("\r\n\r\nthirteen byte"), "{}", parts[3]);
    server.stop().await;
}

#[tokio::test]
async fn streaming_response_is_chunked_with_trailers() {
    let server = TestServer::start(|_req: Request<Body>| async {
        let (mut tx, body) = Body::channel();
        tokio::spawn(async move {
            tx.send_data(Bytes::from_static(b"hello ")).await.unwrap();
            tx.send_data(Bytes::from(vec![b'x'; 40_000])).await.unwrap();
            let mut t = HeaderMap::new();
            t.insert("x-checksum", "abc".parse().unwrap());
            tx.send_trailers(t).await.unwrap();
        });
        Response::new(body)
    })
    .await;
    let out = raw_exchange(
        server.addr,
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(out.contains("transfer-encoding: chunked\r\n"), "{out}");
    assert!(
        out.contains("\r\n\r\n6\r\nhello \r\n9c40\r\nxxx"),
        "{}",
        &out[..200.min(out.len())]
    );
    assert!(
        out.ends_with("xxx\r\n0\r\nx-checksum: abc\r\n\r\n"),
        "{}",
        &out[out.len() - 60..]
    );
    server.stop().await;
}

#[tokio::test]
async fn large_full_bodies_arrive_intact() {
    let big: Bytes = (0..300_000u32)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<u8>>()
        .into();
    let expected = big.clone();
    let server = TestServer::start(move |_req: Request<Body>| {
        let big = big.clone();
        async move { Response::new(Body::from(big)) }
    })
    .await;
    let mut c = Client::new(server.connect().await);
    for _ in 0..3 {
        c.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
        assert_eq!(c.read(Method::GET).await.unwrap().body, expected);
    }
    server.stop().await;
}

#[tokio::test]
async fn expect_continue_is_sent_when_the_handler_reads() {
    let server = TestServer::start(echo).await;
    let mut c = Client::new(server.connect().await);
    c.send(b"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        .await;
    let interim = c.read_any(Method::PUT).await.unwrap();
    assert_eq!(interim.status(), StatusCode::CONTINUE);
    c.send(b"data").await;
    let r = c.read(Method::PUT).await.unwrap();
    assert_eq!(r.body, "data");
    assert!(r.head.keep_alive);
    server.stop().await;
}

#[tokio::test]
async fn expect_continue_is_not_sent_when_the_handler_refuses() {
    let server = TestServer::start(|_req: Request<Body>| async {
        Response::builder()
            .status(StatusCode::FORBIDDEN)
            .body(Body::empty())
            .unwrap()
    })
    .await;
    let mut c = Client::new(server.connect().await);
    c.send(b"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        .await;
    let r = c.read_any(Method::PUT).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "no 100 Continue before a refusal"
    );
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed().await);
    server.stop().await;
}

#[tokio::test]
async fn request_body_can_be_streamed_back() {
    let server =
        TestServer::start(|req: Request<Body>| async move { Response::new(req.into_body()) }).await;
    let mut c = Client::new(server.connect().await);
    let payload = vec![b'z'; 200_000];
    c.send(
        format!(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n",
            payload.len()
        )
        .as_bytes(),
    )
    .await;
    c.send(&payload).await;
    let r = c.read(Method::POST).await.unwrap();
    assert_eq!(r.header("content-length"), Some("200000"));
    assert_eq!(r.body.len(), payload.len());
    server.stop().await;
}

#[tokio::test]
async fn response_with_a_wrong_content_length_becomes_500() {
    let server = TestServer::start(|_req: Request<Body>| async {
        Response::builder()
            .header("content-length", "3")
            .body(Body::from("toolong"))
            .unwrap()
    })
    .await;
    let out = raw_exchange(server.addr, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert!(out.starts_with("HTTP/1.1 500 "), "{out}");
    server.stop().await;
}
