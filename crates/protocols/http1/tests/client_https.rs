//! https through the transport's `TlsDialer`, against the crate's server behind a
//! `TlsListener`, with a throwaway CA made by rcgen.

mod client_support;

use client_support::*;
use ghostnet_http1::client::{Client, EffectiveUri};
use ghostnet_http1::{Body, Error, Server, Service};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::tls::{TlsClientConfig, TlsListener, TlsServerConfig};
use ghostnet_transport::{TcpListener, TcpOptions};
use http::{Request, Response};

use ghostnet_transport::tls::testing::TestPki as Pki;

fn pki() -> Pki {
    Pki::localhost()
}

/// The crate's server over TLS on 127.0.0.1:0 offering `alpn`; returns `https://...`.
fn serve_tls<S: Service>(pki: &Pki, alpn: &[&str], service: S) -> (String, Shutdown) {
    let tcp = TcpListener::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::default()).unwrap();
    let base = format!("https://{}", tcp.local_addr());
    let config = TlsServerConfig::builder()
        .cert_pem(&pki.cert_pem, &pki.key_pem)
        .alpn(alpn.iter().copied())
        .build()
        .unwrap();
    let shutdown = Shutdown::new();
    tokio::spawn(Server::builder().build().serve(
        TlsListener::new(tcp, config),
        service,
        shutdown.clone(),
    ));
    (base, shutdown)
}

fn trusting(pki: &Pki) -> TlsClientConfig {
    TlsClientConfig::builder()
        .webpki_roots(false)
        .extra_ca_pem(&pki.ca_pem)
        .alpn(["http/1.1"])
        .build()
        .unwrap()
}

#[tokio::test]
async fn https_requests_reuse_their_tls_connection() {
    let pki = pki();
    let (base, _shutdown) = serve_tls(&pki, &["http/1.1"], echo);
    let client = Client::builder().tls(trusting(&pki)).build().unwrap();
    for i in 0..3 {
        let req = Request::post(&base)
            .body(Body::from(format!("secret {i}")))
            .unwrap();
        let text = client
            .request(req)
            .await
            .unwrap()
            .into_body()
            .text()
            .await
            .unwrap();
        assert_eq!(text, format!("secret {i}"));
    }
    let stats = client.https_pool().unwrap().stats();
    assert_eq!((stats.created, stats.reused), (1, 2));
    assert_eq!(
        client.http_pool().stats().created,
        0,
        "https never used the http pool"
    );
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_connect_error() {
    let pki = pki();
    let (base, _shutdown) = serve_tls(&pki, &["http/1.1"], hello);
    // The default trusts only the webpki roots, which did not sign our test CA.
    let err = Client::new().get(&base).await.unwrap_err();
    assert!(matches!(err, Error::Connect(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("TLS") || msg.contains("certificate"), "{msg}");
}

#[tokio::test]
async fn redirects_between_http_and_https() {
    let pki = pki();
    let (secure, _s1) = serve_tls(&pki, &["http/1.1"], hello);
    let plain = serve_tcp(hello);
    let to_plain = format!("{}/landing", plain.base);
    let to_secure = format!("{secure}/landing");
    let (secure_redirector, _s2) = serve_tls(&pki, &["http/1.1"], move |_req: Request<Body>| {
        let to = to_plain.clone();
        async move {
            Response::builder()
                .status(302)
                .header("location", to)
                .body(Body::empty())
                .unwrap()
        }
    });
    let plain_redirector = serve_tcp(move |_req: Request<Body>| {
        let to = to_secure.clone();
        async move {
            Response::builder()
                .status(301)
                .header("location", to)
                .body(Body::empty())
                .unwrap()
        }
    });

    let client = Client::builder().tls(trusting(&pki)).build().unwrap();
    // Upgrading to https is followed.
    let r = client.get(&plain_redirector.base).await.unwrap();
    assert_eq!(
        r.extensions().get::<EffectiveUri>().unwrap().0.scheme_str(),
        Some("https")
    );
    assert_eq!(r.into_body().text().await.unwrap(), "hello");
    // Downgrading is refused...
    let err = client.get(&secure_redirector).await.unwrap_err();
    assert!(matches!(err, Error::InsecureRedirect { .. }), "{err:?}");
    assert!(err.to_string().contains("allow_https_downgrade"), "{err}");
    // ...unless allowed.
    let lax = Client::builder()
        .tls(trusting(&pki))
        .allow_https_downgrade(true)
        .build()
        .unwrap();
    let r = lax.get(&secure_redirector).await.unwrap();
    assert_eq!(
        r.extensions().get::<EffectiveUri>().unwrap().0.scheme_str(),
        Some("http")
    );
    drop(secure);
}

#[tokio::test]
async fn a_server_choosing_another_protocol_is_refused() {
    let pki = pki();
    let (base, _shutdown) = serve_tls(&pki, &["h2"], hello);
    let offers_h2 = TlsClientConfig::builder()
        .webpki_roots(false)
        .extra_ca_pem(&pki.ca_pem)
        .alpn(["h2", "http/1.1"])
        .build()
        .unwrap();
    let client = Client::builder().tls(offers_h2).build().unwrap();
    let err = client.get(&base).await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidConfig { field: "tls", reason } if reason.contains("h2")),
        "{err:?}"
    );
    let stats = client.https_pool().unwrap().stats();
    assert_eq!(
        (stats.idle, stats.discarded),
        (0, 1),
        "the h2 connection is not pooled"
    );
}
