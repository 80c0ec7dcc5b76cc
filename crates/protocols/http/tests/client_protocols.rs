//! Protocol choice: HTTP/1.1 for http://, h2c with prior knowledge, ALPN over TLS,
//! fallback on a failed protocol, the per-origin cache and its TTL, HTTP/3 unavailable.

mod client_support;
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use client_support::{Counting, CountingListener, Speaks, State, router, serve};
use ghostnet_http::Error;
use ghostnet_http::client::{ClientConfig, HttpClient, Protocol};
use ghostnet_transport::tls::{TlsClientConfig, TlsServerConfig};
use ghostnet_transport::{MemoryNetwork, TcpDialer, TcpListener, TcpOptions, TlsListener};

fn client(
    net: &MemoryNetwork,
    config: ClientConfig,
) -> HttpClient<ghostnet_transport::MemoryDialer> {
    HttpClient::with_dialer(config, net.dialer()).unwrap()
}

#[tokio::test]
async fn plain_http_is_http11_by_default_and_h2c_with_prior_knowledge() {
    let net = MemoryNetwork::new();
    let shutdown = serve(&net, "api.test:80", Speaks::Both, router(State::default()));

    let h1 = client(&net, ClientConfig::default());
    let r = h1.get("http://api.test/hello").await.unwrap();
    assert_eq!(r.protocol(), Protocol::Http11);
    assert_eq!(r.version(), http::Version::HTTP_11);
    assert_eq!(r.text().await.unwrap(), "hello");
    assert_eq!(
        h1.cached_protocol("http://api.test/"),
        Some(Protocol::Http11)
    );

    let h2 = client(&net, ClientConfig::default().h2_prior_knowledge(true));
    let r = h2.get("http://api.test/hello").await.unwrap();
    assert_eq!(r.protocol(), Protocol::H2);
    assert_eq!(r.version(), http::Version::HTTP_2);
    assert_eq!(r.text().await.unwrap(), "hello");
    assert_eq!(h2.cached_protocol("http://api.test/x"), Some(Protocol::H2));
    shutdown.shutdown().await;
}

#[tokio::test]
async fn h2c_to_an_http11_only_server_falls_back_and_remembers() {
    let net = MemoryNetwork::new();
    let shutdown = serve(
        &net,
        "old.test:80",
        Speaks::Http1Only,
        router(State::default()),
    );
    let dialer = Counting::new(net.dialer());
    let config = ClientConfig::default().h2_prior_knowledge(true);
    let client = HttpClient::with_dialer(config, dialer.clone()).unwrap();

    let r = client.get("http://old.test/hello").await.unwrap();
    assert_eq!(r.protocol(), Protocol::Http11);
    assert_eq!(r.text().await.unwrap(), "hello");
    assert_eq!(
        client.cached_protocol("http://old.test/"),
        Some(Protocol::Http11)
    );
    let dials = dialer.count();
    assert_eq!(
        dials, 2,
        "one failed h2c connection, one HTTP/1.1 connection"
    );

    // The cache sends the next request straight to HTTP/1.1, on the kept connection.
    let r = client.get("http://old.test/n/2").await.unwrap();
    assert_eq!(r.protocol(), Protocol::Http11);
    assert_eq!(r.text().await.unwrap(), "n 2");
    assert_eq!(dialer.count(), dials);
    shutdown.shutdown().await;
}

#[tokio::test]
async fn without_fallback_the_failure_is_returned() {
    let net = MemoryNetwork::new();
    let shutdown = serve(
        &net,
        "old.test:80",
        Speaks::Http1Only,
        router(State::default()),
    );
    let config = ClientConfig::default()
        .h2_prior_knowledge(true)
        .fallback(false);
    let client = client(&net, config);
    let e = client.get("http://old.test/hello").await.unwrap_err();
    assert!(matches!(e, Error::Http2(_) | Error::Transport(_)), "{e:?}");
    assert_eq!(client.cached_protocol("http://old.test/"), None);
    shutdown.shutdown().await;
}

