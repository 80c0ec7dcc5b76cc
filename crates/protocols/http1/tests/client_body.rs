//! Response bodies in every framing (and without one), truncation as an error, the
//! buffering limit, `AsyncRead`, and request bodies: full, streamed, chunked, with
//! `Expect: 100-continue`.

mod client_support;

use std::io::ErrorKind;

use client_support::*;
use ghostnet_http1::client::Client;
use ghostnet_http1::{Body, Error};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use tokio::io::AsyncReadExt;

#[tokio::test]
async fn chunked_responses_with_trailers() {
    let server = serve_tcp(|_req: Request<Body>| async {
        let (mut tx, body) = Body::channel();
        tokio::spawn(async move {
            for part in ["alpha ", "beta ", "gamma"] {
                tx.send_data(part.into()).await.unwrap();
            }
            let mut trailers = HeaderMap::new();
            trailers.insert("x-checksum", "abc".parse().unwrap());
            tx.send_trailers(trailers).await.unwrap();
        });
        Response::new(body)
    });
    let client = Client::new();
    let response = client.get(&server.base).await.unwrap();
    assert_eq!(response.headers()["transfer-encoding"], "chunked");
    let mut body = response.into_body();
    let mut all = Vec::new();
    while let Some(piece) = body.chunk().await {
        all.extend_from_slice(&piece.unwrap());
    }
    assert_eq!(all, b"alpha beta gamma");
    assert!(body.is_end_stream());
    assert_eq!(body.trailers().unwrap()["x-checksum"], "abc");
    // The chunked body ended cleanly: the connection is reused.
    client.get(&server.base).await.unwrap();
    assert_eq!(client.http_pool().stats().created, 1);
}

#[tokio::test]
async fn close_delimited_responses_end_at_close() {
    let (base, _) = raw_tcp(|_, mut peer, _| async move {
        if peer.read_request().await.is_some() {
            peer.send(b"HTTP/1.1 200 OK\r\n\r\nuntil the end").await;
        }
    });
    let client = Client::new();
    let body = client.get(&base).await.unwrap().into_body();
    assert_eq!(body.size_hint(), None);
    assert_eq!(body.text().await.unwrap(), "until the end");
    let stats = client.http_pool().stats();
    assert_eq!((stats.discarded, stats.idle), (1, 0));
}

#[tokio::test]
async fn head_204_and_304_have_no_body_and_keep_the_connection() {
    let (base, seen) = raw_tcp(|_, mut peer, seen| async move {
        while let Some(req) = peer.read_request().await {
            seen.request();
            let reply: &[u8] = match req.head.uri.path() {
                "/204" => b"HTTP/1.1 204 No Content\r\n\r\n",
                "/304" => b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
                _ => b"HTTP/1.1 200 OK\r\nContent-Length: 12345\r\n\r\n", // HEAD
            };
            peer.send(reply).await;
        }
    });
    let client = Client::new();
    let head = Request::head(&base).body(Body::empty()).unwrap();
    let r = client.request(head).await.unwrap();
    assert_eq!(r.headers()["content-length"], "12345");
    let body = r.into_body();
    assert!(body.is_end_stream());
    assert_eq!(body.bytes().await.unwrap(), "");
    for path in ["/204", "/304"] {
        let r = client.get(&format!("{base}{path}")).await.unwrap();
        assert!(r.status() == StatusCode::NO_CONTENT || r.status() == StatusCode::NOT_MODIFIED);
        assert_eq!(r.into_body().bytes().await.unwrap(), "");
    }
    let stats = client.http_pool().stats();
    assert_eq!((stats.created, stats.reused), (1, 2));
    assert_eq!(seen.requests(), 3);
}

/// A server that promises more than it sends, then closes.
fn truncating(head: &'static str, sent: &'static [u8]) -> String {
    raw_tcp(move |_, mut peer, _| async move {
        if peer.read_request().await.is_some() {
            peer.send(head.as_bytes()).await;
            peer.send(sent).await;
        }
    })
    .0
}

