//! The close handshake from either side, with codes and reasons, the state each side
//! ends in, a peer that never answers (paused clock), and a peer that just disappears.

mod support;

use std::time::Duration;

use ghostnet_transport::MemoryNetwork;
use ghostnet_ws::{
    Acceptor, Client, CloseCode, Config, Error, Message, Role, Side, State, WebSocket,
};
use support::{GUARD, TestServer, close_frame, echo, memory_pair};
use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout;

#[tokio::test]
async fn client_initiated_close_ends_both_sides_cleanly() {
    let net = MemoryNetwork::new();
    let (tx, mut seen) = mpsc::unbounded_channel();
    let server = TestServer::memory(&net, Acceptor::new(), move |mut ws: WebSocket| {
        let tx = tx.clone();
        async move {
            let mut states = ws.watch_state();
            while let Some(Ok(m)) = ws.recv().await {
                tx.send(format!("msg {m}")).unwrap();
            }
            states.mark_changed();
            tx.send(format!("state {}", *states.borrow_and_update()))
                .unwrap();
        }
    })
    .await;
    let (mut ws, _) = Client::new()
        .connect_with(&net.dialer(), &server.url("/"))
        .await
        .unwrap();
    let mut states = ws.watch_state();
    ws.close(CloseCode::from(4000), "bye now").await.unwrap();
    let State::Closed(c) = ws.state() else {
        panic!("{:?}", ws.state())
    };
    assert_eq!(
        (c.code, c.reason.as_str(), c.initiator, c.clean),
        (CloseCode::from(4000), "bye now", Side::Local, true)
    );
    // The watch saw Closing before Closed.
    assert!(states.has_changed().unwrap());
    assert!(states.borrow_and_update().is_closed());
    assert_eq!(
        timeout(GUARD, seen.recv()).await.unwrap().unwrap(),
        "msg close (4000: bye now)"
    );
    assert_eq!(
        timeout(GUARD, seen.recv()).await.unwrap().unwrap(),
        "state closed by the peer with 4000: bye now"
    );
    // Closing twice is harmless; sending after close is refused.
    ws.close(CloseCode::Normal, "").await.unwrap();
    assert!(matches!(ws.send("late").await, Err(Error::Closed)));
    server.stop().await;
}

#[tokio::test]
async fn server_initiated_close_reaches_the_client() {
    let net = MemoryNetwork::new();
    let (done_tx, done) = oneshot::channel();
    let done_tx = std::sync::Mutex::new(Some(done_tx));
    let server = TestServer::memory(&net, Acceptor::new(), move |mut ws: WebSocket| {
        let done_tx = done_tx.lock().unwrap().take().unwrap();
        async move {
            let r = ws.close(CloseCode::Away, "restarting").await;
            let _ = done_tx.send((r.is_ok(), ws.state()));
        }
    })
    .await;
    let (mut ws, _) = Client::new()
        .connect_with(&net.dialer(), &server.url("/"))
        .await
        .unwrap();
    let msg = timeout(GUARD, ws.recv()).await.unwrap().unwrap().unwrap();
    assert_eq!(msg, Message::close(CloseCode::Away, "restarting"));
    assert_eq!(ws.state(), State::Closing);
    assert!(timeout(GUARD, ws.recv()).await.unwrap().is_none());
    let State::Closed(c) = ws.state() else {
        panic!("{:?}", ws.state())
    };
    assert_eq!(
        (c.code, c.initiator, c.clean),
        (CloseCode::Away, Side::Remote, true)
    );
    let (ok, server_state) = timeout(GUARD, done).await.unwrap().unwrap();
    assert!(ok);
    assert_eq!(server_state.close_code(), Some(CloseCode::Away));
    server.stop().await;
}

#[tokio::test]
async fn close_frame_without_code_reads_as_1005() {
    let net = MemoryNetwork::new();
    let server = TestServer::memory(&net, Acceptor::new(), echo).await;
    let mut raw = server.raw().await;
    assert_eq!(raw.handshake("/", "").await.status, 101);
    raw.send(&support::frame(true, 8, &[])).await;
    let reply = timeout(GUARD, raw.read_until_close())
        .await
        .unwrap()
        .unwrap();
    assert!(
        reply.payload.is_empty(),
        "an empty close is answered in kind"
    );
    assert!(timeout(GUARD, raw.reads_to_eof()).await.unwrap());
    server.stop().await;
}

#[tokio::test(start_paused = true)]
async fn peer_that_never_answers_the_close_hits_the_close_timeout() {
    let net = MemoryNetwork::new();
    let (a, _b) = memory_pair(&net, "mute").await; // _b never reads nor answers
    let config = Config::default().close_timeout(Duration::from_secs(2));
    let mut ws = WebSocket::from_raw_socket(a, Vec::new(), Role::Client, config)
        .await
        .unwrap();
    let err = ws.close(CloseCode::Normal, "bye").await.unwrap_err();
    assert!(
        matches!(err, Error::CloseTimeout { after } if after == Duration::from_secs(2)),
        "{err}"
    );
    let State::Closed(c) = ws.state() else {
        panic!("{:?}", ws.state())
    };
    assert_eq!(
        (c.code, c.initiator, c.clean),
        (CloseCode::Abnormal, Side::Local, false)
    );
    assert!(ws.recv().await.is_none());
}

#[tokio::test]
async fn vanished_peer_is_an_abnormal_close() {
    let net = MemoryNetwork::new();
    let (a, b) = memory_pair(&net, "gone").await;
    let mut ws = WebSocket::from_raw_socket(a, Vec::new(), Role::Server, Config::default())
        .await
        .unwrap();
    drop(b);
    let err = timeout(GUARD, ws.recv())
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, Error::Io(_)), "{err}");
    let State::Closed(c) = ws.state() else {
        panic!("{:?}", ws.state())
    };
    assert_eq!(
        (c.code, c.initiator, c.clean),
        (CloseCode::Abnormal, Side::Remote, false)
    );
    assert!(ws.recv().await.is_none());
    assert!(matches!(ws.send("x").await, Err(Error::Closed)));
}

#[tokio::test]
async fn reserved_close_code_from_the_peer_is_answered_with_1002() {
    let net = MemoryNetwork::new();
    let server = TestServer::memory(&net, Acceptor::new(), echo).await;
    let mut raw = server.raw().await;
    assert_eq!(raw.handshake("/", "").await.status, 101);
    raw.send(&close_frame(1005, "")).await; // 1005 must never be sent
    let reply = timeout(GUARD, raw.read_until_close())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reply.close_code(), Some(1002));
    server.stop().await;
}
