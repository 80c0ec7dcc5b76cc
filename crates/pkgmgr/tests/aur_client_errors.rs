//! How AUR failures reach the caller: RPC errors, HTTP 429 with Retry-After, other
//! statuses, bodies that are not JSON, an endpoint that does not answer, bad settings.

use std::time::Duration;

use ghostnet_pkgmgr::Error;
use ghostnet_pkgmgr::aur::testing::{AurServer, Failure};
use ghostnet_pkgmgr::aur::{AurClient, SearchBy};

fn local(server: &AurServer) -> AurClient {
    AurClient::builder()
        .endpoint(server.endpoint())
        .rate_limit(None)
        .build()
        .unwrap()
}

#[tokio::test]
async fn rpc_error_type_is_a_clear_error() {
    let server = AurServer::builder().start().unwrap();
    let aur = local(&server);
    server.fail_next(Failure::Error("Too many package results.".to_owned()));
    let err = aur.info(&["yay"]).await.unwrap_err();
    assert!(
        matches!(&err, Error::Aur { message } if message == "Too many package results."),
        "{err:?}"
    );
    // The next request is served normally.
    assert_eq!(aur.info(&["yay"]).await.unwrap().packages.len(), 1);

    let err = aur.search("x", SearchBy::Name).await.unwrap_err();
    assert!(err.to_string().contains("Query arg too small."), "{err}");
    server.stop().await;
}

#[tokio::test]
async fn http_429_carries_retry_after() {
    let server = AurServer::builder().start().unwrap();
    let aur = local(&server);
    server.fail_next(Failure::RateLimited {
        retry_after: Some(120),
    });
    let err = aur.info(&["yay"]).await.unwrap_err();
    match &err {
        Error::AurRateLimited { retry_after } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(120)));
        }
        other => panic!("expected AurRateLimited, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("429") && msg.contains("retry in 120s"),
        "{msg}"
    );

    server.fail_next(Failure::RateLimited { retry_after: None });
    let err = aur.search("yay", SearchBy::Name).await.unwrap_err();
    assert!(matches!(err, Error::AurRateLimited { retry_after: None }));
    assert!(err.to_string().contains("wait and retry later"), "{err}");
    server.stop().await;
}

#[tokio::test]
async fn bad_json_is_a_format_error() {
    let server = AurServer::builder().start().unwrap();
    let aur = local(&server);
    server.fail_next(Failure::NotJson);
    let err = aur.info(&["yay"]).await.unwrap_err();
    assert!(matches!(err, Error::AurFormat { .. }), "{err:?}");
    assert!(err.to_string().contains("not RPC v5 JSON"), "{err}");
    server.stop().await;
}

#[tokio::test]
async fn other_statuses_name_url_and_status() {
    let server = AurServer::builder().start().unwrap();
    let aur = local(&server);
    server.fail_next(Failure::Status(503));
    let err = aur.info(&["yay"]).await.unwrap_err();
    match &err {
        Error::AurStatus { status, url, .. } => {
            assert_eq!(*status, 503);
            assert!(url.contains("/rpc/v5/info"), "{url}");
        }
        other => panic!("expected AurStatus, got {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn one_failed_batch_fails_the_call() {
    let server = AurServer::builder().generated(30).start().unwrap();
    let aur = AurClient::builder()
        .endpoint(server.endpoint())
        .rate_limit(None)
        .batch_size(10)
        .concurrency(1)
        .build()
        .unwrap();
    server.fail_next(Failure::Status(500));
    let names: Vec<String> = (0..30)
        .map(ghostnet_pkgmgr::aur::testing::generated_name)
        .collect();
    assert!(matches!(
        aur.info(&names).await,
        Err(Error::AurStatus { status: 500, .. })
    ));
    server.stop().await;
}

#[tokio::test]
async fn unreachable_endpoint() {
    // Bind then drop, so the port is (very likely) closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let aur = AurClient::builder()
        .endpoint(format!("http://127.0.0.1:{port}"))
        .rate_limit(None)
        .build()
        .unwrap();
    let err = aur.info(&["yay"]).await.unwrap_err();
    assert!(matches!(err, Error::AurUnreachable { .. }), "{err:?}");
    assert!(err.to_string().contains("check the network"), "{err}");
}

#[test]
fn bad_settings_are_refused() {
    let cases = [
        (
            AurClient::builder().endpoint("aur.archlinux.org"),
            "endpoint",
        ),
        (AurClient::builder().endpoint("ftp://x"), "endpoint"),
        (AurClient::builder().batch_size(0), "batch_size"),
        (AurClient::builder().batch_size(5001), "batch_size"),
        (AurClient::builder().concurrency(0), "concurrency"),
        (AurClient::builder().max_url_len(10), "max_url_len"),
        (
            AurClient::builder()
                .rate_limit(Some(ghostnet_resilience::rate::RateLimit::per_second(0))),
            "rate_limit",
        ),
    ];
    for (builder, field) in cases {
        let server = AurServer::builder().in_process();
        match builder.build_with(server) {
            Err(Error::AurConfig { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: expected AurConfig, got {other:?}"),
        }
    }
}
