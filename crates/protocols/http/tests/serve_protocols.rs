//! One port, every protocol: the same route answered over HTTP/1.1, h2c with prior
//! knowledge, h2c upgrade (raw frames, and curl when installed), TLS with ALPN `h2`
//! and `http/1.1`, TLS without ALPN, and the in-memory transport.

mod support;

use ghostnet_http::{Request, RequestExt, Router, Server, get};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::{Dial, MemoryNetwork, Stream};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// Says which protocol and transport carried the request.
fn router() -> Router {
    Router::new().route(
        "/who",
        get(|req: Request| async move {
            let secure = req.conn_info().is_some_and(|c| c.secure);
            let peer = req.remote_addr().is_some();
            format!("{:?} secure={secure} peer={peer}", req.version())
        }),
    )
}

#[tokio::test]
async fn http1_and_h2c_prior_knowledge_on_one_port() {
    let server = support::start(router()).await;
    let res = server.h1("GET", "/who", &[]).await;
    assert_eq!(res.text(), "HTTP/1.1 secure=false peer=true");
    let h2 = server.h2().await;
    for _ in 0..3 {
        let res = support::h2_request(&h2, "GET", "/who", &[]).await;
        assert_eq!(res.text(), "HTTP/2.0 secure=false peer=true");
    }
    // HTTP/1.0 still works: detection does not depend on the version.
    let mut tcp = server.tcp().await;
    tcp.write_all(b"GET /who HTTP/1.0\r\n\r\n").await.unwrap();
    let mut raw = Vec::new();
    tcp.read_to_end(&mut raw).await.unwrap();
    let res = support::parse_response(&raw, false);
    assert_eq!(res.text(), "HTTP/1.0 secure=false peer=true");
    assert!(server.stop().await.is_clean());
}

#[tokio::test]
async fn a_slow_first_byte_is_still_detected() {
    let server = support::start(router()).await;
    // "P" alone could start either protocol: the server must wait for more.
    let mut tcp = server.tcp().await;
    tcp.write_all(b"P").await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    tcp.write_all(
        b"OST /who HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut raw = Vec::new();
    tcp.read_to_end(&mut raw).await.unwrap();
    let res = support::parse_response(&raw, false);
    assert_eq!(res.status, 405, "POST on a GET route, read as HTTP/1.1");
    assert!(server.stop().await.is_clean());
}

#[tokio::test]
async fn tls_alpn_chooses_the_protocol() {
    let server = support::start_tls(router()).await;
    let tls = server.tls(&["h2", "http/1.1"]).await;
    assert_eq!(tls.info().alpn.as_deref(), Some(&b"h2"[..]));
    let h2 = support::h2_client(tls).await;
    let res = support::h2_request(&h2, "GET", "/who", &[]).await;
    assert_eq!(res.text(), "HTTP/2.0 secure=true peer=true");

    let mut tls = server.tls(&["http/1.1"]).await;
    assert_eq!(tls.info().alpn.as_deref(), Some(&b"http/1.1"[..]));
    let res = support::h1_request(&mut tls, "GET", "/who", &[]).await;
    assert_eq!(res.text(), "HTTP/1.1 secure=true peer=true");

    // No ALPN at all: the first bytes decide, as on cleartext.
    let mut tls = server.tls(&[]).await;
    assert_eq!(tls.info().alpn, None);
    let res = support::h1_request(&mut tls, "GET", "/who", &[]).await;
    assert_eq!(res.text(), "HTTP/1.1 secure=true peer=true");
    let tls = server.tls(&[]).await;
    let h2 = support::h2_client(tls).await;
    let res = support::h2_request(&h2, "GET", "/who", &[]).await;
    assert_eq!(res.text(), "HTTP/2.0 secure=true peer=true");
    assert!(server.stop().await.is_clean());
}

#[tokio::test]
async fn in_memory_streams_are_detected_too() {
    let net = MemoryNetwork::new();
    let listener = net.listen(&"web.test:80".parse().unwrap()).unwrap();
    let shutdown = Shutdown::new();
    let server = Server::builder().build().unwrap();
    let serving = tokio::spawn(server.serve(listener, router(), shutdown.clone()));
    let target = "web.test:80".parse().unwrap();
    let mut s = net.dialer().dial(&target).await.unwrap();
    let res = support::h1_request(&mut s, "GET", "/who", &[]).await;
    assert!(res.text().starts_with("HTTP/1.1"), "{}", res.text());
    let h2 = support::h2_client(net.dialer().dial(&target).await.unwrap()).await;
    let res = support::h2_request(&h2, "GET", "/who", &[]).await;
    assert!(res.text().starts_with("HTTP/2.0"), "{}", res.text());
    shutdown.trigger();
    serving.await.unwrap().unwrap();
    assert!(shutdown.shutdown().await.is_clean());
}

#[tokio::test]
async fn h2c_upgrade_answers_on_stream_1_and_continues_as_http2() {
    let server = support::start(router()).await;
    let mut tcp = server.tcp().await;
    tcp.write_all(
        b"GET /who HTTP/1.1\r\nhost: localhost\r\nconnection: Upgrade, HTTP2-Settings\r\n\
          upgrade: h2c\r\nhttp2-settings: AAMAAABkAAQAAP__\r\n\r\n",
    )
    .await
    .unwrap();
    let head = read_head(&mut tcp).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.to_ascii_lowercase().contains("upgrade: h2c"), "{head}");
    // The client preface and SETTINGS, then a second request on stream 3.
    let mut out = ghostnet_http2::h2c::PREFACE.to_vec();
    out.extend_from_slice(&[0, 0, 0, 0x4, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&headers_frame(3, "/who"));
    tcp.write_all(&out).await.unwrap();
    let bodies = read_data(&mut tcp, &[1, 3]).await;
    assert_eq!(bodies[0], b"HTTP/2.0 secure=false peer=true");
    assert_eq!(bodies[1], b"HTTP/2.0 secure=false peer=true");
    drop(tcp); // a raw client never answers the shutdown PING
    assert!(server.stop().await.is_clean());
}

#[tokio::test]
async fn a_bad_upgrade_is_served_as_http1() {
    let server = support::start(router()).await;
    let res = server
        .h1(
            "GET",
            "/who",
            &[
                ("connection", "Upgrade, HTTP2-Settings"),
                ("upgrade", "h2c"),
                ("http2-settings", "!!not base64!!"),
            ],
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "HTTP/1.1 secure=false peer=true");
    let off = support::start_with(
        Server::builder().h2c_upgrade(false).build().unwrap(),
        router(),
    )
    .await;
    let res = off
        .h1(
            "GET",
            "/who",
            &[
                ("connection", "Upgrade, HTTP2-Settings"),
                ("upgrade", "h2c"),
                ("http2-settings", ""),
            ],
        )
        .await;
    assert_eq!(
        res.text(),
        "HTTP/1.1 secure=false peer=true",
        "upgrade turned off"
    );
}

#[tokio::test]
async fn curl_interop_when_installed() {
    let Ok(out) = std::process::Command::new("curl").arg("--version").output() else {
        eprintln!("note: curl is not installed; `cargo xtask test` installs it");
        return;
    };
    if !String::from_utf8_lossy(&out.stdout).contains("HTTP2") {
        eprintln!("note: this curl has no HTTP/2");
        return;
    }
    let server = support::start(router()).await;
    let url = format!("http://{}/who", server.addr);
    for (flag, want) in [
        ("--http1.1", "HTTP/1.1"),
        ("--http2-prior-knowledge", "HTTP/2.0"),
        ("--http2", "HTTP/2.0"), // h2c upgrade
    ] {
        let url = url.clone();
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new("curl")
                .args(["-sS", "--max-time", "10", flag, &url])
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let body = String::from_utf8_lossy(&out.stdout);
        assert!(body.starts_with(want), "{flag}: {body} {:?}", out.stderr);
    }
    assert!(server.stop().await.is_clean());
}

async fn read_head<S: AsyncRead + Unpin>(io: &mut S) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        assert_eq!(io.read(&mut b).await.unwrap(), 1, "EOF in head");
        head.push(b[0]);
    }
    String::from_utf8(head).unwrap()
}

