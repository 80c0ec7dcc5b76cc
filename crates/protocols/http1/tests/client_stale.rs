//! The stale keep-alive connection (hyper's `IncompleteMessage` trap): the server closes
//! a pooled connection just as the next request goes out. Idempotent requests are sent
//! once more on a new connection; others fail with an error that says why they were not.

mod client_support;

use client_support::*;
use ghostnet_http1::client::Client;
use ghostnet_http1::{Body, Error};
use http::{Method, Request};

/// Connection 0 answers its first request, then reads the second and closes without a
/// word (the race a pool's health probe cannot see); later connections answer everything.
fn closes_after_one() -> (String, Seen) {
    raw_tcp(|n, mut peer, seen| async move {
        let mut answered = 0;
        while let Some(req) = peer.read_request().await {
            seen.request();
            if n == 0 && answered == 1 {
                return; // dropped: the client sees EOF or a reset, no response byte
            }
            answered += 1;
            let body = format!("{} {}", req.head.method, String::from_utf8_lossy(&req.body));
            peer.send(&ok(&body)).await;
        }
    })
}

#[tokio::test]
async fn idempotent_request_is_retried_once_on_a_new_connection() {
    let (base, seen) = closes_after_one();
    let client = Client::new();
    let first = client.get(&base).await.unwrap();
    assert_eq!(first.into_body().text().await.unwrap(), "GET ");
    let req = Request::put(&base).body(Body::from("v2")).unwrap();
    let second = client.request(req).await.unwrap();
    assert_eq!(second.into_body().text().await.unwrap(), "PUT v2");
    assert_eq!(seen.requests(), 3, "the PUT reached the server twice");
    assert_eq!(seen.connections(), 2);
    let stats = client.http_pool().stats();
    assert_eq!((stats.created, stats.reused), (2, 1));
}

#[tokio::test]
async fn post_is_not_retried_and_the_error_says_why() {
    let (base, seen) = closes_after_one();
    let client = Client::new();
    client
        .get(&base)
        .await
        .unwrap()
        .into_body()
        .bytes()
        .await
        .unwrap();
    let req = Request::post(&base).body(Body::from("order")).unwrap();
    let err = client.request(req).await.unwrap_err();
    match &err {
        Error::NoResponse {
            method,
            not_retried: Some(why),
            ..
        } => {
            assert_eq!(*method, Method::POST);
            assert!(why.contains("not idempotent"), "{why}");
        }
        other => panic!("expected NoResponse, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("POST") && msg.contains("not retried"), "{msg}");
    assert_eq!(seen.requests(), 2, "the POST was sent once");
    assert_eq!(seen.connections(), 1);
}

#[tokio::test]
async fn a_streamed_body_is_not_retried() {
    let (base, seen) = closes_after_one();
    let client = Client::new();
    client.get(&base).await.unwrap();
    let (mut tx, body) = Body::channel();
    tokio::spawn(async move { tx.send_data("part".into()).await });
    let req = Request::put(&base).body(body).unwrap();
    let err = client.request(req).await.unwrap_err();
    assert!(
        matches!(&err, Error::NoResponse { not_retried: Some(why), .. } if why.contains("stream")),
        "{err:?}"
    );
    assert_eq!(seen.requests(), 2);
}

#[tokio::test]
async fn a_server_that_closes_idle_connections_is_transparent() {
    // Every connection answers one request and closes right after the response.
    let (base, seen) = raw_tcp(|_, mut peer, seen| async move {
        if peer.read_request().await.is_some() {
            seen.request();
            peer.send(&ok("once")).await;
        }
    });
    let client = Client::new();
    for _ in 0..3 {
        let r = client.get(&base).await.unwrap();
        assert_eq!(r.into_body().text().await.unwrap(), "once");
    }
    assert_eq!(seen.requests(), 3);
    assert_eq!(client.http_pool().stats().created, 3);
}

#[tokio::test]
async fn a_new_connection_closed_without_answer_is_not_retried() {
    let (base, seen) = raw_tcp(|_, mut peer, seen| async move {
        if peer.read_request().await.is_some() {
            seen.request();
        }
    });
    let err = Client::new().get(&base).await.unwrap_err();
    assert!(
        matches!(&err, Error::NoResponse { not_retried: Some(why), .. } if why.contains("new connection")),
        "{err:?}"
    );
    assert_eq!(seen.requests(), 1);
}

#[tokio::test]
async fn a_retry_that_fails_again_reports_both() {
    // Connection 0 answers once then drops the next request; connection 1 drops too.
    let (base, seen) = raw_tcp(|n, mut peer, seen| async move {
        let mut answered = 0;
        while peer.read_request().await.is_some() {
            seen.request();
            if n > 0 || answered == 1 {
                return;
            }
            answered += 1;
            peer.send(&ok("x")).await;
        }
    });
    let client = Client::new();
    client.get(&base).await.unwrap();
    let err = client.get(&base).await.unwrap_err();
    assert!(
        matches!(
            &err,
            Error::NoResponse {
                not_retried: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("retry on a new connection"),
        "{err}"
    );
    assert_eq!(seen.requests(), 3);
}
