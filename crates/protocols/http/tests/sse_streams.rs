//! Server-Sent Events over HTTP/1.1 (chunked) and HTTP/2 (DATA frames): events in
//! order with their fields, keep-alive comments, and the producer told when the
//! client leaves.

mod support;

use std::time::Duration;

use ghostnet_http::sse::{Event, Sse};
use ghostnet_http::{IntoResponse, Request, Response, Router, get};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

const EXPECTED: &str = "event: greeting\nid: 1\ndata: hello\n\n\
                        id: 2\nretry: 2500\ndata: two\ndata: lines\n\n\
                        :done\ndata: bye\n\n";

async fn three(_req: Request) -> Response {
    let (tx, sse) = Sse::channel();
    tokio::spawn(async move {
        tx.send(Event::new().event("greeting").id("1").data("hello"))
            .await
            .unwrap();
        tx.send(
            Event::new()
                .id("2")
                .retry(Duration::from_millis(2500))
                .data("two\nlines"),
        )
        .await
        .unwrap();
        tx.send(Event::new().comment("done").data("bye"))
            .await
            .unwrap();
    });
    sse.into_response()
}

fn router(gone: mpsc::UnboundedSender<()>) -> Router {
    Router::new().route("/events", get(three)).route(
        "/quiet",
        get(move |_req: Request| {
            let gone = gone.clone();
            async move {
                let (tx, sse) = Sse::channel();
                tokio::spawn(async move {
                    tx.send(Event::new().data("start")).await.unwrap();
                    tx.closed().await; // until the client goes away
                    let _ = gone.send(());
                });
                sse.keep_alive(Some(Duration::from_millis(10)))
                    .into_response()
            }
        }),
    )
}

#[tokio::test]
async fn events_over_http1() {
    let (gone_tx, _gone) = mpsc::unbounded_channel();
    let server = support::start(router(gone_tx)).await;
    let res = server.h1("GET", "/events", &[]).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), Some("text/event-stream"));
    assert_eq!(res.header("cache-control"), Some("no-cache"));
    assert_eq!(res.header("transfer-encoding"), Some("chunked"));
    assert_eq!(res.text(), EXPECTED);
    assert!(server.stop().await.is_clean());
}

#[tokio::test]
async fn events_over_http2() {
    let (gone_tx, _gone) = mpsc::unbounded_channel();
    let server = support::start(router(gone_tx)).await;
    let h2 = server.h2().await;
    let res = support::h2_request(&h2, "GET", "/events", &[]).await;
    assert_eq!(res.header("content-type"), Some("text/event-stream"));
    assert_eq!(res.text(), EXPECTED);
    drop(h2);
    assert!(server.stop().await.is_clean());
}

#[tokio::test]
async fn keep_alive_comments_and_client_departure_over_http1() {
    let (gone_tx, mut gone) = mpsc::unbounded_channel();
    let server = support::start(router(gone_tx)).await;
    let mut tcp = server.tcp().await;
    tcp.write_all(b"GET /quiet HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut seen = Vec::new();
    // The first event, then a keep-alive comment (an empty comment line).
    while !(contains(&seen, b"data: start\n\n") && contains(&seen, b":\n\n")) {
        let mut buf = [0u8; 256];
        let n = tcp.read(&mut buf).await.unwrap();
        assert_ne!(
            n,
            0,
            "stream ended early: {:?}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    drop(tcp);
    gone.recv()
        .await
        .expect("the producer learns the client left");
    assert!(server.stop().await.is_clean());
}

#[tokio::test]
async fn keep_alive_comments_and_client_departure_over_http2() {
    let (gone_tx, mut gone) = mpsc::unbounded_channel();
    let server = support::start(router(gone_tx)).await;
    let h2 = server.h2().await;
    let req = http::Request::get("http://localhost/quiet")
        .body(ghostnet_http2::Body::empty())
        .unwrap();
    let mut body = h2.send(req).await.unwrap().into_body();
    assert_eq!(body.data().await.unwrap().unwrap(), "data: start\n\n");
    assert_eq!(body.data().await.unwrap().unwrap(), ":\n\n");
    drop(body); // resets the stream
    gone.recv()
        .await
        .expect("the producer learns the client left");
    drop(h2);
    assert!(server.stop().await.is_clean());
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
