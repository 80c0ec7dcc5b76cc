//! Timeouts on tokio's paused clock (over the in-memory transport, so no real I/O races
//! the virtual time): the response head, the whole call across redirects, and read-idle
//! on a body that trickles and then stalls.

mod client_support;

use std::time::Duration;

use client_support::*;
use ghostnet_http1::client::{Client, RequestOptions};
use ghostnet_http1::{Body, Error};
use ghostnet_runtime::Instant;
use ghostnet_transport::MemoryNetwork;
use http::Request;
use tokio::time::sleep;

fn what(e: &Error) -> &'static str {
    match e {
        Error::Timeout { what, .. } => what,
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_hits_the_request_timeout() {
    let net = MemoryNetwork::new();
    let (base, seen) = raw_memory(&net, "mute.test", |_, mut peer, seen| async move {
        if peer.read_request().await.is_some() {
            seen.request();
            sleep(Duration::from_secs(3600)).await;
        }
    });
    let client = memory_client(
        &net,
        Client::builder().request_timeout(Duration::from_secs(5)),
    );
    let start = Instant::now();
    let err = client.get(&base).await.unwrap_err();
    assert!(what(&err).contains("response head"), "{err}");
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    assert_eq!(seen.requests(), 1, "a timeout is not retried");
    assert_eq!(client.http_pool().stats().discarded, 1);
}

#[tokio::test(start_paused = true)]
async fn the_total_timeout_spans_redirects() {
    let net = MemoryNetwork::new();
    // Each hop answers after 4 s with a redirect to the next.
    let (base, seen) = raw_memory(&net, "slow.test", |_, mut peer, seen| async move {
        while let Some(req) = peer.read_request().await {
            seen.request();
            sleep(Duration::from_secs(4)).await;
            let n: u32 = req.head.uri.path()[1..].parse().unwrap_or(0);
            let reply = format!(
                "HTTP/1.1 302 Found\r\nLocation: /{}\r\nContent-Length: 0\r\n\r\n",
                n + 1
            );
            peer.send(reply.as_bytes()).await;
        }
    });
    let client = memory_client(
        &net,
        Client::builder().total_timeout(Some(Duration::from_secs(10))),
    );
    let start = Instant::now();
    let err = client.get(&format!("{base}/0")).await.unwrap_err();
    assert!(what(&err).contains("total"), "{err}");
    assert_eq!(start.elapsed(), Duration::from_secs(10));
    assert_eq!(seen.requests(), 3, "hops at 0 s, 4 s and 8 s");
}

/// Sends a head promising 1000 bytes, then one byte per second for 20 s, then stalls.
fn trickle(net: &MemoryNetwork) -> String {
    raw_memory(net, "trickle.test", |_, mut peer, _| async move {
        if peer.read_request().await.is_some() {
            peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
                .await;
            for _ in 0..20 {
                sleep(Duration::from_secs(1)).await;
                peer.send(b"x").await;
            }
            sleep(Duration::from_secs(3600)).await;
        }
    })
    .0
}

#[tokio::test(start_paused = true)]
async fn read_idle_allows_a_trickle_and_stops_a_stall() {
    let net = MemoryNetwork::new();
    let base = trickle(&net);
    let client = memory_client(
        &net,
        Client::builder().read_idle_timeout(Duration::from_secs(5)),
    );
    let start = Instant::now();
    let mut body = client.get(&base).await.unwrap().into_body();
    let mut received = 0;
    let err = loop {
        match body.chunk().await {
            Some(Ok(d)) => received += d.len(),
            Some(Err(e)) => break e,
            None => panic!("the body cannot end: 1000 bytes were promised"),
        }
    };
    assert_eq!(
        received, 20,
        "20 s of trickling never tripped a 5 s idle timeout"
    );
    assert!(what(&err).contains("read-idle"), "{err}");
    assert_eq!(start.elapsed(), Duration::from_secs(25));
    assert_eq!(body.progress().wire_bytes, 20);
    // After the error the body never looks complete.
    assert!(matches!(body.chunk().await, Some(Err(_))));
}

#[tokio::test(start_paused = true)]
async fn the_total_timeout_covers_reading_the_body() {
    let net = MemoryNetwork::new();
    let base = trickle(&net);
    let client = memory_client(&net, Client::builder());
    let req = Request::get(&base)
        .extension(RequestOptions::new().total_timeout(Some(Duration::from_secs(12))))
        .body(Body::empty())
        .unwrap();
    let start = Instant::now();
    let err = client
        .request(req)
        .await
        .unwrap()
        .into_body()
        .bytes()
        .await
        .unwrap_err();
    assert!(what(&err).contains("total"), "{err}");
    assert_eq!(start.elapsed(), Duration::from_secs(12));
}

#[tokio::test(start_paused = true)]
async fn a_stalled_upload_hits_the_idle_timeout() {
    // The server reads the head and never the body: the pipe fills and writes stall.
    let net = MemoryNetwork::with_buffer(1024);
    let (base, _) = raw_memory(&net, "sink.test", |_, mut peer, _| async move {
        let _head = peer.read_head().await;
        sleep(Duration::from_secs(3600)).await;
    });
    let client = memory_client(
        &net,
        Client::builder().read_idle_timeout(Duration::from_secs(7)),
    );
    let req = Request::put(&base)
        .body(Body::from(vec![0u8; 1 << 20]))
        .unwrap();
    let start = Instant::now();
    let err = client.request(req).await.unwrap_err();
    assert!(what(&err).contains("take more of the request"), "{err}");
    assert_eq!(start.elapsed(), Duration::from_secs(7));
}

#[tokio::test(start_paused = true)]
async fn expect_continue_sends_the_body_after_the_wait() {
    let net = MemoryNetwork::new();
    // A server that never sends 100 Continue but reads the body when it comes.
    let (base, _) = raw_memory(&net, "silent.test", |_, mut peer, _| async move {
        if let Some(req) = peer.read_request().await {
            let expect = req.header("expect").unwrap_or("-").to_owned();
            peer.send(&ok(&format!("{expect} {}", req.body.len())))
                .await;
        }
    });
    let client = memory_client(
        &net,
        Client::builder()
            .expect_continue(Some(1024))
            .expect_continue_timeout(Duration::from_secs(2)),
    );
    let req = Request::put(&base)
        .body(Body::from(vec![1u8; 4096]))
        .unwrap();
    let start = Instant::now();
    let text = client
        .request(req)
        .await
        .unwrap()
        .into_body()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "100-continue 4096");
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn an_answer_to_a_blocked_upload_ends_it_at_once() {
    // The server reads the head, refuses, and neither reads the body nor closes.
    let net = MemoryNetwork::with_buffer(1024);
    let (base, _) = raw_memory(&net, "refuse.test", |_, mut peer, _| async move {
        let _head = peer.read_head().await;
        peer.send(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 6\r\n\r\nlog in")
            .await;
        sleep(Duration::from_secs(3600)).await;
    });
    let client = memory_client(&net, Client::builder());
    let req = Request::put(&base)
        .body(Body::from(vec![0u8; 1 << 20]))
        .unwrap();
    let start = Instant::now();
    let r = client.request(req).await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(start.elapsed(), Duration::ZERO, "no timeout was waited for");
    assert_eq!(r.into_body().text().await.unwrap(), "log in");
    assert_eq!(
        client.http_pool().stats().discarded,
        1,
        "half a body was sent: closed"
    );
}
