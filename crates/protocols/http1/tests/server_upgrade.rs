//! The upgrade hook: 101 then the raw connection, including bytes sent early.

mod support;

use ghostnet_http1::{Body, upgrade};
use http::{Method, Request, Response, StatusCode};
use support::{Client, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn echo_upgrade(mut req: Request<Body>) -> Response<Body> {
    let Some(on) = upgrade::on(&mut req) else {
        return Response::new(Body::from("plain"));
    };
    if req.uri().path() == "/decline" {
        return Response::new(Body::from("declined"));
    }
    tokio::spawn(async move {
        let mut conn = on.await.expect("upgraded");
        let mut buf = [0u8; 64];
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let upper: Vec<u8> = buf[..n].to_ascii_uppercase();
                    conn.write_all(&upper).await.unwrap();
                }
            }
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("connection", "upgrade")
        .header("upgrade", "shout")
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn switching_protocols_hands_over_the_connection() {
    let server = TestServer::start(echo_upgrade).await;
    let mut c = Client::new(server.connect().await);
    // "early" follows the head in the same write: it belongs to the new protocol.
    c.send(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\nearly")
        .await;
    let r = c.read(Method::GET).await.unwrap();
    assert_eq!(r.status(), StatusCode::SWITCHING_PROTOCOLS);
    assert_eq!(r.header("upgrade"), Some("shout"));
    assert_eq!(c.read_raw(5).await, b"EARLY");
    c.io.write_all(b"later").await.unwrap();
    assert_eq!(c.read_raw(5).await, b"LATER");
    server.stop().await;
}

#[tokio::test]
async fn declined_upgrade_keeps_http() {
    let server = TestServer::start(echo_upgrade).await;
    let mut c = Client::new(server.connect().await);
    c.send(b"GET /decline HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .await;
    assert_eq!(c.read(Method::GET).await.unwrap().body, "declined");
    assert_eq!(c.read(Method::GET).await.unwrap().body, "plain");
    server.stop().await;
}

#[tokio::test]
async fn non_upgrade_requests_have_no_hook() {
    let server = TestServer::start(echo_upgrade).await;
    let mut c = Client::new(server.connect().await);
    c.send(b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: shout\r\n\r\n")
        .await; // no Connection: upgrade
    assert_eq!(c.read(Method::GET).await.unwrap().body, "plain");
    server.stop().await;
}
