//! Content decoding: each coding, wire and decoded progress counted apart, the
//! decompression-bomb cap, corrupt data, and when the client must not decode.

mod client_support;

use std::sync::{Arc, Mutex};

use async_compression::tokio::bufread::{
    BrotliEncoder, DeflateEncoder, GzipEncoder, ZlibEncoder, ZstdEncoder,
};
use client_support::*;
use ghostnet_http1::client::{Client, Progress, RequestOptions};
use ghostnet_http1::{Body, Error};
use http::{Request, Response};
use tokio::io::AsyncReadExt;

/// Repetitive text: compresses well, but not absurdly.
fn text(len: usize) -> Vec<u8> {
    b"ghostnet decodes what it asked for. "
        .iter()
        .copied()
        .cycle()
        .take(len)
        .collect()
}

async fn compress(coding: &str, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "gzip" => GzipEncoder::new(data).read_to_end(&mut out).await,
        "br" => BrotliEncoder::new(data).read_to_end(&mut out).await,
        "deflate" => ZlibEncoder::new(data).read_to_end(&mut out).await,
        "raw-deflate" => DeflateEncoder::new(data).read_to_end(&mut out).await,
        "zstd" => ZstdEncoder::new(data).read_to_end(&mut out).await,
        other => panic!("no encoder for {other}"),
    }
    .unwrap();
    out
}

/// Serves `encoded` with `Content-Encoding: coding` (chunked when `chunked`), and
/// records the request's Accept-Encoding.
fn encoded_server(
    coding: &'static str,
    encoded: Vec<u8>,
    chunked: bool,
) -> (TestServer, Arc<Mutex<Vec<String>>>) {
    let accepts = Arc::new(Mutex::new(Vec::new()));
    let seen = accepts.clone();
    let encoded = bytes::Bytes::from(encoded);
    let server = serve_tcp(move |req: Request<Body>| {
        let ae = req
            .headers()
            .get("accept-encoding")
            .map_or("-".to_owned(), |v| v.to_str().unwrap().to_owned());
        seen.lock().unwrap().push(ae);
        let encoded = encoded.clone();
        async move {
            let name = if coding == "raw-deflate" {
                "deflate"
            } else {
                coding
            };
            let body = if chunked {
                let (mut tx, body) = Body::channel();
                tokio::spawn(async move {
                    for piece in encoded.chunks(1000) {
                        let _ = tx.send_data(bytes::Bytes::copy_from_slice(piece)).await;
                    }
                });
                body
            } else {
                Body::from(encoded)
            };
            Response::builder()
                .header("content-encoding", name)
                .body(body)
                .unwrap()
        }
    });
    (server, accepts)
}

#[tokio::test]
async fn every_coding_is_decoded_and_counted_apart() {
    let original = text(200_000);
    for coding in ["gzip", "br", "deflate", "raw-deflate", "zstd"] {
        for chunked in [false, true] {
            let encoded = compress(coding, &original).await;
            let (server, accepts) = encoded_server(coding, encoded.clone(), chunked);
            let client = Client::new();
            let response = client.get(&server.base).await.unwrap();
            assert!(
                response.headers().get("content-encoding").is_none(),
                "{coding}"
            );
            assert!(
                response.headers().get("content-length").is_none(),
                "{coding}"
            );
            let mut body = response.into_body();
            assert_eq!(
                body.decoded_from(),
                Some(if coding == "raw-deflate" {
                    "deflate"
                } else {
                    coding
                })
            );
            let calls = Arc::new(Mutex::new(Vec::<Progress>::new()));
            let c = calls.clone();
            body.on_progress(move |p| c.lock().unwrap().push(p));
            let mut decoded = Vec::new();
            while let Some(piece) = body.chunk().await {
                decoded.extend_from_slice(&piece.unwrap());
            }
            assert!(
                decoded == original,
                "{coding} chunked={chunked}: wrong bytes"
            );
            let p = body.progress();
            assert_eq!(p.wire_bytes, encoded.len() as u64, "{coding}");
            assert_eq!(p.decoded_bytes, original.len() as u64, "{coding}");
            assert!(p.wire_bytes < p.decoded_bytes / 10, "{coding}: {p:?}");
            let last = *calls.lock().unwrap().last().unwrap();
            assert_eq!(last.decoded_bytes, original.len() as u64);
            assert_eq!(
                accepts.lock().unwrap().as_slice(),
                ["gzip, br, zstd, deflate"]
            );
            // Decoding read the wire body to its end: the connection was reused.
            client
                .get(&server.base)
                .await
                .unwrap()
                .into_body()
                .bytes()
                .await
                .unwrap();
            assert_eq!(client.http_pool().stats().created, 1, "{coding}");
        }
    }
}

