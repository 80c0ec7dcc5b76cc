//! Shared by the example tests: HTTP/1.1 requests through ghostnet-http1's client,
//! HTTP/2 through ghostnet-http2's, and a throwaway PKI for TLS.

#![allow(dead_code, unreachable_pub)]

use ghostnet::http::http::{HeaderMap, Request, StatusCode, Version};
use ghostnet::http1::client::Client;
use ghostnet::http2::Settings;
use ghostnet::http2::client::SendRequest;
use ghostnet::transport::Stream;

/// A response with its body collected.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One HTTP/1.1 request through `client`; `headers` are added as given.
pub async fn h1<D: ghostnet::transport::Dial + Clone>(
    client: &Client<D>,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let mut req = Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(ghostnet::http1::Body::from(body.to_owned()))
        .unwrap();
    let res = client.request(req).await.unwrap();
    let (parts, body) = res.into_parts();
    Resp {
        status: parts.status,
        version: parts.version,
        headers: parts.headers,
        body: String::from_utf8(body.bytes().await.unwrap().to_vec()).unwrap(),
    }
}

/// An HTTP/2 connection (prior knowledge, or the ALPN `h2` a TLS stream chose).
pub async fn h2_connect<S: Stream>(io: S) -> SendRequest {
    ghostnet::http2::client::connect(io, &Settings::default())
        .await
        .unwrap()
}

/// One HTTP/2 request on `client`.
pub async fn h2(
    client: &SendRequest,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("http://localhost{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(ghostnet::http2::Body::from(body.to_owned()))
        .unwrap();
    let (parts, body) = client.send(req).await.unwrap().into_parts();
    let bytes = body.with_limit(1 << 20).collect().await.unwrap();
    Resp {
        status: parts.status,
        version: parts.version,
        headers: parts.headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// A CA certificate and a `localhost` certificate signed by it, with its key (PEM).
pub fn pki() -> (String, String, String) {
    let pki = ghostnet::transport::tls::testing::TestPki::localhost();
    (pki.ca_pem, pki.cert_pem, pki.key_pem)
}

pub fn installed(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}
