//! TLS handshakes end to end: over the in-memory transport and real TCP, what `info()`
//! reports, SNI and IP targets, and ALPN negotiation.

#[allow(dead_code)]
mod tls_support;

use ghostnet_transport::tls::{TlsDialer, TlsListener, TlsStream, rustls};
use ghostnet_transport::{Dial, Error, MemoryNetwork, MemoryStream, Stream, Target};
use tls_support::{Ca, TcpDial, TcpListen, client, connect, round_trip, server, spawn_echo};

fn t(s: &str) -> Target {
    s.parse().unwrap()
}

#[tokio::test]
async fn memory_handshake_carries_data_and_reports_tls_info() {
    let ca = Ca::new("test CA");
    let leaf = ca.server_leaf(&["api.test"]);
    let net = MemoryNetwork::new();
    let listener = TlsListener::new(
        net.listen(&t("api.test:443")).unwrap(),
        server(&leaf).build().unwrap(),
    );
    let dialer = TlsDialer::new(net.dialer(), client(&ca).build().unwrap());

    let (mut c, mut s): (TlsStream<MemoryStream>, _) =
        connect(&dialer, &listener, &t("api.test:443")).await;

    // Data flows both ways, encrypted over the memory pipe.
    ping_pong(&mut c, &mut s).await;

    let (ci, si) = (c.info(), s.info());
    assert_eq!((ci.transport, si.transport), ("tls", "tls"));
    assert_eq!(ci.local_addr, c.get_ref().info().local_addr);
    assert_eq!(ci.peer_addr, c.get_ref().info().peer_addr);
    assert_eq!(si.peer_addr, ci.local_addr);
    assert_eq!(c.get_ref().info().transport, "memory");
    assert_eq!(ci.alpn, None);
    assert!(c.is_client() && !s.is_client());
    assert_eq!(c.protocol_version(), Some(rustls::ProtocolVersion::TLSv1_3));
    // The client saw our leaf; the server saw the name the client asked for.
    assert_eq!(
        c.peer_certificates().unwrap()[0].as_ref(),
        leaf.der.as_slice()
    );
    assert_eq!(s.server_name(), Some("api.test"));
    assert!(
        s.peer_certificates().is_none(),
        "no client certificate was asked for"
    );
    assert_eq!(listener.stats().handshakes_ok, 1);
}

/// Sends `ping` from `a` to `b` and `pong` back.
async fn ping_pong<S: Stream>(a: &mut S, b: &mut S) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    a.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    b.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");
    b.write_all(b"pong").await.unwrap();
    a.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"pong");
}

#[tokio::test]
async fn tcp_handshake_by_name_sends_sni_and_reports_tcp_addresses() {
    let ca = Ca::new("test CA");
    let leaf = ca.server_leaf(&["localhost"]);
    let (tcp, addr) = TcpListen::bind().await;
    let listener = TlsListener::new(tcp, server(&leaf).build().unwrap());
    let dialer = TlsDialer::new(TcpDial, client(&ca).build().unwrap());

    let target = Target::new("localhost", addr.port());
    let (c, s) = connect(&dialer, &listener, &target).await;
    assert_eq!(c.info().transport, "tls");
    assert_eq!(c.get_ref().info().transport, "tcp");
    assert_eq!(c.info().peer_addr.map(|a| a.port()), Some(addr.port()));
    assert_eq!(s.info().local_addr, Some(addr));
    assert_eq!(s.server_name(), Some("localhost"));
    drop(s);
    drop(listener);

    // And a full echo exchange through a serving listener.
    let (tcp, addr) = TcpListen::bind().await;
    let serving = spawn_echo(TlsListener::new(tcp, server(&leaf).build().unwrap()));
    let mut c2 = dialer
        .dial(&Target::new("localhost", addr.port()))
        .await
        .unwrap();
    round_trip(&mut c2, b"hello over tls over tcp").await;
    serving.abort();
    drop(c);
}

#[tokio::test]
async fn ip_targets_send_no_sni_and_are_checked_against_ip_names() {
    let ca = Ca::new("test CA");
    let with_ip = ca.server_leaf(&["localhost", "127.0.0.1"]);
    let (tcp, addr) = TcpListen::bind().await;
    let listener = TlsListener::new(tcp, server(&with_ip).build().unwrap());
    let dialer = TlsDialer::new(TcpDial, client(&ca).build().unwrap());
    let (_c, s) = connect(&dialer, &listener, &Target::from(addr)).await;
    assert_eq!(s.server_name(), None, "no SNI for an IP target");

    // A certificate without the IP among its names does not do for an IP target.
    let dns_only = ca.server_leaf(&["localhost"]);
    let (tcp, addr) = TcpListen::bind().await;
    let _serving = spawn_echo(TlsListener::new(tcp, server(&dns_only).build().unwrap()));
    let err = dialer.dial(&Target::from(addr)).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("certificate for localhost is not valid for host 127.0.0.1"),
        "{err}"
    );
}

