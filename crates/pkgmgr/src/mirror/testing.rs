//! A local file mirror that misbehaves on purpose (feature `testing`): for tests, the
//! CLI demo and benchmarks.
//!
//! It serves in-memory files over ghostnet-http1 with ranges, a strong `ETag`, `If-Range`
//! and `416`, and can be told to drop the connection after N bytes of every body, ignore
//! ranges, answer an HTML 500, stall, send a wrong `Content-Range`, or ask to retry
//! later. It counts what it was asked, so a test can check the requests a downloader
//! made.
//!
//! ```
//! use bytes::Bytes;
//! use ghostnet_pkgmgr::download::{DownloadOptions, Downloader};
//! use ghostnet_pkgmgr::mirror::MirrorManager;
//! use ghostnet_pkgmgr::mirror::testing::{Behaviour, MirrorServer};
//! # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
//! let file = Bytes::from(vec![7u8; 300_000]);
//! // `a` breaks every body off after 100 kB; `b` serves properly.
//! let a = MirrorServer::builder()
//!     .file("pkgs/x.tar", file.clone())
//!     .behaviour(Behaviour::DropAfter(100_000))
//!     .start()
//!     .unwrap();
//! let b = MirrorServer::builder().file("pkgs/x.tar", file).start().unwrap();
//! let mirrors = MirrorManager::builder()
//!     .primary(a.base())
//!     .fallback(b.base())
//!     .build()
//!     .unwrap();
//! let dir = std::env::temp_dir().join(format!("ghostnet-doc-mirror-{}", std::process::id()));
//! let client = ghostnet_http1::client::Client::new();
//! let report = Downloader::new(client)
//!     .download_from(&mirrors, "pkgs/x.tar", DownloadOptions::new(dir.join("x.tar")))
//!     .await
//!     .unwrap();
//! assert_eq!((report.size, report.failovers), (300_000, 1));
//! assert_eq!(b.ranges(), vec![Some("bytes=100000-".to_owned())]);
//! # let _ = std::fs::remove_dir_all(dir);
//! a.stop().await;
//! b.stop().await;
//! # }).unwrap();
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use ghostnet_http1::{Body, Server};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::{Listen, TcpListener, TcpOptions};
use http::{Request, Response, StatusCode};

/// The entity tag the mirror gives every file (the same on every mirror, as for a file
/// copied unchanged).
pub const ETAG: &str = "\"v1\"";

/// How a [`MirrorServer`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Behaviour {
    /// Ranges, ETag, 416: a well-behaved static file server.
    Normal,
    /// As `Normal`, but each response body breaks off after this many bytes (bodies
    /// no longer than that are sent whole).
    DropAfter(u64),
    /// 200 with the whole file, whatever the request asked.
    IgnoreRange,
    /// 500 with an HTML page.
    Html500,
    /// This status with an HTML page and `Retry-After: secs` (when given), for the next
    /// `times` requests, then `Normal`.
    StatusThenNormal {
        /// The status to answer.
        status: u16,
        /// The `Retry-After` value, seconds.
        retry_after: Option<u64>,
        /// How many requests get it.
        times: usize,
    },
    /// Sends this many bytes, then nothing more (the connection stays open).
    StallAfter(u64),
    /// A 206 whose range starts one byte later than asked.
    WrongRange,
    /// 404 for every path.
    Missing,
}

/// Settings of a [`MirrorServer`]; from [`MirrorServer::builder`].
#[derive(Debug, Clone)]
pub struct MirrorServerBuilder {
    files: HashMap<String, Bytes>,
    behaviour: Behaviour,
    piece: usize,
    pause: Duration,
}

impl MirrorServerBuilder {
    /// Serves `data` at `path` (relative to the base: `pkgs/x.tar`).
    pub fn file(mut self, path: impl AsRef<str>, data: Bytes) -> Self {
        let path = format!("/{}", path.as_ref().trim_start_matches('/'));
        self.files.insert(path, data);
        self
    }

