//! A small JSON REST service on ghostnet-http: an in-memory store of items with CRUD
//! routes, request logging, CORS for a browser front end, a per-IP rate limit, and a
//! bearer-token check on the write routes. HTTP/1.1 and HTTP/2 on one port.
//!
//! Run: `cargo run --release --example rest_api -- --addr 127.0.0.1:8081 --token s3cret`
//!
//! ```sh
//! curl -s localhost:8081/items
//! curl -s -X POST localhost:8081/items -H 'authorization: Bearer s3cret' \
//!      -H 'content-type: application/json' -d '{"name":"milk"}'
//! curl -s localhost:8081/items/1
//! curl -s -X PUT localhost:8081/items/1 -H 'authorization: Bearer s3cret' \
//!      -H 'content-type: application/json' -d '{"name":"milk","done":true}'
//! curl -si -X DELETE localhost:8081/items/1 -H 'authorization: Bearer s3cret'
//! curl --http2-prior-knowledge -s localhost:8081/items
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use clap::Parser;
use ghostnet::http::http::header::{CONTENT_TYPE, LOCATION};
use ghostnet::http::http::{HeaderValue, Method, StatusCode};
use ghostnet::http::middleware::{Auth, AuthDecision, Cors, IpRateLimit, Logger, bearer_token};
use ghostnet::http::{
    Body, Error, IntoResponse, Request, RequestExt, Response, Router, Server, get, post, put,
};
use ghostnet::resilience::rate::RateLimit;
use ghostnet::runtime::{Config, Shutdown, run};
use ghostnet::transport::{TcpListener, TcpOptions};
use serde::{Deserialize, Serialize};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The largest JSON body accepted.
const MAX_JSON: u64 = 64 * 1024;

/// The command line.
#[derive(Parser)]
#[command(about = "ghostnet-http REST example: an in-memory item store")]
pub(crate) struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub(crate) addr: SocketAddr,
    /// Bearer token required by POST, PUT and DELETE.
    #[arg(long, default_value = "s3cret")]
    pub(crate) token: String,
    /// Requests per second allowed per client IP (bursts of twice as many).
    #[arg(long, default_value_t = 50)]
    pub(crate) rate: u32,
    /// Origin allowed to call the API from a browser.
    #[arg(long, default_value = "http://localhost:3000")]
    pub(crate) cors_origin: String,
}

/// What clients send.
#[derive(Deserialize)]
struct NewItem {
    name: String,
    #[serde(default)]
    done: bool,
}

/// What is stored and returned.
#[derive(Serialize, Clone)]
struct Item {
    id: u64,
    name: String,
    done: bool,
}

/// The shared in-memory store (cloned into every request as router state).
#[derive(Clone, Default)]
struct Store(Arc<Mutex<Inner>>);

#[derive(Default)]
struct Inner {
    next_id: u64,
    items: BTreeMap<u64, Item>,
}

impl Store {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt().with_target(false).init();
    let args = Args::parse();
    run(Config::for_server(), async move {
        let router = router(&args)?;
        let listener = TcpListener::bind(args.addr, TcpOptions::default())?;
        println!(
            "REST API on http://{} (HTTP/1.1 and h2c)",
            listener.local_addr()
        );
        let shutdown = Shutdown::new();
        shutdown.trigger_on_signals()?;
        Server::builder()
            .build()?
            .serve(listener, router, shutdown.clone())
            .await?;
        println!("{}", shutdown.shutdown().await);
        Ok::<_, BoxError>(())
    })?
}

/// The routes and middleware, with a fresh store. Middleware runs in the order added:
/// the logger sees every request (rejections too), CORS headers reach 429 answers, then
/// the per-IP rate limit, then the route (and the token check on the write routes).
pub(crate) fn router(args: &Args) -> Result<Router, BoxError> {
    let token = args.token.clone();
    let writers_only = Auth::new(move |req: &Request| match bearer_token(req) {
        Some(t) if t == token => AuthDecision::Allow,
        Some(_) => AuthDecision::Forbidden,
        None => AuthDecision::Unauthorized,
    })
    .challenge(r#"Bearer realm="items""#);
    Ok(Router::new()
        .route("/items", get(list))
        .route("/items", post(create).layer(writers_only.clone()))
        .route("/items/:id", get(show))
        .route(
            "/items/:id",
            put(replace).delete(remove).layer(writers_only),
        )
        .state(Store::default())
        .layer(Logger::new())
        .layer(
            Cors::new()
                .allow_origin(&args.cors_origin)
                .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
                .allow_headers(["content-type", "authorization"])
                .max_age(Duration::from_secs(3600)),
        )
        .layer(IpRateLimit::new(
            RateLimit::per_second(args.rate).burst(args.rate.saturating_mul(2)),
        )?))
}

fn store(req: &Request) -> Store {
    req.state::<Store>().cloned().unwrap_or_default()
}

async fn list(req: Request) -> Response {
    let items: Vec<Item> = store(&req).with(|s| s.items.values().cloned().collect());
    json(StatusCode::OK, &items)
}

async fn show(req: Request) -> Result<Response, Error> {
    let id: u64 = req.param("id")?;
    Ok(match store(&req).with(|s| s.items.get(&id).cloned()) {
        Some(item) => json(StatusCode::OK, &item),
        None => problem(StatusCode::NOT_FOUND, &format!("no item {id}")),
    })
}

async fn create(req: Request) -> Response {
    let store = store(&req);
    let new: NewItem = match read_json(req).await {
        Ok(n) => n,
        Err(res) => return res,
    };
    let item = store.with(|s| {
        s.next_id += 1;
        let item = Item {
            id: s.next_id,
            name: new.name,
            done: new.done,
        };
        s.items.insert(item.id, item.clone());
        item
    });
    let mut res = json(StatusCode::CREATED, &item);
    if let Ok(v) = HeaderValue::from_str(&format!("/items/{}", item.id)) {
        res.headers_mut().insert(LOCATION, v);
    }
    res
}

async fn replace(req: Request) -> Result<Response, Error> {
    let id: u64 = req.param("id")?;
    let store = store(&req);
    let new: NewItem = match read_json(req).await {
        Ok(n) => n,
        Err(res) => return Ok(res),
    };
    Ok(store.with(|s| match s.items.get_mut(&id) {
        Some(item) => {
            item.name = new.name;
            item.done = new.done;
            json(StatusCode::OK, item)
        }
        None => problem(StatusCode::NOT_FOUND, &format!("no item {id}")),
    }))
}

async fn remove(req: Request) -> Result<Response, Error> {
    let id: u64 = req.param("id")?;
    Ok(match store(&req).with(|s| s.items.remove(&id)) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => problem(StatusCode::NOT_FOUND, &format!("no item {id}")),
    })
}

/// The request body as JSON, or the error response to send.
async fn read_json<T: for<'de> Deserialize<'de>>(req: Request) -> Result<T, Response> {
    let is_json = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Err(problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send content-type: application/json",
        ));
    }
    let bytes = req
        .into_body()
        .with_limit(MAX_JSON)
        .collect()
        .await
        .map_err(IntoResponse::into_response)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| problem(StatusCode::BAD_REQUEST, &format!("invalid JSON: {e}")))
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => {
            let mut res = Response::new(Body::from(bytes));
            *res.status_mut() = status;
            res.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            res
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn problem(status: StatusCode, detail: &str) -> Response {
    json(status, &serde_json::json!({ "error": detail }))
}
