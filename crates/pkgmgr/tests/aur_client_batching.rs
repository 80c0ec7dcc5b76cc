//! `AurClient::info`: batches, GET vs POST, input order, missing names, pooled
//! connections.

use ghostnet_http1::client::Client;
use ghostnet_pkgmgr::aur::AurClient;
use ghostnet_pkgmgr::aur::testing::{AurServer, generated_name};

fn local(server: &AurServer) -> ghostnet_pkgmgr::aur::AurClientBuilder {
    AurClient::builder()
        .endpoint(server.endpoint())
        .rate_limit(None)
}

#[tokio::test]
async fn batches_merge_in_input_order_with_missing_names() {
    let server = AurServer::builder().generated(250).start().unwrap();
    let aur = local(&server).batch_size(100).build().unwrap();
    // Reversed, so the server's name order differs from ours; with gaps and duplicates.
    let mut names: Vec<String> = (0..250).rev().map(generated_name).collect();
    names.insert(10, "no-such-package".to_owned());
    names.insert(120, generated_name(249)); // already asked at the front
    names.push("yay".to_owned());
    names.push("also-missing".to_owned());

    let found = aur.info(&names).await.unwrap();

    let got: Vec<&str> = found.packages.iter().map(|p| p.name.as_str()).collect();
    let mut want: Vec<String> = (0..250).rev().map(generated_name).collect();
    want.push("yay".to_owned());
    assert_eq!(got, want);
    assert_eq!(found.missing, ["no-such-package", "also-missing"]);
    // 253 unique names in batches of 100: three requests, all short enough for GET.
    let stats = server.stats();
    assert_eq!((stats.info_get, stats.info_post), (3, 0));
    assert_eq!(aur.stats().requests, 3);
    server.stop().await;
}

#[tokio::test]
async fn long_url_goes_as_post() {
    let server = AurServer::builder().generated(300).start().unwrap();
    // 300 names of ~26 bytes each make a URL of ~7.8 KB: above the 4000-byte default.
    let aur = local(&server).batch_size(1000).build().unwrap();
    let names: Vec<String> = (0..300).map(generated_name).collect();
    let found = aur.info(&names).await.unwrap();
    assert_eq!(found.packages.len(), 300);
    assert!(found.missing.is_empty());
    assert_eq!(found.packages[299].name, generated_name(299));
    assert_eq!((server.stats().info_get, server.stats().info_post), (0, 1));
    assert_eq!(aur.stats().posts, 1);

    // A short list under the same settings stays a GET.
    aur.info(&["yay"]).await.unwrap();
    assert_eq!(server.stats().info_get, 1);
    server.stop().await;
}

#[tokio::test]
async fn small_url_limit_turns_every_batch_into_post() {
    let server = AurServer::builder().generated(20).start().unwrap();
    let aur = local(&server)
        .batch_size(5)
        .max_url_len(64)
        .build()
        .unwrap();
    let names: Vec<String> = (0..20).map(generated_name).collect();
    let found = aur.info(&names).await.unwrap();
    assert_eq!(found.packages.len(), 20);
    assert_eq!((server.stats().info_get, server.stats().info_post), (0, 4));
    server.stop().await;
}

#[tokio::test]
async fn concurrent_batches_share_pooled_connections() {
    let server = AurServer::builder().generated(400).start().unwrap();
    let http = Client::new();
    let aur = local(&server)
        .batch_size(10)
        .concurrency(4)
        .build_with(http.clone())
        .unwrap();
    let names: Vec<String> = (0..400).map(generated_name).collect();
    for _ in 0..2 {
        assert_eq!(aur.info(&names).await.unwrap().packages.len(), 400);
    }
    let pool = http.http_pool().stats();
    // 80 requests over at most 4 connections at a time, reused across calls.
    assert_eq!(aur.stats().requests, 80);
    assert!(pool.created <= 4, "{pool:?}");
    assert!(pool.reused >= 76, "{pool:?}");
    server.stop().await;
}

#[tokio::test]
async fn empty_and_special_names() {
    let server = AurServer::builder().start().unwrap();
    let aur = local(&server).build().unwrap();
    let none: [&str; 0] = [];
    let found = aur.info(&none).await.unwrap();
    assert!(found.packages.is_empty() && found.missing.is_empty());
    assert_eq!(server.stats().requests, 0, "no names, no request");

    // Characters that need encoding reach the server intact (and are simply missing).
    let found = aur.info(&["gtk+", "a b&c=d", "yay"]).await.unwrap();
    assert_eq!(found.missing, ["gtk+", "a b&c=d"]);
    assert_eq!(found.packages[0].name, "yay");
    server.stop().await;
}

#[tokio::test]
async fn runs_over_the_in_memory_transport() {
    let net = ghostnet_transport::MemoryNetwork::new();
    let listener = net.listen(&"aur.test:80".parse().unwrap()).unwrap();
    let server = AurServer::builder()
        .generated(30)
        .serve_on(listener, "http://aur.test".to_owned());
    let http = Client::builder().build_with_dialer(net.dialer()).unwrap();
    let aur = AurClient::builder()
        .endpoint(server.endpoint())
        .rate_limit(None)
        .batch_size(10)
        .build_with(http)
        .unwrap();
    let names: Vec<String> = (0..30).map(generated_name).collect();
    let found = aur.info(&names).await.unwrap();
    assert_eq!(found.packages.len(), 30);
    assert_eq!(server.stats().info_get, 3);
    server.stop().await;
}
