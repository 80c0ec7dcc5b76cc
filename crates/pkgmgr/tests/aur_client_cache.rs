//! The ETag cache and the client-side rate limit (on tokio's paused clock, with the
//! in-process server so no I/O runs while time is virtual).

use std::sync::Arc;
use std::time::Duration;

use ghostnet_pkgmgr::aur::testing::{AurServer, generated_name};
use ghostnet_pkgmgr::aur::{AurClient, DEFAULT_RATE_LIMIT, SearchBy};
use ghostnet_resilience::rate::RateLimit;
use tokio::time::Instant;

#[tokio::test]
async fn not_modified_is_served_from_the_cache() {
    let server = AurServer::builder().generated(10).start().unwrap();
    let aur = AurClient::builder()
        .endpoint(server.endpoint())
        .rate_limit(None)
        .build()
        .unwrap();
    let names: Vec<String> = (0..10).map(generated_name).collect();
    let first = aur.info(&names).await.unwrap();
    let again = aur.info(&names).await.unwrap();
    assert_eq!(first, again);
    let first_search = aur.search("demo", SearchBy::Name).await.unwrap();
    let again_search = aur.search("demo", SearchBy::Name).await.unwrap();
    assert_eq!(first_search, again_search);
    assert_eq!(server.stats().not_modified, 2);
    assert_eq!(aur.stats().not_modified, 2);
    assert_eq!(aur.stats().requests, 4);
    server.stop().await;
}

#[tokio::test]
async fn post_batches_are_cached_too() {
    let server = AurServer::builder().generated(20).in_process();
    let server = Arc::new(server);
    let aur = AurClient::builder()
        .endpoint(server.endpoint())
        .rate_limit(None)
        .max_url_len(64)
        .build_with(Arc::clone(&server))
        .unwrap();
    let names: Vec<String> = (0..20).map(generated_name).collect();
    aur.info(&names).await.unwrap();
    aur.info(&names).await.unwrap();
    assert_eq!(server.stats().info_post, 2);
    assert_eq!(server.stats().not_modified, 1);
}

#[tokio::test]
async fn without_cache_every_answer_is_full() {
    let server = Arc::new(AurServer::builder().in_process());
    let aur = AurClient::builder()
        .endpoint(server.endpoint())
        .rate_limit(None)
        .cache_entries(0)
        .build_with(Arc::clone(&server))
        .unwrap();
    for _ in 0..3 {
        assert_eq!(aur.info(&["yay"]).await.unwrap().packages.len(), 1);
    }
    assert_eq!(server.stats().not_modified, 0);
}

#[tokio::test(start_paused = true)]
async fn rate_limit_spaces_requests_after_the_burst() {
    let server = Arc::new(AurServer::builder().generated(4).in_process());
    let aur = AurClient::builder()
        .endpoint(server.endpoint())
        .rate_limit(Some(RateLimit::every(Duration::from_secs(10)).burst(2)))
        .batch_size(1)
        .build_with(Arc::clone(&server))
        .unwrap();
    let names: Vec<String> = (0..4).map(generated_name).collect();
    let start = Instant::now();
    let found = aur.info(&names).await.unwrap();
    assert_eq!(found.packages.len(), 4);
    // Two at once, then one every 10 s (virtual time).
    assert_eq!(start.elapsed(), Duration::from_secs(20));
    assert_eq!(server.stats().requests, 4);
}

#[tokio::test(start_paused = true)]
async fn default_rate_limit_allows_a_burst_then_waits() {
    let server = Arc::new(AurServer::builder().in_process());
    let aur = AurClient::builder()
        .endpoint(server.endpoint())
        .cache_entries(0)
        .build_with(Arc::clone(&server))
        .unwrap();
    let burst = DEFAULT_RATE_LIMIT.burst_size();
    let start = Instant::now();
    for _ in 0..burst {
        aur.info(&["yay"]).await.unwrap();
    }
    assert_eq!(start.elapsed(), Duration::ZERO, "the burst goes at once");
    aur.info(&["yay"]).await.unwrap();
    let waited = start.elapsed();
    // Under 4000 requests a day: at least 21.6 s between requests once the burst is spent.
    assert!(waited >= Duration::from_millis(21_600), "{waited:?}");
}