#[tokio::test]
async fn a_decompression_bomb_is_stopped() {
    let zeros = vec![0u8; 16 << 20];
    let encoded = compress("gzip", &zeros).await;
    assert!(encoded.len() < 64 * 1024, "the bomb is small on the wire");
    let (server, _) = encoded_server("gzip", encoded, false);
    let client = Client::builder()
        .max_decompression_ratio(50)
        .build()
        .unwrap();
    let body = client.get(&server.base).await.unwrap().into_body();
    let err = body.with_limit(u64::MAX).bytes().await.unwrap_err();
    match &err {
        Error::DecompressionBomb {
            encoding,
            wire,
            decoded,
        } => {
            assert_eq!(*encoding, "gzip");
            assert!(*decoded <= wire * 50 + (1 << 20) + 64 * 1024, "{err}");
            assert!(*decoded < 4 << 20, "stopped long before 16 MiB: {err}");
        }
        other => panic!("expected a bomb error, got {other:?}"),
    }
    // With a generous ratio the same body is fine: the cap is relative.
    let client = Client::builder()
        .max_decompression_ratio(10_000)
        .build()
        .unwrap();
    let body = client.get(&server.base).await.unwrap().into_body();
    assert_eq!(
        body.with_limit(u64::MAX).bytes().await.unwrap().len(),
        16 << 20
    );
}

#[tokio::test]
async fn corrupt_data_is_an_error_naming_the_coding() {
    let mut encoded = compress("gzip", &text(10_000)).await;
    let mid = encoded.len() / 2;
    encoded[mid..mid + 8].copy_from_slice(b"garbage!");
    let (server, _) = encoded_server("gzip", encoded, false);
    let err = Client::new()
        .get(&server.base)
        .await
        .unwrap()
        .into_body()
        .bytes()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Decompress {
                encoding: "gzip",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("gzip-encoded response body is corrupt"),
        "{err}"
    );
}

#[tokio::test]
async fn a_truncated_compressed_body_is_incomplete() {
    let encoded = compress("gzip", &text(50_000)).await;
    let cut = encoded[..encoded.len() / 2].to_vec();
    let full_len = encoded.len();
    let (base, _) = raw_tcp(move |_, mut peer, _| {
        let cut = cut.clone();
        async move {
            if peer.read_request().await.is_some() {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {full_len}\r\n\r\n"
                );
                peer.send(head.as_bytes()).await;
                peer.send(&cut).await;
            }
        }
    });
    let err = Client::new()
        .get(&base)
        .await
        .unwrap()
        .into_body()
        .bytes()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::IncompleteBody), "{err:?}");
}

#[tokio::test]
async fn no_decoding_when_the_caller_handles_encodings() {
    let original = text(5_000);
    let encoded = compress("gzip", &original).await;
    let (server, accepts) = encoded_server("gzip", encoded.clone(), false);
    let client = Client::new();

    // The caller's own Accept-Encoding: bytes come as sent, headers intact.
    let req = Request::get(&server.base)
        .header("accept-encoding", "gzip")
        .body(Body::empty())
        .unwrap();
    let r = client.request(req).await.unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert_eq!(r.into_body().bytes().await.unwrap(), encoded);

    // A range request: the range is of the encoded bytes, so nothing is asked or decoded.
    let req = Request::get(&server.base)
        .header("range", "bytes=0-")
        .body(Body::empty())
        .unwrap();
    client.request(req).await.unwrap();

    // Turned off for one request, or for the client.
    let req = Request::get(&server.base)
        .extension(RequestOptions::new().decompress(false))
        .body(Body::empty())
        .unwrap();
    let r = client.request(req).await.unwrap();
    assert_eq!(r.into_body().bytes().await.unwrap(), encoded);
    let plain = Client::builder().decompress(false).build().unwrap();
    assert_eq!(
        plain
            .get(&server.base)
            .await
            .unwrap()
            .into_body()
            .bytes()
            .await
            .unwrap(),
        encoded
    );
    assert_eq!(accepts.lock().unwrap().as_slice(), ["gzip", "-", "-", "-"]);
}
