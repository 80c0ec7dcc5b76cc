//! A local AUR-format server for tests, the CLI demo and benchmarks (feature `testing`).
//!
//! It serves the recorded fixtures (yay, paru, an orphan) plus any number of generated
//! packages ([`generated_name`]) over HTTP/1.1, speaking the real RPC v5 format: `info`
//! by GET (`arg[]`) and POST (JSON body), `search` by every field, ETags with `304 Not
//! Modified`, and `type: "error"` answers. It can be told to fail the next requests
//! ([`Failure`]): HTTP 429 with `Retry-After`, an RPC error, a body that is not JSON,
//! or an HTTP status.
//!
//! ```
//! use ghostnet_pkgmgr::aur::testing::{AurServer, Failure, generated_name};
//! use ghostnet_pkgmgr::aur::AurClient;
//! # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
//! let server = AurServer::builder().generated(50).start().unwrap();
//! let aur = AurClient::builder().endpoint(server.endpoint()).build().unwrap();
//! let names: Vec<String> = (0..50).map(generated_name).collect();
//! assert_eq!(aur.info(&names).await.unwrap().packages.len(), 50);
//!
//! server.fail_next(Failure::RateLimited { retry_after: Some(60) });
//! let err = aur.info(&["yay"]).await.unwrap_err();
//! assert!(err.to_string().contains("retry in 60s"), "{err}");
//! server.stop().await;
//! # }).unwrap();
//! ```

mod data;
mod handler;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ghostnet_http1::{Body, Server};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::{Listen, TcpListener, TcpOptions};
use http::{Request, Response, StatusCode};

pub use data::{generated_name, generated_package, recorded_packages};

use super::PackageInfo;
use crate::fetch::{FetchBody, FetchFuture, HttpFetch};

/// The most results one answer may hold before it is `Too many package results.`
/// (aurweb's default).
pub const DEFAULT_MAX_RESULTS: usize = 5000;

/// How the server answers the next request instead of serving it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// HTTP 429 with aurweb's `Rate limit reached` body, and `Retry-After` in seconds
    /// when given.
    RateLimited {
        /// The `Retry-After` value.
        retry_after: Option<u64>,
    },
    /// `type: "error"` with this message (HTTP 200, as aurweb does).
    Error(String),
    /// An HTML page with status 200, as a captive portal or broken proxy sends.
    NotJson,
    /// This HTTP status with an HTML body.
    Status(u16),
}

/// Counters of what the server was asked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerStats {
    /// Every request, failures included.
    pub requests: u64,
    /// `info` by GET.
    pub info_get: u64,
    /// `info` by POST.
    pub info_post: u64,
    /// `search` (GET or POST).
    pub search: u64,
    /// Answers `304 Not Modified`.
    pub not_modified: u64,
}

/// Settings of an [`AurServer`].
#[derive(Debug, Clone)]
pub struct AurServerBuilder {
    generated: usize,
    extra: Vec<PackageInfo>,
    max_results: usize,
}

impl AurServerBuilder {
    /// Also serve generated packages `0..n` ([`generated_package`]); none by default.
    pub fn generated(mut self, n: usize) -> Self {
        self.generated = n;
        self
    }

    /// Also serve `package` (replacing one of the same name).
    pub fn package(mut self, package: PackageInfo) -> Self {
        self.extra.push(package);
        self
    }

    /// Results per answer before `Too many package results.` ([`DEFAULT_MAX_RESULTS`]).
    pub fn max_results(mut self, n: usize) -> Self {
        self.max_results = n;
        self
    }

