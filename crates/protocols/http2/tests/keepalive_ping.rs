//! Keepalive PING on both sides, on a paused clock: a silent peer gets a PING after the
//! interval and the connection is closed when the ACK does not come within the timeout;
//! a peer that answers, or that is busy, keeps the connection.

mod support;

use std::sync::Arc;
use std::time::Duration;

use ghostnet_http2::{Error, Server, Settings, client};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::{Dial, Listen, MemoryNetwork, Target};
use support::frames::*;
use support::hello_or_echo;
use tokio::time::Instant;

const INTERVAL: Duration = Duration::from_secs(10);
const TIMEOUT: Duration = Duration::from_secs(5);

fn keepalive_settings() -> Settings {
    let mut s = Settings::default();
    s.keepalive_interval = Some(INTERVAL);
    s.keepalive_timeout = TIMEOUT;
    s
}

/// A server connection on the in-memory network, served directly so its result is seen.
async fn serve_one() -> (
    Peer<ghostnet_transport::MemoryStream>,
    tokio::task::JoinHandle<ghostnet_http2::Result<()>>,
) {
    let net = MemoryNetwork::new();
    let target: Target = "h2.test:1".parse().unwrap();
    let listener = net.listen(&target).unwrap();
    let peer = Peer::new(net.dialer().dial(&target).await.unwrap()).unguarded();
    let (io, _) = listener.accept().await.unwrap();
    let server = Server::new(keepalive_settings()).unwrap();
    let conn = tokio::spawn(async move {
        server
            .serve_connection(io, Arc::new(hello_or_echo), Shutdown::new().token())
            .await
    });
    (peer, conn)
}

#[tokio::test(start_paused = true)]
async fn server_closes_a_connection_whose_peer_stopped_answering() {
    let (mut peer, conn) = serve_one().await;
    peer.handshake().await;
    let start = Instant::now();
    let ping = peer.until("keepalive PING", |f| f.kind == PING).await;
    assert_eq!(ping.flags & ACK, 0);
    // Sent once the connection had been silent for the interval (the handshake frames
    // still in flight count as activity, so up to two intervals).
    let waited = start.elapsed();
    assert!(waited >= INTERVAL && waited <= 2 * INTERVAL, "{waited:?}");
    // Not answered: the connection ends after the timeout.
    let sent = Instant::now();
    while peer.next().await.is_some() {}
    assert_eq!(sent.elapsed(), TIMEOUT);
    let err = conn.await.unwrap().unwrap_err();
    assert!(
        matches!(err, Error::KeepaliveTimeout(d) if d == TIMEOUT),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn answered_pings_keep_the_connection() {
    let (mut peer, conn) = serve_one().await;
    peer.handshake().await;
    let start = Instant::now();
    let mut pings = 0;
    while start.elapsed() < 10 * INTERVAL {
        let f = peer.next().await.expect("connection alive");
        if f.kind == PING && f.flags & ACK == 0 {
            pings += 1;
            peer.send(&frame(PING, ACK, 0, &f.payload)).await;
        }
    }
    assert!(pings >= 4, "only {pings} keepalive PINGs in ten intervals");
    peer.send(&get(1)).await;
    assert_eq!(peer.body(1).await, b"Hello, World!");
    drop(peer);
    conn.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_busy_connection_is_never_pinged() {
    let (mut peer, conn) = serve_one().await;
    peer.handshake().await;
    // A request every half interval, for ten intervals: never silent long enough.
    for i in 0..20u32 {
        tokio::time::sleep(INTERVAL / 2).await;
        let id = 1 + 2 * i;
        peer.send(&get(id)).await;
        loop {
            let f = peer.next().await.expect("alive");
            assert_ne!(f.kind, PING, "a busy connection was pinged");
            if f.stream == id && f.flags & END_STREAM != 0 {
                break;
            }
        }
    }
    drop(peer);
    conn.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn client_fails_requests_when_the_server_stops_answering() {
    let net = MemoryNetwork::new();
    let target: Target = "h2.test:1".parse().unwrap();
    let listener = net.listen(&target).unwrap();
    let io = net.dialer().dial(&target).await.unwrap();
    let (server_io, _) = listener.accept().await.unwrap();
    // A server that completes the handshake, then reads but never answers anything.
    let mut server = Peer::new(server_io).unguarded();
    let client_side = tokio::spawn(async move {
        let client = client::connect(io, &keepalive_settings()).await.unwrap();
        let err = client.send(support::get("/")).await.unwrap_err();
        (err, client.is_closed())
    });
    server.accept_client().await;
    let mut pinged = false;
    while let Some(f) = server.next().await {
        pinged |= f.kind == PING && f.flags & ACK == 0;
    }
    assert!(pinged, "the client never sent a keepalive PING");
    let (err, closed) = client_side.await.unwrap();
    assert!(
        matches!(err, Error::KeepaliveTimeout(d) if d == TIMEOUT),
        "{err}"
    );
    assert!(closed);
}

#[tokio::test(start_paused = true)]
async fn disabled_keepalive_never_pings() {
    let net = MemoryNetwork::new();
    let target: Target = "h2.test:1".parse().unwrap();
    let listener = net.listen(&target).unwrap();
    let mut peer = Peer::new(net.dialer().dial(&target).await.unwrap()).unguarded();
    let (io, _) = listener.accept().await.unwrap();
    let mut settings = Settings::default();
    settings.keepalive_interval = None;
    let server = Server::new(settings).unwrap();
    let token = Shutdown::new().token();
    let conn = tokio::spawn({
        let token = token.clone();
        async move {
            server
                .serve_connection(io, Arc::new(hello_or_echo), token)
                .await
        }
    });
    peer.handshake().await;
    let watch = tokio::spawn(async move {
        // PINGs before the shutdown's GOAWAY would be keepalive; the one after it is
        // h2's shutdown probe, answered so the connection can finish.
        let (mut pinged, mut goaway) = (false, false);
        while let Some(f) = peer.next().await {
            goaway |= f.kind == GOAWAY;
            if f.kind == PING && f.flags & ACK == 0 {
                pinged |= !goaway;
                peer.send(&frame(PING, ACK, 0, &f.payload)).await;
            }
        }
        pinged
    });
    tokio::time::sleep(Duration::from_secs(3600)).await;
    token.cancel();
    conn.await.unwrap().unwrap();
    assert!(!watch.await.unwrap(), "pinged with keepalive disabled");
}
