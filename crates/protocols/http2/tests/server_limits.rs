//! Flood and size limits: rapid reset (CVE-2023-44487), invalid-stream floods,
//! CONTINUATION floods, header list size, handshake timeout.

mod support;

use std::time::Duration;

use ghostnet_http2::{Error, Server, Settings};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::{Dial, Listen, MemoryNetwork};
use std::sync::Arc;
use support::frames::*;
use support::{TestServer, hello_or_echo};

/// HEADERS + RST_STREAM for `n` streams, in one write: the server reads them all before
/// its accept loop can take any, as an attacker's burst would be.
fn open_and_reset(n: u32) -> Vec<u8> {
    (0..n)
        .flat_map(|i| {
            let id = 1 + 2 * i;
            [get(id), rst_stream(id, CANCEL)].concat()
        })
        .collect()
}

#[tokio::test]
async fn rapid_reset_is_stopped_with_enhance_your_calm() {
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    peer.try_send(&open_and_reset(200)).await;
    assert_eq!(peer.outcome(None).await, Outcome::GoAway(ENHANCE_YOUR_CALM));
    drop(peer);
    server.stop().await;
}

#[tokio::test]
async fn rapid_reset_limit_is_configurable() {
    // The same burst within a raised limit is tolerated: proves the setting reaches h2.
    let mut settings = Settings::default();
    settings.max_pending_accept_reset_streams = 1_000;
    let server = TestServer::memory(settings, hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    peer.send(&open_and_reset(200)).await;
    peer.ping_pong().await;
    peer.send(&get(401)).await;
    assert_eq!(peer.body(401).await, b"Hello, World!");
    drop(peer);
    server.stop().await;
}

#[tokio::test]
async fn invalid_stream_flood_is_stopped() {
    // Each request is malformed (`TE: gzip`): the server must reset each one.
    // Past max_local_error_reset_streams the connection is closed instead.
    let mut settings = Settings::default();
    settings.max_local_error_reset_streams = 10;
    let server = TestServer::memory(settings, hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    let bad = |id: u32| {
        headers(
            id,
            END_STREAM | END_HEADERS,
            &request_block("GET", "/", &[("te", "gzip")]),
        )
    };
    let mut resets = 0;
    let mut burst = Vec::new();
    for i in 0..30 {
        burst.extend(bad(1 + 2 * i));
    }
    peer.try_send(&burst).await;
    let goaway = loop {
        match peer.next().await {
            Some(f) if f.kind == RST_STREAM => resets += 1,
            Some(f) if f.kind == GOAWAY => break f,
            Some(_) => {}
            None => panic!("closed without GOAWAY"),
        }
    };
    assert_eq!(goaway.error_code(), ENHANCE_YOUR_CALM);
    assert!(resets <= 10, "{resets} resets before the limit of 10 acted");
    drop(peer);
    server.stop().await;
}

/// HEADERS without END_HEADERS, then `frames` CONTINUATION frames of `size` bytes of
/// header fields, none ending the block.
fn continuation_flood(frames: usize, size: usize) -> Vec<u8> {
    let mut flood = headers(1, END_STREAM, &request_block("GET", "/", &[]));
    let field = literal("x-flood", &"z".repeat(100));
    let filler: Vec<u8> = field.repeat(size / field.len());
    for _ in 0..frames {
        flood.extend(frame(CONTINUATION, 0, 1, &filler));
    }
    flood
}

#[tokio::test]
async fn continuation_flood_of_small_frames_is_stopped() {
    // Many small CONTINUATION frames: h2 caps their count from max_header_list_size
    // and closes the connection with ENHANCE_YOUR_CALM.
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    peer.try_send(&continuation_flood(200, 1024)).await;
    assert_eq!(
        peer.outcome(Some(1)).await,
        Outcome::GoAway(ENHANCE_YOUR_CALM)
    );
    drop(peer);
    server.stop().await;
}

#[tokio::test]
async fn continuation_flood_of_large_frames_is_stopped() {
    // Fewer, full-size frames: the buffered block passes max_header_list_size and the
    // connection is closed before the memory grows further.
    let mut settings = Settings::default();
    settings.max_frame_size = 64 * 1024;
    let server = TestServer::memory(settings, hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    peer.try_send(&continuation_flood(40, 60 * 1024)).await;
    assert_eq!(
        peer.outcome(Some(1)).await,
        Outcome::GoAway(ENHANCE_YOUR_CALM)
    );
    drop(peer);
    server.stop().await;
}

#[tokio::test]
async fn header_list_over_the_limit_is_refused() {
    let mut settings = Settings::default();
    settings.max_header_list_size = 4096;
    let server = TestServer::memory(settings, hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    let big = "v".repeat(100);
    let fields: Vec<(String, String)> = (0..50).map(|i| (format!("x-h{i}"), big.clone())).collect();
    let extra: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    peer.send(&headers(
        1,
        END_STREAM | END_HEADERS,
        &request_block("GET", "/", &extra),
    ))
    .await;
    // h2 answers 431 (RFC 6585) itself; the handler never runs.
    let head = peer.until("answer on stream 1", |f| f.stream == 1).await;
    assert_eq!(head.kind, HEADERS);
    // `:status: 431`: literal with the static name `:status`, Huffman-coded "431".
    assert_eq!(head.payload, [0x48, 0x83, 0x69, 0x90, 0xff]);
    assert_eq!(
        head.flags & END_STREAM,
        END_STREAM,
        "and the stream ends there"
    );
    // A request within the limit on the same connection works.
    peer.send(&get(3)).await;
    assert_eq!(peer.body(3).await, b"Hello, World!");
    drop(peer);
    server.stop().await;
}

#[tokio::test(start_paused = true)]
async fn silent_connection_times_out_in_the_handshake() {
    let net = MemoryNetwork::new();
    let target = "h2.test:1".parse().unwrap();
    let listener = net.listen(&target).unwrap();
    let mut settings = Settings::default();
    settings.handshake_timeout = Duration::from_secs(3);
    let server = Server::new(settings).unwrap();
    let _client = net.dialer().dial(&target).await.unwrap();
    let (io, _) = listener.accept().await.unwrap();
    let started = tokio::time::Instant::now();
    let err = server
        .serve_connection(io, Arc::new(hello_or_echo), Shutdown::new().token())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::HandshakeTimeout(d) if d == Duration::from_secs(3)),
        "{err}"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn shutdown_during_the_handshake_ends_the_connection_at_once() {
    let net = MemoryNetwork::new();
    let target = "h2.test:1".parse().unwrap();
    let listener = net.listen(&target).unwrap();
    let server = Server::new(Settings::default()).unwrap();
    let _client = net.dialer().dial(&target).await.unwrap();
    let (io, _) = listener.accept().await.unwrap();
    let shutdown = Shutdown::new();
    shutdown.trigger();
    let started = tokio::time::Instant::now();
    server
        .serve_connection(io, Arc::new(hello_or_echo), shutdown.token())
        .await
        .unwrap();
    assert_eq!(started.elapsed(), Duration::ZERO);
}

/// Sends `frame` `count` times from a task without reading anything back; returns the
/// task (which finishes once everything is written) and the peer's reading half.
async fn flood_without_reading(
    frame: Vec<u8>,
    count: usize,
) -> (
    tokio::task::JoinHandle<()>,
    tokio::io::ReadHalf<ghostnet_transport::BoxStream>,
    TestServer,
) {
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let peer = server.raw_ready().await.unguarded();
    let (read, mut write) = tokio::io::split(peer.into_inner());
    let writer = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let burst = frame.repeat(count);
        let _ = write.write_all(&burst).await;
        // Keep the connection open until the test is done with it.
        std::future::pending::<()>().await;
    });
    (writer, read, server)
}

#[tokio::test(start_paused = true)]
async fn ping_and_settings_floods_are_held_back_by_the_unread_answers() {
    // h2 answers one PING (or SETTINGS) at a time and reads no further frame while the
    // answer cannot be written: a peer that floods without reading fills its own
    // receive buffer and is then stalled by TCP, instead of growing our memory.
    for f in [
        ping(0, [1; 8]),
        settings(&[(SETTINGS_MAX_CONCURRENT_STREAMS, 10)]),
    ] {
        let (writer, read, server) = flood_without_reading(f, 200_000).await;
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert!(
            !writer.is_finished(),
            "3 MB of frames were all taken in unread"
        );
        writer.abort();
        drop(read);
        let _ = writer.await;
        server.stop().await;
    }
}