#[tokio::test]
async fn h2_only_preference_reaches_an_h2_only_server() {
    let net = MemoryNetwork::new();
    let shutdown = serve(
        &net,
        "new.test:80",
        Speaks::Http2Only,
        router(State::default()),
    );
    let config = ClientConfig::default()
        .protocols([Protocol::H2])
        .h2_prior_knowledge(true);
    let r = client(&net, config)
        .get("http://new.test/hello")
        .await
        .unwrap();
    assert_eq!(r.protocol(), Protocol::H2);

    // H2 alone cannot serve http:// without prior knowledge.
    let e = client(&net, ClientConfig::default().protocols([Protocol::H2]))
        .get("http://new.test/hello")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::ProtocolUnavailable { .. }), "{e:?}");
    assert!(e.to_string().contains("h2_prior_knowledge"), "{e}");
    shutdown.shutdown().await;
}

#[tokio::test]
async fn h3_is_reported_unavailable_and_skipped() {
    let net = MemoryNetwork::new();
    let shutdown = serve(&net, "api.test:80", Speaks::Both, router(State::default()));
    let only_h3 = client(&net, ClientConfig::default().protocols([Protocol::H3]));
    let e = only_h3.get("http://api.test/hello").await.unwrap_err();
    assert!(matches!(e, Error::ProtocolUnavailable { .. }), "{e:?}");
    assert!(e.to_string().contains("HTTP/3"), "{e}");
    assert!(!Protocol::H3.is_available());

    let preferring_h3 = client(
        &net,
        ClientConfig::default().protocols([Protocol::H3, Protocol::H2, Protocol::Http11]),
    );
    let r = preferring_h3.get("http://api.test/hello").await.unwrap();
    assert_eq!(r.protocol(), Protocol::Http11);
    shutdown.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn the_protocol_cache_expires_after_its_ttl() {
    let net = MemoryNetwork::new();
    let shutdown = serve(
        &net,
        "old.test:80",
        Speaks::Http1Only,
        router(State::default()),
    );
    let config = ClientConfig::default()
        .h2_prior_knowledge(true)
        .protocol_cache_ttl(Duration::from_secs(60));
    let client = client(&net, config);
    client.get("http://old.test/hello").await.unwrap();
    assert_eq!(
        client.cached_protocol("http://old.test/"),
        Some(Protocol::Http11)
    );
    tokio::time::advance(Duration::from_secs(59)).await;
    assert_eq!(
        client.cached_protocol("http://old.test/"),
        Some(Protocol::Http11)
    );
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(client.cached_protocol("http://old.test/"), None);
    // Expired: h2c is tried again first, fails, and HTTP/1.1 is learnt again.
    let r = client.get("http://old.test/hello").await.unwrap();
    assert_eq!(r.protocol(), Protocol::Http11);
    assert_eq!(
        client.cached_protocol("http://old.test/"),
        Some(Protocol::Http11)
    );
    shutdown.shutdown().await;
}

/// A TLS server on 127.0.0.1 offering `alpn`; returns its port, CA and shutdown.
async fn tls_server(alpn: &[&str]) -> (u16, String, ghostnet_runtime::Shutdown) {
    let (port, ca, _accepted, shutdown) = counted_tls_server(alpn).await;
    (port, ca, shutdown)
}

/// [`tls_server`], with the count of TCP connections it accepted.
async fn counted_tls_server(
    alpn: &[&str],
) -> (u16, String, Arc<AtomicUsize>, ghostnet_runtime::Shutdown) {
    let (ca, cert, key) = support::pki();
    let config = TlsServerConfig::builder()
        .cert_pem(cert, key)
        .alpn(alpn.iter().map(|a| a.as_bytes()))
        .build()
        .unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::default()).unwrap();
    let port = tcp.local_addr().port();
    let tcp = CountingListener::new(tcp);
    let accepted = tcp.accepted.clone();
    let shutdown = ghostnet_runtime::Shutdown::new();
    let server = ghostnet_http::Server::builder().build().unwrap();
    tokio::spawn(server.serve(
        TlsListener::new(tcp, config),
        router(State::default()),
        shutdown.clone(),
    ));
    (port, ca, accepted, shutdown)
}

