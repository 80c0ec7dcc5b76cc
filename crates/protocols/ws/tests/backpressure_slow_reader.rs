//! Backpressure: a peer that stops reading makes the sender wait; memory stays bounded by
//! the configured buffers, not by how much the application tries to send. On the
//! in-memory network with a paused clock, "waiting" is exact: the clock only moves when
//! every task is blocked.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ghostnet_transport::MemoryNetwork;
use ghostnet_ws::{Acceptor, Client, Config, Error, Message, Role, WebSocket};
use support::{GUARD, TestServer, memory_pair};
use tokio::time::{sleep, timeout};

const MSG: usize = 64 * 1024;
const PIPE: usize = 16 * 1024;

fn quiet() -> Config {
    Config::default().ping_interval(None)
}

type Ws = WebSocket<ghostnet_transport::MemoryStream>;

/// A server and client end over a 16 KiB in-memory pipe, no handshake, no heartbeat.
async fn pair(name: &str, server_config: Config) -> (Ws, Ws) {
    let net = MemoryNetwork::with_buffer(PIPE);
    let (a, b) = memory_pair(&net, name).await;
    let server = WebSocket::from_raw_socket(a, Vec::new(), Role::Server, server_config)
        .await
        .unwrap();
    let client = WebSocket::from_raw_socket(b, Vec::new(), Role::Client, quiet())
        .await
        .unwrap();
    (server, client)
}

/// Reads `n` messages on `ws`.
async fn read(ws: &mut Ws, n: usize) {
    for _ in 0..n {
        let m = timeout(GUARD, ws.recv()).await.unwrap().unwrap().unwrap();
        assert_eq!(m.len(), MSG);
    }
}

#[tokio::test(start_paused = true)]
async fn send_waits_while_the_peer_does_not_read() {
    let (mut server, mut client) = pair("send", quiet()).await;
    let sent = Arc::new(AtomicUsize::new(0));
    let count = sent.clone();
    let sender = tokio::spawn(async move {
        loop {
            server.send(vec![7u8; MSG]).await.unwrap();
            count.fetch_add(1, Ordering::Relaxed);
        }
    });
    sleep(Duration::from_secs(60)).await; // every task is blocked by now
    let before = sent.load(Ordering::Relaxed);
    assert!(!sender.is_finished());
    // The pipe holds 16 KiB and tungstenite one message: the sender is stuck on its
    // first or second message, whatever it tried to send.
    assert!(
        before <= 1,
        "{before} messages accepted by a peer that reads nothing"
    );
    read(&mut client, 10).await;
    assert!(
        sent.load(Ordering::Relaxed) >= before + 9,
        "reading unblocks the sender"
    );
    sender.abort();
}

#[tokio::test(start_paused = true)]
async fn feed_is_bounded_by_the_write_buffer() {
    let (mut server, mut client) = pair("feed", quiet()).await;
    let fed = Arc::new(AtomicUsize::new(0));
    let count = fed.clone();
    let feeder = tokio::spawn(async move {
        loop {
            server.feed(vec![7u8; MSG]).await.unwrap();
            count.fetch_add(1, Ordering::Relaxed);
        }
    });
    sleep(Duration::from_secs(60)).await;
    let before = fed.load(Ordering::Relaxed);
    assert!(!feeder.is_finished());
    // write_buffer_size (128 KiB) collects before writing, plus one message, plus the pipe.
    let bound = (ghostnet_ws::DEFAULT_WRITE_BUFFER_SIZE + MSG + PIPE) / MSG + 1;
    assert!(before <= bound, "{before} fed, bound {bound}");
    read(&mut client, before).await;
    assert!(
        fed.load(Ordering::Relaxed) > before,
        "reading unblocks the feeder"
    );
    feeder.abort();
}

#[tokio::test(start_paused = true)]
async fn split_senders_wait_for_queue_room() {
    let (server, mut client) = pair("split", quiet().send_queue_bytes(4 * MSG)).await;
    let (tx, mut rx) = server.split();
    // The receiver reads (nothing comes) and writes what the senders queue.
    let reader = tokio::spawn(async move { while let Some(Ok(_)) = rx.recv().await {} });
    let queued = Arc::new(AtomicUsize::new(0));
    let mut senders = Vec::new();
    for _ in 0..3 {
        let tx = tx.clone();
        let queued = queued.clone();
        senders.push(tokio::spawn(async move {
            loop {
                tx.send(vec![1u8; MSG]).await.unwrap();
                queued.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    sleep(Duration::from_secs(60)).await;
    let before = queued.load(Ordering::Relaxed);
    // The queue holds under 4 messages (each costs a little over 64 KiB), tungstenite one,
    // the pipe a quarter: whatever three busy senders want.
    assert!(before <= 5, "{before} messages queued");
    assert!(senders.iter().all(|s| !s.is_finished()));
    let full = tx.try_send(vec![1u8; MSG]).unwrap_err();
    assert!(matches!(full.error(), Error::QueueFull), "{full}");
    assert_eq!(full.into_message().len(), MSG, "the message is handed back");
    read(&mut client, 20).await;
    assert!(queued.load(Ordering::Relaxed) >= before + 15);
    for s in senders {
        s.abort();
    }
    reader.abort();
}

#[tokio::test]
async fn tcp_sender_stalls_instead_of_buffering_without_bound() {
    // Real sockets: the kernel buffers some megabytes, then the sender must wait.
    let stalled = Arc::new(tokio::sync::Notify::new());
    let accepted = Arc::new(AtomicUsize::new(0));
    let (s, a) = (stalled.clone(), accepted.clone());
    let server = TestServer::tcp(
        Acceptor::builder().config(quiet()).build().unwrap(),
        move |mut ws: WebSocket| {
            let (stalled, accepted) = (s.clone(), a.clone());
            async move {
                let msg = Message::from(vec![3u8; MSG]);
                // A send that does not finish within a second counts as stalled; no
                // assertion depends on the duration, only on the bytes accepted.
                for _ in 0..4096 {
                    match timeout(Duration::from_secs(1), ws.send(msg.clone())).await {
                        Ok(Ok(())) => accepted.fetch_add(1, Ordering::Relaxed),
                        _ => break,
                    };
                }
                stalled.notify_one();
                std::future::pending::<()>().await;
            }
        },
    )
    .await;
    let (ws, _) = Client::builder()
        .config(quiet())
        .build()
        .unwrap()
        .connect(&server.url("/"))
        .await
        .unwrap();
    // The client never reads.
    timeout(GUARD * 3, stalled.notified()).await.unwrap();
    let bytes = accepted.load(Ordering::Relaxed) * MSG;
    assert!(
        bytes < 64 << 20,
        "{bytes} bytes accepted for a client that reads nothing"
    );
    drop(ws);
    server.stop().await;
}
