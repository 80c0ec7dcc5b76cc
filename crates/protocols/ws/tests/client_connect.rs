//! The client: connecting over TCP and the in-memory network, subprotocols, extra headers,
//! state while connecting, and every way a connection attempt can fail (with a paused
//! clock for the timeouts).

mod support;

use std::time::Duration;

use ghostnet_transport::{Dial, Listen, MemoryNetwork, Target};
use ghostnet_ws::{Acceptor, Client, CloseCode, Error, Message, State};
use support::{MEM_HOST, Raw, TestServer, echo};
use tokio::sync::mpsc;

#[tokio::test]
async fn connects_over_tcp_and_echoes() {
    let server = TestServer::tcp(Acceptor::new(), echo).await;
    let (mut ws, response) = ghostnet_ws::connect(&server.url("/echo")).await.unwrap();
    assert_eq!(response.status(), 101);
    assert_eq!(ws.info().transport, "tcp");
    assert_eq!(ws.state(), State::Open);
    ws.send("hello").await.unwrap();
    ws.send(vec![0u8, 1, 2]).await.unwrap();
    assert_eq!(ws.recv().await.unwrap().unwrap(), Message::from("hello"));
    assert_eq!(
        ws.recv().await.unwrap().unwrap(),
        Message::from(vec![0u8, 1, 2])
    );
    ws.close(CloseCode::Normal, "done").await.unwrap();
    assert_eq!(ws.state().close_code(), Some(CloseCode::Normal));
    server.stop().await;
}

#[tokio::test]
async fn subprotocol_and_extra_headers_reach_the_server() {
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let acceptor = Acceptor::builder()
        .protocols(["chat.v1", "chat.v2"])
        .build()
        .unwrap();
    // A server that reports the request headers before upgrading.
    let listener =
        ghostnet_transport::TcpListener::bind("127.0.0.1:0".parse().unwrap(), Default::default())
            .unwrap();
    let addr = listener.local_addr();
    let shutdown = ghostnet_runtime::Shutdown::new();
    let handler = move |req: http::Request<ghostnet_http1::Body>| {
        let acceptor = acceptor.clone();
        let seen_tx = seen_tx.clone();
        async move {
            let h = req.headers();
            let get = |n: &str| h.get(n).map(|v| v.to_str().unwrap().to_owned());
            seen_tx
                .send((get("authorization"), get("origin"), get("host")))
                .unwrap();
            acceptor.upgrade(req, echo)
        }
    };
    let serving = tokio::spawn(ghostnet_http1::Server::builder().build().serve(
        listener,
        handler,
        shutdown.clone(),
    ));

    let client = Client::builder()
        .protocols(["chat.v2", "chat.v1"])
        .header("authorization", "Bearer secret")
        .header("origin", "https://app.test")
        .build()
        .unwrap();
    let (ws, response) = client.connect(&format!("ws://{addr}/")).await.unwrap();
    // The server's preference wins over the client's order.
    assert_eq!(ws.protocol(), Some("chat.v1"));
    assert_eq!(response.headers()["sec-websocket-protocol"], "chat.v1");
    let (auth, origin, host) = seen.recv().await.unwrap();
    assert_eq!(auth.as_deref(), Some("Bearer secret"));
    assert_eq!(origin.as_deref(), Some("https://app.test"));
    assert_eq!(host, Some(addr.to_string()));
    shutdown.trigger();
    serving.await.unwrap().unwrap();
}

#[tokio::test]
async fn state_is_connecting_until_the_handshake_is_done() {
    let net = MemoryNetwork::new();
    let server = TestServer::memory(&net, Acceptor::new(), echo).await;
    let client = Client::new();
    let dialer = net.dialer();
    let connect = client.connect_with(&dialer, &server.url("/"));
    let mut state = connect.watch_state();
    assert_eq!(*state.borrow_and_update(), State::Connecting);
    let (ws, _) = connect.await.unwrap();
    assert!(state.has_changed().unwrap());
    assert_eq!(*state.borrow_and_update(), State::Open);
    drop(ws);
    server.stop().await;
}

#[tokio::test]
async fn refused_upgrade_is_rejected_with_the_status() {
    let acceptor = Acceptor::builder()
        .allowed_origins(["https://app.test"])
        .build()
        .unwrap();
    let server = TestServer::tcp(acceptor, echo).await;
    let client = Client::builder()
        .header("origin", "https://evil.test")
        .build()
        .unwrap();
    let connect = client.connect(&server.url("/"));
    let state = connect.watch_state();
    let err = connect.await.unwrap_err();
    assert!(
        matches!(err, Error::Rejected { status } if status == 403),
        "{err}"
    );
    assert!(err.to_string().contains("403"), "{err}");
    assert_eq!(state.borrow().close_code(), Some(CloseCode::Abnormal));
    server.stop().await;
}

