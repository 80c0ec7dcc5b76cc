//! Certificate checks and their error messages: wrong host name, expired certificate,
//! unknown CA, client certificates (required, optional, missing, untrusted), and bad
//! certificate files.

#[allow(dead_code)]
mod tls_support;

use ghostnet_transport::tls::{ClientAuth, TlsDialer, TlsListener, TlsServerConfig};
use ghostnet_transport::{Dial, Error, MemoryNetwork, Target};
use tls_support::{Ca, TempDir, client, connect, server, spawn_echo};
use tokio::io::AsyncReadExt;

fn t(s: &str) -> Target {
    s.parse().unwrap()
}

/// Serves `config` at `name` on a fresh network and returns the network.
fn serve(name: &str, config: TlsServerConfig) -> MemoryNetwork {
    let net = MemoryNetwork::new();
    spawn_echo(TlsListener::new(net.listen(&t(name)).unwrap(), config));
    net
}

#[tokio::test]
async fn wrong_host_name_is_rejected_with_the_names_involved() {
    let ca = Ca::new("test CA");
    let net = serve(
        "example.test:443",
        server(&ca.server_leaf(&["localhost"])).build().unwrap(),
    );
    let dialer = TlsDialer::new(net.dialer(), client(&ca).build().unwrap());
    let err = dialer.dial(&t("example.test:443")).await.unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    assert!(
        !err.is_transient(),
        "a new attempt cannot fix a certificate"
    );
    assert_eq!(
        err.to_string(),
        "TLS with example.test:443 failed: certificate for localhost is not valid for host example.test"
    );
}

#[tokio::test]
async fn expired_certificate_is_rejected_with_its_date() {
    let ca = Ca::new("test CA");
    let expired = ca.leaf_with(&["api.test"], |p| {
        p.not_before = rcgen::date_time_ymd(1999, 1, 1);
        p.not_after = rcgen::date_time_ymd(2000, 1, 1);
    });
    let net = serve("api.test:443", server(&expired).build().unwrap());
    let dialer = TlsDialer::new(net.dialer(), client(&ca).build().unwrap());
    let err = dialer.dial(&t("api.test:443")).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("certificate expired on 2000-01-01 00:00:00 UTC"),
        "{msg}"
    );
}

#[tokio::test]
async fn unknown_ca_is_rejected_with_the_fix() {
    let ca = Ca::new("the server's CA");
    let other = Ca::new("some other CA");
    let net = serve(
        "api.test:443",
        server(&ca.server_leaf(&["api.test"])).build().unwrap(),
    );
    let dialer = TlsDialer::new(net.dialer(), client(&other).build().unwrap());
    let err = dialer.dial(&t("api.test:443")).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("unknown issuer"), "{msg}");
    assert!(msg.contains("extra_ca("), "{msg}");

    // The public webpki roots do not know a private CA either.
    let public_only = TlsDialer::new(
        net.dialer(),
        ghostnet_transport::tls::TlsClientConfig::builder()
            .build()
            .unwrap(),
    );
    let err = public_only.dial(&t("api.test:443")).await.unwrap_err();
    assert!(err.to_string().contains("unknown issuer"), "{err}");
}

#[tokio::test]
async fn extra_ca_from_a_file_is_trusted() {
    let ca = Ca::new("test CA");
    let dir = TempDir::new("ca");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.cert_pem).unwrap();
    let net = serve(
        "api.test:443",
        server(&ca.server_leaf(&["api.test"])).build().unwrap(),
    );
    let config = ghostnet_transport::tls::TlsClientConfig::builder()
        .webpki_roots(false)
        .extra_ca_file(&ca_file)
        .build()
        .unwrap();
    let dialer = TlsDialer::new(net.dialer(), config);
    assert!(dialer.dial(&t("api.test:443")).await.is_ok());
}

/// A server at `api.test:443` that wants client certificates signed by `client_ca`.
fn mtls_listener(
    ca: &Ca,
    client_ca: &Ca,
    mode: ClientAuth,
) -> (
    MemoryNetwork,
    TlsListener<ghostnet_transport::MemoryListener>,
) {
    let net = MemoryNetwork::new();
    let config = server(&ca.server_leaf(&["api.test"]))
        .client_ca_pem(&client_ca.cert_pem)
        .client_auth(mode)
        .build()
        .unwrap();
    let listener = TlsListener::new(net.listen(&t("api.test:443")).unwrap(), config);
    (net, listener)
}

