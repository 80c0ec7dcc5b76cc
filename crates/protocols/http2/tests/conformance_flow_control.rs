//! h2spec "6.9 WINDOW_UPDATE", "6.9.1 The Flow-Control Window", "6.9.2 Initial
//! Flow-Control Window Size", and our own windows being enforced on the peer.

mod support;

use ghostnet_http2::Settings;
use support::frames::*;
use support::{TestServer, hello_or_echo};

fn hang(stream: u32) -> Vec<u8> {
    headers(stream, END_HEADERS, &request_block("POST", "/hang", &[]))
}

async fn outcome_of(settings: Settings, frames: &[Vec<u8>], stream: Option<u32>) -> Outcome {
    let server = TestServer::memory(settings, hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    peer.try_send(&frames.concat()).await;
    let out = peer.outcome(stream).await;
    drop(peer);
    server.stop().await;
    out
}

#[tokio::test]
async fn zero_increment_is_protocol_error() {
    // 6.9/1: on the connection, a connection error.
    let out = outcome_of(Settings::default(), &[window_update(0, 0)], None).await;
    assert_eq!(out, Outcome::GoAway(PROTOCOL_ERROR));
    // 6.9/2: on a stream, a stream error.
    let out = outcome_of(
        Settings::default(),
        &[hang(1), window_update(1, 0)],
        Some(1),
    )
    .await;
    assert!(
        matches!(
            out,
            Outcome::Reset(PROTOCOL_ERROR) | Outcome::GoAway(PROTOCOL_ERROR)
        ),
        "{out:?}"
    );
}

#[tokio::test]
async fn window_over_2_31_minus_1_is_flow_control_error() {
    // 6.9.1/2: the connection window (65,535 at start) pushed past the maximum.
    let out = outcome_of(Settings::default(), &[window_update(0, 0x7fff_ffff)], None).await;
    assert_eq!(out, Outcome::GoAway(FLOW_CONTROL_ERROR));
    // 6.9.1/3: a stream window pushed past the maximum: a stream error.
    let out = outcome_of(
        Settings::default(),
        &[hang(1), window_update(1, 0x7fff_ffff)],
        Some(1),
    )
    .await;
    assert_eq!(out, Outcome::Reset(FLOW_CONTROL_ERROR));
}

#[tokio::test]
async fn initial_window_size_over_the_maximum_is_flow_control_error() {
    // 6.5.2/2 and 6.9.2/3: a connection error; RFC 9113 requires FLOW_CONTROL_ERROR,
    // h2 refuses to load the SETTINGS frame and sends its generic code.
    let out = outcome_of(
        Settings::default(),
        &[settings(&[(SETTINGS_INITIAL_WINDOW_SIZE, 0x8000_0000)])],
        None,
    )
    .await;
    assert_eq!(out, Outcome::GoAway(H2_GENERIC_CODE));
}

#[tokio::test]
async fn server_respects_the_peer_window() {
    // 6.9.1/1 and 6.9.2/1: with an initial window of 1, the response body comes one
    // byte at a time, each after a WINDOW_UPDATE.
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut peer = server.raw().await;
    peer.handshake_with(&[(SETTINGS_INITIAL_WINDOW_SIZE, 1)])
        .await;
    peer.send(&get(1)).await;
    let mut body = Vec::new();
    loop {
        let f = peer.until("DATA", |f| f.is(DATA, 1)).await;
        assert!(
            f.payload.len() <= 1,
            "DATA of {} bytes past a 1-byte window",
            f.payload.len()
        );
        body.extend_from_slice(&f.payload);
        if f.flags & END_STREAM != 0 {
            break;
        }
        peer.send(&window_update(1, 1)).await;
    }
    assert_eq!(body, b"Hello, World!");
    drop(peer);
    server.stop().await;
}

#[tokio::test]
async fn peer_window_shrinking_below_zero_then_growing() {
    // 6.9.2/2: a SETTINGS lowering the initial window applies to open streams; the
    // server waits for the window to become positive again.
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut peer = server.raw().await;
    peer.handshake_with(&[(SETTINGS_INITIAL_WINDOW_SIZE, 0)])
        .await;
    peer.send(&get(1)).await;
    peer.until("response HEADERS", |f| f.is(HEADERS, 1)).await;
    // No DATA yet: the window is 0. Open it.
    peer.send(&settings(&[(SETTINGS_INITIAL_WINDOW_SIZE, 100)]))
        .await;
    assert_eq!(peer.body(1).await, b"Hello, World!");
    drop(peer);
    server.stop().await;
}

#[tokio::test]
async fn our_stream_window_is_enforced() {
    // The peer may send no more than our initial stream window without a
    // WINDOW_UPDATE; the handler here never reads, so none comes.
    let mut s = Settings::default();
    s.initial_stream_window_size = 16_384;
    let within = vec![0u8; 16_384];
    let server = TestServer::memory(s.clone(), hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    peer.send(&[hang(1), data(1, 0, &within)].concat()).await;
    peer.ping_pong().await; // accepted: exactly the window
    drop(peer);
    server.stop().await;
    let out = outcome_of(
        s,
        &[hang(1), data(1, 0, &within), data(1, 0, b"!")],
        Some(1),
    )
    .await;
    assert!(
        matches!(
            out,
            Outcome::Reset(FLOW_CONTROL_ERROR) | Outcome::GoAway(FLOW_CONTROL_ERROR)
        ),
        "{out:?}"
    );
}

#[tokio::test]
async fn our_connection_window_is_enforced() {
    // Streams may take 1 MiB each, but the connection only 65,535 bytes in total.
    let mut s = Settings::default();
    s.initial_stream_window_size = 1 << 20;
    s.initial_connection_window_size = 65_535;
    let chunk = vec![0u8; 16_384];
    let mut frames = vec![hang(1), hang(3)];
    for stream in [1, 1, 3, 3] {
        frames.push(data(stream, 0, &chunk));
    }
    // 4 × 16,384 = 65,536: one byte over.
    let out = outcome_of(s, &frames, None).await;
    assert_eq!(out, Outcome::GoAway(FLOW_CONTROL_ERROR));
}
