//! Shared by the integration tests: servers on 127.0.0.1:0 (plain and TLS with an rcgen
//! PKI), a raw HTTP/1.1 client over any stream, and an HTTP/2 client from
//! ghostnet-http2.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;

use bytes::Bytes;
use ghostnet_http::{ALPN, Server, Service};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::tls::{TlsClientConfig, TlsServerConfig};
use ghostnet_transport::{Listen, Stream, TcpListener, TcpOptions, TlsListener, TlsStream};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// A running server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub shutdown: Shutdown,
    pub serving: JoinHandle<ghostnet_http::Result<()>>,
    /// The CA certificate clients trust (TLS servers only).
    pub ca_pem: Option<String>,
}

/// Serves `service` with the default [`Server`] on plain TCP.
pub async fn start<S: Service>(service: S) -> TestServer {
    start_with(Server::builder().build().unwrap(), service).await
}

/// Serves `service` with `server` on plain TCP.
pub async fn start_with<S: Service>(server: Server, service: S) -> TestServer {
    let listener =
        TcpListener::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::default()).unwrap();
    let addr = listener.local_addr();
    serve_on(server, listener, addr, service, None)
}

fn serve_on<L: Listen, S: Service>(
    server: Server,
    listener: L,
    addr: SocketAddr,
    service: S,
    ca_pem: Option<String>,
) -> TestServer {
    let shutdown = Shutdown::new();
    let serving = tokio::spawn(server.serve(listener, service, shutdown.clone()));
    TestServer {
        addr,
        shutdown,
        serving,
        ca_pem,
    }
}

/// Serves `service` over TLS offering ALPN `h2` and `http/1.1`, with a certificate for
/// `localhost` from a fresh CA.
pub async fn start_tls<S: Service>(service: S) -> TestServer {
    let (ca_pem, cert_pem, key_pem) = pki();
    let config = TlsServerConfig::builder()
        .cert_pem(cert_pem, key_pem)
        .alpn(ALPN)
        .build()
        .unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::default()).unwrap();
    let addr = tcp.local_addr();
    let listener = TlsListener::new(tcp, config);
    serve_on(
        Server::builder().build().unwrap(),
        listener,
        addr,
        service,
        Some(ca_pem),
    )
}

/// A CA certificate and a `localhost` certificate signed by it, with its key.
pub fn pki() -> (String, String, String) {
    let pki = ghostnet_transport::tls::testing::TestPki::localhost();
    (pki.ca_pem, pki.cert_pem, pki.key_pem)
}

impl TestServer {
    /// A TCP connection.
    pub async fn tcp(&self) -> TcpStream {
        TcpStream::connect(self.addr).await.unwrap()
    }

    /// A TLS connection offering `alpn`; returns the stream (its ALPN in `info()`).
    pub async fn tls(&self, alpn: &[&str]) -> TlsStream<TcpStream> {
        let config = TlsClientConfig::builder()
            .webpki_roots(false)
            .native_roots(false)
            .extra_ca_pem(self.ca_pem.as_ref().expect("a TLS server"))
            .alpn(alpn.iter().map(|a| a.as_bytes()))
            .build()
            .unwrap();
        let tcp = self.tcp().await;
        let target = format!("localhost:{}", self.addr.port()).parse().unwrap();
        config.connect(&target, tcp).await.unwrap()
    }

    /// One HTTP/1.1 request on a new connection (`Connection: close` is added).
    pub async fn h1(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut tcp = self.tcp().await;
        h1_request(&mut tcp, method, path, headers).await
    }

    /// An HTTP/2 connection (prior knowledge) over TCP.
    pub async fn h2(&self) -> ghostnet_http2::client::SendRequest {
        h2_client(self.tcp().await).await
    }

    /// Stops accepting and drains.
    pub async fn stop(self) -> ghostnet_runtime::ShutdownReport {
        self.shutdown.trigger();
        self.serving.await.unwrap().unwrap();
        self.shutdown.shutdown().await
    }
}

/// A response read off the wire (or from an HTTP/2 client).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

/// Sends one request with `Connection: close` and reads the response to EOF.
pub async fn h1_request<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Resp {
    let mut req = format!("{method} {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n");
    for (k, v) in headers {
        req += &format!("{k}: {v}\r\n");
    }
    req += "\r\n";
    io.write_all(req.as_bytes()).await.unwrap();
    let raw = read_to_close(io).await;
    parse_response(&raw, method == "HEAD")
}

/// Reads until the peer closes. A TLS peer that closes without `close_notify` (the
/// HTTP/1.1 server drops idle TLS connections without it) is taken as closed.
pub async fn read_to_close<S: AsyncRead + Unpin>(io: &mut S) -> Vec<u8> {
    let mut raw = Vec::new();
    match io.read_to_end(&mut raw).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(e) => panic!("read failed: {e}"),
    }
    raw
}

/// Parses one HTTP/1.1 response (Content-Length, chunked or close-delimited).
pub fn parse_response(raw: &[u8], head_request: bool) -> Resp {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no head in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let code: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = HeaderMap::new();
    for line in lines {
        let (k, v) = line.split_once(':').unwrap();
        headers.append(
            HeaderName::from_bytes(k.trim().as_bytes()).unwrap(),
            HeaderValue::from_str(v.trim()).unwrap(),
        );
    }
    let rest = &raw[end + 4..];
    let body = if head_request {
        assert!(rest.is_empty(), "a HEAD answer has no body");
        Vec::new()
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|v| v == "chunked")
    {
        dechunk(rest)
    } else if let Some(len) = headers.get("content-length") {
        let len: usize = len.to_str().unwrap().parse().unwrap();
        assert_eq!(rest.len(), len, "body length vs content-length");
        rest.to_vec()
    } else {
        rest.to_vec()
    };
    Resp {
        status: StatusCode::from_u16(code).unwrap(),
        headers,
        body: Bytes::from(body),
    }
}

fn dechunk(mut s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = s
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size_str = std::str::from_utf8(&s[..eol]).unwrap();
        let size = usize::from_str_radix(size_str.split(';').next().unwrap().trim(), 16).unwrap();
        s = &s[eol + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&s[..size]);
        assert_eq!(&s[size..size + 2], b"\r\n");
        s = &s[size + 2..];
    }
}

/// An HTTP/2 client over `io`.
pub async fn h2_client<S: Stream>(io: S) -> ghostnet_http2::client::SendRequest {
    ghostnet_http2::client::connect(io, &ghostnet_http2::Settings::default())
        .await
        .unwrap()
}

/// One HTTP/2 request; the body is collected.
pub async fn h2_request(
    client: &ghostnet_http2::client::SendRequest,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Resp {
    let mut req = http::Request::builder()
        .method(method)
        .uri(format!("http://localhost{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = client
        .send(req.body(ghostnet_http2::Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = res.into_parts();
    Resp {
        status: parts.status,
        headers: parts.headers,
        body: body.with_limit(u64::MAX).collect().await.unwrap(),
    }
}
