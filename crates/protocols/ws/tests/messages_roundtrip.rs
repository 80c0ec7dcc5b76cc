//! Messages both ways: text, binary, empty, large, fragmented, pings and pongs, and
//! feed's write coalescing.

mod support;

use bytes::Bytes;
use ghostnet_transport::MemoryNetwork;
use ghostnet_ws::{Acceptor, Client, Message, WebSocket};
use support::{GUARD, TestServer, echo, frame};
use tokio::sync::mpsc;
use tokio::time::timeout;

async fn client(server: &TestServer) -> WebSocket<ghostnet_transport::MemoryStream> {
    let net = server.net.clone().unwrap();
    let (ws, _) = Client::new()
        .connect_with(&net.dialer(), &server.url("/"))
        .await
        .unwrap();
    ws
}

#[tokio::test]
async fn text_and_binary_of_every_size_round_trip() {
    let net = MemoryNetwork::new();
    let server = TestServer::memory(&net, Acceptor::new(), echo).await;
    let mut ws = client(&server).await;
    let messages = [
        Message::from(""),
        Message::from("héllo wörld ✓"),
        Message::from(Vec::<u8>::new()),
        Message::from(vec![0xFFu8; 125]),
        Message::from(vec![7u8; 126]),      // 16-bit length
        Message::from(vec![8u8; 65_536]),   // 64-bit length
        Message::from("x".repeat(1 << 20)), // 1 MiB of text
        Message::from(vec![9u8; 3 << 20]),  // 3 MiB binary
    ];
    for m in &messages {
        ws.send(m.clone()).await.unwrap();
        let back = timeout(GUARD, ws.recv()).await.unwrap().unwrap().unwrap();
        assert_eq!(&back, m, "{m}");
    }
    server.stop().await;
}

#[tokio::test]
async fn fragmented_messages_arrive_whole_with_control_frames_between() {
    let net = MemoryNetwork::new();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let server = TestServer::memory(&net, Acceptor::new(), move |mut ws: WebSocket| {
        let seen_tx = seen_tx.clone();
        async move {
            while let Some(Ok(msg)) = ws.recv().await {
                let _ = seen_tx.send(msg.clone());
                if msg.is_data() {
                    let _ = ws.send(msg).await;
                }
            }
        }
    })
    .await;
    let mut raw = server.raw().await;
    assert_eq!(raw.handshake("/", "").await.status, 101);
    let mut bytes = frame(false, 1, "frag".as_bytes());
    bytes.extend(frame(false, 0, "men".as_bytes()));
    bytes.extend(frame(true, 9, b"mid")); // a ping between fragments
    bytes.extend(frame(true, 0, "ted ✓".as_bytes()));
    raw.send(&bytes).await;
    // The pong comes first (the ping completed before the message did).
    let pong = raw.read_frame().await.unwrap();
    assert_eq!((pong.opcode, pong.payload.as_slice()), (10, &b"mid"[..]));
    let echoed = raw.read_frame().await.unwrap();
    assert!(echoed.fin);
    assert_eq!(echoed.opcode, 1);
    assert_eq!(echoed.payload, "fragmented ✓".as_bytes());
    assert_eq!(
        seen.recv().await.unwrap(),
        Message::Ping(Bytes::from_static(b"mid"))
    );
    assert_eq!(seen.recv().await.unwrap(), Message::from("fragmented ✓"));
    server.stop().await;
}

#[tokio::test]
async fn pings_are_answered_and_pongs_delivered() {
    let net = MemoryNetwork::new();
    let server = TestServer::memory(&net, Acceptor::new(), echo).await;
    let mut ws = client(&server).await;
    ws.send(Message::Ping(Bytes::from_static(b"are you there")))
        .await
        .unwrap();
    let pong = timeout(GUARD, ws.recv()).await.unwrap().unwrap().unwrap();
    assert_eq!(pong, Message::Pong(Bytes::from_static(b"are you there")));
    // An unsolicited pong is allowed and changes nothing.
    ws.send(Message::Pong(Bytes::from_static(b"hi")))
        .await
        .unwrap();
    ws.send("still here").await.unwrap();
    let back = timeout(GUARD, ws.recv()).await.unwrap().unwrap().unwrap();
    assert_eq!(back, Message::from("still here"));
    server.stop().await;
}

#[tokio::test]
async fn fed_messages_go_out_when_the_reader_waits() {
    let net = MemoryNetwork::new();
    let server = TestServer::memory(&net, Acceptor::new(), |mut ws: WebSocket| async move {
        // Feed three, never flush by hand: the waiting recv writes them.
        for i in 0..3 {
            ws.feed(format!("fed {i}")).await.unwrap();
        }
        let _ = ws.recv().await;
    })
    .await;
    let mut raw = server.raw().await;
    assert_eq!(raw.handshake("/", "").await.status, 101);
    for i in 0..3 {
        let f = timeout(GUARD, raw.read_frame()).await.unwrap().unwrap();
        assert_eq!(f.payload, format!("fed {i}").as_bytes());
    }
    server.stop().await;
}

#[tokio::test]
async fn stream_and_sink_views_work() {
    use futures_util::{SinkExt, StreamExt};
    let net = MemoryNetwork::new();
    let server = TestServer::memory(&net, Acceptor::new(), |ws: WebSocket| async move {
        // Echo with the futures combinators: the Stream side forwarded into the Sink.
        let (sink, stream) = StreamExt::split(ws);
        let _ = stream.forward(sink).await;
    })
    .await;
    let mut ws = client(&server).await;
    ws.feed("a").await.unwrap();
    ws.feed("b").await.unwrap();
    SinkExt::flush(&mut ws).await.unwrap();
    let got: Vec<Message> = ws.by_ref().take(2).map(Result::unwrap).collect().await;
    assert_eq!(got, [Message::from("a"), Message::from("b")]);
    server.stop().await;
}
