//! Bad input from the peer: oversized messages and frames (1009), invalid UTF-8 (1007),
//! protocol violations (1002). Each fails the connection with the right close code, the
//! close frame reaches the peer, and the server's reader gets a clear error, never a
//! panic or a hang. Oversized outgoing messages are refused before anything is written.

mod support;

use ghostnet_transport::MemoryNetwork;
use ghostnet_ws::{Acceptor, Client, CloseCode, Config, Error, Message, Side, State, WebSocket};
use support::{GUARD, TestServer, frame, frame_with, header_only};
use tokio::sync::mpsc;
use tokio::time::timeout;

const LIMIT: usize = 1024;

/// A server with small limits that reports how each connection ended.
async fn server(net: &MemoryNetwork) -> (TestServer, mpsc::UnboundedReceiver<(Error, State)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let acceptor = Acceptor::builder()
        .config(
            Config::default()
                .max_message_size(LIMIT)
                .max_frame_size(LIMIT),
        )
        .build()
        .unwrap();
    let server = TestServer::memory(net, acceptor, move |mut ws: WebSocket| {
        let tx = tx.clone();
        async move {
            while let Some(r) = ws.recv().await {
                match r {
                    Ok(m) if m.is_data() => {
                        let _ = ws.send(m).await;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let _ = tx.send((e, ws.state()));
                        assert!(ws.recv().await.is_none(), "nothing after the error");
                        return;
                    }
                }
            }
        }
    })
    .await;
    (server, rx)
}

/// Sends `bytes` after the handshake; returns the close code the server sent, whether it
/// then closed the stream, and the error its reader got.
async fn fail_with(bytes: &[u8]) -> (Option<u16>, bool, Error, State) {
    let net = MemoryNetwork::new();
    let (server, mut errors) = server(&net).await;
    let mut raw = server.raw().await;
    assert_eq!(raw.handshake("/", "").await.status, 101);
    raw.send(bytes).await;
    let close = timeout(GUARD, raw.read_until_close()).await.unwrap();
    let eof = timeout(GUARD, raw.reads_to_eof()).await.unwrap();
    // Close our end as a client does after the server's close: the server, lingering to
    // read what we still send, sees the end and hands its reader the error.
    drop(raw);
    let (error, state) = timeout(GUARD, errors.recv()).await.unwrap().unwrap();
    server.stop().await;
    (close.and_then(|f| f.close_code()), eof, error, state)
}

#[tokio::test]
async fn oversized_message_fails_with_1009() {
    let (code, eof, error, state) = fail_with(&frame(true, 2, &vec![0u8; LIMIT + 1])).await;
    assert_eq!(code, Some(1009));
    assert!(eof, "the server closes the stream after its close frame");
    assert!(
        matches!(error, Error::MessageTooLarge { size, limit: LIMIT } if size == LIMIT + 1),
        "{error}"
    );
    let State::Closed(closed) = state else {
        panic!("{state:?}")
    };
    assert_eq!(closed.code, CloseCode::Size);
    assert_eq!(closed.initiator, Side::Local);
    assert!(!closed.clean);
}

#[tokio::test]
async fn huge_frame_header_fails_at_once_without_allocating() {
    // 8 EiB announced, nothing sent: refused from the header alone.
    let (code, _, error, _) = fail_with(&header_only(2, 1 << 63)).await;
    assert_eq!(code, Some(1009));
    assert!(matches!(error, Error::MessageTooLarge { .. }), "{error}");
}

#[tokio::test]
async fn fragments_adding_up_over_the_limit_fail_with_1009() {
    let mut bytes = Vec::new();
    bytes.extend(frame(false, 2, &vec![1u8; LIMIT / 2]));
    bytes.extend(frame(false, 0, &vec![1u8; LIMIT / 2]));
    bytes.extend(frame(true, 0, &[1u8; 8]));
    let (code, _, error, _) = fail_with(&bytes).await;
    assert_eq!(code, Some(1009));
    assert!(matches!(error, Error::MessageTooLarge { .. }), "{error}");
}

#[tokio::test]
async fn invalid_utf8_fails_with_1007() {
    let (code, eof, error, _) = fail_with(&frame(true, 1, &[0xCE, 0xBA, 0xFF])).await;
    assert_eq!(code, Some(1007));
    assert!(eof);
    assert!(matches!(error, Error::InvalidUtf8), "{error}");
    assert_eq!(error.close_code(), Some(CloseCode::Invalid));
}

#[tokio::test]
async fn invalid_utf8_across_fragments_fails_with_1007() {
    let mut bytes = frame(false, 1, &[b'a', 0xF0, 0x9F]);
    bytes.extend(frame(true, 0, &[0x28, b'b'])); // not a continuation byte
    let (code, _, error, _) = fail_with(&bytes).await;
    assert_eq!(code, Some(1007));
    assert!(matches!(error, Error::InvalidUtf8), "{error}");
}

#[tokio::test]
async fn invalid_utf8_in_a_close_reason_fails_with_1007() {
    let (code, _, _, _) = fail_with(&frame(true, 8, &[0x03, 0xE8, 0xFF, 0xFE])).await;
    assert_eq!(code, Some(1007));
}

#[tokio::test]
async fn protocol_violations_fail_with_1002() {
    let cases: [(&str, Vec<u8>); 6] = [
        ("reserved bits", frame_with(true, 0b100, 1, b"x", true)),
        ("unmasked client frame", frame_with(true, 0, 1, b"x", false)),
        ("unknown opcode", frame(true, 3, b"x")),
        ("fragmented ping", frame(false, 9, b"x")),
        ("ping over 125 bytes", frame(true, 9, &[0u8; 126])),
        ("continuation without a start", frame(true, 0, b"x")),
    ];
    for (what, bytes) in cases {
        let (code, eof, error, _) = fail_with(&bytes).await;
        assert_eq!(code, Some(1002), "{what}");
        assert!(eof, "{what}");
        assert!(matches!(error, Error::Protocol { .. }), "{what}: {error}");
    }
}

#[tokio::test]
async fn oversized_outgoing_message_is_refused_and_the_connection_lives_on() {
    let net = MemoryNetwork::new();
    let (server, _errors) = server(&net).await;
    let client = Client::builder()
        .config(Config::default().max_message_size(LIMIT))
        .build()
        .unwrap();
    let (mut ws, _) = client
        .connect_with(&net.dialer(), &server.url("/"))
        .await
        .unwrap();
    let err = ws.send(vec![0u8; LIMIT + 1]).await.unwrap_err();
    assert!(
        matches!(err, Error::MessageTooLarge { limit: LIMIT, .. }),
        "{err}"
    );
    let err = ws.close(CloseCode::Abnormal, "").await.unwrap_err();
    assert!(matches!(err, Error::InvalidMessage { .. }), "{err}");
    ws.send(vec![1u8; LIMIT]).await.unwrap();
    let back = timeout(GUARD, ws.recv()).await.unwrap().unwrap().unwrap();
    assert_eq!(back, Message::from(vec![1u8; LIMIT]));
    server.stop().await;
}
