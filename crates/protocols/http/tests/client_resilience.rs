//! Retry policy and rate limiter wiring, redirects, and the per-attempt timeout.

mod client_support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use client_support::{Speaks, State, router, serve};
use ghostnet_http::Error;
use ghostnet_http::client::{ClientConfig, HttpClient, Protocol};
use ghostnet_resilience::{Jitter, RateLimit, RateLimiter, RetryPolicy};
use ghostnet_transport::MemoryNetwork;

fn policy(attempts: u32) -> RetryPolicy {
    RetryPolicy::builder()
        .max_attempts(attempts)
        .jitter(Jitter::none())
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn retryable_statuses_are_retried_until_success() {
    for prior_knowledge in [false, true] {
        let net = MemoryNetwork::new();
        let state = State::default();
        state.flaky_failures.store(2, Ordering::SeqCst);
        let shutdown = serve(&net, "api.test:80", Speaks::Both, router(state.clone()));
        let config = ClientConfig::default()
            .h2_prior_knowledge(prior_knowledge)
            .retry(policy(3));
        let client = HttpClient::with_dialer(config, net.dialer()).unwrap();
        let r = client.get("http://api.test/flaky").await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "finally");
        assert_eq!(state.flaky_hits.load(Ordering::SeqCst), 3);
        shutdown.shutdown().await;
    }
}

#[tokio::test(start_paused = true)]
async fn when_the_policy_gives_up_the_last_response_is_returned() {
    let net = MemoryNetwork::new();
    let state = State::default();
    state.flaky_failures.store(10, Ordering::SeqCst);
    let shutdown = serve(&net, "api.test:80", Speaks::Both, router(state.clone()));
    let config = ClientConfig::default().retry(policy(2));
    let client = HttpClient::with_dialer(config, net.dialer()).unwrap();
    let r = client.get("http://api.test/flaky").await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(state.flaky_hits.load(Ordering::SeqCst), 2);

    // POST is not idempotent: never retried.
    state.flaky_hits.store(0, Ordering::SeqCst);
    let r = client.post("http://api.test/echo").body("x").await.unwrap();
    assert_eq!(r.status(), 200);
    let before = state.hits.load(Ordering::SeqCst);
    let r = client
        .request(http::Method::POST, "http://api.test/status/503")
        .await
        .unwrap();
    assert_eq!(r.status(), 405, "the route is GET only");
    assert_eq!(state.hits.load(Ordering::SeqCst), before + 1);
    // 404 is permanent: one request.
    let before = state.hits.load(Ordering::SeqCst);
    let r = client.get("http://api.test/status/404").await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(state.hits.load(Ordering::SeqCst), before + 1);
    shutdown.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn connection_failures_are_retried_by_the_policy() {
    let net = MemoryNetwork::new();
    let tries = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let seen = tries.clone();
    let config = ClientConfig::default().retry(
        RetryPolicy::builder()
            .max_attempts(3)
            .jitter(Jitter::none())
            .on_retry(move |_| {
                seen.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap(),
    );
    let client = HttpClient::with_dialer(config, net.dialer()).unwrap();
    // Nothing listens: refused three times, two retries in between.
    let e = client.get("http://nobody.test/").await.unwrap_err();
    assert!(matches!(e, Error::Http1(_)), "{e:?}");
    assert_eq!(tries.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn every_request_waits_for_the_rate_limiter() {
    let net = MemoryNetwork::new();
    let shutdown = serve(&net, "api.test:80", Speaks::Both, router(State::default()));
    let limiter = RateLimiter::new(RateLimit::per_second(1).burst(3)).unwrap();
    let config = ClientConfig::default().rate_limiter(limiter.clone());
    let client = HttpClient::with_dialer(config, net.dialer()).unwrap();
    for _ in 0..3 {
        client.get("http://api.test/hello").await.unwrap();
    }
    // The client took the whole burst.
    assert!(limiter.check().is_err());
    // A fourth request waits a full period (paused clock: exact).
    let start = tokio::time::Instant::now();
    client.get("http://api.test/hello").await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    shutdown.shutdown().await;
}

#[tokio::test]
async fn redirects_are_followed_over_both_protocols() {
    let net = MemoryNetwork::new();
    let shutdown = serve(&net, "api.test:80", Speaks::Both, router(State::default()));
    for (prior_knowledge, protocol) in [(false, Protocol::Http11), (true, Protocol::H2)] {
        let config = ClientConfig::default().h2_prior_knowledge(prior_knowledge);
        let client = HttpClient::with_dialer(config, net.dialer()).unwrap();
        let r = client.get("http://api.test/redirect/3").await.unwrap();
        assert_eq!(r.protocol(), protocol);
        assert_eq!(r.status(), 200);
        assert_eq!(r.url(), "http://api.test/hello");
        assert_eq!(r.text().await.unwrap(), "hello");

        let few = ClientConfig::default()
            .h2_prior_knowledge(prior_knowledge)
            .max_redirects(2);
        let client = HttpClient::with_dialer(few, net.dialer()).unwrap();
        let e = client.get("http://api.test/redirect/3").await.unwrap_err();
        assert!(e.to_string().contains("redirect"), "{e}");

        let none = ClientConfig::default()
            .h2_prior_knowledge(prior_knowledge)
            .max_redirects(0);
        let client = HttpClient::with_dialer(none, net.dialer()).unwrap();
        let r = client.get("http://api.test/redirect/1").await.unwrap();
        assert_eq!(r.status(), 302);
    }
    shutdown.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_silent_server_hits_the_timeout() {
    let net = MemoryNetwork::new();
    let listener = net.listen(&"silent.test:80".parse().unwrap()).unwrap();
    // Accepts and never answers.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = ghostnet_transport::Listen::accept(&listener).await {
            held.push(conn);
        }
    });
    let config = ClientConfig::default().timeout(Duration::from_secs(5));
    let client = HttpClient::with_dialer(config, net.dialer()).unwrap();
    let e = client.get("http://silent.test/").await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Timeout { .. } | Error::Http1(ghostnet_http1::Error::Timeout { .. })
        ),
        "{e:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn execute_retries_a_body_in_memory_but_not_a_stream() {
    let net = MemoryNetwork::new();
    let state = State::default();
    let shutdown = serve(&net, "api.test:80", Speaks::Both, router(state.clone()));
    let config = ClientConfig::default().retry(policy(3));
    let client = HttpClient::with_dialer(config, net.dialer()).unwrap();
    let request = |body| {
        http::Request::get("http://api.test/flaky")
            .body(body)
            .unwrap()
    };

    // Bytes can be sent again: two 503s, then the answer.
    state.flaky_failures.store(2, Ordering::SeqCst);
    let r = client
        .execute(request(ghostnet_http::Body::from("again")))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(state.flaky_hits.load(Ordering::SeqCst), 3);

    // A stream goes once: the first 503 is the answer.
    state.flaky_hits.store(0, Ordering::SeqCst);
    state.flaky_failures.store(2, Ordering::SeqCst);
    let (mut tx, body) = ghostnet_http::Body::channel();
    tokio::spawn(async move { tx.send_data("once".into()).await });
    let r = client.execute(request(body)).await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(state.flaky_hits.load(Ordering::SeqCst), 1);

    // A request needs an absolute URL.
    let relative = http::Request::get("/flaky")
        .body(ghostnet_http::Body::empty())
        .unwrap();
    let e = client.execute(relative).await.unwrap_err();
    assert!(matches!(e, Error::InvalidUrl { .. }), "{e:?}");
    shutdown.shutdown().await;
}