    /// How it answers ([`Behaviour::Normal`] by default; change it later with
    /// [`MirrorServer::set`]).
    pub fn behaviour(mut self, behaviour: Behaviour) -> Self {
        self.behaviour = behaviour;
        self
    }

    /// Sends bodies in `piece`-byte pieces (8 KiB by default) with `pause` between them
    /// (none by default): a slow mirror.
    pub fn paced(mut self, piece: usize, pause: Duration) -> Self {
        self.piece = piece.max(1);
        self.pause = pause;
        self
    }

    /// Listens on `127.0.0.1` (a free port) and serves until [`MirrorServer::stop`].
    /// Must run inside a tokio runtime.
    ///
    /// # Errors
    ///
    /// When the listener cannot be bound.
    pub fn start(self) -> ghostnet_transport::Result<MirrorServer> {
        let listener =
            TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)), TcpOptions::default())?;
        let base = format!("http://{}/", listener.local_addr());
        Ok(self.serve_on(listener, base))
    }

    /// Serves on `listener` (the in-memory transport, for example); `base` is the URL
    /// clients use to reach it (`http://a/`).
    pub fn serve_on<L: Listen>(self, listener: L, base: String) -> MirrorServer {
        let state = Arc::new(State {
            files: self.files,
            behaviour: Mutex::new(self.behaviour),
            piece: self.piece,
            pause: self.pause,
            requests: AtomicUsize::new(0),
            ranges: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let shutdown = Shutdown::new();
        let service_state = Arc::clone(&state);
        let service = move |req: Request<Body>| {
            let state = Arc::clone(&service_state);
            async move { respond(&state, &req) }
        };
        tokio::spawn(
            Server::builder()
                .build()
                .serve(listener, service, shutdown.clone()),
        );
        MirrorServer {
            base,
            state,
            shutdown,
        }
    }
}

/// A running mirror (a cheap handle: clones share it). See the [module docs](self).
#[derive(Debug, Clone)]
pub struct MirrorServer {
    base: String,
    state: Arc<State>,
    shutdown: Shutdown,
}

impl MirrorServer {
    /// A builder: no files, [`Behaviour::Normal`].
    pub fn builder() -> MirrorServerBuilder {
        MirrorServerBuilder {
            files: HashMap::new(),
            behaviour: Behaviour::Normal,
            piece: 8 * 1024,
            pause: Duration::ZERO,
        }
    }

    /// The base URL (`http://127.0.0.1:PORT/`), for a [`MirrorManager`](super::MirrorManager).
    pub fn base(&self) -> String {
        self.base.clone()
    }

    /// Answers from now on as `behaviour`.
    pub fn set(&self, behaviour: Behaviour) {
        *lock(&self.state.behaviour) = behaviour;
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// The `Range` header of every request, in order (`None`: no range).
    pub fn ranges(&self) -> Vec<Option<String>> {
        lock(&self.state.ranges).clone()
    }

    /// Response bodies being sent right now.
    pub fn in_flight(&self) -> usize {
        self.state.in_flight.load(Ordering::SeqCst)
    }

    /// The most response bodies sent at once so far.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Stops accepting and closes the connections once responses in flight end.
    pub async fn stop(&self) {
        self.shutdown.shutdown().await;
    }
}

#[derive(Debug)]
struct State {
    files: HashMap<String, Bytes>,
    behaviour: Mutex<Behaviour>,
    piece: usize,
    pause: Duration,
    requests: AtomicUsize,
    ranges: Mutex<Vec<Option<String>>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// A poisoned lock only means a test panicked elsewhere; the data is still usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn html(status: u16) -> Response<Body> {
    let mut r = Response::new(Body::from(format!(
        "<html><body><h1>{status} error</h1></body></html>"
    )));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/html"),
    );
    r
}

/// The behaviour for this request, or the status (and `Retry-After`) a
/// `StatusThenNormal` still owes, counting itself down.
fn next_behaviour(state: &State) -> Result<Behaviour, (u16, Option<u64>)> {
    let mut b = lock(&state.behaviour);
    if let Behaviour::StatusThenNormal {
        status,
        retry_after,
        times,
    } = *b
    {
        if times == 0 {
            return Ok(Behaviour::Normal);
        }
        *b = Behaviour::StatusThenNormal {
            status,
            retry_after,
            times: times - 1,
        };
        return Err((status, retry_after));
    }
    Ok(*b)
}

fn respond(state: &Arc<State>, req: &Request<Body>) -> Response<Body> {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let header = |name: http::header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let range = header(http::header::RANGE);
    lock(&state.ranges).push(range.clone());
    let behaviour = match next_behaviour(state) {
        Ok(b) => b,
        Err((status, retry_after)) => {
            let mut r = html(status);
            if let Some(s) = retry_after {
                r.headers_mut()
                    .insert(http::header::RETRY_AFTER, http::HeaderValue::from(s));
            }
            return r;
        }
    };
    let Some(data) = state.files.get(req.uri().path()) else {
        return html(404);
    };
    match behaviour {
        Behaviour::Html500 => return html(500),
        Behaviour::Missing => return html(404),
        _ => {}
    }
    let len = data.len() as u64;
    let if_range_ok = header(http::header::IF_RANGE).is_none_or(|v| v == ETAG);
    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<u64>().ok());
    let mut builder = Response::builder()
        .header("etag", ETAG)
        .header("content-type", "application/octet-stream")
        .header("accept-ranges", "bytes");
    let (status, offset) = match (behaviour, start) {
        (Behaviour::IgnoreRange, _) | (_, None) => (StatusCode::OK, 0),
        (_, Some(_)) if !if_range_ok => (StatusCode::OK, 0),
        (_, Some(s)) if s >= len => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            r.headers_mut().insert(
                http::header::CONTENT_RANGE,
                http::HeaderValue::from_str(&format!("bytes */{len}"))
                    .unwrap_or(http::HeaderValue::from_static("bytes */0")),
            );
            return r;
        }
        (Behaviour::WrongRange, Some(s)) => (StatusCode::PARTIAL_CONTENT, s + 1),
        (_, Some(s)) => (StatusCode::PARTIAL_CONTENT, s),
    };
    let offset = offset.min(len);
    if status == StatusCode::PARTIAL_CONTENT {
        builder = builder.header(
            "content-range",
            format!("bytes {offset}-{}/{len}", len.saturating_sub(1)),
        );
    }
    let body = data.slice(offset as usize..);
    builder = builder
        .status(status)
        .header("content-length", body.len().to_string());
    let cut = match behaviour {
        Behaviour::DropAfter(n) => Some((n, false)),
        Behaviour::StallAfter(n) => Some((n, true)),
        _ => None,
    };
    let (tx, out) = Body::channel();
    tokio::spawn(send_body(Arc::clone(state), tx, body, cut));
    builder.body(out).unwrap_or_else(|_| html(500))
}

/// Sends `body` in pieces; with `cut`, breaks off (or stalls) after that many bytes.
async fn send_body(
    state: Arc<State>,
    mut tx: ghostnet_http1::BodySender,
    mut rest: Bytes,
    cut: Option<(u64, bool)>,
) {
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let mut sent = 0u64;
    let mut aborted = false;
    while !rest.is_empty() {
        let mut n = state.piece.min(rest.len());
        if let Some((limit, _)) = cut {
            let left = limit.saturating_sub(sent) as usize;
            if left == 0 {
                aborted = true;
                break;
            }
            n = n.min(left);
        }
        if tx.send_data(rest.split_to(n)).await.is_err() {
            break;
        }
        sent += n as u64;
        if !state.pause.is_zero() {
            tokio::time::sleep(state.pause).await;
        }
    }
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    if aborted {
        if cut.is_some_and(|(_, stall)| stall) {
            // Hold the connection open with nothing more to say.
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        tx.abort();
    }
}