#[tokio::test]
async fn unreachable_server_is_a_connect_error() {
    // A port nobody listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = ghostnet_ws::connect(&format!("ws://127.0.0.1:{port}/"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect(_)), "{err}");
}

/// A dialer whose connections never complete.
struct Blackhole;

impl Dial for Blackhole {
    type Stream = ghostnet_transport::MemoryStream;

    async fn dial(&self, _target: &Target) -> ghostnet_transport::Result<Self::Stream> {
        std::future::pending().await
    }
}

#[tokio::test(start_paused = true)]
async fn dial_that_hangs_hits_the_connect_timeout() {
    let client = Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let err = client
        .connect_with(&Blackhole, "ws://nowhere.test/")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ConnectTimeout { after, .. } if *after == Duration::from_secs(3)),
        "{err}"
    );
    assert!(err.is_timeout());
}

#[tokio::test(start_paused = true)]
async fn silent_server_hits_the_handshake_timeout() {
    let net = MemoryNetwork::new();
    let listener = net.listen(&MEM_HOST.parse().unwrap()).unwrap();
    // Accepts and then says nothing.
    let held = tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        std::future::pending::<()>().await;
        drop(s);
    });
    let err = Client::new()
        .connect_with(&net.dialer(), "ws://ws.test/")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::HandshakeTimeout { after } if *after == ghostnet_ws::DEFAULT_HANDSHAKE_TIMEOUT),
        "{err}"
    );
    held.abort();
}

/// A fake server answering the opening request with `response` (a `{accept}`
/// placeholder is replaced with the right accept key).
async fn fake_server(net: &MemoryNetwork, response: &'static str) -> tokio::task::JoinHandle<()> {
    let listener = net.listen(&MEM_HOST.parse().unwrap()).unwrap();
    tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        let mut raw = Raw::new(s);
        let mut key = String::new();
        // Read the request head and take the key from it.
        let head = {
            let mut buf = Vec::new();
            loop {
                let mut b = [0u8; 1];
                tokio::io::AsyncReadExt::read_exact(&mut raw.io, &mut b)
                    .await
                    .unwrap();
                buf.push(b[0]);
                if buf.ends_with(b"\r\n\r\n") {
                    break String::from_utf8(buf).unwrap();
                }
            }
        };
        for line in head.lines() {
            if let Some(v) = line.strip_prefix("Sec-WebSocket-Key: ") {
                key = v.trim().to_owned();
            }
        }
        let accept = ghostnet_ws::tungstenite::handshake::derive_accept_key(key.as_bytes());
        raw.send(response.replace("{accept}", &accept).as_bytes())
            .await;
        let _ = raw.reads_to_eof().await;
    })
}

#[tokio::test]
async fn non_conforming_101_responses_are_refused() {
    let cases = [
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: d3Jvbmc=\r\n\r\n",
            "accept",
        ),
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
            "extension",
        ),
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
            "subprotocol",
        ),
        (
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n",
            "Upgrade",
        ),
    ];
    for (response, why) in cases {
        let net = MemoryNetwork::new();
        let server = fake_server(&net, response).await;
        let err = Client::new()
            .connect_with(&net.dialer(), "ws://ws.test/")
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidResponse { .. }), "{why}: {err}");
        assert!(
            err.to_string().to_lowercase().contains(&why.to_lowercase()),
            "{why}: {err}"
        );
        server.abort();
    }
}

#[tokio::test]
async fn offered_subprotocol_must_be_chosen() {
    // The server picks none of the offered protocols: the client must fail (RFC 6455 4.1).
    let net = MemoryNetwork::new();
    let server = TestServer::memory(&net, Acceptor::new(), echo).await;
    let client = Client::builder().protocols(["chat"]).build().unwrap();
    let err = client
        .connect_with(&net.dialer(), "ws://ws.test/")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err}");
    server.stop().await;
}

#[tokio::test]
async fn wss_over_a_plain_dialer_is_refused() {
    let net = MemoryNetwork::new();
    let server = TestServer::memory(&net, Acceptor::new(), echo).await;
    let err = Client::new()
        .connect_with(&net.dialer(), "wss://ws.test:80/")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InsecureTransport { transport, .. } if *transport == "memory"),
        "{err}"
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_urls_fail_before_dialing() {
    let net = MemoryNetwork::new();
    let client = Client::new();
    let dialer = net.dialer();
    for url in ["http://ws.test/", "ws://ws.test/#x", "nonsense"] {
        let connect = client.connect_with(&dialer, url);
        let state = connect.watch_state();
        let err = connect.await.unwrap_err();
        assert!(matches!(err, Error::InvalidUrl { .. }), "{url}: {err}");
        assert_eq!(
            state.borrow().close_code(),
            Some(CloseCode::Abnormal),
            "{url}"
        );
    }
    assert_eq!(net.dial_count(), 0);
}
