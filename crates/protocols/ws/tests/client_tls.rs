//! `wss://`: the server behind ghostnet-transport's TLS listener, the client through its
//! TLS dialer (default `connect` over TCP, or `connect_with` over any dialer), and the TLS
//! failures a client must report clearly.

mod support;

use std::time::Duration;

use ghostnet_http1::{Body, Server};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::tls::{TlsClientConfig, TlsDialer, TlsListener, TlsServerConfig};
use ghostnet_transport::{Listen, MemoryNetwork, TcpListener, TcpOptions};
use ghostnet_ws::{Acceptor, Client, CloseCode, Error, Message};
use http::Request;
use support::{GUARD, echo};
use tokio::time::timeout;

/// A self-signed certificate for `names`, as (cert PEM, key PEM).
fn cert(names: &[&str]) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    let cert = rcgen::CertificateParams::new(names)
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert.pem(), key.serialize_pem())
}

/// Serves the echo WebSocket over TLS on `listener`.
fn serve_tls<L: Listen>(
    listener: L,
    cert: &(String, String),
    alpn: &[&str],
) -> (
    Shutdown,
    tokio::task::JoinHandle<ghostnet_http1::Result<()>>,
) {
    let config = TlsServerConfig::builder()
        .cert_pem(&cert.0, &cert.1)
        .alpn(alpn.iter().copied())
        .build()
        .unwrap();
    let acceptor = Acceptor::new();
    let handler = move |req: Request<Body>| {
        let acceptor = acceptor.clone();
        async move { acceptor.upgrade(req, echo) }
    };
    let shutdown = Shutdown::new();
    let task = tokio::spawn(Server::builder().build().serve(
        TlsListener::new(listener, config),
        handler,
        shutdown.clone(),
    ));
    (shutdown, task)
}

fn trusting(cert: &(String, String)) -> TlsClientConfig {
    TlsClientConfig::builder()
        .webpki_roots(false)
        .extra_ca_pem(&cert.0)
        .alpn(["http/1.1"])
        .build()
        .unwrap()
}

#[tokio::test]
async fn wss_over_tcp_with_the_default_dialer() {
    let cert = cert(&["127.0.0.1"]);
    let listener =
        TcpListener::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::default()).unwrap();
    let addr = listener.local_addr();
    let (shutdown, task) = serve_tls(listener, &cert, &["http/1.1"]);
    let client = Client::builder().tls(trusting(&cert)).build().unwrap();
    let (mut ws, _) = client.connect(&format!("wss://{addr}/")).await.unwrap();
    assert_eq!(ws.info().transport, "tls");
    assert_eq!(ws.info().alpn.as_deref(), Some(&b"http/1.1"[..]));
    ws.send("secret").await.unwrap();
    let back = timeout(GUARD, ws.recv()).await.unwrap().unwrap().unwrap();
    assert_eq!(back, Message::from("secret"));
    ws.close(CloseCode::Normal, "").await.unwrap();
    shutdown.trigger();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn wss_over_any_dialer() {
    let cert = cert(&["chat.test"]);
    let net = MemoryNetwork::new();
    let listener = net.listen(&"chat.test:443".parse().unwrap()).unwrap();
    let (shutdown, task) = serve_tls(listener, &cert, &[]);
    let dialer = TlsDialer::new(net.dialer(), trusting(&cert));
    let (mut ws, _) = Client::new()
        .connect_with(&dialer, "wss://chat.test/")
        .await
        .unwrap();
    ws.send(vec![1u8, 2, 3]).await.unwrap();
    let back = timeout(GUARD, ws.recv()).await.unwrap().unwrap().unwrap();
    assert_eq!(back, Message::from(vec![1u8, 2, 3]));
    shutdown.trigger();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn untrusted_certificate_is_a_clear_connect_error() {
    let cert = cert(&["127.0.0.1"]);
    let listener =
        TcpListener::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::default()).unwrap();
    let addr = listener.local_addr();
    let (shutdown, task) = serve_tls(listener, &cert, &[]);
    // The default TLS config trusts the webpki roots only.
    let client = Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let err = client.connect(&format!("wss://{addr}/")).await.unwrap_err();
    assert!(matches!(err, Error::Connect(_)), "{err}");
    assert!(err.to_string().contains("TLS"), "{err}");
    shutdown.trigger();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn tls_that_agrees_on_h2_is_refused() {
    let cert = cert(&["chat.test"]);
    let net = MemoryNetwork::new();
    let listener = net.listen(&"chat.test:443".parse().unwrap()).unwrap();
    let (shutdown, task) = serve_tls(listener, &cert, &["h2"]);
    let h2_first = TlsClientConfig::builder()
        .webpki_roots(false)
        .extra_ca_pem(&cert.0)
        .alpn(["h2", "http/1.1"])
        .build()
        .unwrap();
    let dialer = TlsDialer::new(net.dialer(), h2_first);
    let err = Client::new()
        .connect_with(&dialer, "wss://chat.test/")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidResponse { reason } if reason.contains("h2")),
        "{err}"
    );
    shutdown.trigger();
    task.await.unwrap().unwrap();
}
