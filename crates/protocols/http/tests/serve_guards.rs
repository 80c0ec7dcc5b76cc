//! What a demanding user expects of the server: a handler that panics or hangs still
//! gets the client an answer (500 / 503) over HTTP/1.1 and HTTP/2, garbage and
//! half-sent requests never take the server down, and a zero timeout is refused.

mod support;

use std::time::Duration;

use ghostnet_http::{Error, Request, Response, Router, Server, get};
use http::StatusCode;
use tokio::io::AsyncWriteExt;

fn router() -> Router {
    Router::new()
        .route("/ok", get(|_req: Request| async { "ok" }))
        .route(
            "/panic",
            get(|_req: Request| async {
                if true {
                    panic!("handler bug");
                }
                "unreachable"
            }),
        )
        .route(
            "/hang",
            get(|_req: Request| std::future::pending::<Response>()),
        )
}

fn server() -> Server {
    Server::builder()
        .handler_timeout(Some(Duration::from_millis(50)))
        .build()
        .unwrap()
}

#[tokio::test]
async fn panics_and_hangs_are_answered_over_http1() {
    let server = support::start_with(server(), router()).await;
    let res = server.h1("GET", "/panic", &[]).await;
    assert_eq!(res.status, StatusCode::INTERNAL_SERVER_ERROR);
    let res = server.h1("GET", "/hang", &[]).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(server.h1("GET", "/ok", &[]).await.text(), "ok");
    assert!(server.stop().await.is_clean());
}

#[tokio::test]
async fn panics_and_hangs_are_answered_over_http2() {
    let server = support::start_with(server(), router()).await;
    let h2 = server.h2().await;
    let res = support::h2_request(&h2, "GET", "/panic", &[]).await;
    assert_eq!(res.status, StatusCode::INTERNAL_SERVER_ERROR);
    let res = support::h2_request(&h2, "GET", "/hang", &[]).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
    // The connection survives both.
    let res = support::h2_request(&h2, "GET", "/ok", &[]).await;
    assert_eq!(res.text(), "ok");
    drop(h2);
    assert!(server.stop().await.is_clean());
}

#[tokio::test]
async fn garbage_and_truncated_requests_do_not_hurt_the_server() {
    let server = support::start(router()).await;
    let inputs: [&[u8]; 6] = [
        b"\x00\x01\x02\x03\xff\xfe garbage\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET /ok HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x04\x01", // preface, then a cut frame
        b"GET /ok HTTP/1.1\r\nhost",                         // cut mid-header
        b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n",                 // a wrong preface
    ];
    for input in inputs {
        let mut tcp = server.tcp().await;
        tcp.write_all(input).await.unwrap();
        let _ = tcp.shutdown().await;
        // Whatever the answer (400, GOAWAY, a plain close), the server ends the
        // connection rather than waiting for more.
        let raw = support::read_to_close(&mut tcp).await;
        if raw.starts_with(b"HTTP/1.1 ") {
            let status = support::parse_response(&raw, false).status;
            assert!(
                status.is_client_error() || status == StatusCode::HTTP_VERSION_NOT_SUPPORTED,
                "{status} for {input:?}"
            );
        }
    }
    assert_eq!(server.h1("GET", "/ok", &[]).await.text(), "ok");
    assert!(server.stop().await.is_clean());
}

#[tokio::test]
async fn zero_timeouts_are_configuration_errors() {
    let err = Server::builder()
        .handler_timeout(Some(Duration::ZERO))
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidConfig {
                field: "handler_timeout",
                ..
            }
        ),
        "{err}"
    );
    let err = Server::builder()
        .detect_timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidConfig {
                field: "detect_timeout",
                ..
            }
        ),
        "{err}"
    );
    // None waits forever, on purpose.
    assert!(Server::builder().handler_timeout(None).build().is_ok());
}
