//! Middleware: order of the chain, request logging, the auth hook, CORS, and the
//! per-IP rate limit.

mod support;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ghostnet_http::middleware::{
    Auth, AuthDecision, Cors, IpRateLimit, Logger, Next, bearer_token, from_fn,
};
use ghostnet_http::{Body, Request, Router, Service, get, post};
use ghostnet_resilience::rate::RateLimit;
use http::{HeaderMap, Method, StatusCode};

async fn call(router: &Router, req: http::request::Builder) -> (StatusCode, HeaderMap, String) {
    let res = Service::call(router, req.body(Body::empty()).unwrap()).await;
    let (parts, body) = res.into_parts();
    let text = String::from_utf8(body.collect().await.unwrap().to_vec()).unwrap();
    (parts.status, parts.headers, text)
}

fn req(method: &str, path: &str) -> http::request::Builder {
    http::Request::builder().method(method).uri(path)
}

#[tokio::test]
async fn middleware_runs_in_the_order_added() {
    let tag = |name: &'static str| {
        from_fn(move |req: Request, next: Next| async move {
            let mut res = next.run(req).await;
            res.headers_mut().append("x-trace", name.parse().unwrap());
            res
        })
    };
    let router = Router::new()
        .route("/", get(|_req: Request| async { "x" }).layer(tag("route")))
        .layer(tag("outer"))
        .layer(tag("inner"));
    let (_, headers, _) = call(&router, req("GET", "/")).await;
    let trace: Vec<_> = headers
        .get_all("x-trace")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    // The response passes back out: innermost first.
    assert_eq!(trace, ["route", "inner", "outer"]);
    // Router layers also see 404s.
    let (status, headers, _) = call(&router, req("GET", "/missing")).await;
    assert_eq!(status, 404);
    assert_eq!(headers.get_all("x-trace").iter().count(), 2);
}

/// Records `ghostnet_http::access` events as `field=value` lines.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<String>>>);

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if event.metadata().target() == "ghostnet_http::access" {
            let mut f = Fields(format!("{} ", event.metadata().level()));
            event.record(&mut f);
            self.0.lock().unwrap().push(f.0);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn logger_records_method_path_status_latency_protocol_and_peer() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let router = Router::new()
        .route("/ok/:id", get(|_req: Request| async { "ok" }))
        .route(
            "/boom",
            get(|_req: Request| async { StatusCode::INTERNAL_SERVER_ERROR }),
        )
        .layer(Logger::new());
    // Over a real connection (current-thread runtime: the server logs on this thread).
    let server = support::start(router).await;
    server.h1("GET", "/ok/7", &[]).await;
    let h2 = server.h2().await;
    support::h2_request(&h2, "GET", "/boom", &[]).await;
    drop(h2);
    server.stop().await;
    let lines = capture.0.lock().unwrap().clone();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let first = &lines[0];
    for part in [
        "INFO",
        "method=GET",
        "path=/ok/7",
        "status=200",
        "protocol=HTTP/1.1",
        "peer=127.0.0.1:",
        "latency_us=",
    ] {
        assert!(first.contains(part), "{part} in {first}");
    }
    let second = &lines[1];
    for part in ["WARN", "path=/boom", "status=500", "protocol=HTTP/2.0"] {
        assert!(second.contains(part), "{part} in {second}");
    }
}

