//! A split connection: many senders on other tasks, the receiver writing their messages,
//! closing through a sender, and what senders get once the receiver or connection is gone.

mod support;

use std::time::Duration;

use ghostnet_transport::MemoryNetwork;
use ghostnet_ws::{Acceptor, Client, CloseCode, Error, Message, Role, WebSocket};
use support::{GUARD, TestServer, echo, memory_pair};
use tokio::time::timeout;

#[tokio::test]
async fn many_senders_one_receiver() {
    let net = MemoryNetwork::new();
    let server = TestServer::memory(&net, Acceptor::new(), echo).await;
    let (ws, _) = Client::new()
        .connect_with(&net.dialer(), &server.url("/"))
        .await
        .unwrap();
    let (tx, mut rx) = ws.split();
    let mut tasks = Vec::new();
    for t in 0..4 {
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                tx.send(format!("{t}:{i}")).await.unwrap();
            }
        }));
    }
    let mut got = Vec::new();
    while got.len() < 200 {
        match timeout(GUARD, rx.recv()).await.unwrap() {
            Some(Ok(Message::Text(t))) => got.push(t.to_string()),
            other => panic!("{other:?}"),
        }
    }
    // Each sender's messages stay in its order.
    for t in 0..4 {
        let mine: Vec<&String> = got
            .iter()
            .filter(|m| m.starts_with(&format!("{t}:")))
            .collect();
        let expected: Vec<String> = (0..50).map(|i| format!("{t}:{i}")).collect();
        assert_eq!(mine, expected.iter().collect::<Vec<_>>());
    }
    for t in tasks {
        t.await.unwrap();
    }
    // Closing through a sender: the receiver ends once the server answers.
    tx.close(CloseCode::Normal, "done").unwrap();
    loop {
        match timeout(GUARD, rx.recv()).await.unwrap() {
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("{e}"),
            None => break,
        }
    }
    assert_eq!(rx.state().close_code(), Some(CloseCode::Normal));
    let err = tx.send("late").await.unwrap_err();
    assert!(matches!(err.error(), Error::Closed), "{err}");
    assert_eq!(err.into_message(), Message::from("late"));
    server.stop().await;
}

#[tokio::test]
async fn dropped_receiver_fails_senders_with_the_message_back() {
    let net = MemoryNetwork::new();
    let (a, _b) = memory_pair(&net, "drop").await;
    let ws = WebSocket::from_raw_socket(a, Vec::new(), Role::Client, Default::default())
        .await
        .unwrap();
    let (tx, rx) = ws.split();
    drop(rx);
    let err = tx.send("hello").await.unwrap_err();
    assert!(matches!(err.error(), Error::ReceiverDropped), "{err}");
    assert!(err.to_string().contains("keep it alive"), "{err}");
    assert_eq!(err.into_message(), Message::from("hello"));
}

#[tokio::test(start_paused = true)]
async fn waiting_sender_wakes_when_the_receiver_is_dropped() {
    let net = MemoryNetwork::with_buffer(1024);
    let (a, _b) = memory_pair(&net, "wake").await;
    let config = ghostnet_ws::Config::default().send_queue_bytes(1024);
    let ws = WebSocket::from_raw_socket(a, Vec::new(), Role::Client, config)
        .await
        .unwrap();
    let (tx, rx) = ws.split();
    // Nobody drives the receiver: the queue fills and the second send waits.
    tx.send(vec![0u8; 1000]).await.unwrap();
    let waiting = tokio::spawn({
        let tx = tx.clone();
        async move { tx.send(vec![0u8; 1000]).await }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!waiting.is_finished());
    drop(rx);
    let err = timeout(GUARD, waiting).await.unwrap().unwrap().unwrap_err();
    assert!(matches!(err.error(), Error::ReceiverDropped), "{err}");
}

#[tokio::test]
async fn senders_refuse_unsendable_messages_up_front() {
    let net = MemoryNetwork::new();
    let (a, _b) = memory_pair(&net, "refuse").await;
    let config = ghostnet_ws::Config::default().max_message_size(10);
    let ws = WebSocket::from_raw_socket(a, Vec::new(), Role::Client, config)
        .await
        .unwrap();
    let (tx, _rx) = ws.split();
    let err = tx.send(vec![0u8; 11]).await.unwrap_err();
    assert!(
        matches!(err.error(), Error::MessageTooLarge { .. }),
        "{err}"
    );
    let err = tx.close(CloseCode::Status, "").unwrap_err();
    assert!(matches!(err.error(), Error::InvalidMessage { .. }), "{err}");
}
