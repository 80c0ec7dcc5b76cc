//! Compressed responses over both protocols: each coding is asked for and decoded the
//! same way over HTTP/1.1 and h2c, compression off (or the caller's own
//! `Accept-Encoding`) passes the encoded bytes through, a corrupt body or a
//! decompression bomb is an error, and HEAD/204/304 with a `Content-Encoding` have
//! nothing to decode.

mod client_support;

use async_compression::tokio::bufread::{
    BrotliEncoder, DeflateEncoder, GzipEncoder, ZlibEncoder, ZstdEncoder,
};
use client_support::{Speaks, serve};
use ghostnet_http::client::{ClientConfig, HttpClient, Protocol};
use ghostnet_http::middleware::{Compression, Encoding};
use ghostnet_http::{Body, Error, Request, RequestExt, Response, Router, get};
use ghostnet_transport::{MemoryDialer, MemoryNetwork};
use http::StatusCode;
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING};
use tokio::io::AsyncReadExt;

fn text() -> String {
    (0..400)
        .map(|i| format!("line {i} of a compressible body\n"))
        .collect()
}

/// `text()` encoded with `coding`; `deflate-raw` is deflate without the zlib wrapper,
/// which some servers send as `deflate`.
async fn encoded(coding: &str) -> Vec<u8> {
    let plain = text().into_bytes();
    let src: &[u8] = &plain;
    let mut out = Vec::new();
    match coding {
        "gzip" => GzipEncoder::new(src).read_to_end(&mut out).await,
        "br" => BrotliEncoder::new(src).read_to_end(&mut out).await,
        "zstd" => ZstdEncoder::new(src).read_to_end(&mut out).await,
        "deflate" => ZlibEncoder::new(src).read_to_end(&mut out).await,
        "deflate-raw" => DeflateEncoder::new(src).read_to_end(&mut out).await,
        other => panic!("no encoder for {other}"),
    }
    .unwrap();
    out
}

/// A response carrying `body` as `Content-Encoding: coding`, and whether the request
/// asked for compression (`x-saw-accept-encoding`).
fn encoded_response(req: &Request, status: StatusCode, coding: &str, body: Vec<u8>) -> Response {
    let saw = req.headers().contains_key(ACCEPT_ENCODING).to_string();
    http::Response::builder()
        .status(status)
        .header(CONTENT_ENCODING, coding.trim_end_matches("-raw"))
        .header("x-saw-accept-encoding", saw)
        .body(Body::from(body))
        .unwrap()
}

/// `/mw` goes through the server's compression middleware (one coding per server);
/// `/raw/:coding` always sends a pre-encoded body; `/corrupt/:how` a broken gzip body;
/// `/empty/:status` that status with `Content-Encoding: gzip` and no body.
fn router(encoding: Encoding) -> Router {
    Router::new()
        .route(
            "/mw",
            get(|_req: Request| async { text() }).layer(Compression::new().encodings([encoding])),
        )
        .route(
            "/raw/:coding",
            get(|req: Request| async move {
                let coding: String = req.param("coding").unwrap();
                let body = encoded(&coding).await;
                encoded_response(&req, StatusCode::OK, &coding, body)
            }),
        )
        .route(
            "/corrupt/:how",
            get(|req: Request| async move {
                let how: String = req.param("how").unwrap();
                let mut body = encoded("gzip").await;
                if how == "truncated" {
                    body.truncate(body.len() / 2);
                } else {
                    // Keep the gzip header, garble the deflate stream after it.
                    for b in &mut body[10..40] {
                        *b ^= 0x5a;
                    }
                }
                encoded_response(&req, StatusCode::OK, "gzip", body)
            }),
        )
        .route(
            "/empty/:status",
            get(|req: Request| async move {
                let status: u16 = req.param("status").unwrap();
                let status = StatusCode::from_u16(status).unwrap();
                encoded_response(&req, status, "gzip", Vec::new())
            }),
        )
}

/// One client per protocol: HTTP/1.1, and HTTP/2 with prior knowledge (h2c).
fn clients(net: &MemoryNetwork, config: ClientConfig) -> Vec<(Protocol, HttpClient<MemoryDialer>)> {
    [(Protocol::Http11, false), (Protocol::H2, true)]
        .into_iter()
        .map(|(p, h2c)| {
            let config = config.clone().h2_prior_knowledge(h2c);
            (p, HttpClient::with_dialer(config, net.dialer()).unwrap())
        })
        .collect()
}

#[tokio::test]
async fn every_coding_is_decoded_over_both_protocols() {
    let net = MemoryNetwork::new();
    let codings = [
        (Encoding::Gzip, "gzip.test:80"),
        (Encoding::Brotli, "br.test:80"),
        (Encoding::Zstd, "zstd.test:80"),
        (Encoding::Deflate, "deflate.test:80"),
    ];
    let servers: Vec<_> = codings
        .iter()
        .map(|&(e, host)| serve(&net, host, Speaks::Both, router(e)))
        .collect();
    for (protocol, client) in clients(&net, ClientConfig::default()) {
        for &(encoding, host) in &codings {
            let url = format!("http://{}/mw", host.trim_end_matches(":80"));
            let r = client.get(&url).await.unwrap();
            assert_eq!(r.protocol(), protocol);
            assert_eq!(r.status(), 200);
            // The fields describe the wire bytes: gone once the body is decoded.
            assert!(
                !r.headers().contains_key(CONTENT_ENCODING),
                "{protocol} {url}"
            );
            assert!(
                !r.headers().contains_key("content-length"),
                "{protocol} {url}"
            );
            let mut r = r;
            assert_eq!(r.body_mut().decoded_from(), Some(encoding.as_str()));
            assert_eq!(r.text().await.unwrap(), text(), "{protocol} {url}");
        }
        // Raw deflate sent as `deflate` is decoded too.
        let r = client
            .get("http://gzip.test/raw/deflate-raw")
            .await
            .unwrap();
        assert_eq!(r.headers()["x-saw-accept-encoding"], "true");
        assert_eq!(r.text().await.unwrap(), text(), "{protocol} raw deflate");
    }
    for s in servers {
        s.shutdown().await;
    }
}

