//! The heartbeat, on a paused clock: a silent peer is pinged, a peer that answers stays,
//! a dead one is dropped with `HeartbeatTimeout`, and a busy connection is never pinged.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ghostnet_transport::MemoryNetwork;
use ghostnet_ws::{CloseCode, Config, Error, Message, Role, Side, State, WebSocket};
use support::{Raw, memory_pair};
use tokio::time::sleep;

const EVERY: Duration = Duration::from_secs(10);
const WAIT: Duration = Duration::from_secs(5);

fn heartbeat() -> Config {
    Config::default()
        .ping_interval(Some(EVERY))
        .pong_timeout(WAIT)
}

#[tokio::test(start_paused = true)]
async fn dead_peer_is_pinged_then_dropped() {
    let net = MemoryNetwork::new();
    let (a, b) = memory_pair(&net, "dead").await;
    let mut ws = WebSocket::from_raw_socket(a, Vec::new(), Role::Server, heartbeat())
        .await
        .unwrap();
    let states = ws.watch_state();
    // The peer never answers; recv waits until the heartbeat gives up.
    let err = ws.recv().await.unwrap().unwrap_err();
    assert!(
        matches!(err, Error::HeartbeatTimeout { after } if after == WAIT),
        "{err}"
    );
    assert!(err.is_timeout());
    let State::Closed(c) = ws.state() else {
        panic!("{:?}", ws.state())
    };
    assert_eq!(
        (c.code, c.initiator, c.clean),
        (CloseCode::Abnormal, Side::Local, false)
    );
    assert!(states.has_changed().unwrap());
    assert!(ws.recv().await.is_none());
    // What the peer would have seen: exactly one heartbeat ping.
    drop(ws);
    let mut raw = Raw::new(b);
    let ping = raw.read_frame().await.unwrap();
    assert_eq!(ping.opcode, 9);
    assert_eq!(ping.payload, b"ghostnet-heartbeat");
    assert!(raw.read_frame().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn answering_peer_stays_connected() {
    let net = MemoryNetwork::new();
    let (a, b) = memory_pair(&net, "alive").await;
    let mut server = WebSocket::from_raw_socket(a, Vec::new(), Role::Server, heartbeat())
        .await
        .unwrap();
    // A client without heartbeat of its own that reads (and so answers pings).
    let quiet = Config::default().ping_interval(None);
    let mut client = WebSocket::from_raw_socket(b, Vec::new(), Role::Client, quiet)
        .await
        .unwrap();
    let pings = Arc::new(AtomicUsize::new(0));
    let counted = pings.clone();
    let client_task = tokio::spawn(async move {
        while let Some(Ok(m)) = client.recv().await {
            if matches!(m, Message::Ping(_)) {
                counted.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let pongs = Arc::new(AtomicUsize::new(0));
    let seen = pongs.clone();
    let server_task = tokio::spawn(async move {
        // Pongs are handed to the reader too; anything else would end the wait.
        while let Some(Ok(Message::Pong(p))) = server.recv().await {
            assert_eq!(&p[..], b"ghostnet-heartbeat");
            seen.fetch_add(1, Ordering::Relaxed);
        }
        server.state()
    });
    // Off the ping schedule (10, 25, 40, ... 100 s), so no ping is in flight at the check.
    sleep(EVERY * 10 + Duration::from_secs(1)).await;
    assert!(
        !server_task.is_finished(),
        "the server is still waiting for messages"
    );
    let n = pings.load(Ordering::Relaxed);
    // One ping per interval of silence; a pong counts at the pong deadline, and the next
    // interval starts there: pings at 10, 25, 40, 55, 70, 85, 100 s.
    assert_eq!(n, 7, "{n} pings");
    assert_eq!(pongs.load(Ordering::Relaxed), n, "every ping answered");
    server_task.abort();
    client_task.abort();
}

#[tokio::test(start_paused = true)]
async fn busy_connection_is_not_pinged() {
    let net = MemoryNetwork::new();
    let (a, b) = memory_pair(&net, "busy").await;
    let mut server = WebSocket::from_raw_socket(a, Vec::new(), Role::Server, heartbeat())
        .await
        .unwrap();
    let mut client = WebSocket::from_raw_socket(
        b,
        Vec::new(),
        Role::Client,
        Config::default().ping_interval(None),
    )
    .await
    .unwrap();
    let talker = tokio::spawn(async move {
        let mut pings = 0;
        let mut tick = tokio::time::interval(EVERY / 4);
        for _ in 0..40 {
            tick.tick().await;
            client.send("still here").await.unwrap();
            // Nothing to read but pings; look without waiting.
            while let Ok(Some(Ok(m))) =
                tokio::time::timeout(Duration::from_millis(1), client.recv()).await
            {
                if matches!(m, Message::Ping(_)) {
                    pings += 1;
                }
            }
        }
        pings
    });
    let mut received = 0;
    while received < 40 {
        match server.recv().await {
            Some(Ok(Message::Text(_))) => received += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(talker.await.unwrap(), 0, "a talking peer needs no ping");
    assert!(server.state().is_open());
}

#[tokio::test(start_paused = true)]
async fn client_heartbeat_detects_a_stuck_server() {
    let net = MemoryNetwork::new();
    let (a, _stuck) = memory_pair(&net, "stuck").await; // never read: no pongs
    let mut client = WebSocket::from_raw_socket(a, Vec::new(), Role::Client, heartbeat())
        .await
        .unwrap();
    let err = client.recv().await.unwrap().unwrap_err();
    assert!(matches!(err, Error::HeartbeatTimeout { .. }), "{err}");
}
