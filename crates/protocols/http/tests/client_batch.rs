//! batch_get: input order, one HTTP/2 connection, pooled HTTP/1.1 connections, and
//! failures that stay with their own request.

mod client_support;

use client_support::{Counting, Speaks, State, router, serve};
use ghostnet_http::Error;
use ghostnet_http::client::{ClientConfig, HttpClient, Protocol};
use ghostnet_transport::MemoryNetwork;

#[tokio::test]
async fn batch_over_h2_keeps_order_on_one_connection() {
    let net = MemoryNetwork::new();
    let shutdown = serve(&net, "api.test:80", Speaks::Both, router(State::default()));
    let dialer = Counting::new(net.dialer());
    let config = ClientConfig::default().h2_prior_knowledge(true);
    let client = HttpClient::with_dialer(config, dialer.clone()).unwrap();
    let urls: Vec<String> = (0..100).map(|n| format!("http://api.test/n/{n}")).collect();
    let results = client.batch_get(&urls).await;
    assert_eq!(results.len(), 100);
    for (n, r) in results.into_iter().enumerate() {
        let r = r.unwrap();
        assert_eq!(r.protocol(), Protocol::H2);
        assert_eq!(r.text().await.unwrap(), format!("n {n}"));
    }
    assert_eq!(dialer.count(), 1, "all multiplexed on one connection");
    shutdown.shutdown().await;
}

#[tokio::test]
async fn batch_over_http11_spreads_over_pooled_connections() {
    let net = MemoryNetwork::new();
    let shutdown = serve(&net, "api.test:80", Speaks::Both, router(State::default()));
    let dialer = Counting::new(net.dialer());
    let config = ClientConfig::default().max_connections_per_host(4);
    let client = HttpClient::with_dialer(config, dialer.clone()).unwrap();
    let urls: Vec<String> = (0..50).map(|n| format!("http://api.test/n/{n}")).collect();
    let results = client.batch_get(&urls).await;
    for (n, r) in results.into_iter().enumerate() {
        let r = r.unwrap();
        assert_eq!(r.protocol(), Protocol::Http11);
        assert_eq!(r.text().await.unwrap(), format!("n {n}"));
    }
    let dials = dialer.count();
    assert!((1..=4).contains(&dials), "{dials} connections");
    shutdown.shutdown().await;
}

#[tokio::test]
async fn each_request_of_a_batch_fails_on_its_own() {
    let net = MemoryNetwork::new();
    let shutdown = serve(&net, "api.test:80", Speaks::Both, router(State::default()));
    let config = ClientConfig::default().h2_prior_knowledge(true);
    let client = HttpClient::with_dialer(config, net.dialer()).unwrap();
    let urls = [
        "http://api.test/n/1",
        "not a url",
        "http://nobody.test/n/2",
        "http://api.test/status/404",
        "ftp://api.test/",
        "http://api.test/n/5",
    ];
    let results = client.batch_get(&urls).await;
    assert_eq!(results.len(), urls.len());
    let mut it = results.into_iter();
    assert_eq!(it.next().unwrap().unwrap().text().await.unwrap(), "n 1");
    assert!(matches!(it.next().unwrap(), Err(Error::InvalidUrl { .. })));
    let refused = it.next().unwrap().unwrap_err();
    assert!(!matches!(refused, Error::InvalidUrl { .. }), "{refused:?}");
    assert_eq!(it.next().unwrap().unwrap().status(), 404);
    assert!(it.next().unwrap().is_err());
    assert_eq!(it.next().unwrap().unwrap().text().await.unwrap(), "n 5");

    let empty: [&str; 0] = [];
    assert!(client.batch_get(&empty).await.is_empty());
    shutdown.shutdown().await;
}
