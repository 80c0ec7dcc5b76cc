//! Redirects: chains, the limit, method and body rewriting, `Location` resolution, and
//! credentials that must not follow to another origin.

mod client_support;

use std::sync::{Arc, Mutex};

use client_support::*;
use ghostnet_http1::client::{Client, EffectiveUri, RequestOptions};
use ghostnet_http1::{Body, Error};
use http::{Request, Response, StatusCode};

fn redirect(status: u16, location: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("location", location)
        .body(Body::from("moved"))
        .unwrap()
}

/// Describes the request it got: method, path, body, and the fields it is asked about.
async fn describe(req: Request<Body>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.unwrap_or_default();
    let field = |n: &str| {
        parts
            .headers
            .get(n)
            .map_or("-".to_owned(), |v| v.to_str().unwrap().to_owned())
    };
    let text = format!(
        "{} {} body={} authorization={} cookie={} proxy-authorization={} content-type={} x-keep={}",
        parts.method,
        parts.uri.path(),
        String::from_utf8_lossy(&body),
        field("authorization"),
        field("cookie"),
        field("proxy-authorization"),
        field("content-type"),
        field("x-keep"),
    );
    Response::new(Body::from(text))
}

async fn router(req: Request<Body>) -> Response<Body> {
    match req.uri().path() {
        "/a" => redirect(301, "/b"),
        "/b" => redirect(302, "c?from=b"),
        "/dir/sub/rel" => redirect(307, "../up?q=1"),
        "/see-other" => redirect(303, "/final"),
        "/temporary" => redirect(307, "/final"),
        "/permanent" => redirect(308, "/final"),
        "/moved" => redirect(301, "/final"),
        "/loop" => redirect(302, "/loop"),
        "/no-location" => Response::builder().status(302).body(Body::empty()).unwrap(),
        _ => describe(req).await,
    }
}

#[tokio::test]
async fn a_chain_is_followed_to_the_end() {
    let server = serve_tcp(router);
    let client = Client::new();
    let response = client.get(&format!("{}/a", server.base)).await.unwrap();
    assert_eq!(response.status(), 200);
    let effective = response
        .extensions()
        .get::<EffectiveUri>()
        .unwrap()
        .0
        .clone();
    assert_eq!(effective.to_string(), format!("{}/c?from=b", server.base));
    let text = response.into_body().text().await.unwrap();
    assert!(text.starts_with("GET /c body="), "{text}");
    // Three hops over one kept-alive connection: the 3xx bodies were drained.
    assert_eq!(client.http_pool().stats().created, 1);
}

#[tokio::test]
async fn relative_locations_resolve_against_the_current_uri() {
    let server = serve_tcp(router);
    let r = Client::new()
        .get(&format!("{}/dir/sub/rel", server.base))
        .await
        .unwrap();
    let effective = r.extensions().get::<EffectiveUri>().unwrap().0.clone();
    assert_eq!(effective.path_and_query().unwrap(), "/dir/up?q=1");
}

#[tokio::test]
async fn the_limit_stops_a_loop() {
    let hits = Arc::new(Mutex::new(0));
    let h = hits.clone();
    let server = serve_tcp(move |req: Request<Body>| {
        *h.lock().unwrap() += 1;
        router(req)
    });
    let client = Client::builder().max_redirects(3).build().unwrap();
    let err = client
        .get(&format!("{}/loop", server.base))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::TooManyRedirects { limit: 3, last } if last.ends_with("/loop")),
        "{err:?}"
    );
    assert_eq!(
        *hits.lock().unwrap(),
        4,
        "the first request and three redirects"
    );
    assert!(err.to_string().contains("more than 3 redirects"), "{err}");

    // The default is 10.
    *hits.lock().unwrap() = 0;
    let err = Client::new()
        .get(&format!("{}/loop", server.base))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooManyRedirects { limit: 10, .. }));
    assert_eq!(*hits.lock().unwrap(), 11);
}

