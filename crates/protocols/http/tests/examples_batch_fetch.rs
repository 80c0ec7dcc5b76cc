//! `examples/batch_fetch.rs`, compiled here as a module: its server and its `fetch`
//! over h2c (one multiplexed connection) and over pooled HTTP/1.1, every body in order.

#[allow(dead_code)]
#[path = "../examples/batch_fetch.rs"]
mod batch_fetch;

use ghostnet_http::Server;
use ghostnet_http::client::Protocol;
use ghostnet_runtime::Shutdown;
use ghostnet_transport::{TcpListener, TcpOptions};

async fn check(http1: bool, want: Protocol) {
    let listener =
        TcpListener::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::default()).unwrap();
    let addr = listener.local_addr();
    let shutdown = Shutdown::new();
    let server = Server::builder().build().unwrap();
    let serving = tokio::spawn(server.serve(listener, batch_fetch::router(), shutdown.clone()));
    let summary = batch_fetch::fetch(addr, 100, http1).await.unwrap();
    assert_eq!((summary.urls, summary.ok), (100, 100));
    assert_eq!(summary.protocol, Some(want));
    let want_bodies: Vec<String> = (0..100).map(|n| format!("item {n}\n")).collect();
    assert_eq!(summary.bodies, want_bodies);
    assert_eq!(
        summary.bytes,
        want_bodies.iter().map(String::len).sum::<usize>()
    );
    shutdown.shutdown().await;
    serving.await.unwrap().unwrap();
}

#[tokio::test]
async fn fetches_100_urls_over_h2c() {
    check(false, Protocol::H2).await;
}

#[tokio::test]
async fn fetches_100_urls_over_pooled_http1() {
    check(true, Protocol::Http11).await;
}
