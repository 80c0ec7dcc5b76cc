//! Request-smuggling shapes: each is sent as raw bytes to a running server, which must
//! answer 400 and close the connection, and must never answer the request smuggled
//! behind it.

mod support;

use support::{TestServer, echo, raw_exchange};

/// A request that would be answered if the server mis-framed the one before it.
const SMUGGLED: &str = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";

async fn assert_rejected(server: &TestServer, name: &str, raw: &str) {
    let full = format!("{raw}{SMUGGLED}");
    let out = raw_exchange(server.addr, full.as_bytes()).await;
    assert!(
        out.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{name}: expected 400, got {out:?}"
    );
    assert!(
        out.contains("\r\nconnection: close\r\n"),
        "{name}: 400 without connection: close: {out:?}"
    );
    assert!(
        !out.contains("HTTP/1.1 200"),
        "{name}: smuggled request answered: {out:?}"
    );
    assert_eq!(
        out.matches("HTTP/1.1 400").count(),
        1,
        "{name}: more than one response: {out:?}"
    );
}

macro_rules! rejected {
    ($($name:ident: $raw:expr;)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                let server = TestServer::start(echo).await;
                assert_rejected(&server, stringify!($name), $raw).await;
                server.stop().await;
            }
        )*
    };
}

rejected! {
    content_length_with_transfer_encoding:
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    transfer_encoding_with_content_length:
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n0\r\n\r\n";
    duplicate_content_length_same_value:
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello";
    duplicate_content_length_different_values:
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\nhello";
    content_length_list:
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1,1\r\n\r\nx";
    content_length_list_with_space:
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\nx";
    content_length_plus_sign:
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello";
    content_length_minus_sign:
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\nhello";
    content_length_inner_space:
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\nhello";
    content_length_hex:
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello";
    content_length_not_a_number:
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: five\r\n\r\nhello";
    content_length_empty:
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\nhello";
    content_length_overflow:
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\nhello";
    content_length_vertical_tab:
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \x0b5\r\n\r\nhello";
    whitespace_before_colon:
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nhello";
    tab_before_colon:
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n";
    chunked_not_last:
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n";
    chunked_not_last_over_two_fields:
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n";
    chunked_twice:
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n";
    transfer_encoding_not_a_coding:
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n";
    transfer_encoding_in_http10:
        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    obs_fold_continuation_line:
        "POST / HTTP/1.1\r\nHost: a\r\nX-Long: a\r\n b\r\nContent-Length: 0\r\n\r\n";
    obs_fold_hiding_transfer_encoding:
        "POST / HTTP/1.1\r\nHost: a\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    bare_lf_in_request_line:
        "POST / HTTP/1.1\nHost: a\r\nContent-Length: 0\r\n\r\n";
    bare_lf_between_fields:
        "POST / HTTP/1.1\r\nHost: a\nContent-Length: 0\r\n\r\n";
    bare_lf_ending_head:
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\n";
    bare_cr_in_field:
        "POST / HTTP/1.1\r\nHost: a\rContent-Length: 5\r\n\r\nhello";
    bare_cr_in_request_line:
        "POST /\r HTTP/1.1\r\nHost: a\r\n\r\n";
    missing_host:
        "GET / HTTP/1.1\r\n\r\n";
    duplicate_host:
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n";
    chunk_size_hex_prefix:
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n";
    chunk_size_plus_sign:
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n";
    chunk_size_minus_sign:
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n";
    chunk_size_overflow:
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n";
    chunk_size_empty:
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n";
    chunk_size_leading_space:
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n";
    chunk_size_trailing_space:
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n";
    chunk_size_bare_lf:
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n";
    chunk_data_longer_than_size:
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n";
    chunk_data_bare_lf:
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n";
    last_chunk_bare_lf:
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\n\r\n";
    trailer_bare_lf:
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\n\r\n";
    chunk_extension_control_character:
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\x01\r\nhello\r\n0\r\n\r\n";
    absolute_path_missing_slash:
        "GET smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
}

/// The control: the same server answers well-formed requests, pipelined, and keeps the
/// connection — so the 400s above are the parser's doing.
#[tokio::test]
async fn well_formed_requests_are_served() {
    let server = TestServer::start(echo).await;
    let raw = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello\
               POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nworld\r\n0\r\nX-T: 1\r\n\r\n\
               GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    let out = raw_exchange(server.addr, raw.as_bytes()).await;
    assert_eq!(out.matches("HTTP/1.1 200 OK\r\n").count(), 3, "{out}");
    assert!(out.contains("\r\n\r\nhello"), "{out}");
    assert!(out.contains("\r\n\r\nworld"), "{out}");
    server.stop().await;
}

/// A coding we do not decode is refused with 501, not guessed at.
#[tokio::test]
async fn unknown_transfer_coding_is_not_implemented() {
    let server = TestServer::start(echo).await;
    let raw = format!(
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n{SMUGGLED}"
    );
    let out = raw_exchange(server.addr, raw.as_bytes()).await;
    assert!(out.starts_with("HTTP/1.1 501 Not Implemented\r\n"), "{out}");
    assert!(!out.contains("HTTP/1.1 200"), "{out}");
    server.stop().await;
}
