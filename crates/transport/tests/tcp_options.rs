//! Socket options really reach the sockets: read back with socket2 getters.

use std::time::Duration;

use ghostnet_transport::tcp::{Keepalive, TcpDialer, TcpListener};
use ghostnet_transport::{Dial, Error, Listen, TcpOptions};
use socket2::SockRef;

fn tuned() -> TcpOptions {
    TcpOptions::default()
        .keepalive(
            Keepalive::new(Duration::from_secs(42))
                .interval(Duration::from_secs(6))
                .retries(5),
        )
        .send_buffer_size(128 * 1024)
        .recv_buffer_size(160 * 1024)
}

fn assert_tuned(sock: SockRef<'_>, who: &str) {
    assert!(sock.tcp_nodelay().unwrap(), "{who}: nodelay");
    assert!(sock.keepalive().unwrap(), "{who}: SO_KEEPALIVE");
    #[cfg(target_os = "linux")]
    {
        assert_eq!(
            sock.tcp_keepalive_time().unwrap(),
            Duration::from_secs(42),
            "{who}"
        );
        assert_eq!(
            sock.tcp_keepalive_interval().unwrap(),
            Duration::from_secs(6),
            "{who}"
        );
        assert_eq!(sock.tcp_keepalive_retries().unwrap(), 5, "{who}");
    }
    // Linux reports twice the requested size (bookkeeping overhead included).
    assert!(
        sock.send_buffer_size().unwrap() >= 128 * 1024,
        "{who}: SO_SNDBUF"
    );
    assert!(
        sock.recv_buffer_size().unwrap() >= 160 * 1024,
        "{who}: SO_RCVBUF"
    );
}

#[tokio::test]
async fn dialed_and_accepted_streams_carry_the_options() {
    // The listener itself gets no nodelay or keepalive, so the accepted stream has them
    // only if accept applies them.
    let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap(), tuned()).unwrap();
    let listening = SockRef::from(listener.get_ref());
    assert!(!listening.keepalive().unwrap());

    let client = TcpDialer::new()
        .options(tuned())
        .dial(&listener.local_addr().into())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    assert_tuned(SockRef::from(&client), "dialed");
    assert_tuned(SockRef::from(&server), "accepted");
}

#[tokio::test]
async fn nodelay_can_be_turned_off() {
    let opts = TcpOptions::default().nodelay(false);
    let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap(), opts.clone()).unwrap();
    let client = TcpDialer::new()
        .options(opts)
        .dial(&listener.local_addr().into())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    assert!(!client.nodelay().unwrap());
    assert!(!server.nodelay().unwrap());
    // And the default is on.
    let client = TcpDialer::new()
        .dial(&listener.local_addr().into())
        .await
        .unwrap();
    assert!(client.nodelay().unwrap());
}

#[tokio::test]
async fn listener_reuse_flags() {
    let opts = TcpOptions::default().reuse_port(true);
    let a = TcpListener::bind("127.0.0.1:0".parse().unwrap(), opts.clone()).unwrap();
    let sock = SockRef::from(a.get_ref());
    assert_eq!(sock.reuse_address().unwrap(), cfg!(unix));
    #[cfg(target_os = "linux")]
    {
        assert!(sock.reuse_port().unwrap());
        // With SO_REUSEPORT on both, a second listener can share the port.
        let b = TcpListener::bind(a.local_addr(), opts).unwrap();
        assert_eq!(b.local_addr(), a.local_addr());
        // Without it, the port is taken.
        let err = TcpListener::bind(a.local_addr(), TcpOptions::default()).unwrap_err();
        match &err {
            Error::Io { op, source } => {
                assert_eq!(source.kind(), std::io::ErrorKind::AddrInUse);
                assert!(op.contains(&a.local_addr().to_string()), "{op}");
            }
            other => panic!("expected Io, got {other:?}"),
        }
    }

    let plain = TcpListener::bind(
        "127.0.0.1:0".parse().unwrap(),
        TcpOptions::default().reuse_address(false),
    )
    .unwrap();
    assert!(!SockRef::from(plain.get_ref()).reuse_address().unwrap());
}

#[tokio::test]
async fn bad_options_are_refused_before_binding() {
    let err = TcpListener::bind(
        "127.0.0.1:0".parse().unwrap(),
        TcpOptions::default().recv_buffer_size(0),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidConfig {
                field: "recv_buffer_size",
                ..
            }
        ),
        "{err:?}"
    );
    let err = TcpDialer::new()
        .options(TcpOptions::default().keepalive(Keepalive::new(Duration::ZERO)))
        .dial(&"127.0.0.1:9".parse().unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidConfig {
                field: "keepalive.time",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn binding_outside_a_runtime_is_an_error_not_a_panic() {
    let err = TcpListener::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::default()).unwrap_err();
    assert!(err.to_string().contains("tokio runtime"), "{err}");
}
