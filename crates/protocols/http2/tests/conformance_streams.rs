//! h2spec "5.1 Stream States", "5.1.1 Stream Identifiers", "5.1.2 Stream Concurrency",
//! "5.3.1 Stream Dependencies", "6.10 CONTINUATION" and "8.1.2 HTTP Header Fields":
//! frames that make no sense in a stream's state, and malformed requests.

mod support;

use ghostnet_http2::Settings;
use support::frames::*;
use support::{TestServer, hello_or_echo};

async fn outcome_of(settings: Settings, frames: &[Vec<u8>], stream: Option<u32>) -> Outcome {
    let server = TestServer::memory(settings, hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    peer.try_send(&frames.concat()).await;
    let out = peer.outcome(stream).await;
    drop(peer);
    server.stop().await;
    out
}

async fn default_outcome(frames: &[Vec<u8>], stream: Option<u32>) -> Outcome {
    outcome_of(Settings::default(), frames, stream).await
}

/// `GET /hang` (never answered) on `stream`, END_STREAM: the stream is half-closed
/// (remote) on the server.
fn hang(stream: u32) -> Vec<u8> {
    headers(
        stream,
        END_STREAM | END_HEADERS,
        &request_block("GET", "/hang", &[]),
    )
}

#[tokio::test]
async fn frames_on_idle_streams_are_protocol_errors() {
    let cases = [
        ("DATA (5.1/1)", data(1, 0, b"x")),
        ("RST_STREAM (5.1/2, 6.4/2)", rst_stream(1, CANCEL)),
        ("WINDOW_UPDATE (5.1/3)", window_update(1, 100)),
        (
            "CONTINUATION (5.1/4)",
            frame(CONTINUATION, END_HEADERS, 1, &[0x82]),
        ),
    ];
    for (what, f) in cases {
        assert_eq!(
            default_outcome(&[f], None).await,
            Outcome::GoAway(PROTOCOL_ERROR),
            "{what}"
        );
    }
}

#[tokio::test]
async fn data_on_half_closed_remote_closes() {
    // 5.1/5: RFC 9113 requires STREAM_CLOSED (a stream or connection error); h2 closes
    // the connection with its generic code.
    let out = default_outcome(&[hang(1), data(1, 0, b"late")], Some(1)).await;
    assert_eq!(out, Outcome::GoAway(H2_GENERIC_CODE));
}

#[tokio::test]
async fn headers_on_half_closed_remote_closes() {
    // 5.1/6: a second HEADERS after END_STREAM.
    // RFC: STREAM_CLOSED; h2: its generic code, as a connection error.
    let again = headers(1, END_STREAM | END_HEADERS, &literal("x-more", "1"));
    let out = default_outcome(&[hang(1), again], Some(1)).await;
    assert_eq!(out, Outcome::GoAway(H2_GENERIC_CODE));
}

#[tokio::test]
async fn data_on_a_closed_stream_is_stream_closed() {
    // 5.1/7: the response ended the stream; DATA afterwards.
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    peer.send(&get(1)).await;
    assert_eq!(peer.body(1).await, b"Hello, World!");
    peer.send(&data(1, END_STREAM, b"late")).await;
    let out = peer.outcome(Some(1)).await;
    assert!(
        matches!(
            out,
            Outcome::Reset(STREAM_CLOSED) | Outcome::GoAway(STREAM_CLOSED)
        ),
        "{out:?}"
    );
    drop(peer);
    server.stop().await;
}

#[tokio::test]
async fn data_after_rst_stream_is_ignored_or_stream_closed() {
    // 5.1/8 (closed after RST_STREAM): frames in flight when the reset was sent must be
    // tolerated for a while; the connection stays usable.
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    peer.send(&[hang(1), rst_stream(1, CANCEL), data(1, 0, b"x")].concat())
        .await;
    peer.ping_pong().await;
    peer.send(&get(3)).await;
    assert_eq!(peer.body(3).await, b"Hello, World!");
    drop(peer);
    server.stop().await;
}

#[tokio::test]
async fn stream_identifiers() {
    // 5.1.1/1: even (server-initiated) id from a client.
    assert_eq!(
        default_outcome(&[get(2)], None).await,
        Outcome::GoAway(PROTOCOL_ERROR)
    );
    // 5.1.1/2: an id lower than one already used.
    assert_eq!(
        default_outcome(&[get(5), get(3)], None).await,
        Outcome::GoAway(PROTOCOL_ERROR)
    );
    // 6.1/2, 6.2/2: DATA and HEADERS on stream 0.
    assert_eq!(
        default_outcome(&[data(0, 0, b"x")], None).await,
        Outcome::GoAway(PROTOCOL_ERROR)
    );
    assert_eq!(
        default_outcome(&[get(0)], None).await,
        Outcome::GoAway(PROTOCOL_ERROR)
    );
}

#[tokio::test]
async fn concurrency_over_the_limit_is_refused() {
    // 5.1.2/1, with our own limit: the third concurrent stream is refused.
    let mut settings = Settings::default();
    settings.max_concurrent_streams = 2;
    let server = TestServer::memory(settings, hello_or_echo).await;
    let mut peer = server.raw().await;
    let others = peer.handshake().await;
    assert!(others.is_empty());
    peer.send(&[hang(1), hang(3), hang(5)].concat()).await;
    let out = peer.outcome(Some(5)).await;
    assert!(
        matches!(
            out,
            Outcome::Reset(REFUSED_STREAM) | Outcome::Reset(PROTOCOL_ERROR)
        ),
        "{out:?}"
    );
    // The connection and the first two streams live on.
    peer.ping_pong().await;
    drop(peer);
    server.stop().await;
}

#[tokio::test]
async fn self_dependency_is_protocol_error() {
    // 5.3.1/1: HEADERS with a priority block naming the stream itself.
    let mut block = vec![0, 0, 0, 1, 16];
    block.extend(request_block("GET", "/", &[]));
    let out = default_outcome(
        &[headers(1, END_STREAM | END_HEADERS | PRIORITY_FLAG, &block)],
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
    // 5.3.1/2: PRIORITY naming the stream itself.
    let out = default_outcome(&[priority(1, 1, 16)], Some(1)).await;
    assert!(
        matches!(
            out,
            Outcome::Reset(PROTOCOL_ERROR) | Outcome::GoAway(PROTOCOL_ERROR)
        ),
        "{out:?}"
    );
}

#[tokio::test]
async fn interrupted_header_blocks_are_protocol_errors() {
    let block = request_block("GET", "/", &[]);
    let (a, b) = block.split_at(block.len() / 2);
    // 6.10/2: HEADERS without END_HEADERS, then a PING instead of CONTINUATION.
    let out = default_outcome(
        &[
            headers(1, END_STREAM, a),
            ping(0, [0; 8]),
            frame(CONTINUATION, END_HEADERS, 1, b),
        ],
        None,
    )
    .await;
    assert_eq!(out, Outcome::GoAway(PROTOCOL_ERROR));
    // 6.10/4: CONTINUATION on another stream.
    let out = default_outcome(
        &[
            headers(1, END_STREAM, a),
            frame(CONTINUATION, END_HEADERS, 3, b),
        ],
        None,
    )
    .await;
    assert_eq!(out, Outcome::GoAway(PROTOCOL_ERROR));
    // A split block done right works.
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    peer.send(
        &[
            headers(1, END_STREAM, a),
            frame(CONTINUATION, END_HEADERS, 1, b),
        ]
        .concat(),
    )
    .await;
    assert_eq!(peer.body(1).await, b"Hello, World!");
    drop(peer);
    server.stop().await;
}

#[tokio::test]
async fn malformed_requests_are_stream_protocol_errors() {
    let req = |extra: &[(&str, &str)]| {
        headers(
            1,
            END_STREAM | END_HEADERS,
            &request_block("GET", "/", extra),
        )
    };
    let cases = [
        ("uppercase field name (8.1.2/1)", req(&[("X-Upper", "1")])),
        ("unknown pseudo-header (8.1.2.1/1)", req(&[(":foo", "1")])),
        (
            "connection-specific field (8.1.2.2/1)",
            req(&[("connection", "keep-alive")]),
        ),
        ("TE other than trailers (8.1.2.2/2)", req(&[("te", "gzip")])),
        (
            "missing :path (8.1.2.3/3)",
            headers(1, END_STREAM | END_HEADERS, &{
                let mut b = literal(":method", "GET");
                b.extend(literal(":scheme", "http"));
                b.extend(literal(":authority", "test"));
                b
            }),
        ),
        (
            "pseudo-header after a regular field (8.1.2.1/3)",
            headers(1, END_STREAM | END_HEADERS, &{
                let mut b = literal("x-first", "1");
                b.extend(request_block("GET", "/", &[]));
                b
            }),
        ),
        (
            "content-length not matching the DATA (8.1.2.6/1)",
            [
                headers(
                    1,
                    END_HEADERS,
                    &request_block("POST", "/", &[("content-length", "10")]),
                ),
                data(1, END_STREAM, b"12345"),
            ]
            .concat(),
        ),
    ];
    // RFC 9113 §8.1.1: a stream error; §5.4 lets an endpoint make it a connection error,
    // which h2 does for field names it rejects while decoding (uppercase, unknown
    // pseudo-header).
    for (what, f) in cases {
        let out = default_outcome(&[f], Some(1)).await;
        assert!(
            matches!(
                out,
                Outcome::Reset(PROTOCOL_ERROR) | Outcome::GoAway(PROTOCOL_ERROR)
            ),
            "{what}: {out:?}"
        );
    }
}