    /// Listens on `127.0.0.1` (a free port) and serves until [`AurServer::stop`]. Must
    /// run inside a tokio runtime.
    ///
    /// # Errors
    ///
    /// When the listener cannot be bound.
    pub fn start(self) -> ghostnet_transport::Result<AurServer> {
        let listener =
            TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)), TcpOptions::default())?;
        let addr = listener.local_addr();
        Ok(self.serve_on(listener, format!("http://{addr}")))
    }

    /// Serves on `listener` (the in-memory transport, for example); `endpoint` is the
    /// base URL clients use to reach it.
    pub fn serve_on<L: Listen>(self, listener: L, endpoint: String) -> AurServer {
        let state = Arc::new(self.into_state());
        let shutdown = Shutdown::new();
        let service_state = Arc::clone(&state);
        let service = move |req: Request<Body>| {
            let state = Arc::clone(&service_state);
            async move { serve_one(&state, req).await }
        };
        let serving = tokio::spawn(Server::builder().build().serve(
            listener,
            service,
            shutdown.clone(),
        ));
        AurServer {
            endpoint,
            state,
            shutdown,
            serving: Some(serving),
        }
    }

    /// A server without a listener, reached only in-process: it is an [`HttpFetch`]
    /// itself, so `AurClient::builder().endpoint(s.endpoint()).build_with(s)` talks to
    /// it with no I/O (what tests on tokio's paused clock need).
    pub fn in_process(self) -> AurServer {
        AurServer {
            endpoint: IN_PROCESS_ENDPOINT.to_owned(),
            state: Arc::new(self.into_state()),
            shutdown: Shutdown::new(),
            serving: None,
        }
    }

    fn into_state(self) -> State {
        let mut packages = recorded_packages();
        packages.extend((0..self.generated).map(generated_package));
        for p in self.extra {
            packages.retain(|q| q.name != p.name);
            packages.push(p);
        }
        State {
            by_name: handler::index(&packages),
            info_json: packages.iter().map(handler::sorted_json).collect(),
            search_json: packages
                .iter()
                .map(|p| handler::sorted_json(&data::search_result(p)))
                .collect(),
            packages,
            max_results: self.max_results,
            failures: Mutex::new(VecDeque::new()),
            stats: Counters::default(),
        }
    }
}

/// A running local AUR endpoint. See the [module docs](self).
#[derive(Debug)]
pub struct AurServer {
    endpoint: String,
    state: Arc<State>,
    shutdown: Shutdown,
    serving: Option<tokio::task::JoinHandle<ghostnet_http1::Result<()>>>,
}

/// The endpoint of an [`in_process`](AurServerBuilder::in_process) server.
const IN_PROCESS_ENDPOINT: &str = "http://aur.in-process.test";

/// Answers in-process: the request goes straight to the handler.
impl HttpFetch for AurServer {
    fn fetch(&self, request: Request<Bytes>) -> FetchFuture<'_> {
        let response = self.handle(request).map(FetchBody::from);
        Box::pin(async move { Ok(response) })
    }
}

impl AurServer {
    /// A builder: the recorded packages, no generated ones.
    pub fn builder() -> AurServerBuilder {
        AurServerBuilder {
            generated: 0,
            extra: Vec::new(),
            max_results: DEFAULT_MAX_RESULTS,
        }
    }

    /// The base URL to give an AUR client (`http://127.0.0.1:PORT`).
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    /// Answers the next request with `failure` (queued: call it twice to fail two).
    pub fn fail_next(&self, failure: Failure) {
        self.state.lock_failures().push_back(failure);
    }

    /// What the server was asked so far.
    pub fn stats(&self) -> ServerStats {
        let c = &self.state.stats;
        ServerStats {
            requests: c.requests.load(Ordering::Relaxed),
            info_get: c.info_get.load(Ordering::Relaxed),
            info_post: c.info_post.load(Ordering::Relaxed),
            search: c.search.load(Ordering::Relaxed),
            not_modified: c.not_modified.load(Ordering::Relaxed),
        }
    }

    /// Answers one request in-process, without the network (for an HTTP client
    /// stand-in in tests).
    pub fn handle(&self, req: Request<Bytes>) -> Response<Bytes> {
        handler::handle(&self.state, req)
    }

    /// Stops accepting, lets requests in flight finish, and closes the connections.
    pub async fn stop(self) {
        self.shutdown.shutdown().await;
        if let Some(serving) = self.serving {
            let _ = serving.await;
        }
    }
}

/// Reads the request body and answers through the handler.
async fn serve_one(state: &State, req: Request<Body>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let Ok(body) = body.collect().await else {
        let mut r = Response::new(Body::from("bad request body"));
        *r.status_mut() = StatusCode::BAD_REQUEST;
        return r;
    };
    handler::handle(state, Request::from_parts(parts, body)).map(Body::from)
}

#[derive(Debug)]
pub(crate) struct State {
    packages: Vec<PackageInfo>,
    by_name: HashMap<String, usize>,
    /// Each package as `info` and `search` return it, serialized once.
    info_json: Vec<Bytes>,
    search_json: Vec<Bytes>,
    max_results: usize,
    failures: Mutex<VecDeque<Failure>>,
    stats: Counters,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    info_get: AtomicU64,
    info_post: AtomicU64,
    search: AtomicU64,
    not_modified: AtomicU64,
}

impl State {
    fn lock_failures(&self) -> std::sync::MutexGuard<'_, VecDeque<Failure>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn next_failure(&self) -> Option<Failure> {
        self.lock_failures().pop_front()
    }
}