#[tokio::test]
async fn auth_hook_allows_or_answers_401_and_403() {
    let auth = Auth::new(|req: &Request| match bearer_token(req) {
        Some("admin") => AuthDecision::Allow,
        Some(_) => AuthDecision::Forbidden,
        None => AuthDecision::Unauthorized,
    })
    .challenge(r#"Bearer realm="items""#);
    let router = Router::new()
        .route("/items", get(|_req: Request| async { "list" }))
        .route(
            "/items",
            post(|_req: Request| async { StatusCode::CREATED }).layer(auth),
        );
    assert_eq!(
        call(&router, req("GET", "/items")).await.0,
        200,
        "reads stay open"
    );
    let (status, headers, _) = call(&router, req("POST", "/items")).await;
    assert_eq!(status, 401);
    assert_eq!(headers["www-authenticate"], r#"Bearer realm="items""#);
    let wrong = req("POST", "/items").header("authorization", "Bearer guest");
    assert_eq!(call(&router, wrong).await.0, 403);
    let right = req("POST", "/items").header("authorization", "Bearer admin");
    assert_eq!(call(&router, right).await.0, 201);
}

fn cors_router(cors: Cors) -> Router {
    Router::new()
        .route(
            "/api",
            get(|_req: Request| async { "data" }).put(|_req: Request| async { "put" }),
        )
        .layer(cors)
}

#[tokio::test]
async fn cors_preflight_and_simple_requests() {
    let router = cors_router(
        Cors::new()
            .allow_origin("https://app.example")
            .allow_methods([Method::GET, Method::PUT])
            .allow_headers(["content-type", "x-token"])
            .expose_headers(["x-total"])
            .allow_credentials(true)
            .max_age(Duration::from_secs(3600)),
    );
    let preflight = |origin: &str, method: &str, headers: &str| {
        let mut r = req("OPTIONS", "/api")
            .header("origin", origin)
            .header("access-control-request-method", method);
        if !headers.is_empty() {
            r = r.header("access-control-request-headers", headers);
        }
        r
    };
    let (status, h, _) = call(
        &router,
        preflight("https://app.example", "PUT", "Content-Type, X-Token"),
    )
    .await;
    assert_eq!(
        status, 204,
        "answered by the middleware: the route has no OPTIONS"
    );
    assert_eq!(h["access-control-allow-origin"], "https://app.example");
    assert_eq!(h["access-control-allow-methods"], "GET, PUT");
    assert_eq!(h["access-control-allow-headers"], "content-type, x-token");
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert_eq!(h["access-control-max-age"], "3600");
    assert!(h.get_all("vary").iter().any(|v| v == "Origin"));

    for (origin, method, headers) in [
        ("https://evil.example", "PUT", ""),
        ("https://app.example", "DELETE", ""),
        ("https://app.example", "GET", "x-other"),
    ] {
        let (status, h, _) = call(&router, preflight(origin, method, headers)).await;
        assert_eq!(status, 403, "{origin} {method} {headers}");
        assert!(h.get("access-control-allow-origin").is_none());
    }

    let simple = req("GET", "/api").header("origin", "https://app.example");
    let (status, h, body) = call(&router, simple).await;
    assert_eq!((status.as_u16(), body.as_str()), (200, "data"));
    assert_eq!(h["access-control-allow-origin"], "https://app.example");
    assert_eq!(h["access-control-expose-headers"], "x-total");
    let foreign = req("GET", "/api").header("origin", "https://evil.example");
    let (status, h, _) = call(&router, foreign).await;
    assert_eq!(status, 200, "the browser, not the server, blocks it");
    assert!(h.get("access-control-allow-origin").is_none());
    let (_, h, _) = call(&router, req("GET", "/api")).await;
    assert!(
        h.get("access-control-allow-origin").is_none(),
        "no Origin, no CORS"
    );
}

#[tokio::test]
async fn cors_any_origin() {
    let router = cors_router(Cors::new().allow_any_origin());
    let r = req("GET", "/api").header("origin", "https://x.example");
    assert_eq!(call(&router, r).await.1["access-control-allow-origin"], "*");
    // With credentials `*` is not allowed: the origin is echoed.
    let router = cors_router(Cors::new().allow_any_origin().allow_credentials(true));
    let r = req("GET", "/api").header("origin", "https://x.example");
    assert_eq!(
        call(&router, r).await.1["access-control-allow-origin"],
        "https://x.example"
    );
}

#[tokio::test]
async fn rate_limit_per_ip_answers_429_with_retry_after() {
    // Two requests, then one per hour: the third is refused however slow the test is.
    let limit = IpRateLimit::new(RateLimit::every(Duration::from_secs(3600)).burst(2)).unwrap();
    let router = Router::new()
        .route("/", get(|_req: Request| async { "ok" }))
        .layer(limit);
    let server = support::start(router).await;
    assert_eq!(server.h1("GET", "/", &[]).await.status, 200);
    let h2 = server.h2().await;
    assert_eq!(support::h2_request(&h2, "GET", "/", &[]).await.status, 200);
    let res = server.h1("GET", "/", &[]).await;
    assert_eq!(res.status, 429);
    let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    let res = support::h2_request(&h2, "GET", "/", &[]).await;
    assert_eq!(res.status, 429, "one budget per IP, whatever the protocol");
    drop(h2);
    server.stop().await;

    assert!(IpRateLimit::new(RateLimit::per_second(0)).is_err());
}
