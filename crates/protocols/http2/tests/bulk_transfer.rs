//! Large bodies over real TCP with the default settings: every byte arrives, in DATA
//! frames as large as the receiver advertises (48 KiB by default) and no larger, and
//! peers with different frame sizes still interoperate.

mod support;

use bytes::Bytes;
use ghostnet_http2::{Body, DEFAULT_MAX_FRAME_SIZE, MIN_MAX_FRAME_SIZE, Settings, client};
use http::{Request, Response};
use support::{TestServer, hello_or_echo};

/// 16 MiB: several windows' worth, so flow control and frame splitting both take part.
const TOTAL: usize = 16 * 1024 * 1024;
/// The producer's piece size, as a file reader would hand over; h2 splits it into frames.
const PIECE: usize = 256 * 1024;

/// A byte pattern that does not repeat at any frame or piece boundary, so a lost,
/// doubled or reordered frame shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 251) as u8 ^ (i / 251) as u8)
        .collect()
}

/// Streams `pattern(TOTAL)` in `PIECE`-sized pieces.
async fn producer(_req: Request<Body>) -> Response<Body> {
    let (mut tx, body) = Body::channel();
    tokio::spawn(async move {
        let all = Bytes::from(pattern(TOTAL));
        for start in (0..TOTAL).step_by(PIECE) {
            if tx.send_data(all.slice(start..start + PIECE)).await.is_err() {
                return;
            }
        }
    });
    Response::new(body)
}

/// Downloads from `server` with `settings`; returns the body and its largest piece.
async fn download(server: &TestServer, settings: &Settings) -> (Vec<u8>, usize) {
    let client = client::connect(server.connect().await, settings)
        .await
        .unwrap();
    let mut body = client.send(support::get("/big")).await.unwrap().into_body();
    let mut got = Vec::with_capacity(TOTAL);
    let mut largest = 0;
    while let Some(piece) = body.data().await {
        let piece = piece.unwrap();
        largest = largest.max(piece.len());
        got.extend_from_slice(&piece);
    }
    (got, largest)
}

#[tokio::test]
async fn a_large_download_arrives_whole_in_frames_of_the_advertised_size() {
    let server = TestServer::tcp(Settings::default(), producer).await;
    let (got, largest) = download(&server, &Settings::default()).await;
    assert!(got == pattern(TOTAL), "the body differs from what was sent");
    // Each piece is one DATA frame: larger than the protocol's 16 KiB (the default is in
    // effect on the wire), never past what the client advertised.
    assert!(
        largest > MIN_MAX_FRAME_SIZE as usize,
        "largest piece {largest}"
    );
    assert!(
        largest <= DEFAULT_MAX_FRAME_SIZE as usize,
        "largest piece {largest}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_client_with_the_protocol_frame_size_gets_small_frames() {
    let server = TestServer::tcp(Settings::default(), producer).await;
    let mut small = Settings::default();
    small.max_frame_size = MIN_MAX_FRAME_SIZE;
    let (got, largest) = download(&server, &small).await;
    assert!(got == pattern(TOTAL), "the body differs from what was sent");
    assert!(
        largest <= MIN_MAX_FRAME_SIZE as usize,
        "largest piece {largest}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_large_upload_is_echoed_byte_for_byte() {
    // Within the echo's 2 MiB collect limit; the client sends in frames of up to the
    // server's advertised size.
    let server = TestServer::tcp(Settings::default(), hello_or_echo).await;
    let client = server.client().await;
    let sent = pattern(2 * 1024 * 1024 - 1);
    let req = Request::post("http://test/echo")
        .body(Body::from(sent.clone()))
        .unwrap();
    let res = client.send(req).await.unwrap();
    assert_eq!(res.status(), http::StatusCode::OK);
    let echoed = res
        .into_body()
        .with_limit(u64::MAX)
        .collect()
        .await
        .unwrap();
    assert!(echoed == sent, "the echo differs from what was sent");
    server.stop().await;
}