#[tokio::test]
async fn truncated_bodies_are_errors_never_short_bodies() {
    let client = Client::new();
    let base = truncating(
        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
        b"only this",
    );
    let err = client
        .get(&base)
        .await
        .unwrap()
        .into_body()
        .bytes()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::IncompleteBody), "{err:?}");

    let base = truncating(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"5\r\nhello\r\n",
    );
    let mut body = client.get(&base).await.unwrap().into_body();
    assert_eq!(body.chunk().await.unwrap().unwrap(), "hello");
    assert!(matches!(
        body.chunk().await,
        Some(Err(Error::IncompleteBody))
    ));
    assert!(matches!(body.chunk().await, Some(Err(_))), "stays failed");

    // Through AsyncRead the error is UnexpectedEof, with ours inside.
    let base = truncating(
        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
        b"0123456789",
    );
    let mut body = client.get(&base).await.unwrap().into_body();
    let mut out = Vec::new();
    let err = body.read_to_end(&mut out).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    assert!(err.get_ref().unwrap().downcast_ref::<Error>().is_some());
    assert_eq!(out, b"0123456789");
    assert_eq!(
        client.http_pool().stats().idle,
        0,
        "no truncated connection is kept"
    );
}

#[tokio::test]
async fn async_read_streams_the_whole_body() {
    let big = |_req: Request<Body>| async { Response::new(Body::from(vec![7u8; 3 << 20])) };
    let server = serve_tcp(big);
    let mut body = Client::new().get(&server.base).await.unwrap().into_body();
    assert_eq!(body.size_hint(), Some(3 << 20));
    let mut sink = Vec::new();
    tokio::io::copy(&mut body, &mut sink).await.unwrap();
    assert_eq!(sink.len(), 3 << 20);
    assert!(sink.iter().all(|&b| b == 7));
    assert_eq!(body.progress().wire_bytes, 3 << 20);
}

#[tokio::test]
async fn bytes_stops_at_the_limit() {
    let server = serve_tcp(|_req: Request<Body>| async {
        let (mut tx, body) = Body::channel();
        tokio::spawn(async move {
            for _ in 0..10 {
                if tx.send_data(vec![0u8; 1000].into()).await.is_err() {
                    break;
                }
            }
        });
        Response::new(body)
    });
    let fixed =
        serve_tcp(|_req: Request<Body>| async { Response::new(Body::from(vec![0u8; 5000])) });
    let client = Client::builder()
        .max_buffered_body_bytes(4096)
        .build()
        .unwrap();
    for base in [&server.base, &fixed.base] {
        let err = client
            .get(base)
            .await
            .unwrap()
            .into_body()
            .bytes()
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::BodyTooLarge { limit: 4096 }),
            "{err:?}"
        );
    }
    let body = client.get(&fixed.base).await.unwrap().into_body();
    assert_eq!(body.with_limit(5000).bytes().await.unwrap().len(), 5000);
}

#[tokio::test]
async fn request_bodies_full_streamed_and_sized() {
    let (base, _) = raw_tcp(|_, mut peer, _| async move {
        while let Some(req) = peer.read_request().await {
            let framing = match (
                req.header("content-length"),
                req.header("transfer-encoding"),
            ) {
                (Some(n), None) => format!("length {n}"),
                (None, Some(te)) => te.to_owned(),
                (None, None) => "none".to_owned(),
                _ => "both".to_owned(),
            };
            let reply = format!("{} {framing} {}", req.head.method, req.body.len());
            peer.send(&ok(&reply)).await;
        }
    });
    let client = Client::new();
    let send = |method: Method, body: Body| {
        let req = Request::builder()
            .method(method)
            .uri(&base)
            .body(body)
            .unwrap();
        let client = client.clone();
        async move {
            client
                .request(req)
                .await
                .unwrap()
                .into_body()
                .text()
                .await
                .unwrap()
        }
    };
    assert_eq!(send(Method::GET, Body::empty()).await, "GET none 0");
    assert_eq!(send(Method::POST, Body::empty()).await, "POST length 0 0");
    assert_eq!(
        send(Method::POST, Body::from("hello")).await,
        "POST length 5 5"
    );
    assert_eq!(
        send(Method::PUT, Body::from(vec![9u8; 1 << 20])).await,
        "PUT length 1048576 1048576"
    );
    let (mut tx, stream) = Body::channel();
    tokio::spawn(async move {
        for _ in 0..100 {
            tx.send_data(vec![1u8; 1000].into()).await.unwrap();
        }
    });
    assert_eq!(send(Method::POST, stream).await, "POST chunked 100000");

    // A stream with a declared length is sent with it, and the length is enforced.
    let (mut tx, stream) = Body::channel();
    tokio::spawn(async move { tx.send_data("12345".into()).await });
    let req = Request::post(&base)
        .header("content-length", "5")
        .body(stream)
        .unwrap();
    let text = client
        .request(req)
        .await
        .unwrap()
        .into_body()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "POST length 5 5");
    let (mut tx, stream) = Body::channel();
    tokio::spawn(async move { tx.send_data("123".into()).await });
    let req = Request::post(&base)
        .header("content-length", "5")
        .body(stream)
        .unwrap();
    let err = client.request(req).await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
}

