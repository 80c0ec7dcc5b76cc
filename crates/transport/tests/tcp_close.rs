//! Graceful close on real TCP: the peer reads everything and sees EOF even though the
//! closing side left request bytes unread (a plain close would send RST and cut the
//! response short).

use std::time::Duration;

use ghostnet_transport::tcp::{
    CloseOptions, CloseOutcome, TcpDialer, TcpListener, close_gracefully,
};
use ghostnet_transport::{Dial, Listen, TcpOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

/// A connected (client, server) pair.
async fn pair() -> (TcpStream, TcpStream) {
    let listener =
        TcpListener::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::default()).unwrap();
    let client = TcpDialer::new()
        .dial(&listener.local_addr().into())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// Bounds a real-time test so a regression fails instead of hanging.
const GUARD: Duration = Duration::from_secs(30);

#[tokio::test]
async fn peer_reads_everything_then_eof_despite_unread_request_bytes() {
    const RESPONSE: usize = 4 * 1024 * 1024;
    const UNREAD: usize = 64 * 1024;
    let (mut client, mut server) = pair().await;

    let client_task = tokio::spawn(async move {
        // The server never reads these: with a plain close they would trigger an RST.
        client.write_all(&vec![b'q'; UNREAD]).await.unwrap();
        let mut got = Vec::with_capacity(RESPONSE);
        let result = client.read_to_end(&mut got).await;
        (result.map(|_| got.len()), got.iter().all(|&b| b == b'r'))
    });

    server.write_all(&vec![b'r'; RESPONSE]).await.unwrap();
    let outcome = timeout(GUARD, close_gracefully(server, &CloseOptions::default()))
        .await
        .expect("close finished")
        .unwrap();

    let (read, intact) = timeout(GUARD, client_task).await.unwrap().unwrap();
    assert_eq!(read.expect("no reset"), RESPONSE, "the peer got every byte");
    assert!(intact);
    // The client closed after EOF, so the drain saw its FIN after the unread bytes.
    assert_eq!(
        outcome,
        CloseOutcome::Clean {
            discarded: UNREAD as u64
        }
    );
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_never_closes_is_given_up_on_at_the_timeout() {
    let (client, server) = pair().await;
    let opts = CloseOptions::default().drain_timeout(Duration::from_secs(2));
    let start = Instant::now();
    let outcome = close_gracefully(server, &opts).await.unwrap();
    assert_eq!(outcome, CloseOutcome::TimedOut { discarded: 0 });
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    drop(client);
}

#[tokio::test(start_paused = true)]
async fn default_drain_timeout_is_five_seconds() {
    let (_client, server) = pair().await;
    let start = Instant::now();
    let outcome = close_gracefully(server, &CloseOptions::default())
        .await
        .unwrap();
    assert!(matches!(outcome, CloseOutcome::TimedOut { .. }));
    assert_eq!(start.elapsed(), Duration::from_secs(5));
}

#[tokio::test]
async fn a_peer_that_keeps_sending_hits_the_limit() {
    let (mut client, server) = pair().await;
    let flood = tokio::spawn(async move {
        let chunk = vec![0u8; 16 * 1024];
        // Writes until the server side is gone.
        while client.write_all(&chunk).await.is_ok() {}
    });
    let opts = CloseOptions::default().drain_limit(64 * 1024);
    let outcome = timeout(GUARD, close_gracefully(server, &opts))
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(outcome, CloseOutcome::LimitReached { discarded } if discarded > 64 * 1024));
    assert!(!outcome.is_clean());
    timeout(GUARD, flood).await.unwrap().unwrap();
}
