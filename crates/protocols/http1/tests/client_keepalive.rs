//! Keep-alive reuse through the pool, and every case where a connection must not go back.

mod client_support;

use std::time::Duration;

use client_support::*;
use ghostnet_http1::Body;
use ghostnet_http1::client::Client;
use ghostnet_transport::MemoryNetwork;
use http::{Request, Response};

#[tokio::test]
async fn sequential_requests_share_one_connection() {
    let server = serve_tcp(hello);
    let client = Client::new();
    for _ in 0..5 {
        let response = client.get(&format!("{}/", server.base)).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.into_body().text().await.unwrap(), "hello");
    }
    let stats = client.http_pool().stats();
    assert_eq!((stats.created, stats.reused, stats.idle), (1, 4, 1));
    assert_eq!(stats.discarded, 0);
}

#[tokio::test]
async fn a_small_body_dropped_unread_keeps_its_connection() {
    let server = serve_tcp(hello);
    let client = Client::new();
    for _ in 0..3 {
        let response = client.get(&server.base).await.unwrap();
        drop(response); // never read: the body was already in the buffer
    }
    let stats = client.http_pool().stats();
    assert_eq!((stats.created, stats.reused), (1, 2));
}

#[tokio::test]
async fn a_large_body_dropped_early_closes_its_connection() {
    let big = |_req: Request<Body>| async { Response::new(Body::from(vec![b'x'; 4 << 20])) };
    let server = serve_tcp(big);
    let client = Client::new();
    let mut body = client.get(&server.base).await.unwrap().into_body();
    let first = body.chunk().await.unwrap().unwrap();
    assert!(!first.is_empty());
    drop(body); // megabytes still in flight: not drained, the connection is closed
    let stats = client.http_pool().stats();
    assert_eq!((stats.discarded, stats.idle, stats.in_use), (1, 0, 0));
    let second = client.get(&server.base).await.unwrap();
    assert_eq!(second.into_body().bytes().await.unwrap().len(), 4 << 20);
    assert_eq!(client.http_pool().stats().created, 2);
}

#[tokio::test]
async fn connection_close_and_http10_are_not_reused() {
    let (base, seen) = raw_tcp(|n, mut peer, seen| async move {
        while let Some(req) = peer.read_request().await {
            seen.request();
            let reply: &[u8] = match (req.head.uri.path(), n) {
                ("/close", _) => {
                    b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na"
                }
                ("/http10", _) => b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb",
                ("/http10-keepalive", _) => {
                    b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nc"
                }
                _ => b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nd",
            };
            peer.send(reply).await;
        }
    });
    let client = Client::new();
    for (path, body) in [("/close", "a"), ("/http10", "b")] {
        let r = client.get(&format!("{base}{path}")).await.unwrap();
        assert_eq!(r.into_body().text().await.unwrap(), body);
    }
    let stats = client.http_pool().stats();
    assert_eq!((stats.created, stats.discarded, stats.idle), (2, 2, 0));
    for _ in 0..2 {
        let r = client
            .get(&format!("{base}/http10-keepalive"))
            .await
            .unwrap();
        assert_eq!(r.into_body().text().await.unwrap(), "c");
    }
    let stats = client.http_pool().stats();
    assert_eq!((stats.created, stats.reused, stats.idle), (3, 1, 1));
    assert_eq!(seen.connections(), 3);
}

#[tokio::test]
async fn a_request_asking_to_close_is_not_reused() {
    let server = serve_tcp(hello);
    let client = Client::new();
    let req = Request::get(&server.base)
        .header("connection", "close")
        .body(Body::empty())
        .unwrap();
    client
        .request(req)
        .await
        .unwrap()
        .into_body()
        .bytes()
        .await
        .unwrap();
    client.get(&server.base).await.unwrap();
    assert_eq!(client.http_pool().stats().created, 2);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_exchange_closes_its_connection() {
    let net = MemoryNetwork::new();
    let (base, seen) = raw_memory(&net, "slow.test", |n, mut peer, seen| async move {
        while peer.read_request().await.is_some() {
            seen.request();
            if n == 0 {
                // The first connection answers late: its request is given up before.
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
            peer.send(&ok("late")).await;
        }
    });
    let client = memory_client(&net, Client::builder());
    let gave_up = tokio::time::timeout(Duration::from_secs(1), client.get(&base)).await;
    assert!(
        gave_up.is_err(),
        "the first request should still be waiting"
    );
    let stats = client.http_pool().stats();
    assert_eq!((stats.in_use, stats.idle, stats.discarded), (0, 0, 1));
    let r = client.get(&base).await.unwrap();
    assert_eq!(r.into_body().text().await.unwrap(), "late");
    assert_eq!(client.http_pool().stats().created, 2);
    assert_eq!(seen.connections(), 2);
}

#[tokio::test]
async fn a_dropped_body_whose_rest_already_arrived_is_drained_for_reuse() {
    let net = MemoryNetwork::new();
    let (go_tx, go_rx) = tokio::sync::mpsc::channel::<()>(1);
    let (sent_tx, mut sent_rx) = tokio::sync::mpsc::channel::<()>(1);
    let go_rx = std::sync::Arc::new(tokio::sync::Mutex::new(go_rx));
    let (base, seen) = raw_memory(&net, "drain.test", move |_, mut peer, seen| {
        let (go_rx, sent_tx) = (go_rx.clone(), sent_tx.clone());
        async move {
            while let Some(req) = peer.read_request().await {
                seen.request();
                if req.head.uri.path() == "/split" {
                    peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nfirst")
                        .await;
                    go_rx.lock().await.recv().await;
                    peer.send(b"-rest").await;
                    sent_tx.send(()).await.unwrap();
                } else {
                    peer.send(&ok("next")).await;
                }
            }
        }
    });
    let client = memory_client(&net, Client::builder());
    let body = client
        .get(&format!("{base}/split"))
        .await
        .unwrap()
        .into_body();
    assert!(!body.is_end_stream());
    go_tx.send(()).await.unwrap();
    sent_rx.recv().await.unwrap();
    drop(body); // the rest is in the pipe: finished without waiting, connection kept
    let stats = client.http_pool().stats();
    assert_eq!((stats.idle, stats.discarded), (1, 0));
    let r = client.get(&format!("{base}/next")).await.unwrap();
    assert_eq!(r.into_body().text().await.unwrap(), "next");
    assert_eq!(client.http_pool().stats().created, 1);
    assert_eq!(seen.connections(), 1);
}
