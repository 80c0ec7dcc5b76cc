//! h2c upgrade from HTTP/1.1 (RFC 7540 §3.2), driven with raw bytes: the upgrade
//! request is answered on stream 1 with the client's HTTP2-Settings applied, the
//! settings are acknowledged only by the 101, and the connection goes on as HTTP/2.

mod support;

use std::sync::Arc;

use bytes::Bytes;
use ghostnet_http2::{Body, Error, Server, Settings};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::{Dial, Listen, MemoryNetwork, MemoryStream, Target};
use http::{Request, Response};
use support::frames::*;
use support::h1shim::serve_h2c_upgrade;

/// Describes the request it got, so the test sees what stream 1 was.
async fn describe(req: Request<Body>) -> Response<Body> {
    let line = format!("{} {} {:?}", req.method(), req.uri(), req.version());
    let body = req.into_body().collect().await.unwrap();
    Response::new(Body::from(format!(
        "{line} body={}",
        String::from_utf8_lossy(&body)
    )))
}

/// `INITIAL_WINDOW_SIZE = 5` as an HTTP2-Settings value.
const WINDOW_5: &str = "AAQAAAAF";

fn upgrade_request(settings: &str) -> String {
    format!(
        "GET /up?x=1 HTTP/1.1\r\nHost: test\r\nConnection: Upgrade, HTTP2-Settings\r\n\
         Upgrade: h2c\r\nHTTP2-Settings: {settings}\r\nUser-Agent: raw\r\n\r\n"
    )
}

async fn pair() -> (MemoryStream, MemoryStream) {
    let net = MemoryNetwork::new();
    let target: Target = "h1.test:80".parse().unwrap();
    let listener = net.listen(&target).unwrap();
    let client = net.dialer().dial(&target).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

#[tokio::test]
async fn upgrade_answers_stream_1_and_continues_as_http2() {
    let (client_io, server_io) = pair().await;
    let server = Server::new(Settings::default()).unwrap();
    let token = Shutdown::new().token();
    let serving = tokio::spawn({
        let token = token.clone();
        async move { serve_h2c_upgrade(&server, server_io, Arc::new(describe), token).await }
    });

    let mut peer = Peer::new(client_io);
    peer.send(upgrade_request(WINDOW_5).as_bytes()).await;
    let head = peer.read_http1_head().await;
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(head.to_ascii_lowercase().contains("upgrade: h2c"), "{head}");
    // The client preface after the 101, with settings that do not touch the window.
    let mut out = PREFACE.to_vec();
    out.extend(settings(&[(SETTINGS_MAX_CONCURRENT_STREAMS, 100)]));
    peer.send(&out).await;

    // Stream 1's response: the window from HTTP2-Settings (5) holds the body back.
    let mut acks = 0;
    let mut body = Vec::new();
    let mut status_ok = false;
    loop {
        let f = peer.next().await.expect("frames");
        match f.kind {
            SETTINGS if f.flags & ACK != 0 => acks += 1,
            HEADERS if f.stream == 1 => status_ok = is_status_200(&f.payload),
            DATA if f.stream == 1 => {
                assert!(f.payload.len() <= 5, "HTTP2-Settings window ignored");
                body.extend_from_slice(&f.payload);
                if f.flags & END_STREAM != 0 {
                    break;
                }
                peer.send(&window_update(1, f.payload.len() as u32)).await;
            }
            _ => {}
        }
    }
    assert!(status_ok);
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "GET http://test/up?x=1 HTTP/2.0 body="
    );
    // Stream 3 is an ordinary HTTP/2 request on the same connection.
    peer.send(&headers(
        3,
        END_STREAM | END_HEADERS,
        &request_block("POST", "/next", &[]),
    ))
    .await;
    peer.send(&window_update(3, 1000)).await;
    let next = peer.body(3).await;
    assert_eq!(
        String::from_utf8(next).unwrap(),
        "POST http://test/next HTTP/2.0 body="
    );
    // Only our real SETTINGS was acknowledged: the 101 acknowledged HTTP2-Settings.
    peer.ping_pong().await;
    assert_eq!(acks, 1, "the server acknowledged the HTTP2-Settings");
    drop(peer);
    serving.await.unwrap().unwrap();
}

#[tokio::test]
async fn the_upgrade_request_body_reaches_the_service() {
    // An HTTP/1.1 server reads the body before switching (RFC 7540 §3.2); it hands it
    // over with the request.
    let (client_io, server_io) = pair().await;
    let server = Server::new(Settings::default()).unwrap();
    let req = Request::post("/form")
        .header("host", "test")
        .header("connection", "Upgrade, HTTP2-Settings")
        .header("upgrade", "h2c")
        .header("http2-settings", "")
        .body(Bytes::from_static(b"a=1"))
        .unwrap();
    let serving = tokio::spawn(async move {
        server
            .serve_upgrade(server_io, req, Arc::new(describe), Shutdown::new().token())
            .await
    });
    let mut peer = Peer::new(client_io);
    peer.handshake().await;
    assert_eq!(
        String::from_utf8(peer.body(1).await).unwrap(),
        "POST http://test/form HTTP/2.0 body=a=1"
    );
    drop(peer);
    serving.await.unwrap().unwrap();
}

#[tokio::test]
async fn malformed_http2_settings_is_refused_before_anything_is_sent() {
    let (client_io, server_io) = pair().await;
    let server = Server::new(Settings::default()).unwrap();
    let req = Request::get("/")
        .header("host", "test")
        .header("http2-settings", "not base64!")
        .body(Body::empty())
        .unwrap();
    let err = server
        .serve_upgrade(server_io, req, Arc::new(describe), Shutdown::new().token())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidUpgrade { .. }), "{err}");
    // Nothing was written to the client.
    let mut peer = Peer::new(client_io);
    assert!(peer.next().await.is_none());
}
