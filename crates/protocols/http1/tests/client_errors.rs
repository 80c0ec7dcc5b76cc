//! Bad input gets a clear error, never a panic or a hang: unusable URLs and requests,
//! refused connections, oversized or malformed response heads.

mod client_support;

use client_support::*;
use ghostnet_http1::client::Client;
use ghostnet_http1::{Body, Error, Limits};
use http::Request;

#[tokio::test]
async fn unusable_urls() {
    let client = Client::new();
    for (url, needle) in [
        ("/just/a/path", "not absolute"),
        ("not a url at all", "does not parse"),
        ("http://user:secret@example.test/", "credentials"),
        ("http://example.test:0/", "port 0"),
    ] {
        let err = client.get(url).await.unwrap_err();
        assert!(matches!(err, Error::InvalidUrl { .. }), "{url}: {err:?}");
        assert!(err.to_string().contains(needle), "{url}: {err}");
    }
    let err = client.get("ftp://example.test/file").await.unwrap_err();
    assert!(
        matches!(&err, Error::UnsupportedScheme { scheme } if scheme == "ftp"),
        "{err:?}"
    );
}

#[tokio::test]
async fn unsendable_requests() {
    let server = serve_tcp(hello);
    let client = Client::new();
    let cases = [
        Request::post(&server.base)
            .header("transfer-encoding", "gzip")
            .body(Body::from("x"))
            .unwrap(),
        Request::post(&server.base)
            .header("content-length", "3")
            .body(Body::from("four"))
            .unwrap(),
        Request::connect(&server.base).body(Body::empty()).unwrap(),
    ];
    for req in cases {
        let err = client.request(req).await.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    }
    // Nothing half-sent was left in the pool.
    assert_eq!(client.http_pool().stats().idle, 0);
    assert_eq!(client.get(&server.base).await.unwrap().status(), 200);
}

#[tokio::test]
async fn refused_connections_say_so() {
    // Bind, learn the port, close: nothing listens there now.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = Client::new()
        .get(&format!("http://127.0.0.1:{port}/"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect(_)), "{err:?}");
    assert!(
        err.to_string().contains("could not open a connection"),
        "{err}"
    );
}

/// A raw server answering every request with `reply`.
fn replying(reply: Vec<u8>) -> String {
    raw_tcp(move |_, mut peer, _| {
        let reply = reply.clone();
        async move {
            if peer.read_request().await.is_some() {
                peer.send(&reply).await;
            }
        }
    })
    .0
}

#[tokio::test]
async fn malformed_and_oversized_heads() {
    let client = Client::builder()
        .limits(Limits::default().max_head_bytes(4096))
        .build()
        .unwrap();
    let mut huge = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..200 {
        huge.extend_from_slice(format!("x-filler-{i}: {}\r\n", "y".repeat(40)).as_bytes());
    }
    huge.extend_from_slice(b"\r\n");
    type Expect = fn(&Error) -> bool;
    let cases: [(&[u8], Expect); 6] = [
        (&huge, |e| matches!(e, Error::HeadTooLarge { limit: 4096 })),
        (b"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", |e| {
            matches!(e, Error::InvalidHead { .. })
        }),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            |e| matches!(e, Error::InvalidContentLength { .. }),
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
            |e| matches!(e, Error::AmbiguousFraming { .. }),
        ),
        (
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
            |e| matches!(e, Error::InvalidHead { reason } if reason.contains("101")),
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Le",
            |e| matches!(e, Error::InvalidHead { reason } if reason.contains("middle of a response head")),
        ),
    ];
    for (reply, expected) in cases {
        let base = replying(reply.to_vec());
        let err = client.get(&base).await.unwrap_err();
        assert!(
            expected(&err),
            "{:?}: {err:?}",
            String::from_utf8_lossy(&reply[..reply.len().min(40)])
        );
        assert!(
            err.to_string().chars().next().unwrap().is_lowercase(),
            "{err}"
        );
    }
}

#[tokio::test]
async fn a_bad_chunk_fails_the_body() {
    let base = replying(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n".to_vec(),
    );
    let err = Client::new()
        .get(&base)
        .await
        .unwrap()
        .into_body()
        .bytes()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidChunk { .. }), "{err:?}");
}