#[tokio::test]
async fn compression_off_or_the_callers_accept_encoding_passes_bytes_through() {
    let net = MemoryNetwork::new();
    let shutdown = serve(&net, "api.test:80", Speaks::Both, router(Encoding::Gzip));
    let sent = encoded("br").await;
    for (protocol, client) in clients(&net, ClientConfig::default().compression(false)) {
        let r = client.get("http://api.test/raw/br").await.unwrap();
        assert_eq!(r.protocol(), protocol);
        assert_eq!(r.headers()["x-saw-accept-encoding"], "false", "{protocol}");
        assert_eq!(r.headers()[CONTENT_ENCODING], "br");
        let mut r = r;
        assert_eq!(r.body_mut().decoded_from(), None);
        assert_eq!(r.bytes().await.unwrap(), sent, "{protocol}: untouched");

        // The middleware compresses nothing the client did not ask for.
        let r = client.get("http://api.test/mw").await.unwrap();
        assert!(!r.headers().contains_key(CONTENT_ENCODING), "{protocol}");
        assert_eq!(r.text().await.unwrap(), text());
    }
    for (protocol, client) in clients(&net, ClientConfig::default()) {
        // A caller who sets Accept-Encoding wants the bytes as sent.
        let r = client
            .get("http://api.test/raw/br")
            .header(ACCEPT_ENCODING, "br")
            .await
            .unwrap();
        assert_eq!(r.headers()[CONTENT_ENCODING], "br", "{protocol}");
        assert_eq!(r.bytes().await.unwrap(), sent, "{protocol}: untouched");
    }
    shutdown.shutdown().await;
}

#[tokio::test]
async fn a_corrupt_or_truncated_body_is_an_error() {
    let net = MemoryNetwork::new();
    let shutdown = serve(&net, "api.test:80", Speaks::Both, router(Encoding::Gzip));
    for (protocol, client) in clients(&net, ClientConfig::default()) {
        for how in ["garbled", "truncated"] {
            let url = format!("http://api.test/corrupt/{how}");
            let r = client.get(&url).await.unwrap();
            assert_eq!(r.protocol(), protocol);
            let e = r.bytes().await.unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::Decompress {
                        encoding: "gzip",
                        ..
                    }
                ),
                "{protocol} {how}: {e:?}"
            );
            assert!(e.to_string().contains("gzip-encoded"), "{e}");
        }
        // The connection (or stream) is not poisoned for the next request.
        let r = client.get("http://api.test/raw/gzip").await.unwrap();
        assert_eq!(r.text().await.unwrap(), text(), "{protocol}");
    }
    shutdown.shutdown().await;
}

#[tokio::test]
async fn head_204_and_304_have_no_body_to_decode() {
    let net = MemoryNetwork::new();
    let shutdown = serve(&net, "api.test:80", Speaks::Both, router(Encoding::Gzip));
    for (protocol, client) in clients(&net, ClientConfig::default()) {
        for status in [204u16, 304] {
            let url = format!("http://api.test/empty/{status}");
            let r = client.get(&url).await.unwrap();
            assert_eq!(r.protocol(), protocol);
            assert_eq!(r.status().as_u16(), status);
            // Nothing was decoded, so the field stays as the server sent it.
            assert_eq!(r.headers()[CONTENT_ENCODING], "gzip", "{protocol} {status}");
            assert!(r.bytes().await.unwrap().is_empty(), "{protocol} {status}");
        }
        let r = client.head("http://api.test/raw/gzip").await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()[CONTENT_ENCODING], "gzip", "{protocol} HEAD");
        assert!(r.bytes().await.unwrap().is_empty(), "{protocol} HEAD");
    }
    shutdown.shutdown().await;
}

#[tokio::test]
async fn a_decompression_bomb_is_stopped_over_both_protocols() {
    let zeros: &[u8] = &vec![0u8; 16 << 20];
    let mut bomb = Vec::new();
    GzipEncoder::new(zeros)
        .read_to_end(&mut bomb)
        .await
        .unwrap();
    assert!(bomb.len() < 64 * 1024, "the bomb is small on the wire");
    let bomb = bytes::Bytes::from(bomb);
    let router = Router::new().route(
        "/bomb",
        get(move |req: Request| {
            let bomb = bomb.clone();
            async move { encoded_response(&req, StatusCode::OK, "gzip", bomb.to_vec()) }
        }),
    );
    let net = MemoryNetwork::new();
    let shutdown = serve(&net, "api.test:80", Speaks::Both, router);
    for (protocol, client) in clients(&net, ClientConfig::default()) {
        let r = client.get("http://api.test/bomb").await.unwrap();
        assert_eq!(r.protocol(), protocol);
        let e = r
            .into_body()
            .with_limit(u64::MAX)
            .bytes()
            .await
            .unwrap_err();
        match e {
            Error::DecompressionBomb {
                encoding, decoded, ..
            } => {
                assert_eq!(encoding, "gzip");
                assert!(decoded < 8 << 20, "{protocol}: stopped long before 16 MiB");
            }
            other => panic!("{protocol}: expected a bomb error, got {other:?}"),
        }
    }
    shutdown.shutdown().await;
}