fn tls_client(ca: &str, config: ClientConfig) -> HttpClient<TcpDialer> {
    let tls = TlsClientConfig::builder()
        .webpki_roots(false)
        .native_roots(false)
        .extra_ca_pem(ca)
        .build()
        .unwrap();
    HttpClient::new(config.tls(tls)).unwrap()
}

#[tokio::test]
async fn tls_alpn_chooses_h2_or_http11() {
    let (port, ca, shutdown) = tls_server(&["h2", "http/1.1"]).await;
    let url = format!("https://localhost:{port}/hello");
    let client = tls_client(&ca, ClientConfig::default());
    let r = client.get(&url).await.unwrap();
    assert_eq!(r.protocol(), Protocol::H2);
    assert_eq!(r.text().await.unwrap(), "hello");
    assert_eq!(client.cached_protocol(&url), Some(Protocol::H2));

    // Preferring HTTP/1.1 alone offers only http/1.1.
    let h1 = tls_client(&ca, ClientConfig::default().protocols([Protocol::Http11]));
    assert_eq!(h1.get(&url).await.unwrap().protocol(), Protocol::Http11);
    shutdown.shutdown().await;

    let (port, ca, shutdown) = tls_server(&["http/1.1"]).await;
    let url = format!("https://localhost:{port}/hello");
    // Even without fallback: the server's ALPN choice is a choice, not a failure.
    let client = tls_client(&ca, ClientConfig::default().fallback(false));
    let r = client.get(&url).await.unwrap();
    assert_eq!(r.protocol(), Protocol::Http11);
    assert_eq!(r.text().await.unwrap(), "hello");
    assert_eq!(client.cached_protocol(&url), Some(Protocol::Http11));
    let r = client.get(&url).await.unwrap();
    assert_eq!(r.protocol(), Protocol::Http11);
    shutdown.shutdown().await;
}

#[tokio::test]
async fn an_http11_alpn_answer_is_served_on_the_same_tls_connection() {
    let (port, ca, accepted, shutdown) = counted_tls_server(&["http/1.1"]).await;
    let url = format!("https://localhost:{port}/hello");
    // Offers h2 and http/1.1; the server picks http/1.1.
    let client = tls_client(&ca, ClientConfig::default());
    let r = client.get(&url).await.unwrap();
    assert_eq!(r.protocol(), Protocol::Http11);
    assert_eq!(r.text().await.unwrap(), "hello");
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "the TLS connection that asked is the one that serves: no second dial"
    );
    assert_eq!(client.cached_protocol(&url), Some(Protocol::Http11));
    // Kept alive for the next request, which goes straight to HTTP/1.1.
    let r = client.get(&url).await.unwrap();
    assert_eq!(r.protocol(), Protocol::Http11);
    assert_eq!(r.text().await.unwrap(), "hello");
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    shutdown.shutdown().await;
}

#[tokio::test]
async fn bad_urls_and_settings_are_refused() {
    let net = MemoryNetwork::new();
    let client = client(&net, ClientConfig::default());
    for url in ["/relative", "not a url", "ftp://a.test/"] {
        let e = client.get(url).await.unwrap_err();
        assert!(
            matches!(e, Error::InvalidUrl { .. } | Error::Http1(_)),
            "{url}: {e:?}"
        );
    }
    let e = client
        .get("http://a.test/")
        .header("bad name", "x")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest { .. }), "{e:?}");
    for bad in [
        ClientConfig::default().timeout(Duration::ZERO),
        ClientConfig::default().protocols([]),
        ClientConfig::default().max_connections_per_host(0),
    ] {
        assert!(matches!(
            HttpClient::with_dialer(bad, net.dialer()),
            Err(Error::InvalidConfig { .. })
        ));
    }
}
