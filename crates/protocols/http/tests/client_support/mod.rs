//! Shared by the client tests: a router with the routes they need, servers over the
//! in-memory network (any protocol mix), and a dialer and a listener that count
//! connections.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use ghostnet_http::{Body, Request, RequestExt, Response, Router, Server, get, post};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::{Dial, Listen, MemoryNetwork, Target};
use http::StatusCode;
use http::header::{CONTENT_TYPE, LOCATION, RETRY_AFTER};
use tokio::sync::Mutex;

/// What the routes share: request counters and the gate of the streaming route.
#[derive(Clone, Default)]
pub struct State {
    /// Requests to `/flaky`.
    pub flaky_hits: Arc<AtomicUsize>,
    /// How many `/flaky` requests fail with 503 before one succeeds.
    pub flaky_failures: Arc<AtomicUsize>,
    /// Requests to anything.
    pub hits: Arc<AtomicUsize>,
    /// `/stream` sends its second chunk once this receives.
    pub gate: Arc<Mutex<Option<tokio::sync::oneshot::Receiver<()>>>>,
}

/// `/hello`, `/n/:n`, `/echo` (POST, echoes body and content type), `/status/:code`,
/// `/flaky`, `/redirect/:n` (n redirects, then `/hello`), `/stream`, `/big/:len`.
pub fn router(state: State) -> Router {
    let s = state.clone();
    let flaky = move |_req: Request| {
        let s = s.clone();
        async move {
            s.flaky_hits.fetch_add(1, Ordering::SeqCst);
            let left = s.flaky_failures.load(Ordering::SeqCst);
            if left > 0 {
                s.flaky_failures.fetch_sub(1, Ordering::SeqCst);
                http::Response::builder()
                    .status(StatusCode::SERVICE_UNAVAILABLE)
                    .header(RETRY_AFTER, "1")
                    .body(Body::from("busy"))
                    .unwrap()
            } else {
                Response::new(Body::from("finally"))
            }
        }
    };
    let s = state.clone();
    let stream = move |_req: Request| {
        let s = s.clone();
        async move {
            let (mut tx, body) = Body::channel();
            let gate = s.gate.lock().await.take();
            tokio::spawn(async move {
                tx.send_data(Bytes::from_static(b"first")).await.unwrap();
                if let Some(gate) = gate {
                    let _ = gate.await;
                }
                let _ = tx.send_data(Bytes::from_static(b"second")).await;
            });
            Response::new(body)
        }
    };
    let hits = state.hits.clone();
    Router::new()
        .route("/hello", get(|_req: Request| async { "hello" }))
        .route(
            "/n/:n",
            get(|req: Request| async move { req.param::<u32>("n").map(|n| format!("n {n}")) }),
        )
        .route(
            "/echo",
            post(|req: Request| async move {
                let content_type = req.headers().get(CONTENT_TYPE).cloned();
                let body = req.into_body().collect().await.unwrap_or_default();
                let mut res = Response::new(Body::from(body));
                if let Some(ct) = content_type {
                    res.headers_mut().insert(CONTENT_TYPE, ct);
                }
                res
            }),
        )
        .route(
            "/status/:code",
            get(|req: Request| async move {
                let code: u16 = req.param("code").unwrap_or(500);
                StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }),
        )
        .route("/flaky", get(flaky))
        .route(
            "/redirect/:n",
            get(|req: Request| async move {
                let n: u32 = req.param("n").unwrap_or(0);
                let to = if n <= 1 {
                    "/hello".to_owned()
                } else {
                    format!("/redirect/{}", n - 1)
                };
                http::Response::builder()
                    .status(StatusCode::FOUND)
                    .header(LOCATION, to)
                    .body(Body::empty())
                    .unwrap()
            }),
        )
        .route("/stream", get(stream))
        .route(
            "/big/:len",
            get(|req: Request| async move {
                let len: usize = req.param("len").unwrap_or(0);
                vec![b'x'; len]
            }),
        )
        .layer(Counter(hits))
}

/// Counts every request.
#[derive(Clone)]
struct Counter(Arc<AtomicUsize>);

impl ghostnet_http::middleware::Middleware for Counter {
    fn call<'a>(
        &'a self,
        req: Request,
        next: ghostnet_http::middleware::Next,
    ) -> ghostnet_http::handler::BoxFuture<'a, Response> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(next.run(req))
    }
}

/// Which protocols a test server speaks.
#[derive(Debug, Clone, Copy)]
pub enum Speaks {
    Both,
    Http1Only,
    Http2Only,
}

/// Serves `router` on `host` (e.g. `"api.test:80"`) of `net`.
pub fn serve(net: &MemoryNetwork, host: &str, speaks: Speaks, router: Router) -> Shutdown {
    let builder = Server::builder();
    let builder = match speaks {
        Speaks::Both => builder,
        Speaks::Http1Only => builder.http2(false),
        Speaks::Http2Only => builder.http1(false),
    };
    let server = builder.build().unwrap();
    let listener = net.listen(&host.parse().unwrap()).unwrap();
    let shutdown = Shutdown::new();
    tokio::spawn(server.serve(listener, router, shutdown.clone()));
    shutdown
}

/// A dialer that counts the connections it opens.
#[derive(Clone)]
pub struct Counting<D> {
    pub inner: D,
    pub dials: Arc<AtomicUsize>,
}

impl<D> Counting<D> {
    pub fn new(inner: D) -> Self {
        Self {
            inner,
            dials: Arc::default(),
        }
    }

    pub fn count(&self) -> usize {
        self.dials.load(Ordering::SeqCst)
    }
}

impl<D: Dial> Dial for Counting<D> {
    type Stream = D::Stream;

    async fn dial(&self, target: &Target) -> ghostnet_transport::Result<D::Stream> {
        self.dials.fetch_add(1, Ordering::SeqCst);
        self.inner.dial(target).await
    }
}

/// A listener that counts the connections it accepts (under TLS: the TCP connections).
pub struct CountingListener<L> {
    pub inner: L,
    pub accepted: Arc<AtomicUsize>,
}

impl<L> CountingListener<L> {
    pub fn new(inner: L) -> Self {
        Self {
            inner,
            accepted: Arc::default(),
        }
    }
}

impl<L: Listen> Listen for CountingListener<L> {
    type Stream = L::Stream;

    async fn accept(&self) -> ghostnet_transport::Result<(L::Stream, SocketAddr)> {
        let accepted = self.inner.accept().await;
        if accepted.is_ok() {
            self.accepted.fetch_add(1, Ordering::SeqCst);
        }
        accepted
    }
}