/// A HEADERS frame (END_STREAM | END_HEADERS) for `GET path`, HPACK literals without
/// indexing or Huffman.
fn headers_frame(stream: u32, path: &str) -> Vec<u8> {
    let mut block = Vec::new();
    for (k, v) in [
        (":method", "GET"),
        (":scheme", "http"),
        (":authority", "localhost"),
        (":path", path),
    ] {
        block.push(0);
        block.push(k.len() as u8);
        block.extend_from_slice(k.as_bytes());
        block.push(v.len() as u8);
        block.extend_from_slice(v.as_bytes());
    }
    let len = block.len();
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, 0x1, 0x5];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(&block);
    f
}

/// Reads frames until each of `streams` ended; returns their DATA payloads.
async fn read_data<S: AsyncRead + Unpin>(io: &mut S, streams: &[u32]) -> Vec<Vec<u8>> {
    let mut bodies = vec![Vec::new(); streams.len()];
    let mut ended = vec![false; streams.len()];
    while !ended.iter().all(|e| *e) {
        let mut head = [0u8; 9];
        io.read_exact(&mut head).await.unwrap();
        let len = (usize::from(head[0]) << 16) | (usize::from(head[1]) << 8) | usize::from(head[2]);
        let (kind, flags) = (head[3], head[4]);
        let id = u32::from_be_bytes([head[5] & 0x7f, head[6], head[7], head[8]]);
        let mut payload = vec![0u8; len];
        io.read_exact(&mut payload).await.unwrap();
        assert_ne!(kind, 0x7, "GOAWAY: {payload:?}");
        assert_ne!(kind, 0x3, "RST_STREAM on {id}");
        if let Some(i) = streams.iter().position(|s| *s == id) {
            if kind == 0x0 {
                bodies[i].extend_from_slice(&payload);
            }
            if (kind == 0x0 || kind == 0x1) && flags & 0x1 != 0 {
                ended[i] = true;
            }
        }
    }
    bodies
}
