//! Keep-alive, pipelining, `Connection: close`, HTTP/1.0 keep-alive, idle timeout.

mod support;

use std::time::Duration;

use ghostnet_http1::{Body, Server};
use http::{Method, Request, Response};
use support::{Client, MemServer, TestServer, echo};

async fn path_echo(req: Request<Body>) -> Response<Body> {
    Response::new(Body::from(req.uri().path().to_owned()))
}

#[tokio::test]
async fn many_requests_on_one_connection() {
    let server = TestServer::start(path_echo).await;
    let mut c = Client::new(server.connect().await);
    for i in 0..20 {
        c.send(format!("GET /r{i} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes())
            .await;
        let r = c.read(Method::GET).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.body, format!("/r{i}"));
        assert!(r.head.keep_alive);
        assert!(r.header("date").is_some_and(|d| d.ends_with(" GMT")));
    }
    server.stop().await;
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let server = TestServer::start(path_echo).await;
    let mut c = Client::new(server.connect().await);
    let batch: String = (0..16)
        .map(|i| format!("GET /p{i} HTTP/1.1\r\nHost: a\r\n\r\n"))
        .collect();
    c.send(batch.as_bytes()).await;
    for i in 0..16 {
        let r = c.read(Method::GET).await.unwrap();
        assert_eq!(r.body, format!("/p{i}"));
    }
    // Bodies interleaved with heads in one write.
    c.send(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /y HTTP/1.1\r\nHost: a\r\n\r\n")
        .await;
    assert_eq!(c.read(Method::POST).await.unwrap().body, "/x");
    assert_eq!(c.read(Method::GET).await.unwrap().body, "/y");
    server.stop().await;
}

#[tokio::test]
async fn connection_close_is_honoured() {
    let server = TestServer::start(echo).await;
    let mut c = Client::new(server.connect().await);
    c.send(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .await;
    let r = c.read(Method::GET).await.unwrap();
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed().await);
    server.stop().await;
}

#[tokio::test]
async fn http10_closes_unless_keep_alive_is_asked() {
    let server = TestServer::start(path_echo).await;
    let mut c = Client::new(server.connect().await);
    c.send(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .await;
    let r = c.read(Method::GET).await.unwrap();
    assert_eq!(r.header("connection"), Some("keep-alive"));
    assert_eq!(r.header("content-length"), Some("2"));
    c.send(b"GET /b HTTP/1.0\r\n\r\n").await;
    let r = c.read(Method::GET).await.unwrap();
    assert_eq!(r.body, "/b");
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed().await);
    server.stop().await;
}

#[tokio::test]
async fn http10_streaming_body_is_close_delimited() {
    let server = TestServer::start(|_req: Request<Body>| async {
        let (mut tx, body) = Body::channel();
        tokio::spawn(async move {
            for part in ["one ", "two"] {
                tx.send_data(part.into()).await.unwrap();
            }
        });
        Response::new(body)
    })
    .await;
    let mut c = Client::new(server.connect().await);
    c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .await;
    let r = c.read(Method::GET).await.unwrap();
    assert_eq!(r.body, "one two");
    assert!(r.header("transfer-encoding").is_none());
    assert_eq!(r.header("connection"), Some("close"));
    server.stop().await;
}

#[tokio::test(start_paused = true)]
async fn idle_connections_close_after_the_keep_alive_timeout() {
    let builder = Server::builder().keep_alive_timeout(Duration::from_secs(7));
    let server = MemServer::start(builder, path_echo);
    let mut c = server.connect().await;
    c.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert_eq!(c.read(Method::GET).await.unwrap().status(), 200);
    let start = tokio::time::Instant::now();
    assert!(c.is_closed().await);
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(7), "closed after {waited:?}");
    assert!(waited < Duration::from_secs(8), "closed after {waited:?}");
}

#[tokio::test(start_paused = true)]
async fn keep_alive_timer_restarts_with_each_request() {
    let builder = Server::builder().keep_alive_timeout(Duration::from_secs(10));
    let server = MemServer::start(builder, path_echo);
    let mut c = server.connect().await;
    // Requests every 6 s: never idle for 10 s, so the connection stays up for 30 s.
    for _ in 0..5 {
        c.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
        assert_eq!(c.read(Method::GET).await.unwrap().status(), 200);
        tokio::time::sleep(Duration::from_secs(6)).await;
    }
    c.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert_eq!(c.read(Method::GET).await.unwrap().status(), 200);
}

#[tokio::test]
async fn keep_alive_can_be_turned_off() {
    let server = TestServer::start_with(Server::builder().keep_alive(false), path_echo).await;
    let mut c = Client::new(server.connect().await);
    c.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    let r = c.read(Method::GET).await.unwrap();
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed().await);
    server.stop().await;
}

#[tokio::test]
async fn serve_connection_serves_one_accepted_stream_until_cancelled() {
    use ghostnet_transport::{Dial, Listen, MemoryNetwork};
    let net = MemoryNetwork::new();
    let listener = net.listen(&"one.test:80".parse().unwrap()).unwrap();
    let client = net
        .dialer()
        .dial(&"one.test:80".parse().unwrap())
        .await
        .unwrap();
    let (stream, _) = listener.accept().await.unwrap();
    let token = tokio_util::sync::CancellationToken::new();
    let server = Server::builder().build();
    let serving = tokio::spawn({
        let token = token.clone();
        async move {
            server
                .serve_connection(stream, std::sync::Arc::new(path_echo), token)
                .await
        }
    });
    let mut c = Client::new(client);
    c.send(b"GET /one HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert_eq!(c.read(Method::GET).await.unwrap().body, "/one");
    token.cancel(); // idle now: the connection closes
    assert!(c.is_closed().await);
    serving.await.unwrap().unwrap();
}
