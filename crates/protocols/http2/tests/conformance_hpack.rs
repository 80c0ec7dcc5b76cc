//! h2spec "HPACK" cases: a header block that cannot be decoded is a connection error
//! (RFC 9113 §4.3), and the decoder keeps its table limits. The RFC's code is
//! COMPRESSION_ERROR; h2 sends PROTOCOL_ERROR (`H2_GENERIC_CODE`), except for
//! CONTINUATION floods past the header list limit, which get COMPRESSION_ERROR.

mod support;

use ghostnet_http2::Settings;
use support::frames::*;
use support::{TestServer, hello_or_echo};

/// Sends a request whose block is the valid request fields followed by `bad`.
async fn outcome_of(settings: Settings, bad: &[u8]) -> Outcome {
    let server = TestServer::memory(settings, hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    let mut block = request_block("GET", "/", &[]);
    block.extend_from_slice(bad);
    peer.send(&headers(1, END_STREAM | END_HEADERS, &block))
        .await;
    let out = peer.outcome(Some(1)).await;
    drop(peer);
    server.stop().await;
    out
}

#[tokio::test]
async fn index_beyond_the_tables_is_a_decoding_error() {
    // Index 70: past the 61 static entries, and the dynamic table is empty.
    let out = outcome_of(Settings::default(), &[0x80 | 70]).await;
    assert_eq!(out, Outcome::GoAway(H2_GENERIC_CODE));
}

#[tokio::test]
async fn index_zero_is_a_decoding_error() {
    // RFC 7541 §6.1: the index value 0 is a decoding error.
    let out = outcome_of(Settings::default(), &[0x80]).await;
    assert_eq!(out, Outcome::GoAway(H2_GENERIC_CODE));
}

#[tokio::test]
async fn table_size_update_over_the_setting_is_a_decoding_error() {
    // 5000 > SETTINGS_HEADER_TABLE_SIZE (4096). As the first field of a block.
    let update = [0x3f, 0xe9, 0x26];
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    let mut block = update.to_vec();
    block.extend(request_block("GET", "/", &[]));
    peer.send(&headers(1, END_STREAM | END_HEADERS, &block))
        .await;
    assert_eq!(
        peer.outcome(Some(1)).await,
        Outcome::GoAway(H2_GENERIC_CODE)
    );
    drop(peer);
    server.stop().await;
}

#[tokio::test]
async fn configured_header_table_size_bounds_updates() {
    // With a 0-byte table, even an update to 100 is over the limit.
    let mut settings = Settings::default();
    settings.header_table_size = 0;
    let server = TestServer::memory(settings, hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    let mut block = vec![0x3f, 100 - 31];
    block.extend(request_block("GET", "/", &[]));
    peer.send(&headers(1, END_STREAM | END_HEADERS, &block))
        .await;
    assert_eq!(
        peer.outcome(Some(1)).await,
        Outcome::GoAway(H2_GENERIC_CODE)
    );
    drop(peer);
    server.stop().await;
}

#[tokio::test]
async fn table_size_update_after_a_field_is_a_decoding_error() {
    // RFC 7541 §4.2: an update must come first in the block.
    let out = outcome_of(Settings::default(), &[0x20]).await;
    assert_eq!(out, Outcome::GoAway(H2_GENERIC_CODE));
}

#[tokio::test]
async fn bad_huffman_padding_is_a_decoding_error() {
    // Literal without indexing, name "x-h", Huffman value of one byte 0x00: the symbol
    // '0' (00000) then three padding bits of 0, where padding must be EOS's 1s.
    let mut bad = vec![0x00, 3, b'x', b'-', b'h'];
    bad.extend([0x81, 0x00]);
    let out = outcome_of(Settings::default(), &bad).await;
    assert_eq!(out, Outcome::GoAway(H2_GENERIC_CODE));
}

#[tokio::test]
async fn valid_dynamic_table_use_across_requests() {
    // Literal *with* incremental indexing on stream 1, then the same field by index on
    // stream 3: proves the decoder keeps state correctly (and the test encoder is right).
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let mut peer = server.raw_ready().await;
    let mut first = vec![0x40, 6];
    first.extend(b"x-test");
    first.push(3);
    first.extend(b"one");
    let mut block = request_block("GET", "/", &[]);
    block.extend(&first);
    peer.send(&headers(1, END_STREAM | END_HEADERS, &block))
        .await;
    assert_eq!(peer.body(1).await, b"Hello, World!");
    let mut block = request_block("GET", "/", &[]);
    block.push(0x80 | 62); // the entry added above
    peer.send(&headers(3, END_STREAM | END_HEADERS, &block))
        .await;
    assert_eq!(peer.body(3).await, b"Hello, World!");
    drop(peer);
    server.stop().await;
}