#[tokio::test]
async fn required_client_certificate_is_accepted_and_visible() {
    let ca = Ca::new("server CA");
    let clients = Ca::new("client CA");
    let (net, listener) = mtls_listener(&ca, &clients, ClientAuth::Required);
    let me = clients.client_leaf("alice");
    let dialer = TlsDialer::new(
        net.dialer(),
        client(&ca)
            .client_cert_pem(&me.cert_pem, &me.key_pem)
            .build()
            .unwrap(),
    );
    let (_c, s) = connect(&dialer, &listener, &t("api.test:443")).await;
    assert_eq!(
        s.peer_certificates().unwrap()[0].as_ref(),
        me.der.as_slice()
    );
}

/// What a client learns when the server refuses it: with TLS 1.3 the client finishes its
/// side first, so the refusal arrives as an alert on the first read.
async fn refusal<D: Dial>(dialer: &D) -> String {
    match dialer.dial(&t("api.test:443")).await {
        Err(e) => e.to_string(),
        Ok(mut s) => {
            let mut buf = [0u8; 1];
            s.read(&mut buf).await.unwrap_err().to_string()
        }
    }
}

#[tokio::test]
async fn required_client_certificate_missing_is_refused_on_both_sides() {
    let ca = Ca::new("server CA");
    let clients = Ca::new("client CA");
    let (net, listener) = mtls_listener(&ca, &clients, ClientAuth::Required);
    let anonymous = TlsDialer::new(net.dialer(), client(&ca).build().unwrap());
    let msg = refusal(&anonymous).await;
    assert!(
        msg.contains("the server requires a client certificate")
            && msg.contains("client_cert_files("),
        "{msg}"
    );
    assert_eq!(listener.stats().handshakes_failed, 1);
    assert_eq!(listener.stats().handshakes_ok, 0);
}

#[tokio::test]
async fn client_certificate_from_an_unknown_ca_is_refused() {
    let ca = Ca::new("server CA");
    let clients = Ca::new("client CA");
    let rogue = Ca::new("rogue CA");
    let (net, listener) = mtls_listener(&ca, &clients, ClientAuth::Required);
    let mallory = rogue.client_leaf("mallory");
    let dialer = TlsDialer::new(
        net.dialer(),
        client(&ca)
            .client_cert_pem(&mallory.cert_pem, &mallory.key_pem)
            .build()
            .unwrap(),
    );
    let msg = refusal(&dialer).await;
    assert!(
        msg.contains("the server rejected our client certificate"),
        "{msg}"
    );
    assert_eq!(listener.stats().handshakes_failed, 1);
}

#[tokio::test]
async fn optional_client_certificate_admits_both_kinds_of_client() {
    let ca = Ca::new("server CA");
    let clients = Ca::new("client CA");
    let (net, listener) = mtls_listener(&ca, &clients, ClientAuth::Optional);

    let anonymous = TlsDialer::new(net.dialer(), client(&ca).build().unwrap());
    let (_c, s) = connect(&anonymous, &listener, &t("api.test:443")).await;
    assert!(s.peer_certificates().is_none());

    let me = clients.client_leaf("alice");
    let known = TlsDialer::new(
        net.dialer(),
        client(&ca)
            .client_cert_pem(&me.cert_pem, &me.key_pem)
            .build()
            .unwrap(),
    );
    let (_c, s) = connect(&known, &listener, &t("api.test:443")).await;
    assert_eq!(
        s.peer_certificates().unwrap()[0].as_ref(),
        me.der.as_slice()
    );
}

#[test]
fn bad_certificate_files_are_named_and_explained() {
    let ca = Ca::new("test CA");
    let leaf = ca.server_leaf(&["api.test"]);
    let other = ca.server_leaf(&["api.test"]);
    let dir = TempDir::new("badfiles");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, &leaf.cert_pem).unwrap();
    std::fs::write(&key, &other.key_pem).unwrap();

    // A key that belongs to another certificate.
    let err = TlsServerConfig::builder()
        .cert_files(&cert, &key)
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Certificate { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("key.pem") && msg.contains("does not belong"),
        "{msg}"
    );

    // Certificate and key swapped.
    std::fs::write(&key, &leaf.key_pem).unwrap();
    let msg = TlsServerConfig::builder()
        .cert_files(&key, &cert)
        .build()
        .unwrap_err()
        .to_string();
    assert!(msg.contains("swapped"), "{msg}");

    // A missing file.
    let msg = TlsServerConfig::builder()
        .cert_files(dir.path().join("missing.pem"), &key)
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("missing.pem") && msg.contains("could not be read"),
        "{msg}"
    );

    // The right pair works.
    assert!(
        TlsServerConfig::builder()
            .cert_files(&cert, &key)
            .build()
            .is_ok()
    );
}

#[test]
fn client_certificate_files_are_checked_too() {
    let ca = Ca::new("test CA");
    let me = ca.client_leaf("alice");
    let other = ca.client_leaf("bob");
    let err = client(&ca)
        .client_cert_pem(&me.cert_pem, &other.key_pem)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("does not belong"), "{err}");
}
