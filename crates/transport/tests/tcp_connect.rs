//! Connect timeouts, refusals and bind-before-connect, on real loopback sockets. Times
//! are virtual (paused clock) and therefore exact.

mod support;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use ghostnet_transport::tcp::{Resolve, TcpDialer, TcpListener};
use ghostnet_transport::{Dial, Error, Listen, Stream, Target, TcpOptions};
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn connect_timeout_fires_at_the_set_time() {
    let hole = support::black_hole("127.0.0.1");
    let dialer = TcpDialer::new().connect_timeout(Duration::from_secs(3));

    let start = Instant::now();
    let err = dialer.dial(&hole.addr.into()).await.unwrap_err();
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    match &err {
        Error::ConnectTimeout { target, after } => {
            assert_eq!(target, &hole.addr.to_string());
            assert_eq!(*after, Duration::from_secs(3));
        }
        other => panic!("expected ConnectTimeout, got {other:?}"),
    }
    assert!(err.to_string().contains("timed out after 3s"), "{err}");
    assert!(err.is_transient());
}

#[tokio::test(start_paused = true)]
async fn default_connect_timeout_is_ten_seconds() {
    let hole = support::black_hole("127.0.0.1");
    let start = Instant::now();
    let err = TcpDialer::new().dial(&hole.addr.into()).await.unwrap_err();
    assert!(matches!(err, Error::ConnectTimeout { .. }), "{err:?}");
    assert_eq!(start.elapsed(), Duration::from_secs(10));
}

/// A resolver that answers only after a long time.
struct Slow;

impl Resolve for Slow {
    async fn resolve(&self, _host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))])
    }
}

#[tokio::test(start_paused = true)]
async fn the_timeout_covers_resolution() {
    let dialer = TcpDialer::new()
        .connect_timeout(Duration::from_secs(2))
        .resolver(Slow);
    let start = Instant::now();
    let err = dialer
        .dial(&"slow.test:80".parse().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::ConnectTimeout { target, .. } if target == "slow.test:80"));
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[tokio::test]
async fn refused_port_is_a_clear_connect_error() {
    let closed = support::refusing("127.0.0.1");
    let err = TcpDialer::new()
        .dial(&closed.addr.into())
        .await
        .unwrap_err();
    let Error::Connect { target, source } = &err else {
        panic!("expected Connect, got {err:?}");
    };
    assert_eq!(target, &closed.addr.to_string());
    assert_eq!(source.kind(), io::ErrorKind::ConnectionRefused);
    // An IP literal keeps the OS error itself.
    assert!(source.raw_os_error().is_some());
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("could not connect to {}", closed.addr)),
        "{msg}"
    );
    assert!(msg.contains("is the server running"), "{msg}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn bind_before_connect_picks_the_source_address() {
    let listener =
        TcpListener::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::default()).unwrap();
    let dialer =
        TcpDialer::new().options(TcpOptions::default().local_addr("127.0.0.2:0".parse().unwrap()));
    let stream = dialer.dial(&listener.local_addr().into()).await.unwrap();
    let (_server, peer) = listener.accept().await.unwrap();
    assert_eq!(peer.ip().to_string(), "127.0.0.2");
    assert_eq!(stream.info().local_addr, Some(peer));
    assert_eq!(stream.info().transport, "tcp");
}

#[tokio::test]
async fn dial_through_the_boxed_form() {
    let listener =
        TcpListener::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::default()).unwrap();
    let dialer = ghostnet_transport::BoxDial::new(TcpDialer::new());
    let target: Target = listener.local_addr().into();
    let stream = dialer.dial(&target).await.unwrap();
    assert_eq!(stream.info().peer_addr, Some(listener.local_addr()));
}
