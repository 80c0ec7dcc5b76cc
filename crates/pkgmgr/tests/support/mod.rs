//! An in-process file server (ghostnet-http1 over the in-memory transport) whose mirrors
//! can misbehave on purpose: drop the connection after N bytes, ignore ranges, answer an
//! HTML 500, stall, send a wrong Content-Range, ask to retry later.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ghostnet_http1::client::Client;
use ghostnet_http1::{Body, Server};
use ghostnet_runtime::Shutdown;
use ghostnet_transport::{MemoryDialer, MemoryNetwork};
use http::{Request, Response, StatusCode};

/// The entity tag every mirror gives the file.
pub const ETAG: &str = "\"v1\"";

/// How a mirror answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Ranges, ETag, 416: a well-behaved static file server.
    Normal,
    /// As `Normal`, but each response body breaks off after this many bytes.
    DropAfter(u64),
    /// 200 with the whole file, whatever the request asked.
    IgnoreRange,
    /// 500 with an HTML page.
    Html500,
    /// The status with an HTML page and `Retry-After: secs` (when given), for the next
    /// `times` requests, then `Normal`.
    StatusThenNormal {
        status: u16,
        retry_after: Option<u64>,
        times: usize,
    },
    /// Sends this many bytes, then nothing more (the connection stays open).
    StallAfter(u64),
    /// A 206 whose range starts one byte later than asked.
    WrongRange,
    /// 404.
    Missing,
}

/// One mirror: a host on the in-memory network.
#[derive(Clone)]
pub struct Mirror {
    pub host: String,
    pub behaviour: Arc<Mutex<Behaviour>>,
    /// Requests received.
    pub requests: Arc<AtomicUsize>,
    /// The `Range` header of every request (None: no range).
    pub ranges: Arc<Mutex<Vec<Option<String>>>>,
    /// Responses whose body is being sent right now, and the most at once.
    pub in_flight: Arc<AtomicUsize>,
    pub max_in_flight: Arc<AtomicUsize>,
}

impl Mirror {
    pub fn set(&self, b: Behaviour) {
        *self.behaviour.lock().unwrap() = b;
    }

    pub fn ranges(&self) -> Vec<Option<String>> {
        self.ranges.lock().unwrap().clone()
    }

    pub fn base(&self) -> String {
        format!("http://{}/", self.host)
    }
}

/// The network, its mirrors and a client that dials into it.
pub struct Net {
    pub net: MemoryNetwork,
    pub shutdown: Shutdown,
    pub client: Client<MemoryDialer>,
}

impl Net {
    pub fn new() -> Self {
        let net = MemoryNetwork::new();
        let client = Client::builder().build_with_dialer(net.dialer()).unwrap();
        Self {
            net,
            shutdown: Shutdown::new(),
            client,
        }
    }

    /// Serves `files` (path -> content) at `host` with `behaviour`. Each body is sent in
    /// `piece`-byte pieces with a pause of `pause` between them (zero: none).
    pub fn mirror(&self, host: &str, files: Vec<(&str, Bytes)>, behaviour: Behaviour) -> Mirror {
        self.mirror_paced(host, files, behaviour, 8 * 1024, Duration::ZERO)
    }

    pub fn mirror_paced(
        &self,
        host: &str,
        files: Vec<(&str, Bytes)>,
        behaviour: Behaviour,
        piece: usize,
        pause: Duration,
    ) -> Mirror {
        let listener = self
            .net
            .listen(&format!("{host}:80").parse().unwrap())
            .unwrap();
        let mirror = Mirror {
            host: host.to_owned(),
            behaviour: Arc::new(Mutex::new(behaviour)),
            requests: Arc::default(),
            ranges: Arc::default(),
            in_flight: Arc::default(),
            max_in_flight: Arc::default(),
        };
        let files: Arc<Vec<(String, Bytes)>> = Arc::new(
            files
                .into_iter()
                .map(|(p, d)| (format!("/{p}"), d))
                .collect(),
        );
        let m = mirror.clone();
        let service = move |req: Request<Body>| {
            let m = m.clone();
            let files = Arc::clone(&files);
            async move { respond(&m, &files, &req, piece, pause) }
        };
        tokio::spawn(
            Server::builder()
                .build()
                .serve(listener, service, self.shutdown.clone()),
        );
        mirror
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

fn html(status: u16) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "text/html")
        .body(Body::from(format!(
            "<html><body><h1>{status} error</h1></body></html>"
        )))
        .unwrap()
}

fn respond(
    m: &Mirror,
    files: &[(String, Bytes)],
    req: &Request<Body>,
    piece: usize,
    pause: Duration,
) -> Response<Body> {
    m.requests.fetch_add(1, Ordering::SeqCst);
    let range = req
        .headers()
        .get("range")
        .map(|v| v.to_str().unwrap().to_owned());
    m.ranges.lock().unwrap().push(range.clone());
    let mut behaviour = *m.behaviour.lock().unwrap();
    if let Behaviour::StatusThenNormal {
        status,
        retry_after,
        times,
    } = behaviour
    {
        if times > 0 {
            m.set(Behaviour::StatusThenNormal {
                status,
                retry_after,
                times: times - 1,
            });
            let mut r = html(status);
            if let Some(s) = retry_after {
                r.headers_mut()
                    .insert("retry-after", s.to_string().parse().unwrap());
            }
            return r;
        }
        behaviour = Behaviour::Normal;
    }
    let Some((_, data)) = files.iter().find(|(p, _)| p == req.uri().path()) else {
        return html(404);
    };
    let len = data.len() as u64;
    match behaviour {
        Behaviour::Html500 => return html(500),
        Behaviour::Missing => return html(404),
        _ => {}
    }
    let if_range_ok = req
        .headers()
        .get("if-range")
        .is_none_or(|v| v.to_str().unwrap() == ETAG);
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
            return builder
                .status(416)
                .header("content-range", format!("bytes */{len}"))
                .body(Body::empty())
                .unwrap();
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
    let (mut tx, out) = Body::channel();
    let m = m.clone();
    tokio::spawn(async move {
        let now = m.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        m.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let mut sent = 0u64;
        let mut rest = body;
        let mut aborted = false;
        while !rest.is_empty() {
            let mut n = piece.min(rest.len());
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
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
        }
        m.in_flight.fetch_sub(1, Ordering::SeqCst);
        if aborted {
            if cut.is_some_and(|(_, stall)| stall) {
                // Hold the connection open with nothing more to say.
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            tx.abort();
        }
    });
    builder.body(out).unwrap()
}

/// Deterministic pseudo-random bytes.
pub fn data(len: usize, seed: u64) -> Bytes {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

/// A fresh, empty directory for one test.
pub fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ghostnet-dl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The SHA-256 of `data`, hex.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    ghostnet_pkgmgr::download::to_hex(&Sha256::digest(data))
}

pub fn part_of(dest: &Path) -> PathBuf {
    let mut s = dest.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}
