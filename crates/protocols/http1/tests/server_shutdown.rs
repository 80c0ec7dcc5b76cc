//! Graceful shutdown: stop accepting, finish in-flight requests, close idle connections.

mod support;

use std::time::Duration;

use ghostnet_http1::Body;
use http::{Method, Request, Response};
use support::{Client, TestServer};
use tokio::sync::mpsc;

#[tokio::test]
async fn in_flight_requests_finish_and_idle_connections_close() {
    let (entered_tx, mut entered) = mpsc::unbounded_channel::<()>();
    let (release_tx, release) = tokio::sync::watch::channel(false);
    let server = TestServer::start(move |req: Request<Body>| {
        let entered_tx = entered_tx.clone();
        let mut release = release.clone();
        async move {
            if req.uri().path() == "/slow" {
                entered_tx.send(()).unwrap();
                release.wait_for(|r| *r).await.unwrap();
            }
            Response::new(Body::from("done"))
        }
    })
    .await;

    // One idle kept-alive connection, one with a request in flight.
    let mut idle = Client::new(server.connect().await);
    idle.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert_eq!(idle.read(Method::GET).await.unwrap().body, "done");
    let mut busy = Client::new(server.connect().await);
    busy.send(b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n").await;
    entered.recv().await.unwrap();

    server.shutdown.trigger();
    server.task.await.unwrap().unwrap(); // the accept loop has stopped
    assert!(idle.is_closed().await, "idle connection closed at once");

    let drained = tokio::spawn({
        let shutdown = server.shutdown.clone();
        async move { shutdown.shutdown().await }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    release_tx.send(true).unwrap();
    let r = busy.read(Method::GET).await.unwrap();
    assert_eq!(r.body, "done", "in-flight request finished");
    assert_eq!(r.header("connection"), Some("close"));
    assert!(busy.is_closed().await);
    let report = drained.await.unwrap();
    assert!(report.is_clean(), "{report}");

    // Nobody accepts any more.
    let refused = tokio::time::timeout(Duration::from_secs(2), async {
        let mut c = Client::new(tokio::net::TcpStream::connect(server.addr).await.ok()?);
        c.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
        c.read(Method::GET).await
    })
    .await;
    assert!(
        !matches!(refused, Ok(Some(_))),
        "a connection was served after shutdown"
    );
}
