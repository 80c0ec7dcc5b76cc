//! `rest_api`, compiled here as a module: its router (with the example's own
//! middleware) served on 127.0.0.1 and driven through a whole item life cycle over
//! HTTP/1.1 and h2c, plus auth, CORS, bad input and the per-IP rate limit.

mod support;

#[allow(dead_code)]
#[path = "../rest_api.rs"]
mod rest_api;

use std::net::SocketAddr;

use clap::Parser;
use ghostnet::http::Server;
use ghostnet::http::http::StatusCode;
use ghostnet::http1::client::Client;
use ghostnet::runtime::Shutdown;
use ghostnet::transport::{TcpListener, TcpOptions};
use rest_api::Args;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// The example's router on 127.0.0.1, started from `extra` command-line arguments.
fn start(extra: &[&str]) -> (SocketAddr, Shutdown, JoinHandle<ghostnet::http::Result<()>>) {
    let args = Args::try_parse_from(["rest_api"].iter().chain(extra)).unwrap();
    let router = rest_api::router(&args).unwrap();
    let listener =
        TcpListener::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::default()).unwrap();
    let addr = listener.local_addr();
    let shutdown = Shutdown::new();
    let server = Server::builder().build().unwrap();
    let serving = tokio::spawn(server.serve(listener, router, shutdown.clone()));
    (addr, shutdown, serving)
}

const JSON: (&str, &str) = ("content-type", "application/json");
const AUTH: (&str, &str) = ("authorization", "Bearer t0ken");

#[tokio::test]
async fn item_life_cycle_over_http1_and_h2c() {
    let (addr, shutdown, serving) = start(&["--token", "t0ken", "--rate", "1000"]);
    let client = Client::new();
    let url = |path: &str| format!("http://{addr}{path}");
    let call = |method: &'static str, path: &str, headers: &'static [(&str, &str)], body| {
        let client = &client;
        let url = url(path);
        async move { support::h1(client, method, &url, headers, body).await }
    };

    let res = call("GET", "/items", &[], "").await;
    assert_eq!((res.status, res.body.as_str()), (StatusCode::OK, "[]"));
    assert_eq!(res.header("content-type"), Some("application/json"));

    // Writes need the token: none is 401 with a challenge, a wrong one 403.
    let res = call("POST", "/items", &[JSON], r#"{"name":"milk"}"#).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.header("www-authenticate"),
        Some(r#"Bearer realm="items""#)
    );
    let res = call(
        "POST",
        "/items",
        &[JSON, ("authorization", "Bearer wrong")],
        r#"{"name":"milk"}"#,
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    // Bad input gets a clear answer.
    let res = call("POST", "/items", &[AUTH], r#"{"name":"milk"}"#).await;
    assert_eq!(res.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = call("POST", "/items", &[JSON, AUTH], r#"{"name":"#).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("invalid JSON"), "{}", res.body);
    let big = format!(r#"{{"name":"{}"}}"#, "x".repeat(100 * 1024));
    let res = support::h1(&client, "POST", &url("/items"), &[JSON, AUTH], &big).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    let res = call("GET", "/items/abc", &[], "").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);

    // Create, read, replace.
    let res = call("POST", "/items", &[JSON, AUTH], r#"{"name":"milk"}"#).await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(res.header("location"), Some("/items/1"));
    assert_eq!(res.body, r#"{"id":1,"name":"milk","done":false}"#);
    let res = call("GET", "/items/1", &[], "").await;
    assert_eq!(res.body, r#"{"id":1,"name":"milk","done":false}"#);
    let res = call(
        "PUT",
        "/items/1",
        &[JSON, AUTH],
        r#"{"name":"milk","done":true}"#,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body, r#"{"id":1,"name":"milk","done":true}"#);
    let res = call("PUT", "/items/9", &[JSON, AUTH], r#"{"name":"x"}"#).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    // The same store over h2c.
    let h2 = support::h2_connect(TcpStream::connect(addr).await.unwrap()).await;
    let res = support::h2(&h2, "GET", "/items", &[], "").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body, r#"[{"id":1,"name":"milk","done":true}]"#);
    let res = support::h2(&h2, "POST", "/items", &[JSON, AUTH], r#"{"name":"eggs"}"#).await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(res.header("location"), Some("/items/2"));

    // Delete; the method not routed on the collection is 405.
    let res = call("DELETE", "/items/1", &[AUTH], "").await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert_eq!(
        call("GET", "/items/1", &[], "").await.status,
        StatusCode::NOT_FOUND
    );
    let res = call("DELETE", "/items", &[AUTH], "").await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);

    drop((client, h2));
    shutdown.trigger();
    serving.await.unwrap().unwrap();
    assert!(shutdown.shutdown().await.is_clean());
}

#[tokio::test]
async fn cors_preflight_for_the_configured_origin_only() {
    let (addr, shutdown, serving) = start(&["--cors-origin", "https://app.example"]);
    let client = Client::new();
    let url = format!("http://{addr}/items/1");
    let preflight = |origin: &'static str| {
        let (client, url) = (&client, &url);
        async move {
            let headers = [
                ("origin", origin),
                ("access-control-request-method", "DELETE"),
                ("access-control-request-headers", "authorization"),
            ];
            support::h1(client, "OPTIONS", url, &headers, "").await
        }
    };
    let res = preflight("https://app.example").await;
    assert!(res.status.is_success(), "{res:?}");
    assert_eq!(
        res.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert!(
        res.header("access-control-allow-methods")
            .is_some_and(|m| m.contains("DELETE"))
    );
    let res = preflight("https://evil.example").await;
    assert_eq!(res.header("access-control-allow-origin"), None);

    drop(client);
    shutdown.trigger();
    serving.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_busy_client_ip_gets_429_with_retry_after() {
    // One request per second with bursts of two: some of twenty quick requests must be
    // refused, however slowly this machine runs them.
    let (addr, shutdown, serving) = start(&["--rate", "1"]);
    let client = Client::new();
    let url = format!("http://{addr}/items");
    let mut refused = None;
    for _ in 0..20 {
        let res = support::h1(&client, "GET", &url, &[], "").await;
        if res.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(res);
            break;
        }
        assert_eq!(res.status, StatusCode::OK);
    }
    let res = refused.expect("a 429 within twenty requests");
    let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1);

    drop(client);
    shutdown.trigger();
    serving.await.unwrap().unwrap();
}
