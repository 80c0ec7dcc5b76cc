//! h2spec "4.2 Frame Size" and the frame-length checks of sections 6.x: frames larger
//! than SETTINGS_MAX_FRAME_SIZE are FRAME_SIZE_ERROR; fixed-size frames of the wrong
//! length close the connection (RFC: FRAME_SIZE_ERROR; h2: PROTOCOL_ERROR, see
//! `H2_GENERIC_CODE`).

mod support;

use ghostnet_http2::{DEFAULT_MAX_FRAME_SIZE, Settings};
use support::frames::*;
use support::{TestServer, hello_or_echo};

/// POST with `content-length`, headers only.
fn post(stream: u32, len: usize) -> Vec<u8> {
    let block = request_block("POST", "/", &[("content-length", &len.to_string())]);
    headers(stream, END_HEADERS, &block)
}

async fn outcome_of(settings: Settings, frames: &[Vec<u8>], stream: Option<u32>) -> Outcome {
    let server = TestServer::memory(settings, hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    // The server may close before reading all of an oversized frame.
    peer.try_send(&frames.concat()).await;
    let out = peer.outcome(stream).await;
    drop(peer);
    server.stop().await;
    out
}

#[tokio::test]
async fn data_of_exactly_max_frame_size_is_accepted() {
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    let body = vec![b'x'; DEFAULT_MAX_FRAME_SIZE as usize];
    peer.send(&[post(1, body.len()), data(1, END_STREAM, &body)].concat())
        .await;
    assert_eq!(peer.body(1).await, body);
    drop(peer);
    server.stop().await;
}

#[tokio::test]
async fn data_over_max_frame_size_is_frame_size_error() {
    let big = vec![b'x'; DEFAULT_MAX_FRAME_SIZE as usize + 1];
    let out = outcome_of(
        Settings::default(),
        &[post(1, big.len()), data(1, END_STREAM, &big)],
        Some(1),
    )
    .await;
    assert!(
        matches!(
            out,
            Outcome::GoAway(FRAME_SIZE_ERROR) | Outcome::Reset(FRAME_SIZE_ERROR)
        ),
        "{out:?}"
    );
}

#[tokio::test]
async fn configured_max_frame_size_is_applied() {
    let mut settings = Settings::default();
    settings.max_frame_size = 65_536;
    // Larger than the default, within ours: accepted.
    let server = TestServer::memory(settings.clone(), hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    let body = vec![b'y'; 60_000];
    peer.send(&[post(1, body.len()), data(1, END_STREAM, &body)].concat())
        .await;
    assert_eq!(peer.body(1).await, body);
    drop(peer);
    server.stop().await;
    // One byte over ours: refused.
    let big = vec![b'x'; 65_537];
    let out = outcome_of(
        settings,
        &[post(1, big.len()), data(1, END_STREAM, &big)],
        Some(1),
    )
    .await;
    assert!(
        matches!(
            out,
            Outcome::GoAway(FRAME_SIZE_ERROR) | Outcome::Reset(FRAME_SIZE_ERROR)
        ),
        "{out:?}"
    );
}

#[tokio::test]
async fn headers_over_max_frame_size_is_a_connection_error() {
    // A field block can change the whole connection's HPACK state: connection error.
    let mut block = request_block("GET", "/", &[]);
    while block.len() <= DEFAULT_MAX_FRAME_SIZE as usize {
        block.extend(literal("x-filler", &"f".repeat(100)));
    }
    let out = outcome_of(
        Settings::default(),
        &[headers(1, END_STREAM | END_HEADERS, &block)],
        None,
    )
    .await;
    assert_eq!(out, Outcome::GoAway(FRAME_SIZE_ERROR));
}

#[tokio::test]
async fn fixed_size_frames_of_the_wrong_length() {
    let cases: [(&str, Vec<u8>); 5] = [
        ("PING of 7 octets (6.7/4)", frame(PING, 0, 0, &[0; 7])),
        (
            "SETTINGS of 7 octets (6.5/3)",
            frame(SETTINGS, 0, 0, &[0; 7]),
        ),
        (
            "SETTINGS ACK with payload (6.5/1)",
            frame(SETTINGS, ACK, 0, &[0; 6]),
        ),
        (
            "WINDOW_UPDATE of 3 octets (6.9/3)",
            frame(WINDOW_UPDATE, 0, 0, &[0, 0, 1]),
        ),
        (
            "RST_STREAM of 3 octets (6.4/3)",
            frame(RST_STREAM, 0, 1, &[0, 0, 0]),
        ),
    ];
    for (what, f) in cases {
        let out = outcome_of(Settings::default(), &[get(1), f], None).await;
        // RFC 9113 requires FRAME_SIZE_ERROR.
        assert_eq!(out, Outcome::GoAway(H2_GENERIC_CODE), "{what}");
    }
}

#[tokio::test]
async fn priority_of_the_wrong_length_is_frame_size_error() {
    // 6.3/2: a stream error FRAME_SIZE_ERROR is enough, a connection error is allowed;
    // h2 closes the connection with its generic code.
    let out = outcome_of(
        Settings::default(),
        &[frame(PRIORITY, 0, 1, &[0, 0, 0, 0])],
        Some(1),
    )
    .await;
    assert_eq!(out, Outcome::GoAway(H2_GENERIC_CODE));
}
