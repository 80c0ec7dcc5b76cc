//! `hello_server`, compiled here as a module and started from its own command line: its
//! routes over HTTP/1.1, h2c with prior knowledge, TLS with ALPN `h2` and `http/1.1`,
//! and (when curl is installed) h2c upgrade; then a clean graceful shutdown.

mod support;

#[allow(dead_code)]
#[path = "../hello_server.rs"]
mod hello_server;

use std::net::SocketAddr;

use clap::Parser;
use ghostnet::http::http::{StatusCode, Version};
use ghostnet::http1::client::Client;
use ghostnet::runtime::Shutdown;
use ghostnet::transport::{Stream, TlsClientConfig};
use hello_server::Args;
use support::Resp;
use tokio::net::TcpStream;

/// The three routes' answers, whatever the protocol.
fn check_plaintext(res: &Resp) {
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("content-type"), Some("text/plain"));
    assert_eq!(res.body, "Hello, World!");
}

fn check_json(res: &Resp) {
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.body, r#"{"message":"Hello, World!"}"#);
}

fn check_echo(res: &Resp, sent: &str) {
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body, sent);
}

#[test]
fn the_command_line_has_the_documented_defaults() {
    let args = Args::try_parse_from(["hello_server"]).unwrap();
    assert_eq!(args.addr, "127.0.0.1:8080".parse::<SocketAddr>().unwrap());
    assert!(args.tls_cert.is_none() && args.tls_key.is_none());
    // A certificate without its key (or the reverse) is a usage error, not a panic.
    assert!(Args::try_parse_from(["hello_server", "--tls-cert", "c.pem"]).is_err());
    assert!(Args::try_parse_from(["hello_server", "--tls-key", "k.pem"]).is_err());
    assert!(Args::try_parse_from(["hello_server", "--addr", "nonsense"]).is_err());
}

#[tokio::test]
async fn routes_over_http1_h2c_and_tls() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = support::pki();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert).unwrap();
    std::fs::write(&key_path, key).unwrap();
    let args = Args::try_parse_from([
        "hello_server".as_ref(),
        "--addr".as_ref(),
        "127.0.0.1:0".as_ref(),
        "--tls-addr".as_ref(),
        "127.0.0.1:0".as_ref(),
        "--tls-cert".as_ref(),
        cert_path.as_os_str(),
        "--tls-key".as_ref(),
        key_path.as_os_str(),
    ])
    .unwrap();
    let listeners = hello_server::bind(&args).unwrap();
    let plain = listeners.plain.local_addr();
    let tls_port = listeners.tls.as_ref().unwrap().inner().local_addr().port();
    let shutdown = Shutdown::new();
    let serving = tokio::spawn(hello_server::serve(listeners, shutdown.clone()));

    // HTTP/1.1.
    let client = Client::new();
    let base = format!("http://{plain}");
    let res = support::h1(&client, "GET", &format!("{base}/plaintext"), &[], "").await;
    assert_eq!(res.version, Version::HTTP_11);
    check_plaintext(&res);
    check_json(&support::h1(&client, "GET", &format!("{base}/json"), &[], "").await);
    let res = support::h1(
        &client,
        "POST",
        &format!("{base}/echo"),
        &[],
        "ping over h1",
    )
    .await;
    check_echo(&res, "ping over h1");
    let res = support::h1(&client, "GET", &format!("{base}/echo"), &[], "").await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.header("allow"), Some("POST"));
    let res = support::h1(&client, "GET", &format!("{base}/nope"), &[], "").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    // h2c with prior knowledge, several streams on one connection.
    let h2 = support::h2_connect(TcpStream::connect(plain).await.unwrap()).await;
    let (a, b, c) = tokio::join!(
        support::h2(&h2, "GET", "/plaintext", &[], ""),
        support::h2(&h2, "GET", "/json", &[], ""),
        support::h2(&h2, "POST", "/echo", &[], "ping over h2c"),
    );
    assert_eq!(a.version, Version::HTTP_2);
    check_plaintext(&a);
    check_json(&b);
    check_echo(&c, "ping over h2c");

    // TLS: ALPN h2, then ALPN http/1.1 through the HTTP/1.1 client.
    let tls = |alpn: &'static str| {
        TlsClientConfig::builder()
            .webpki_roots(false)
            .native_roots(false)
            .extra_ca_pem(&ca)
            .alpn([alpn])
            .build()
            .unwrap()
    };
    let tcp = TcpStream::connect(("127.0.0.1", tls_port)).await.unwrap();
    let target = format!("localhost:{tls_port}").parse().unwrap();
    let stream = tls("h2").connect(&target, tcp).await.unwrap();
    assert_eq!(stream.info().alpn.as_deref(), Some(&b"h2"[..]));
    let h2 = support::h2_connect(stream).await;
    check_plaintext(&support::h2(&h2, "GET", "/plaintext", &[], "").await);
    check_echo(
        &support::h2(&h2, "POST", "/echo", &[], "ping over h2").await,
        "ping over h2",
    );

    let https = Client::builder().tls(tls("http/1.1")).build().unwrap();
    let url = format!("https://localhost:{tls_port}/json");
    let res = support::h1(&https, "GET", &url, &[], "").await;
    assert_eq!(res.version, Version::HTTP_11);
    check_json(&res);

    // h2c upgrade from an HTTP/1.1 request, as curl does it.
    if support::installed("curl") {
        let url = format!("{base}/plaintext");
        let out = tokio::process::Command::new("curl")
            .args(["-sS", "--http2", "-w", " %{http_version}", &url])
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), "Hello, World! 2");
    } else {
        eprintln!("curl not installed: h2c upgrade not checked here");
    }

    drop((client, https, h2));
    shutdown.trigger();
    serving.await.unwrap().unwrap();
    assert!(shutdown.shutdown().await.is_clean());
}
