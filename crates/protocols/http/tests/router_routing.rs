//! Routing: parameters, wildcards, 404 and 405 with Allow, HEAD served by GET, state,
//! fallbacks, over a real connection where the wire matters.

mod support;

use ghostnet_http::{
    Error, IntoResponse, Request, RequestExt, Response, Router, Service, get, post,
};
use http::StatusCode;

async fn call(router: &Router, method: &str, path: &str) -> (StatusCode, http::HeaderMap, String) {
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .body(ghostnet_http::Body::empty())
        .unwrap();
    let res = Service::call(router, req).await;
    let (parts, body) = res.into_parts();
    let text = String::from_utf8(body.collect().await.unwrap().to_vec()).unwrap();
    (parts.status, parts.headers, text)
}

async fn user(req: Request) -> Result<String, Error> {
    let id: u64 = req.param("id")?;
    Ok(format!("user {id}"))
}

async fn post_of(req: Request) -> String {
    let p = req.params();
    format!("{}/{}", p.get("id").unwrap(), p.get("post").unwrap())
}

async fn file(req: Request) -> String {
    format!("file {}", req.params().get("path").unwrap())
}

fn router() -> Router {
    Router::new()
        .route("/", get(|_req: Request| async { "home" }))
        .route("/users/new", get(|_req: Request| async { "form" }))
        .route(
            "/users/:id",
            get(user).delete(|_req: Request| async { StatusCode::NO_CONTENT }),
        )
        .route("/users/:id/posts/:post", get(post_of))
        .route("/static/*path", get(file))
        .route("/items", get(|_req: Request| async { "list" }))
        .route(
            "/items",
            post(|_req: Request| async { (StatusCode::CREATED, "made") }),
        )
}

#[tokio::test]
async fn params_literals_and_wildcards() {
    let r = router();
    assert_eq!(call(&r, "GET", "/").await.2, "home");
    assert_eq!(
        call(&r, "GET", "/users/new").await.2,
        "form",
        "literal wins"
    );
    assert_eq!(call(&r, "GET", "/users/42").await.2, "user 42");
    assert_eq!(call(&r, "GET", "/users/7/posts/a%20b").await.2, "7/a b");
    assert_eq!(
        call(&r, "GET", "/static/css/site.css?v=1").await.2,
        "file css/site.css"
    );
    assert_eq!(call(&r, "POST", "/items").await.0, StatusCode::CREATED);
    assert_eq!(
        call(&r, "GET", "/items").await.2,
        "list",
        "routes merged by path"
    );
}

#[tokio::test]
async fn typed_param_errors_are_400() {
    let (status, _, text) = call(&router(), "GET", "/users/abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("`id`"), "{text}");
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405_with_allow() {
    let r = router();
    assert_eq!(call(&r, "GET", "/nope").await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&r, "GET", "/users/").await.0, StatusCode::NOT_FOUND);
    let (status, headers, _) = call(&r, "PUT", "/users/1").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["allow"], "GET, DELETE, HEAD");
    let (status, headers, _) = call(&r, "DELETE", "/items").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["allow"], "GET, POST, HEAD");
    assert_eq!(call(&r, "GET", "/%FF").await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn state_and_fallback() {
    #[derive(Clone)]
    struct Name(&'static str);
    let r = Router::new()
        .route(
            "/hi",
            get(|req: Request| async move { format!("hi {}", req.state::<Name>().unwrap().0) }),
        )
        .state(Name("ann"))
        .fallback(|req: Request| async move {
            (
                StatusCode::IM_A_TEAPOT,
                format!("fallback {}", req.uri().path()),
            )
        });
    assert_eq!(call(&r, "GET", "/hi").await.2, "hi ann");
    let (status, _, text) = call(&r, "GET", "/other").await;
    assert_eq!(status, StatusCode::IM_A_TEAPOT);
    assert_eq!(text, "fallback /other");
}

#[test]
fn invalid_patterns_are_errors() {
    let e = Router::new()
        .try_route("/a/*rest/b", get(|_req: Request| async { "" }))
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRoute { .. }), "{e}");
}

#[tokio::test]
async fn head_is_served_by_get_without_a_body_on_both_protocols() {
    async fn big(_req: Request) -> Response {
        "x".repeat(1000).into_response()
    }
    let server = support::start(Router::new().route("/big", get(big))).await;
    let res = server.h1("HEAD", "/big", &[]).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-length"), Some("1000"));
    assert!(res.body.is_empty());

    let h2 = server.h2().await;
    let res = support::h2_request(&h2, "HEAD", "/big", &[]).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-length"), Some("1000"));
    assert!(res.body.is_empty());
    let res = support::h2_request(&h2, "GET", "/big", &[]).await;
    assert_eq!(res.body.len(), 1000);
    assert!(server.stop().await.is_clean());
}
