//! `ghostnet serve DIR` as a process: a range request and a validator round trip over
//! HTTP/1.1, the same over TLS with ALPN (h2 preferred, a range request over it), and a clear error for a
//! directory that is not there.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Kills the server when the test ends, passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `ghostnet serve dir --addr 127.0.0.1:0` and returns it with the address it
/// printed.
fn serve(dir: &std::path::Path) -> (Running, String) {
    serve_with(dir, &[], "http://")
}

fn serve_with(dir: &std::path::Path, extra: &[&str], scheme: &str) -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ghostnet"))
        .args(["serve", dir.to_str().unwrap(), "--addr", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start ghostnet serve");
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .rsplit(scheme)
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    assert!(addr.starts_with("127.0.0.1:"), "printed {line:?}");
    (running, addr)
}

fn exchange(addr: &str, request: &str) -> String {
    let mut tcp = TcpStream::connect(addr).unwrap();
    // A bound on a broken server, not a timing assertion.
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    tcp.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    answer
}

fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    answer.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[test]
fn serves_ranges_and_validators() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("pkgs")).unwrap();
    std::fs::write(dir.path().join("pkgs/x.tar"), "0123456789").unwrap();
    let (_server, addr) = serve(dir.path());

    let full = exchange(
        &addr,
        "GET /pkgs/x.tar HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert!(full.starts_with("HTTP/1.1 200"), "{full}");
    assert!(full.ends_with("\r\n\r\n0123456789"), "{full}");
    let etag = header(&full, "etag").expect("an ETag").to_string();

    let part = exchange(
        &addr,
        &format!(
            "GET /pkgs/x.tar HTTP/1.1\r\nHost: t\r\nRange: bytes=4-\r\nIf-Range: {etag}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(part.starts_with("HTTP/1.1 206"), "{part}");
    assert_eq!(header(&part, "content-range"), Some("bytes 4-9/10"));
    assert!(part.ends_with("\r\n\r\n456789"), "{part}");

    let cached = exchange(
        &addr,
        &format!(
            "GET /pkgs/x.tar HTTP/1.1\r\nHost: t\r\nIf-None-Match: {etag}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(cached.starts_with("HTTP/1.1 304"), "{cached}");

    let escape = exchange(
        &addr,
        "GET /../etc/passwd HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert!(
        escape.starts_with("HTTP/1.1 400") || escape.starts_with("HTTP/1.1 404"),
        "{escape}"
    );
}

#[test]
fn a_missing_directory_is_one_clear_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_ghostnet"))
        .args(["serve", "/nonexistent/ghostnet-serve-test"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("is not a directory"), "{stderr}");
}

#[test]
fn serves_over_tls_with_alpn() {
    use ghostnet_transport::tls::testing::TestPki;
    use ghostnet_transport::{TlsClientConfig, TlsStream};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.tar"), "0123456789").unwrap();
    let keys = tempfile::tempdir().unwrap();
    let pki = TestPki::localhost();
    let (cert, key) = (keys.path().join("cert.pem"), keys.path().join("key.pem"));
    std::fs::write(&cert, &pki.cert_pem).unwrap();
    std::fs::write(&key, &pki.key_pem).unwrap();
    let (_server, addr) = serve_with(
        dir.path(),
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        "https://",
    );
    let port = addr.rsplit(':').next().unwrap().to_owned();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let connect = |alpn: &'static [&'static str]| {
            let (addr, port, ca) = (addr.clone(), port.clone(), pki.ca_pem.clone());
            async move {
                let config = TlsClientConfig::builder()
                    .webpki_roots(false)
                    .native_roots(false)
                    .extra_ca_pem(&ca)
                    .alpn(alpn.iter().map(|a| a.as_bytes()))
                    .build()
                    .unwrap();
                let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
                let target = format!("localhost:{port}").parse().unwrap();
                let tls: TlsStream<tokio::net::TcpStream> =
                    config.connect(&target, tcp).await.unwrap();
                tls
            }
        };
        let h2 = connect(&["h2", "http/1.1"]).await;
        assert_eq!(h2.alpn(), Some(&b"h2"[..]), "h2 is preferred");
        // A range request over that HTTP/2 connection.
        let sender = ghostnet_http2::client::connect(h2, &ghostnet_http2::Settings::default())
            .await
            .unwrap();
        let req = http::Request::get(format!("https://localhost:{port}/x.tar"))
            .header("range", "bytes=2-4")
            .body(ghostnet_http2::Body::empty())
            .unwrap();
        let res = sender.send(req).await.unwrap();
        assert_eq!(res.status(), 206);
        assert_eq!(res.headers()["content-range"], "bytes 2-4/10");
        assert_eq!(&res.into_body().collect().await.unwrap()[..], b"234");

        let mut h1 = connect(&["http/1.1"]).await;
        assert_eq!(h1.alpn(), Some(&b"http/1.1"[..]));
        h1.write_all(b"GET /x.tar HTTP/1.1\r\nHost: localhost\r\nRange: bytes=6-\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        h1.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8(answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 206"), "{answer}");
        assert_eq!(header(&answer, "content-range"), Some("bytes 6-9/10"));
        assert!(answer.ends_with("\r\n\r\n6789"), "{answer}");
    });
}