#[tokio::test]
async fn sni_off_hides_the_name_but_still_checks_it() {
    let ca = Ca::new("test CA");
    let leaf = ca.server_leaf(&["api.test"]);
    let net = MemoryNetwork::new();
    let listener = TlsListener::new(
        net.listen(&t("api.test:443")).unwrap(),
        server(&leaf).build().unwrap(),
    );
    let dialer = TlsDialer::new(net.dialer(), client(&ca).sni(false).build().unwrap());
    let (_c, s) = connect(&dialer, &listener, &t("api.test:443")).await;
    assert_eq!(s.server_name(), None);
    drop(listener);

    // Same certificate served under another name: refused even without SNI.
    let listener = TlsListener::new(
        net.listen(&t("wrong.test:443")).unwrap(),
        server(&leaf).build().unwrap(),
    );
    let _serving = spawn_echo(listener);
    let err = dialer.dial(&t("wrong.test:443")).await.unwrap_err();
    assert!(
        err.to_string().contains("not valid for host wrong.test"),
        "{err}"
    );
}

#[tokio::test]
async fn alpn_follows_the_server_preference() {
    let ca = Ca::new("test CA");
    let leaf = ca.server_leaf(&["api.test"]);
    let net = MemoryNetwork::new();
    let listener = TlsListener::new(
        net.listen(&t("api.test:443")).unwrap(),
        server(&leaf).alpn(["h2", "http/1.1"]).build().unwrap(),
    );
    // The client prefers http/1.1, the server h2: the server's order wins.
    let dialer = TlsDialer::new(
        net.dialer(),
        client(&ca).alpn(["http/1.1", "h2"]).build().unwrap(),
    );
    let (c, s) = connect(&dialer, &listener, &t("api.test:443")).await;
    assert_eq!(c.info().alpn.as_deref(), Some(&b"h2"[..]));
    assert_eq!(s.info().alpn.as_deref(), Some(&b"h2"[..]));

    // Only one protocol in common: that one.
    let dialer = TlsDialer::new(
        net.dialer(),
        client(&ca).alpn(["spdy/3", "http/1.1"]).build().unwrap(),
    );
    let (c, _s) = connect(&dialer, &listener, &t("api.test:443")).await;
    assert_eq!(c.alpn(), Some(&b"http/1.1"[..]));

    // A client that offers nothing gets no protocol, and is still served.
    let dialer = TlsDialer::new(net.dialer(), client(&ca).build().unwrap());
    let (c, s) = connect(&dialer, &listener, &t("api.test:443")).await;
    assert_eq!((c.info().alpn, s.info().alpn), (None, None));
}

#[tokio::test]
async fn alpn_without_a_common_protocol_fails_on_both_sides() {
    let ca = Ca::new("test CA");
    let leaf = ca.server_leaf(&["api.test"]);
    let net = MemoryNetwork::new();
    let listener = TlsListener::new(
        net.listen(&t("api.test:443")).unwrap(),
        server(&leaf).alpn(["h2"]).build().unwrap(),
    );
    let http1_only = TlsDialer::new(
        net.dialer(),
        client(&ca).alpn(["http/1.1"]).build().unwrap(),
    );
    let err = http1_only.dial(&t("api.test:443")).await.unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    assert!(
        err.to_string().contains("no ALPN protocol in common"),
        "{err}"
    );

    // The server skipped that connection and serves the next one.
    let h2 = TlsDialer::new(net.dialer(), client(&ca).alpn(["h2"]).build().unwrap());
    let (c, _s) = connect(&h2, &listener, &t("api.test:443")).await;
    assert_eq!(c.alpn(), Some(&b"h2"[..]));
    let stats = listener.stats();
    assert_eq!((stats.handshakes_failed, stats.handshakes_ok), (1, 1));
}

#[tokio::test]
async fn a_server_without_alpn_ignores_the_clients_list() {
    let ca = Ca::new("test CA");
    let leaf = ca.server_leaf(&["api.test"]);
    let net = MemoryNetwork::new();
    let listener = TlsListener::new(
        net.listen(&t("api.test:443")).unwrap(),
        server(&leaf).build().unwrap(),
    );
    let dialer = TlsDialer::new(net.dialer(), client(&ca).alpn(["h2"]).build().unwrap());
    let (c, _s) = connect(&dialer, &listener, &t("api.test:443")).await;
    assert_eq!(c.alpn(), None);
}

#[tokio::test]
async fn boxed_dialer_keeps_tls_info() {
    let ca = Ca::new("test CA");
    let leaf = ca.server_leaf(&["api.test"]);
    let net = MemoryNetwork::new();
    let listener = ghostnet_transport::BoxListen::new(TlsListener::new(
        net.listen(&t("api.test:443")).unwrap(),
        server(&leaf).alpn(["h2"]).build().unwrap(),
    ));
    let dialer = ghostnet_transport::BoxDial::new(TlsDialer::new(
        net.dialer(),
        client(&ca).alpn(["h2"]).build().unwrap(),
    ));
    let (c, s) = connect(&dialer, &listener, &t("api.test:443")).await;
    assert_eq!(c.info().transport, "tls");
    assert_eq!(s.info().alpn.as_deref(), Some(&b"h2"[..]));
}