#[tokio::test]
async fn expect_continue_with_the_crate_server() {
    let server = serve_tcp(echo);
    let client = Client::builder()
        .expect_continue(Some(1000))
        .build()
        .unwrap();
    let req = Request::put(&server.base)
        .body(Body::from(vec![5u8; 50_000]))
        .unwrap();
    let body = client
        .request(req)
        .await
        .unwrap()
        .into_body()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.len(), 50_000);

    // A server that refuses before reading: the body is never sent, the answer arrives.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = std::sync::Mutex::new(Some(tx));
    let (base, _) = raw_tcp(move |_, mut peer, _| {
        let tx = tx.lock().unwrap().take();
        async move {
            if let Some(head) = peer.read_head().await {
                assert_eq!(head.headers["expect"], "100-continue");
                peer.send(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\n\r\nbig")
                    .await;
                // Whatever the client sends after the head, until it closes.
                let mut rest = Vec::new();
                let _ = peer.io.read_to_end(&mut rest).await;
                if let Some(tx) = tx {
                    let _ = tx.send(peer.buffered() + rest.len());
                }
            }
        }
    });
    let req = Request::put(&base)
        .body(Body::from(vec![5u8; 50_000]))
        .unwrap();
    let r = client.request(req).await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.into_body().text().await.unwrap(), "big");
    assert_eq!(rx.await.unwrap(), 0, "no body byte was sent");
    let stats = client.http_pool().stats();
    assert_eq!(
        stats.discarded, 1,
        "the server still expects a body there: not reused"
    );
}

#[tokio::test]
async fn an_early_answer_to_an_upload_is_returned() {
    // The server reads the head, answers 413 without reading the body, and closes: the
    // upload fails mid-way, but the answer is what the caller must see.
    let (base, _) = raw_tcp(|_, mut peer, _| async move {
        if peer.read_head().await.is_some() {
            peer.send(b"HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 8\r\n\r\ntoo big!")
                .await;
        }
    });
    let client = Client::new();
    let req = Request::post(&base)
        .body(Body::from(vec![0u8; 32 << 20]))
        .unwrap();
    let r = client.request(req).await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.into_body().text().await.unwrap(), "too big!");
}

#[tokio::test]
async fn a_full_duplex_server_answering_early_still_gets_the_whole_body() {
    // The handler answers 200 at once with a streamed body, and reads the request body
    // while that answer is on its way: a success must not cut the upload short.
    let net = ghostnet_transport::MemoryNetwork::with_buffer(4096);
    let _server = serve_memory(&net, "duplex.test", |req: Request<Body>| async move {
        let (mut tx, body) = Body::channel();
        tokio::spawn(async move {
            let mut incoming = req.into_body();
            let mut total = 0;
            while let Some(Ok(d)) = incoming.data().await {
                total += d.len();
            }
            let _ = tx.send_data(format!("got {total}").into()).await;
        });
        Response::new(body)
    });
    let client = memory_client(&net, Client::builder());
    let req = Request::put("http://duplex.test/")
        .body(Body::from(vec![3u8; 1 << 20]))
        .unwrap();
    let r = client.request(req).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.into_body().text().await.unwrap(), "got 1048576");
    assert_eq!(
        client.http_pool().stats().idle,
        1,
        "the whole exchange completed: reused"
    );
}

#[tokio::test]
async fn a_417_to_expect_continue_is_sent_again_without_it() {
    let (base, seen) = raw_tcp(|_, mut peer, seen| async move {
        let Some(head) = peer.read_head().await else {
            return;
        };
        seen.request();
        if head.headers.contains_key("expect") {
            peer.send(b"HTTP/1.1 417 Expectation Failed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
                .await;
            return;
        }
        // A request without Expect: read its body and say how long it was.
        let len: usize = head.headers["content-length"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let mut body = vec![0u8; len - peer.buffered().min(len)];
        peer.io.read_exact(&mut body).await.unwrap();
        peer.send(&ok(&format!("no expect, {len} bytes"))).await;
    });
    let client = Client::builder().expect_continue(Some(10)).build().unwrap();
    let req = Request::put(&base)
        .body(Body::from(vec![1u8; 5000]))
        .unwrap();
    let text = client
        .request(req)
        .await
        .unwrap()
        .into_body()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "no expect, 5000 bytes");
    assert_eq!(seen.requests(), 2);
}
