//! UDP sockets: round trips, connected sockets, options, truncation of single receives.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use ghostnet_transport::udp::{UdpOptions, UdpSocket};
use ghostnet_transport::{BoxDatagram, Datagram, Error};
use socket2::SockRef;
use tokio::time::timeout;

/// Bounds every receive so a lost datagram fails the test instead of hanging it.
const GUARD: Duration = Duration::from_secs(10);

fn bind(addr: &str) -> UdpSocket {
    UdpSocket::bind(addr.parse().unwrap(), UdpOptions::default()).unwrap()
}

async fn recv_from(sock: &impl Datagram, buf: &mut [u8]) -> (usize, SocketAddr) {
    timeout(GUARD, sock.recv_from(buf))
        .await
        .expect("a datagram")
        .unwrap()
}

#[tokio::test]
async fn round_trip_both_ways() {
    let a = bind("127.0.0.1:0");
    let b = bind("127.0.0.1:0");
    let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
    assert_ne!(a_addr.port(), 0);

    assert_eq!(a.send_to(b"ping", b_addr).await.unwrap(), 4);
    let mut buf = [0u8; 64];
    let (n, from) = recv_from(&b, &mut buf).await;
    assert_eq!((&buf[..n], from), (&b"ping"[..], a_addr));

    b.send_to(b"pong", from).await.unwrap();
    let (n, from) = recv_from(&a, &mut buf).await;
    assert_eq!((&buf[..n], from), (&b"pong"[..], b_addr));

    // Empty datagrams are datagrams too.
    a.send_to(b"", b_addr).await.unwrap();
    let (n, from) = recv_from(&b, &mut buf).await;
    assert_eq!((n, from), (0, a_addr));
}

#[tokio::test]
async fn round_trip_over_ipv6_and_the_boxed_form() {
    let Ok(a) = UdpSocket::bind("[::1]:0".parse().unwrap(), UdpOptions::default()) else {
        eprintln!("no IPv6 loopback here; IPv4 is covered by the other tests");
        return;
    };
    let a = BoxDatagram::new(a);
    let b = BoxDatagram::new(bind("[::1]:0"));
    a.send_to(b"v6", b.local_addr().unwrap()).await.unwrap();
    let mut buf = [0u8; 8];
    let (n, from) = recv_from(&b, &mut buf).await;
    assert_eq!((&buf[..n], from), (&b"v6"[..], a.local_addr().unwrap()));
}

#[tokio::test]
async fn connected_socket_talks_to_its_peer_only() {
    let a = bind("127.0.0.1:0");
    let b = bind("127.0.0.1:0");
    let stranger = bind("127.0.0.1:0");
    let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
    a.connect(b_addr).await.unwrap();
    assert_eq!(a.peer_addr().unwrap(), b_addr);

    assert_eq!(a.send(b"hello").await.unwrap(), 5);
    let mut buf = [0u8; 64];
    let (n, from) = recv_from(&b, &mut buf).await;
    assert_eq!((&buf[..n], from), (&b"hello"[..], a_addr));

    // The kernel drops the stranger's datagram for a connected socket: `a` only ever
    // sees what `b` sends.
    stranger.send_to(b"intruder", a_addr).await.unwrap();
    b.send_to(b"reply", a_addr).await.unwrap();
    let n = timeout(GUARD, a.recv(&mut buf)).await.unwrap().unwrap();
    assert_eq!(&buf[..n], b"reply");
}

#[tokio::test]
async fn connected_socket_reports_an_unreachable_port() {
    // Reserve a port, then free it: nothing listens there any more.
    let gone = bind("127.0.0.1:0");
    let gone_addr = gone.local_addr().unwrap();
    drop(gone);
    let a = bind("127.0.0.1:0");
    a.connect(gone_addr).await.unwrap();
    a.send(b"anyone?").await.unwrap();
    let mut buf = [0u8; 16];
    let err = timeout(GUARD, a.recv(&mut buf)).await.unwrap().unwrap_err();
    match &err {
        Error::Io { op, source } => {
            assert_eq!(source.kind(), io::ErrorKind::ConnectionRefused);
            assert!(op.starts_with("receive on UDP 127.0.0.1:"), "{op}");
        }
        other => panic!("expected Io, got {other:?}"),
    }
    assert!(err.is_transient());
}

