//! The connection-level client: many requests multiplexed on one connection within the
//! server's concurrency limit, readiness and closed checks for a pool, GOAWAY.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ghostnet_http2::{Body, Error, Settings, client};
use http::{Request, Response, StatusCode};
use support::{TestServer, get, hello_or_echo};

/// Holds each request for a (virtual) second and records the most seen at once.
fn slow_counting(active: Arc<AtomicUsize>, max: Arc<AtomicUsize>) -> impl ghostnet_http2::Service {
    move |req: Request<Body>| {
        let (active, max) = (active.clone(), max.clone());
        async move {
            let now = active.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(1)).await;
            active.fetch_sub(1, Ordering::SeqCst);
            Response::new(Body::from(req.uri().path().to_owned()))
        }
    }
}

#[tokio::test(start_paused = true)]
async fn two_hundred_requests_share_one_connection_within_the_limit() {
    let (active, max) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut settings = Settings::default();
    settings.max_concurrent_streams = 10;
    let server = TestServer::memory(settings, slow_counting(active, max.clone())).await;
    let client = server.client().await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let res = client.send(get(&format!("/{i}"))).await.unwrap();
            res.into_body().collect().await.unwrap()
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.await.unwrap(), format!("/{i}"));
    }
    assert_eq!(
        max.load(Ordering::SeqCst),
        10,
        "the server's limit was not used fully or was exceeded"
    );
    assert_eq!(client.in_flight(), 0);
    drop(client);
    server.stop().await;
}

#[tokio::test]
async fn readiness_follows_in_flight_streams() {
    let mut settings = Settings::default();
    settings.max_concurrent_streams = 2;
    let server = TestServer::memory(settings, hello_or_echo).await;
    let mut client = server.client().await;
    client.ready().await.unwrap();
    // One answered request brings the server's SETTINGS in for sure.
    client
        .send(get("/"))
        .await
        .unwrap()
        .into_body()
        .collect()
        .await
        .unwrap();
    assert_eq!(client.max_concurrent_streams(), 2);
    assert!(client.is_ready());
    let a = tokio::spawn({
        let c = client.clone();
        async move { c.send(get("/hang")).await }
    });
    let b = tokio::spawn({
        let c = client.clone();
        async move { c.send(get("/hang")).await }
    });
    while client.in_flight() < 2 {
        tokio::task::yield_now().await;
    }
    assert!(!client.is_ready(), "two of two streams in use");
    assert!(!client.is_closed());
    a.abort();
    b.abort();
    let _ = (a.await, b.await);
    assert_eq!(client.in_flight(), 0);
    assert!(client.is_ready());
    drop(client);
    server.stop().await;
}

#[tokio::test]
async fn a_response_counts_in_flight_until_its_body_is_read() {
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let client = server.client().await;
    let res = client.send(get("/")).await.unwrap();
    assert_eq!(client.in_flight(), 1);
    let mut body = res.into_body();
    while body.data().await.is_some() {}
    assert_eq!(client.in_flight(), 0);
    let res = client.send(get("/")).await.unwrap();
    assert_eq!(client.in_flight(), 1);
    drop(res);
    assert_eq!(client.in_flight(), 0, "a dropped response is not in flight");
    drop(client);
    server.stop().await;
}

#[tokio::test]
async fn server_goaway_closes_the_handle_and_new_requests_are_retryable() {
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let client = server.client().await;
    assert_eq!(
        client.send(get("/")).await.unwrap().status(),
        StatusCode::OK
    );
    server.shutdown.trigger();
    // The client answers h2's shutdown PING; the connection then ends.
    while !client.is_closed() {
        tokio::task::yield_now().await;
    }
    let err = client.send(get("/")).await.unwrap_err();
    // The request never reached the server: safe to send again elsewhere.
    assert!(err.is_retryable(), "{err:?}");
    drop(client);
    server.stop().await;
}

#[tokio::test]
async fn relative_uris_are_refused() {
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let client = server.client().await;
    let req = Request::get("/path").body(Body::empty()).unwrap();
    let err = client.send(req).await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidMessage { reason } if reason.contains("absolute")),
        "{err}"
    );
    drop(client);
    server.stop().await;
}

#[tokio::test]
async fn invalid_settings_are_refused_at_handshake() {
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut bad = Settings::default();
    bad.max_frame_size = 100;
    let err = client::handshake(server.connect().await, &bad)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidSettings {
                field: "max_frame_size",
                ..
            }
        ),
        "{err}"
    );
    server.stop().await;
}
