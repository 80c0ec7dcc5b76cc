//! h2spec "6.7 PING" and "6.8 GOAWAY", plus GOAWAY in both directions around
//! in-flight streams.

mod support;

use std::sync::Arc;

use ghostnet_http2::{Body, Server, Settings};
use ghostnet_runtime::Shutdown;
use http::{Request, Response};
use support::frames::*;
use support::{TestServer, hello_or_echo};
use tokio::sync::Notify;

#[tokio::test]
async fn ping_is_answered_with_the_same_payload() {
    // 6.7/1.
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    peer.send(&ping(0, *b"h2spec!!")).await;
    let ack = peer.until("PING ACK", |f| f.kind == PING).await;
    assert_eq!(ack.flags & ACK, ACK);
    assert_eq!(ack.payload, b"h2spec!!");
    // 6.7/2: an unsolicited ACK is not answered and breaks nothing.
    peer.send(&ping(ACK, [9; 8])).await;
    peer.ping_pong().await;
    drop(peer);
    server.stop().await;
}

#[tokio::test]
async fn ping_and_goaway_on_a_stream_are_protocol_errors() {
    for (what, f) in [
        ("PING on stream 1 (6.7/3)", frame(PING, 0, 1, &[0; 8])),
        ("GOAWAY on stream 1 (6.8/1)", frame(GOAWAY, 0, 1, &[0; 8])),
    ] {
        let server = TestServer::memory(Settings::default(), hello_or_echo).await;
        let mut peer = server.raw_ready().await;
        peer.send(&f).await;
        assert_eq!(
            peer.outcome(None).await,
            Outcome::GoAway(PROTOCOL_ERROR),
            "{what}"
        );
        drop(peer);
        server.stop().await;
    }
}

/// A service that answers `/wait` only after `release` is notified.
fn gated(release: Arc<Notify>) -> impl ghostnet_http2::Service {
    move |req: Request<Body>| {
        let release = release.clone();
        async move {
            if req.uri().path() == "/wait" {
                release.notified().await;
                return Response::new(Body::from("finished"));
            }
            Response::new(Body::from("Hello, World!"))
        }
    }
}

fn wait(stream: u32) -> Vec<u8> {
    headers(
        stream,
        END_STREAM | END_HEADERS,
        &request_block("GET", "/wait", &[]),
    )
}

#[tokio::test]
async fn client_goaway_lets_the_in_flight_stream_finish() {
    let release = Arc::new(Notify::new());
    let net = ghostnet_transport::MemoryNetwork::new();
    let target: ghostnet_transport::Target = "h2.test:1".parse().unwrap();
    let listener = net.listen(&target).unwrap();
    let server = Server::new(Settings::default()).unwrap();
    let service = Arc::new(gated(release.clone()));
    let conn = tokio::spawn(async move {
        use ghostnet_transport::Listen;
        let (io, _) = listener.accept().await.unwrap();
        server
            .serve_connection(io, service, Shutdown::new().token())
            .await
    });
    use ghostnet_transport::Dial;
    let mut peer = Peer::new(net.dialer().dial(&target).await.unwrap());
    peer.handshake().await;
    peer.send(&wait(1)).await;
    peer.ping_pong().await; // stream 1 is in the server's hands
    peer.send(&goaway(1, NO_ERROR)).await;
    release.notify_one();
    assert_eq!(peer.body(1).await, b"finished");
    drop(peer);
    // A peer that says goodbye is not an error.
    conn.await.unwrap().unwrap();
}

#[tokio::test]
async fn graceful_shutdown_sends_goaway_and_drains() {
    let release = Arc::new(Notify::new());
    let server = TestServer::memory(Settings::default(), gated(release.clone())).await;
    let mut peer = server.raw_ready().await;
    peer.send(&wait(1)).await;
    peer.ping_pong().await;

    server.shutdown.trigger();
    // First GOAWAY: NO_ERROR with the largest id (RFC 9113 §6.8 two-step shutdown), and
    // a PING to learn when the client has seen it.
    let first = peer.until("GOAWAY", |f| f.kind == GOAWAY).await;
    assert_eq!(first.error_code(), NO_ERROR);
    assert_eq!(first.last_stream(), 0x7fff_ffff);
    let probe = peer
        .until("PING", |f| f.kind == PING && f.flags & ACK == 0)
        .await;
    peer.send(&frame(PING, ACK, 0, &probe.payload)).await;
    // Final GOAWAY: the last stream the server will process is 1.
    let last = peer.until("final GOAWAY", |f| f.kind == GOAWAY).await;
    assert_eq!(last.error_code(), NO_ERROR);
    assert_eq!(last.last_stream(), 1);
    // A stream opened now is not processed.
    peer.send(&get(3)).await;
    release.notify_one();
    let mut saw_stream_3_answer = false;
    let mut body = Vec::new();
    while let Some(f) = peer.next().await {
        if f.stream == 3 && (f.kind == HEADERS || f.kind == DATA) {
            saw_stream_3_answer = true;
        }
        if f.is(DATA, 1) {
            body.extend_from_slice(&f.payload);
        }
    }
    assert_eq!(body, b"finished", "the in-flight stream completed");
    assert!(!saw_stream_3_answer, "a stream after GOAWAY was answered");
    // The connection closed by itself once drained: the shutdown is clean.
    server.stop().await;
}

#[tokio::test(start_paused = true)]
async fn drain_deadline_aborts_a_stuck_stream() {
    let server = TestServer::memory_with_deadline(
        Settings::default(),
        hello_or_echo,
        std::time::Duration::from_secs(3),
    )
    .await;
    let mut peer = server.raw_ready().await;
    peer.send(&headers(
        1,
        END_STREAM | END_HEADERS,
        &request_block("GET", "/hang", &[]),
    ))
    .await;
    peer.ping_pong().await;
    let answering = tokio::spawn(async move {
        // Keep answering h2's shutdown PING so only the stuck stream holds the drain.
        while let Some(f) = peer.next().await {
            if f.kind == PING && f.flags & ACK == 0 {
                peer.send(&frame(PING, ACK, 0, &f.payload)).await;
            }
        }
    });
    server.shutdown.trigger();
    server.task.await.unwrap().unwrap();
    let started = tokio::time::Instant::now();
    let report = server.shutdown.shutdown().await;
    assert_eq!(report.aborted, 1, "{report}");
    assert_eq!(started.elapsed(), std::time::Duration::from_secs(3));
    answering.await.unwrap();
}
