//! h2spec "3.5 HTTP/2 Connection Preface": the server checks the preface and that the
//! client's first frame is SETTINGS, and starts with a SETTINGS frame of its own.

mod support;

use ghostnet_http2::Settings;
use support::frames::*;
use support::{TestServer, hello_or_echo};

#[tokio::test]
async fn server_preface_is_a_settings_frame() {
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut peer = server.raw().await;
    let mut out = PREFACE.to_vec();
    out.extend(settings(&[]));
    peer.send(&out).await;
    let first = peer.next().await.expect("server preface");
    assert_eq!(first.kind, SETTINGS);
    assert_eq!(first.flags & ACK, 0);
    // Our defaults are what the server advertises.
    let advertised = first.settings();
    assert!(
        advertised.contains(&(SETTINGS_MAX_CONCURRENT_STREAMS, 200)),
        "{advertised:?}"
    );
    assert!(advertised.contains(&(
        SETTINGS_INITIAL_WINDOW_SIZE,
        ghostnet_http2::DEFAULT_STREAM_WINDOW
    )));
    // And our SETTINGS is acknowledged (h2spec 6.5.3/2).
    peer.until("SETTINGS ACK", |f| f.kind == SETTINGS && f.flags & ACK != 0)
        .await;
    drop(peer);
    server.stop().await;
}

#[tokio::test]
async fn invalid_preface_gets_goaway_protocol_error() {
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut peer = server.raw().await;
    peer.send(b"INVALID CONNECTION PREFACE\r\n\r\n").await;
    let first = peer.next().await.expect("server preface");
    assert_eq!(first.kind, SETTINGS, "the server preface comes first");
    let goaway = peer.next().await.expect("GOAWAY");
    assert_eq!(goaway.kind, GOAWAY);
    assert_eq!(goaway.error_code(), PROTOCOL_ERROR);
    assert_eq!(goaway.last_stream(), 0);
    assert!(peer.next().await.is_none(), "then the connection closes");
    server.stop().await;
}

#[tokio::test]
async fn http1_request_is_refused_without_waiting_for_24_bytes() {
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut peer = server.raw().await;
    // 16 bytes, and the client waits for an answer: the server must not wait for more.
    peer.send(b"GET / HTTP/1.1\r\n").await;
    assert_eq!(peer.outcome(None).await, Outcome::GoAway(PROTOCOL_ERROR));
    server.stop().await;
}

#[tokio::test]
async fn first_frame_must_be_settings() {
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut peer = server.raw().await;
    let mut out = PREFACE.to_vec();
    out.extend(ping(0, [0; 8]));
    peer.send(&out).await;
    assert_eq!(peer.outcome(None).await, Outcome::GoAway(PROTOCOL_ERROR));
    server.stop().await;
}

#[tokio::test]
async fn valid_preface_serves_requests() {
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    peer.send(&get(1)).await;
    let head = peer.until("response HEADERS", |f| f.is(HEADERS, 1)).await;
    assert!(is_status_200(&head.payload));
    assert_eq!(peer.body(1).await, b"Hello, World!");
    drop(peer);
    server.stop().await;
}