#[tokio::test]
async fn send_without_connect_is_a_clear_error() {
    let a = bind("127.0.0.1:0");
    let err = a.send(b"x").await.unwrap_err();
    assert!(
        err.to_string().starts_with("send on UDP 127.0.0.1:"),
        "{err}"
    );
    assert!(a.peer_addr().is_err());
}

#[tokio::test]
async fn truncation_of_single_receives() {
    let a = bind("127.0.0.1:0");
    let b = bind("127.0.0.1:0");
    let to = b.local_addr().unwrap();
    a.send_to(b"0123456789", to).await.unwrap();
    a.send_to(b"next", to).await.unwrap();

    // recv_from keeps what fits and drops the rest of that datagram...
    let mut small = [0u8; 4];
    let (n, _) = recv_from(&b, &mut small).await;
    assert_eq!(&small[..n], b"0123");
    // ...and the next receive gets the next datagram, not the tail of the first.
    let mut buf = [0u8; 64];
    let (n, _) = recv_from(&b, &mut buf).await;
    assert_eq!(&buf[..n], b"next");

    // recv_info says when it happened.
    a.send_to(b"abcdef", to).await.unwrap();
    a.send_to(b"abc", to).await.unwrap();
    let info = timeout(GUARD, b.recv_info(&mut small))
        .await
        .unwrap()
        .unwrap();
    assert!(info.is_truncated());
    assert_eq!((info.len, info.datagram_len), (4, 6));
    let info = timeout(GUARD, b.recv_info(&mut small))
        .await
        .unwrap()
        .unwrap();
    assert!(!info.is_truncated());
    assert_eq!(
        (info.len, info.datagram_len, info.from),
        (3, 3, a.local_addr().unwrap())
    );
}

#[tokio::test]
async fn options_reach_the_socket() {
    let opts = UdpOptions::default()
        .reuse_address(true)
        .reuse_port(true)
        .send_buffer_size(256 * 1024)
        .recv_buffer_size(512 * 1024);
    let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap(), opts).unwrap();
    let sock = SockRef::from(a.get_ref());
    assert!(sock.reuse_address().unwrap());
    assert!(sock.send_buffer_size().unwrap() >= 256 * 1024);
    assert!(sock.recv_buffer_size().unwrap() >= 512 * 1024);
    #[cfg(target_os = "linux")]
    {
        assert!(sock.reuse_port().unwrap());
        // Both with SO_REUSEPORT: the port can be shared.
        let b = UdpSocket::bind(a.local_addr().unwrap(), opts).unwrap();
        assert_eq!(b.local_addr().unwrap(), a.local_addr().unwrap());
        // Without: taken.
        let err = UdpSocket::bind(a.local_addr().unwrap(), UdpOptions::default()).unwrap_err();
        assert!(
            matches!(&err, Error::Io { source, .. } if source.kind() == io::ErrorKind::AddrInUse),
            "{err:?}"
        );
    }
    let plain = bind("127.0.0.1:0");
    assert!(!SockRef::from(plain.get_ref()).reuse_address().unwrap());
}

#[tokio::test]
async fn bad_options_are_refused() {
    let err = UdpSocket::bind(
        "127.0.0.1:0".parse().unwrap(),
        UdpOptions::default().send_buffer_size(0),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidConfig {
                field: "send_buffer_size",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn binding_outside_a_runtime_is_an_error_not_a_panic() {
    let err = UdpSocket::bind("127.0.0.1:0".parse().unwrap(), UdpOptions::default()).unwrap_err();
    assert!(err.to_string().contains("tokio runtime"), "{err}");
}
