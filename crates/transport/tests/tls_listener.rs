//! The listener's handshake machinery: timeouts on both sides (paused clock), slow and
//! broken clients not blocking others, the concurrency limit, error pass-through, and
//! the background task's lifetime.

#[allow(dead_code)]
mod tls_support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ghostnet_transport::tls::{DEFAULT_HANDSHAKE_TIMEOUT, TlsDialer, TlsListener};
use ghostnet_transport::{
    Dial, Error, Listen, MemoryListener, MemoryNetwork, MemoryStream, Result, Target,
};
use tls_support::{Ca, client, connect, server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

fn t(s: &str) -> Target {
    s.parse().unwrap()
}

#[tokio::test(start_paused = true)]
async fn client_gives_up_on_a_server_that_never_speaks() {
    let ca = Ca::new("test CA");
    let net = MemoryNetwork::new();
    let silent = net.listen(&t("tarpit.test:443")).unwrap();
    let dialer = TlsDialer::new(net.dialer(), client(&ca).build().unwrap());

    let start = Instant::now();
    let target = t("tarpit.test:443");
    let (res, accepted) = tokio::join!(dialer.dial(&target), silent.accept());
    let _held_open = accepted.unwrap();
    let err = res.unwrap_err();
    assert!(
        matches!(&err, Error::TlsHandshakeTimeout { after, .. } if *after == DEFAULT_HANDSHAKE_TIMEOUT),
        "{err:?}"
    );
    assert_eq!(start.elapsed(), DEFAULT_HANDSHAKE_TIMEOUT);
    assert!(err.is_transient());
    assert_eq!(
        err.to_string(),
        "TLS handshake with tarpit.test:443 timed out after 10s"
    );
}

#[tokio::test(start_paused = true)]
async fn client_timeout_is_configurable() {
    let ca = Ca::new("test CA");
    let net = MemoryNetwork::new();
    let silent = net.listen(&t("tarpit.test:443")).unwrap();
    let config = client(&ca)
        .handshake_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let dialer = TlsDialer::new(net.dialer(), config);
    let start = Instant::now();
    let target = t("tarpit.test:443");
    let (res, _accepted) = tokio::join!(dialer.dial(&target), silent.accept());
    assert!(matches!(res, Err(Error::TlsHandshakeTimeout { .. })));
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn server_drops_a_client_that_never_speaks() {
    let ca = Ca::new("test CA");
    let net = MemoryNetwork::new();
    let config = server(&ca.server_leaf(&["api.test"]))
        .handshake_timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let listener = TlsListener::new(net.listen(&t("api.test:443")).unwrap(), config);

    let mut silent = net.dialer().dial(&t("api.test:443")).await.unwrap();
    let start = Instant::now();
    // The server closes the connection when its timeout passes: we read EOF.
    let mut buf = [0u8; 16];
    assert_eq!(silent.read(&mut buf).await.unwrap(), 0);
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    let stats = listener.stats();
    assert_eq!((stats.accepted, stats.handshakes_timed_out), (1, 1));
    assert_eq!(stats.pending, 0);
}

#[tokio::test(start_paused = true)]
async fn a_silent_client_does_not_delay_the_next_one() {
    let ca = Ca::new("test CA");
    let net = MemoryNetwork::new();
    let listener = TlsListener::new(
        net.listen(&t("api.test:443")).unwrap(),
        server(&ca.server_leaf(&["api.test"])).build().unwrap(),
    );
    // First in line: a client that connects and then says nothing.
    let _silent = net.dialer().dial(&t("api.test:443")).await.unwrap();
    let dialer = TlsDialer::new(net.dialer(), client(&ca).build().unwrap());

    let start = Instant::now();
    let (_c, _s) = connect(&dialer, &listener, &t("api.test:443")).await;
    // Had the handshakes run one after the other, the silent client's 10 s timeout would
    // have passed first (the paused clock jumps there as soon as nothing else can run).
    let stats = listener.stats();
    assert_eq!(stats.handshakes_timed_out, 0, "{stats:?}");
    assert_eq!(stats.handshakes_ok, 1);
    assert_eq!(stats.pending, 1, "the silent client is still in handshake");
    assert!(start.elapsed() < DEFAULT_HANDSHAKE_TIMEOUT);
}

#[tokio::test(start_paused = true)]
async fn the_handshake_limit_holds_others_back() {
    let ca = Ca::new("test CA");
    let net = MemoryNetwork::new();
    // The server gives up on the silent client before the good client gives up waiting.
    let config = server(&ca.server_leaf(&["api.test"]))
        .max_handshakes(1)
        .handshake_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let listener = TlsListener::new(net.listen(&t("api.test:443")).unwrap(), config);
    let _silent = net.dialer().dial(&t("api.test:443")).await.unwrap();
    let dialer = TlsDialer::new(net.dialer(), client(&ca).build().unwrap());

    let (_c, _s) = connect(&dialer, &listener, &t("api.test:443")).await;
    // With one handshake at a time, the good client waited for the silent one to time out.
    let stats = listener.stats();
    assert_eq!(
        (stats.handshakes_timed_out, stats.handshakes_ok),
        (1, 1),
        "{stats:?}"
    );
}

#[tokio::test]
async fn a_client_that_does_not_speak_tls_is_skipped() {
    let ca = Ca::new("test CA");
    let net = MemoryNetwork::new();
    let listener = TlsListener::new(
        net.listen(&t("api.test:443")).unwrap(),
        server(&ca.server_leaf(&["api.test"])).build().unwrap(),
    );
    let mut plain = net.dialer().dial(&t("api.test:443")).await.unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: api.test\r\n\r\n")
        .await
        .unwrap();
    let dialer = TlsDialer::new(net.dialer(), client(&ca).build().unwrap());
    // accept() skips the broken connection and returns the good one.
    let _ = connect(&dialer, &listener, &t("api.test:443")).await;
    let stats = listener.stats();
    assert_eq!(
        (stats.accepted, stats.handshakes_failed, stats.handshakes_ok),
        (2, 1, 1)
    );
    // The plain-text client was disconnected.
    let mut rest = Vec::new();
    let _ = plain.read_to_end(&mut rest).await;
}

/// A listener whose first accept fails, then delegates to a memory listener.
struct FailsOnce {
    inner: MemoryListener,
    failed: AtomicBool,
}

impl Listen for FailsOnce {
    type Stream = MemoryStream;

    async fn accept(&self) -> Result<(MemoryStream, SocketAddr)> {
        if !self.failed.swap(true, Ordering::SeqCst) {
            return Err(Error::io(
                "accept",
                std::io::Error::other("too many open files"),
            ));
        }
        self.inner.accept().await
    }
}

#[tokio::test]
async fn errors_of_the_inner_listener_are_passed_through() {
    let ca = Ca::new("test CA");
    let net = MemoryNetwork::new();
    let inner = FailsOnce {
        inner: net.listen(&t("api.test:443")).unwrap(),
        failed: AtomicBool::new(false),
    };
    let listener = TlsListener::new(
        inner,
        server(&ca.server_leaf(&["api.test"])).build().unwrap(),
    );
    let err = listener.accept().await.unwrap_err();
    assert!(err.to_string().contains("too many open files"), "{err}");
    // And the listener keeps working.
    let dialer = TlsDialer::new(net.dialer(), client(&ca).build().unwrap());
    let _ = connect(&dialer, &listener, &t("api.test:443")).await;
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_accept_loses_no_connection() {
    let ca = Ca::new("test CA");
    let net = MemoryNetwork::new();
    let listener = TlsListener::new(
        net.listen(&t("api.test:443")).unwrap(),
        server(&ca.server_leaf(&["api.test"])).build().unwrap(),
    );
    let dialer = TlsDialer::new(net.dialer(), client(&ca).build().unwrap());

    // An accept that is waiting when the connection arrives, then dropped (as in a
    // `select!` that another branch won).
    let mut waiting = Box::pin(listener.accept());
    let idle = tokio::time::timeout(Duration::from_millis(1), &mut waiting).await;
    assert!(idle.is_err(), "nothing to accept yet");
    let _client = dialer.dial(&t("api.test:443")).await.unwrap();
    tokio::task::yield_now().await;
    drop(waiting);

    let next = tokio::time::timeout(Duration::from_secs(60), listener.accept()).await;
    assert!(next.expect("the connection was lost").is_ok());
}

#[tokio::test]
async fn dropping_the_listener_releases_the_inner_one() {
    let ca = Ca::new("test CA");
    let net = MemoryNetwork::new();
    let listener = TlsListener::new(
        net.listen(&t("api.test:443")).unwrap(),
        server(&ca.server_leaf(&["api.test"])).build().unwrap(),
    );
    drop(listener);
    // The background task is aborted and drops the inner listener at its next turn.
    let mut freed = false;
    for _ in 0..100 {
        tokio::task::yield_now().await;
        if net.listen(&t("api.test:443")).is_ok() {
            freed = true;
            break;
        }
    }
    assert!(freed, "the memory address is still taken");
}

#[test]
fn a_listener_made_outside_a_runtime_starts_at_the_first_accept() {
    let ca = Ca::new("test CA");
    let net = MemoryNetwork::new();
    let listener = TlsListener::new(
        net.listen(&t("api.test:443")).unwrap(),
        server(&ca.server_leaf(&["api.test"])).build().unwrap(),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dialer = TlsDialer::new(net.dialer(), client(&ca).build().unwrap());
        let _ = connect(&dialer, &listener, &t("api.test:443")).await;
    });
    assert_eq!(listener.stats().handshakes_ok, 1);
}
