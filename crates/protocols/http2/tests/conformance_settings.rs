//! h2spec "6.5 SETTINGS", "6.5.2 Defined SETTINGS Parameters" and "6.5.3 Settings
//! Synchronization": invalid SETTINGS are connection errors with the RFC's codes, and
//! SETTINGS are acknowledged.

mod support;

use ghostnet_http2::Settings;
use support::frames::*;
use support::{TestServer, hello_or_echo};

async fn outcome_of(frames: &[Vec<u8>]) -> Outcome {
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    peer.try_send(&frames.concat()).await;
    let out = peer.outcome(None).await;
    drop(peer);
    server.stop().await;
    out
}

#[tokio::test]
async fn invalid_settings_frames() {
    let cases = [
        // RFC: FRAME_SIZE_ERROR.
        (
            "ACK with a payload (6.5/1)",
            frame(SETTINGS, ACK, 0, &[0, 3, 0, 0, 0, 1]),
            H2_GENERIC_CODE,
        ),
        (
            "on a stream (6.5/2)",
            frame(SETTINGS, 0, 1, &[]),
            PROTOCOL_ERROR,
        ),
        // RFC: FRAME_SIZE_ERROR.
        (
            "length not a multiple of 6 (6.5/3)",
            frame(SETTINGS, 0, 0, &[0, 3, 0]),
            H2_GENERIC_CODE,
        ),
        (
            "ENABLE_PUSH = 2 (6.5.2/1)",
            settings(&[(SETTINGS_ENABLE_PUSH, 2)]),
            PROTOCOL_ERROR,
        ),
        (
            "INITIAL_WINDOW_SIZE = 2^31 (6.5.2/2)",
            settings(&[(SETTINGS_INITIAL_WINDOW_SIZE, 1 << 31)]),
            H2_GENERIC_CODE, // RFC: FLOW_CONTROL_ERROR
        ),
        (
            "MAX_FRAME_SIZE = 16383 (6.5.2/3)",
            settings(&[(SETTINGS_MAX_FRAME_SIZE, 16_383)]),
            PROTOCOL_ERROR,
        ),
        (
            "MAX_FRAME_SIZE = 2^24 (6.5.2/4)",
            settings(&[(SETTINGS_MAX_FRAME_SIZE, 1 << 24)]),
            PROTOCOL_ERROR,
        ),
    ];
    for (what, f, code) in cases {
        assert_eq!(outcome_of(&[f]).await, Outcome::GoAway(code), "{what}");
    }
}

#[tokio::test]
async fn settings_are_acknowledged_and_unknown_ones_ignored() {
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    // Our handshake SETTINGS gets its ACK first.
    peer.until("ACK", |f| f.kind == SETTINGS && f.flags & ACK != 0)
        .await;
    // 6.5.2/5: an unknown identifier must be ignored, and the frame still acknowledged.
    peer.send(&settings(&[
        (0xff, 1),
        (SETTINGS_MAX_CONCURRENT_STREAMS, 10),
    ]))
    .await;
    peer.until("ACK", |f| f.kind == SETTINGS && f.flags & ACK != 0)
        .await;
    peer.send(&get(1)).await;
    assert_eq!(peer.body(1).await, b"Hello, World!");
    drop(peer);
    server.stop().await;
}

#[tokio::test]
async fn the_last_value_of_a_repeated_setting_wins() {
    // 6.5.3/1: values are processed in order.
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut peer = server.raw().await;
    peer.handshake_with(&[
        (SETTINGS_INITIAL_WINDOW_SIZE, 100),
        (SETTINGS_INITIAL_WINDOW_SIZE, 1),
    ])
    .await;
    peer.send(&get(1)).await;
    let first = peer.until("DATA", |f| f.is(DATA, 1)).await;
    assert_eq!(first.payload.len(), 1);
    drop(peer);
    server.stop().await;
}

#[tokio::test]
async fn the_server_advertises_its_settings() {
    let mut s = Settings::default();
    s.max_concurrent_streams = 7;
    s.initial_stream_window_size = 123_456;
    s.max_frame_size = 32_768;
    s.max_header_list_size = 8_192;
    s.header_table_size = 1_024;
    let server = TestServer::memory(s, hello_or_echo).await;
    let mut peer = server.raw().await;
    let mut out = PREFACE.to_vec();
    out.extend(settings(&[]));
    peer.send(&out).await;
    let f = peer.until("SETTINGS", |f| f.kind == SETTINGS).await;
    let got = f.settings();
    for want in [
        (SETTINGS_MAX_CONCURRENT_STREAMS, 7),
        (SETTINGS_INITIAL_WINDOW_SIZE, 123_456),
        (SETTINGS_MAX_FRAME_SIZE, 32_768),
        (0x6, 8_192), // MAX_HEADER_LIST_SIZE
        (SETTINGS_HEADER_TABLE_SIZE, 1_024),
    ] {
        assert!(got.contains(&want), "{want:?} not in {got:?}");
    }
    // The connection window is raised with a WINDOW_UPDATE on stream 0.
    let wu = peer
        .until("WINDOW_UPDATE", |f| f.is(WINDOW_UPDATE, 0))
        .await;
    let inc = u32::from_be_bytes(wu.payload[..4].try_into().unwrap());
    assert_eq!(inc + 65_535, ghostnet_http2::DEFAULT_CONNECTION_WINDOW);
    drop(peer);
    server.stop().await;
}

#[tokio::test]
async fn the_default_frame_size_is_advertised() {
    // Above the protocol's 16,384, so it must be on the wire for the peer to use it.
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut peer = server.raw().await;
    let mut out = PREFACE.to_vec();
    out.extend(settings(&[]));
    peer.send(&out).await;
    let f = peer.until("SETTINGS", |f| f.kind == SETTINGS).await;
    let want = (
        SETTINGS_MAX_FRAME_SIZE,
        ghostnet_http2::DEFAULT_MAX_FRAME_SIZE,
    );
    assert!(
        f.settings().contains(&want),
        "{want:?} not in {:?}",
        f.settings()
    );
    drop(peer);
    server.stop().await;
}
