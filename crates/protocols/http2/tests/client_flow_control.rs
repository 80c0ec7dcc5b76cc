//! Flow control reaches the application on both sides: a reader that does not read
//! holds the sender back to about one window, and reading releases the rest.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use ghostnet_http2::{Body, Settings};
use http::{Request, Response};
use support::TestServer;

const CHUNK: usize = 64 * 1024;
const TOTAL: usize = 8 * 1024 * 1024;

/// Streams TOTAL bytes, counting what the producer managed to hand over.
fn producer(sent: Arc<AtomicUsize>) -> impl ghostnet_http2::Service {
    move |_req: Request<Body>| {
        let sent = sent.clone();
        async move {
            let (mut tx, body) = Body::channel();
            tokio::spawn(async move {
                for _ in 0..TOTAL / CHUNK {
                    if tx.send_data(Bytes::from(vec![7u8; CHUNK])).await.is_err() {
                        return;
                    }
                    sent.fetch_add(CHUNK, Ordering::SeqCst);
                }
            });
            Response::new(body)
        }
    }
}

#[tokio::test(start_paused = true)]
async fn an_unread_response_holds_the_server_to_the_window() {
    let sent = Arc::new(AtomicUsize::new(0));
    let server = TestServer::memory(Settings::default(), producer(sent.clone())).await;
    let client = server.client().await;
    let res = client.send(support::get("/big")).await.unwrap();
    // Let everything run until nothing can move (virtual time advances only then).
    tokio::time::sleep(Duration::from_secs(5)).await;
    let stalled_at = sent.load(Ordering::SeqCst);
    // Our stream window, h2's per-stream send buffer, and the pieces in the channel and
    // in the memory pipe: nothing like the 8 MiB the producer wants to send.
    let bound = ghostnet_http2::DEFAULT_STREAM_WINDOW as usize
        + ghostnet_http2::DEFAULT_MAX_SEND_BUFFER_SIZE
        + ghostnet_transport::DEFAULT_PIPE_BUFFER
        + 3 * CHUNK;
    assert!(
        stalled_at <= bound,
        "producer ran to {stalled_at} past the window"
    );
    assert!(stalled_at < TOTAL);
    // Reading releases the window as it goes: all of it arrives.
    let body = res
        .into_body()
        .with_limit(u64::MAX)
        .collect()
        .await
        .unwrap();
    assert_eq!(body.len(), TOTAL);
    assert_eq!(sent.load(Ordering::SeqCst), TOTAL);
    drop(client);
    server.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_unread_request_body_holds_the_client_to_the_window() {
    // The server never reads /hang's body: the client's producer must stall.
    let server = TestServer::memory(Settings::default(), support::hello_or_echo).await;
    let client = server.client().await;
    let (mut tx, body) = Body::channel();
    let sent = Arc::new(AtomicUsize::new(0));
    let producing = tokio::spawn({
        let sent = sent.clone();
        async move {
            for _ in 0..TOTAL / CHUNK {
                if tx.send_data(Bytes::from(vec![1u8; CHUNK])).await.is_err() {
                    return;
                }
                sent.fetch_add(CHUNK, Ordering::SeqCst);
            }
        }
    });
    let req = Request::post("http://test/hang").body(body).unwrap();
    let pending = tokio::spawn({
        let client = client.clone();
        async move { client.send(req).await }
    });
    tokio::time::sleep(Duration::from_secs(5)).await;
    let stalled_at = sent.load(Ordering::SeqCst);
    let bound = ghostnet_http2::DEFAULT_STREAM_WINDOW as usize
        + ghostnet_http2::DEFAULT_MAX_SEND_BUFFER_SIZE
        + ghostnet_transport::DEFAULT_PIPE_BUFFER
        + 3 * CHUNK;
    assert!(stalled_at <= bound, "request producer ran to {stalled_at}");
    assert!(!producing.is_finished());
    pending.abort();
    producing.abort();
    drop(client);
    server.stop().await;
}
