//! The server with this crate's client: bodies in both directions, trailers, HEAD and
//! bodiless statuses, header hygiene, panics, cancellation, ALPN.

mod support;

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use ghostnet_http2::{Body, Error, Server, Settings, client};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::{ConnectionInfo, Dial, Listen, MemoryNetwork, MemoryStream, Stream};
use http::{HeaderMap, Request, Response, StatusCode};
use support::{TestServer, get, hello_or_echo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

#[tokio::test]
async fn get_and_streaming_echo_over_tcp() {
    let server = TestServer::tcp(Settings::default(), hello_or_echo).await;
    let client = server.client().await;
    let res = client.send(get("/")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.version(), http::Version::HTTP_2);
    assert_eq!(res.headers()["content-length"], "13");
    assert_eq!(res.into_body().collect().await.unwrap(), "Hello, World!");

    // A streaming request body, in pieces, echoed back.
    let (mut tx, body) = Body::channel();
    let req = Request::post("http://test/echo").body(body).unwrap();
    let sending = tokio::spawn(async move {
        for i in 0..100u8 {
            tx.send_data(Bytes::from(vec![i; 1000])).await.unwrap();
        }
    });
    let res = client.send(req).await.unwrap();
    sending.await.unwrap();
    let body = res.into_body().collect().await.unwrap();
    assert_eq!(body.len(), 100_000);
    assert!(
        body.chunks(1000)
            .enumerate()
            .all(|(i, c)| c.iter().all(|&b| b == i as u8))
    );
    drop(client);
    server.stop().await;
}

async fn trailers_echo(mut req: Request<Body>) -> Response<Body> {
    let body = req.body_mut();
    let mut n = 0;
    while let Some(chunk) = body.data().await {
        n += chunk.unwrap().len();
    }
    let got = body.trailers().cloned().unwrap_or_default();
    let (mut tx, out) = Body::channel();
    tokio::spawn(async move {
        tx.send_data(Bytes::from(format!("{n} bytes")))
            .await
            .unwrap();
        let mut t = HeaderMap::new();
        t.insert(
            "x-checksum",
            got.get("x-checksum")
                .cloned()
                .unwrap_or("none".parse().unwrap()),
        );
        tx.send_trailers(t).await.unwrap();
    });
    Response::new(out)
}

#[tokio::test]
async fn trailers_both_ways() {
    let server = TestServer::memory(Settings::default(), trailers_echo).await;
    let client = server.client().await;
    let (mut tx, body) = Body::channel();
    tokio::spawn(async move {
        tx.send_data("abc".into()).await.unwrap();
        let mut t = HeaderMap::new();
        t.insert("x-checksum", "c0ffee".parse().unwrap());
        tx.send_trailers(t).await.unwrap();
    });
    let req = Request::post("http://test/").body(body).unwrap();
    let mut res = client.send(req).await.unwrap().into_body();
    assert_eq!(res.data().await.unwrap().unwrap(), "3 bytes");
    assert!(res.data().await.is_none());
    assert_eq!(res.trailers().unwrap()["x-checksum"], "c0ffee");
    drop(client);
    server.stop().await;
}

async fn statuses(req: Request<Body>) -> Response<Body> {
    match req.uri().path() {
        "/no-content" => Response::builder()
            .status(StatusCode::NO_CONTENT)
            .body(Body::from("ignored"))
            .unwrap(),
        "/hop" => Response::builder()
            .header("connection", "keep-alive, x-hop")
            .header("x-hop", "1")
            .header("keep-alive", "timeout=5")
            .header("transfer-encoding", "chunked")
            .header("x-kept", "yes")
            .body(Body::from("hop"))
            .unwrap(),
        "/panic" => panic!("handler bug"),
        // Panics once it has had to wait, on a task of its own.
        "/panic-later" => {
            tokio::task::yield_now().await;
            panic!("handler bug after a wait")
        }
        // Has to wait before it answers.
        "/later" => {
            tokio::task::yield_now().await;
            Response::new(Body::from("later"))
        }
        _ => Response::new(Body::from("Hello, World!")),
    }
}

#[tokio::test]
async fn head_and_bodiless_statuses_carry_no_body() {
    let server = TestServer::memory(Settings::default(), statuses).await;
    let client = server.client().await;
    let head = Request::head("http://test/").body(Body::empty()).unwrap();
    let res = client.send(head).await.unwrap();
    assert_eq!(
        res.headers()["content-length"],
        "13",
        "HEAD has the GET's length"
    );
    assert!(res.body().is_end_stream(), "HEAD has no body");
    let res = client.send(get("/no-content")).await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(res.headers().get("content-length").is_none());
    assert!(res.into_body().collect().await.unwrap().is_empty());
    drop(client);
    server.stop().await;
}

#[tokio::test]
async fn http1_connection_headers_are_dropped_not_fatal() {
    let server = TestServer::memory(Settings::default(), statuses).await;
    let client = server.client().await;
    let res = client.send(get("/hop")).await.unwrap();
    for gone in ["connection", "x-hop", "keep-alive", "transfer-encoding"] {
        assert!(res.headers().get(gone).is_none(), "{gone} was sent");
    }
    assert_eq!(res.headers()["x-kept"], "yes");
    assert_eq!(res.into_body().collect().await.unwrap(), "hop");
    // The same for a request: h2 would refuse them otherwise.
    let req = Request::get("http://test/")
        .header("connection", "close")
        .header("upgrade", "websocket")
        .body(Body::empty())
        .unwrap();
    assert_eq!(client.send(req).await.unwrap().status(), StatusCode::OK);
    drop(client);
    server.stop().await;
}

#[tokio::test]
async fn a_panicking_handler_gets_500_and_the_connection_lives() {
    let server = TestServer::memory(Settings::default(), statuses).await;
    let client = server.client().await;
    // A handler that panics at once (run on the connection's task) and one that
    // panics after a wait (on a task of its own).
    for path in ["/panic", "/panic-later"] {
        let res = client.send(get(path)).await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        let res = client.send(get("/")).await.unwrap();
        assert_eq!(res.into_body().collect().await.unwrap(), "Hello, World!");
    }
    drop(client);
    server.stop().await;
}

#[tokio::test]
async fn handlers_ready_at_once_and_after_a_wait_share_a_connection() {
    let server = TestServer::memory(Settings::default(), statuses).await;
    let client = server.client().await;
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..200 {
        let client = client.clone();
        let path = if i % 3 == 0 { "/later" } else { "/" };
        requests.spawn(async move {
            let res = client.send(get(path)).await.unwrap();
            (path, res.into_body().collect().await.unwrap())
        });
    }
    while let Some(done) = requests.join_next().await {
        let (path, body) = done.unwrap();
        let want = if path == "/later" {
            "later"
        } else {
            "Hello, World!"
        };
        assert_eq!(body, want, "{path}");
    }
    drop(client);
    server.stop().await;
}

#[tokio::test]
async fn request_body_over_the_collect_limit_is_413() {
    let server = TestServer::memory(Settings::default(), hello_or_echo).await;
    let client = server.client().await;
    let big = vec![0u8; (ghostnet_http2::DEFAULT_COLLECT_LIMIT + 1) as usize];
    let req = Request::post("http://test/").body(Body::from(big)).unwrap();
    let res = client.send(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    drop(client);
    server.stop().await;
}

#[tokio::test]
async fn client_reset_cancels_the_handler() {
    let dropped = Arc::new(AtomicBool::new(false));
    let started = Arc::new(tokio::sync::Notify::new());
    let service = {
        let (dropped, started) = (dropped.clone(), started.clone());
        move |_req: Request<Body>| {
            let guard = SetOnDrop(dropped.clone());
            let started = started.clone();
            async move {
                let _guard = guard;
                started.notify_one();
                std::future::pending::<Response<Body>>().await
            }
        }
    };
    let server = TestServer::memory(Settings::default(), service).await;
    let client = server.client().await;
    let request = tokio::spawn({
        let client = client.clone();
        async move { client.send(get("/slow")).await }
    });
    started.notified().await;
    // Dropping the pending request resets the stream (CANCEL).
    request.abort();
    let _ = request.await;
    while !dropped.load(Ordering::SeqCst) {
        tokio::task::yield_now().await;
    }
    drop(client);
    server.stop().await;
}

struct SetOnDrop(Arc<AtomicBool>);
impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A memory stream that claims TLS negotiated `alpn`.
struct WithAlpn(MemoryStream, &'static [u8]);

impl Stream for WithAlpn {
    fn info(&self) -> ConnectionInfo {
        self.0.info().with_alpn(Some(self.1.to_vec()))
    }
}
impl AsyncRead for WithAlpn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}
impl AsyncWrite for WithAlpn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn alpn_must_be_h2_when_present() {
    let net = MemoryNetwork::new();
    let target = "tls.test:443".parse().unwrap();
    let listener = net.listen(&target).unwrap();
    let server = Server::new(Settings::default()).unwrap();
    let service = Arc::new(hello_or_echo);

    // http/1.1 on the server side: refused before any byte is read.
    let _c = net.dialer().dial(&target).await.unwrap();
    let (io, _) = listener.accept().await.unwrap();
    let err = server
        .serve_connection(
            WithAlpn(io, b"http/1.1"),
            service.clone(),
            Shutdown::new().token(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::AlpnMismatch { alpn } if alpn == "http/1.1"),
        "{err}"
    );
    // Same on the client side.
    let c = net.dialer().dial(&target).await.unwrap();
    drop(listener.accept().await.unwrap());
    let err = client::handshake(WithAlpn(c, b"http/1.1"), &Settings::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::AlpnMismatch { .. }), "{err}");

    // h2 on both sides: served.
    let c = net.dialer().dial(&target).await.unwrap();
    let (io, _) = listener.accept().await.unwrap();
    let token = Shutdown::new().token();
    let serving = tokio::spawn({
        let server = server.clone();
        let token = token.clone();
        async move {
            server
                .serve_connection(WithAlpn(io, b"h2"), service, token)
                .await
        }
    });
    let client = client::connect(WithAlpn(c, b"h2"), &Settings::default())
        .await
        .unwrap();
    let res = client.send(get("/")).await.unwrap();
    assert_eq!(res.into_body().collect().await.unwrap(), "Hello, World!");
    drop(client);
    serving.await.unwrap().unwrap();
}