#[tokio::test]
async fn zero_redirects_returns_the_redirect_itself() {
    let server = serve_tcp(router);
    let req = Request::get(format!("{}/a", server.base))
        .extension(RequestOptions::new().max_redirects(0))
        .body(Body::empty())
        .unwrap();
    let r = Client::new().request(req).await.unwrap();
    assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(r.headers()["location"], "/b");
    assert_eq!(r.into_body().text().await.unwrap(), "moved");
    // Without a Location there is nothing to follow either.
    let r = Client::new()
        .get(&format!("{}/no-location", server.base))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
}

async fn post(client: &Client, url: String) -> String {
    let req = Request::post(url)
        .header("content-type", "text/plain")
        .body(Body::from("payload"))
        .unwrap();
    client
        .request(req)
        .await
        .unwrap()
        .into_body()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn methods_and_bodies_follow_the_status_rules() {
    let server = serve_tcp(router);
    let client = Client::new();
    let see_other = post(&client, format!("{}/see-other", server.base)).await;
    assert!(
        see_other.starts_with("GET /final body= ") && see_other.contains("content-type=-"),
        "303 turns POST into a bodiless GET: {see_other}"
    );
    let moved = post(&client, format!("{}/moved", server.base)).await;
    assert!(moved.starts_with("GET /final body= "), "{moved}");
    for path in ["/temporary", "/permanent"] {
        let kept = post(&client, format!("{}{path}", server.base)).await;
        assert!(
            kept.starts_with("POST /final body=payload")
                && kept.contains("content-type=text/plain"),
            "{path} keeps method and body: {kept}"
        );
    }
    // PUT through a 301 stays a PUT with its body.
    let req = Request::put(format!("{}/moved", server.base))
        .body(Body::from("v"))
        .unwrap();
    let text = client
        .request(req)
        .await
        .unwrap()
        .into_body()
        .text()
        .await
        .unwrap();
    assert!(text.starts_with("PUT /final body=v"), "{text}");
}

#[tokio::test]
async fn a_streamed_body_stops_at_a_307() {
    let server = serve_tcp(router);
    let (mut tx, body) = Body::channel();
    tokio::spawn(async move { tx.send_data("once".into()).await });
    let req = Request::post(format!("{}/temporary", server.base))
        .body(body)
        .unwrap();
    let r = Client::new().request(req).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::TEMPORARY_REDIRECT,
        "cannot send a stream twice"
    );
}

#[tokio::test]
async fn credentials_stay_with_their_origin() {
    let other = serve_tcp(describe);
    let target = format!("{}/landing", other.base);
    let server = serve_tcp(move |req: Request<Body>| {
        let target = target.clone();
        async move {
            match req.uri().path() {
                "/away" => redirect(302, &target),
                "/here" => redirect(302, "/landing"),
                _ => describe(req).await,
            }
        }
    });
    let client = Client::new();
    let send = |path: &str| {
        Request::get(format!("{}{path}", server.base))
            .header("authorization", "Bearer secret")
            .header("cookie", "session=1")
            .header("proxy-authorization", "Basic cHJveHk=")
            .header("x-keep", "yes")
            .body(Body::empty())
            .unwrap()
    };
    let away = client.request(send("/away")).await.unwrap();
    let text = away.into_body().text().await.unwrap();
    assert!(
        text.contains("authorization=- cookie=- proxy-authorization=-")
            && text.contains("x-keep=yes"),
        "cross-origin: {text}"
    );
    let here = client.request(send("/here")).await.unwrap();
    let text = here.into_body().text().await.unwrap();
    assert!(
        text.contains("authorization=Bearer secret cookie=session=1"),
        "same origin keeps them: {text}"
    );
}

#[tokio::test]
async fn bad_locations_are_clear_errors() {
    let server = serve_tcp(|_req: Request<Body>| async { redirect(302, "ftp://files.test/x") });
    let err = Client::new().get(&server.base).await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRedirect { location, .. } if location == "ftp://files.test/x"),
        "{err:?}"
    );
    assert!(err.to_string().contains("http or https"), "{err}");
}
