//! Response compression: each coding round-trips, q-values choose, and what must not
//! be compressed is left alone.

mod support;

use async_compression::tokio::bufread::{BrotliDecoder, DeflateDecoder, GzipDecoder, ZstdDecoder};
use ghostnet_http::middleware::Compression;
use ghostnet_http::{Body, Request, Response, Router, get};
use http::StatusCode;
use tokio::io::AsyncReadExt;

fn text() -> String {
    (0..400)
        .map(|i| format!("line {i} of a compressible body\n"))
        .collect()
}

fn with_type(body: Body, ct: &'static str) -> Response {
    let mut res = Response::new(body);
    res.headers_mut()
        .insert("content-type", ct.parse().unwrap());
    res
}

fn router() -> Router {
    Router::new()
        .route(
            "/text",
            get(|_req: Request| async {
                let mut res = with_type(Body::from(text()), "text/plain");
                res.headers_mut().insert("etag", "\"v1\"".parse().unwrap());
                res
            }),
        )
        .route(
            "/small",
            get(|_req: Request| async { with_type(Body::from("tiny"), "text/plain") }),
        )
        .route(
            "/png",
            get(|_req: Request| async { with_type(Body::from(vec![0u8; 4096]), "image/png") }),
        )
        .route(
            "/partial",
            get(|_req: Request| async {
                let mut res = with_type(Body::from(vec![b'a'; 4096]), "text/plain");
                *res.status_mut() = StatusCode::PARTIAL_CONTENT;
                res.headers_mut()
                    .insert("content-range", "bytes 0-4095/9999".parse().unwrap());
                res
            }),
        )
        .route(
            "/stream",
            get(|_req: Request| async {
                let (mut tx, body) = Body::channel();
                tokio::spawn(async move {
                    for _ in 0..4 {
                        tx.send_data(text().into()).await.unwrap();
                    }
                });
                with_type(body, "application/json")
            }),
        )
        .layer(Compression::new())
}

async fn decode(encoding: &str, data: &[u8]) -> String {
    let mut out = Vec::new();
    match encoding {
        "gzip" => GzipDecoder::new(data).read_to_end(&mut out).await,
        "br" => BrotliDecoder::new(data).read_to_end(&mut out).await,
        "zstd" => ZstdDecoder::new(data).read_to_end(&mut out).await,
        "deflate" => DeflateDecoder::new(data).read_to_end(&mut out).await,
        other => panic!("unexpected coding {other}"),
    }
    .unwrap();
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn every_coding_round_trips_over_http1() {
    let server = support::start(router()).await;
    for coding in ["gzip", "br", "zstd", "deflate"] {
        let res = server
            .h1("GET", "/text", &[("accept-encoding", coding)])
            .await;
        assert_eq!(res.header("content-encoding"), Some(coding));
        assert_eq!(res.header("vary"), Some("Accept-Encoding"));
        assert_eq!(res.header("etag"), Some("W/\"v1\""), "strong tag weakened");
        assert!(
            res.body.len() < text().len() / 4,
            "{coding}: {}",
            res.body.len()
        );
        assert_eq!(decode(coding, &res.body).await, text(), "{coding}");
    }
    let res = server
        .h1("GET", "/stream", &[("accept-encoding", "gzip")])
        .await;
    assert_eq!(res.header("content-encoding"), Some("gzip"));
    assert_eq!(decode("gzip", &res.body).await, text().repeat(4));
    assert!(server.stop().await.is_clean());
}

#[tokio::test]
async fn q_values_choose_the_coding_over_http2() {
    let server = support::start(router()).await;
    let h2 = server.h2().await;
    for (accept, want) in [
        ("gzip;q=0.5, br;q=0.9", Some("br")),
        ("gzip, deflate;q=0.1", Some("gzip")),
        ("br;q=0, *;q=0.3", Some("zstd")),
        ("identity", None),
        ("*;q=0", None),
    ] {
        let res = support::h2_request(&h2, "GET", "/text", &[("accept-encoding", accept)]).await;
        assert_eq!(res.header("content-encoding"), want, "{accept}");
        match want {
            Some(coding) => assert_eq!(decode(coding, &res.body).await, text()),
            None => assert_eq!(res.body, text()),
        }
    }
    drop(h2);
    assert!(server.stop().await.is_clean());
}

#[tokio::test]
async fn what_must_not_be_compressed_is_left_alone() {
    let server = support::start(router()).await;
    let gzip = [("accept-encoding", "gzip")];
    let res = server.h1("GET", "/text", &[]).await;
    assert_eq!(res.header("content-encoding"), None, "no Accept-Encoding");
    assert_eq!(res.header("vary"), Some("Accept-Encoding"));
    assert_eq!(res.header("etag"), Some("\"v1\""));
    let res = server.h1("GET", "/small", &gzip).await;
    assert_eq!(res.header("content-encoding"), None, "under min_size");
    assert_eq!(res.body, "tiny");
    let res = server.h1("GET", "/png", &gzip).await;
    assert_eq!(
        res.header("content-encoding"),
        None,
        "already compressed type"
    );
    let res = server.h1("GET", "/partial", &gzip).await;
    assert_eq!(res.header("content-encoding"), None, "range answer");
    assert_eq!(res.body.len(), 4096);
    let res = server.h1("HEAD", "/text", &gzip).await;
    assert_eq!(res.header("content-encoding"), None, "HEAD");
    assert!(server.stop().await.is_clean());
}
