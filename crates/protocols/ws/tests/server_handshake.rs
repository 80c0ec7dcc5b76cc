//! The server's opening handshake through the ghostnet HTTP/1.1 server: 101 and accept
//! key, subprotocol choice, origin check, refusals with status and reason, and the bytes
//! a client sends right behind its request.

mod support;

use ghostnet_ws::{Acceptor, Message};
use support::{ACCEPT, Raw, TestServer, echo, frame};
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn valid_request_gets_101_with_accept_key() {
    let server = TestServer::tcp(Acceptor::new(), echo).await;
    let mut raw = server.raw().await;
    let head = raw.handshake("/", "").await;
    assert_eq!(head.status, 101);
    assert_eq!(head.header("sec-websocket-accept"), Some(ACCEPT));
    assert!(
        head.header("upgrade")
            .unwrap()
            .eq_ignore_ascii_case("websocket")
    );
    assert!(
        head.header("connection")
            .unwrap()
            .eq_ignore_ascii_case("upgrade")
    );
    assert_eq!(head.header("sec-websocket-protocol"), None);
    assert_eq!(head.header("content-length"), None, "101 has no body");
    // And the connection now speaks WebSocket.
    raw.send(&frame(true, 1, b"hi")).await;
    let f = raw.read_frame().await.unwrap();
    assert_eq!((f.opcode, f.payload.as_slice()), (1, &b"hi"[..]));
    server.stop().await;
}

#[tokio::test]
async fn plain_http_routes_share_the_port() {
    let server = TestServer::tcp(Acceptor::new(), echo).await;
    let mut raw = server.raw().await;
    raw.send(b"GET /plain HTTP/1.1\r\nHost: a\r\n\r\n").await;
    let head = raw.read_head().await;
    assert_eq!((head.status, head.body.as_str()), (200, "plain"));
    // Same connection, keep-alive, then an upgrade.
    let head = raw.handshake("/ws", "").await;
    assert_eq!(head.status, 101);
    server.stop().await;
}

#[tokio::test]
async fn frames_sent_with_the_request_are_not_lost() {
    // A client may pipeline its first frames behind the request head: the HTTP server
    // has read them already and must hand them over.
    let server = TestServer::tcp(Acceptor::new(), echo).await;
    let mut raw = server.raw().await;
    let mut bytes = support::upgrade_request("/", "").into_bytes();
    bytes.extend(frame(true, 1, b"early"));
    bytes.extend(frame(true, 2, b"bird"));
    raw.send(&bytes).await;
    assert_eq!(raw.read_head().await.status, 101);
    let a = raw.read_frame().await.unwrap();
    let b = raw.read_frame().await.unwrap();
    assert_eq!((a.opcode, a.payload.as_slice()), (1, &b"early"[..]));
    assert_eq!((b.opcode, b.payload.as_slice()), (2, &b"bird"[..]));
    server.stop().await;
}

#[tokio::test]
async fn subprotocol_is_chosen_by_server_preference() {
    let acceptor = Acceptor::builder()
        .protocols(["chat.v2", "chat.v1"])
        .build()
        .unwrap();
    let server = TestServer::tcp(acceptor, |ws: ghostnet_ws::WebSocket| async move {
        let mut ws = ws;
        let p = ws.protocol().unwrap_or("none").to_owned();
        let _ = ws.send(Message::text(p)).await;
        echo(ws).await;
    })
    .await;
    let mut raw = server.raw().await;
    let head = raw
        .handshake("/", "Sec-WebSocket-Protocol: chat.v1, chat.v2\r\n")
        .await;
    assert_eq!(head.header("sec-websocket-protocol"), Some("chat.v2"));
    assert_eq!(raw.read_frame().await.unwrap().payload, b"chat.v2");

    let mut raw = server.raw().await;
    let head = raw.handshake("/", "Sec-WebSocket-Protocol: mqtt\r\n").await;
    assert_eq!(head.status, 101, "no common protocol: open without one");
    assert_eq!(head.header("sec-websocket-protocol"), None);
    assert_eq!(raw.read_frame().await.unwrap().payload, b"none");
    server.stop().await;
}

#[tokio::test]
async fn deflate_offer_is_not_accepted() {
    let server = TestServer::tcp(Acceptor::new(), echo).await;
    let mut raw = server.raw().await;
    let head = raw
        .handshake(
            "/",
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
        )
        .await;
    assert_eq!(head.status, 101);
    assert_eq!(head.header("sec-websocket-extensions"), None);
    server.stop().await;
}

#[tokio::test]
async fn malformed_requests_get_400_with_the_reason() {
    let server = TestServer::tcp(Acceptor::new(), echo).await;
    let cases = [
        (
            "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
            "Sec-WebSocket-Key is missing",
        ),
        (
            "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n",
            "16 bytes in base64",
        ),
        (
            "POST / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            "method must be GET",
        ),
        (
            // No `Connection: upgrade`: the HTTP server offers no upgrade at all.
            "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            "Connection header",
        ),
    ];
    for (request, reason) in cases {
        let mut raw = server.raw().await;
        raw.send(request.as_bytes()).await;
        let head = raw.read_head().await;
        assert_eq!(head.status, 400, "{request}");
        assert!(head.body.contains(reason), "{reason}: {}", head.body);
    }
    server.stop().await;
}

#[tokio::test]
async fn other_versions_get_426_naming_13() {
    let server = TestServer::tcp(Acceptor::new(), echo).await;
    let mut raw = server.raw().await;
    raw.send(
        b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
    )
    .await;
    let head = raw.read_head().await;
    assert_eq!(head.status, 426);
    assert_eq!(head.header("sec-websocket-version"), Some("13"));
    // A refusal keeps HTTP going on the connection.
    raw.send(b"GET /plain HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert_eq!(raw.read_head().await.body, "plain");
    server.stop().await;
}

#[tokio::test]
async fn origin_check_refuses_with_403() {
    let acceptor = Acceptor::builder()
        .allowed_origins(["https://app.example.com"])
        .build()
        .unwrap();
    let server = TestServer::tcp(acceptor, echo).await;
    let mut raw = server.raw().await;
    let head = raw.handshake("/", "Origin: https://evil.example\r\n").await;
    assert_eq!(head.status, 403);
    assert!(head.body.contains("https://evil.example"), "{}", head.body);
    let mut raw = server.raw().await;
    let head = raw
        .handshake("/", "Origin: https://app.example.com\r\n")
        .await;
    assert_eq!(head.status, 101);
    server.stop().await;
}

#[tokio::test]
async fn request_with_a_body_is_not_upgraded() {
    // An upgrade request with a body gets no hook from the HTTP server: refused, and the
    // body does not leak into a WebSocket.
    let server = TestServer::tcp(Acceptor::new(), echo).await;
    let mut raw = server.raw().await;
    let mut req = support::upgrade_request("/", "Content-Length: 2\r\n");
    req.push_str("xx");
    raw.io.write_all(req.as_bytes()).await.unwrap();
    let head = raw.read_head().await;
    assert_eq!(head.status, 400);
    assert!(head.body.contains("not handed over"), "{}", head.body);
    server.stop().await;
}

#[tokio::test]
async fn memory_transport_works_the_same() {
    let net = ghostnet_transport::MemoryNetwork::new();
    let server = TestServer::memory(&net, Acceptor::new(), echo).await;
    let mut raw: Raw<_> = server.raw().await;
    assert_eq!(raw.handshake("/", "").await.status, 101);
    raw.send(&frame(true, 2, &[1, 2, 3])).await;
    assert_eq!(raw.read_frame().await.unwrap().payload, [1, 2, 3]);
    server.stop().await;
}
