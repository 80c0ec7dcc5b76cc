//! Static files: [`ServeDir`] serves a directory tree.
//!
//! - **Ranges** (`Range: bytes=...`): one range → `206` with `Content-Range`; several →
//!   `206 multipart/byteranges` ([`MultiRange::Multipart`], the default) or only the
//!   first one ([`MultiRange::First`]); none satisfiable → `416` with
//!   `Content-Range: bytes */len`. Malformed headers, other units, more than
//!   [`max_ranges`](ServeDir::max_ranges) ranges, or ranges adding up to more than the
//!   file are ignored and the whole file is sent (`200`), as RFC 9110 allows.
//! - **Validators**: a strong `ETag` (size, modification time in ns, inode) and
//!   `Last-Modified`; `If-None-Match` (weak comparison) and `If-Modified-Since` answer
//!   `304`; `If-Range` must match strongly (or equal `Last-Modified`), else the whole
//!   file is sent.
//! - **Content types** from the extension ([`content_type`]).
//! - **Directories**: the index file (`index.html` by default; [`ServeDir::index_file`])
//!   with a redirect to the `/`-terminated path first, so relative links work; without
//!   an index file, `404`.
//! - **sendfile**: the body is a file range, so HTTP/1.1 over plain TCP sends it with
//!   sendfile(2); TLS, HTTP/2 and compressed answers read it in 64 KiB pieces.
//! - **Safety**: `..` segments (also percent-encoded, `%2e%2e`), backslashes and NUL
//!   bytes are refused with `400`; paths are resolved (symlinks included) and must stay
//!   under the root, else `404`; only regular files are served (no devices or FIFOs).

mod etag;
mod mime;
mod multipart;
mod range;

use std::fs::{File, Metadata};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use http::header::{
    ACCEPT_RANGES, ALLOW, CONTENT_RANGE, CONTENT_TYPE, ETAG, HeaderMap, HeaderValue,
    IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, LAST_MODIFIED, LOCATION, RANGE,
};
use http::{Method, StatusCode};

pub use mime::content_type;

use crate::body::Body;
use crate::handler::{BoxFuture, Handler};
use crate::response::status_response;
use crate::router::{RequestExt, path_segments};
use crate::{Request, Response};

use range::Ranges;

/// Default for [`ServeDir::max_ranges`]: 16.
pub const DEFAULT_MAX_RANGES: usize = 16;

/// How a request for several ranges is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MultiRange {
    /// `206` with a `multipart/byteranges` body holding every range (default).
    #[default]
    Multipart,
    /// `206` with the first satisfiable range only (simpler for clients; allowed by
    /// RFC 9110, which lets a server send fewer ranges than asked).
    First,
}

/// Serves files under a root directory; see the [module docs](self).
///
/// The file is the route's last parameter (a `*path` wildcard), or the whole request
/// path when the route has none (as a [`Router::fallback`](crate::Router::fallback)).
///
/// ```
/// use ghostnet_http::files::ServeDir;
/// use ghostnet_http::{Router, get};
///
/// let router = Router::new()
///     .route("/static/*path", get(ServeDir::new("./public")))
///     .fallback(ServeDir::new("./site").index_file(Some("index.html")));
/// # let _ = router;
/// ```
#[derive(Debug, Clone)]
pub struct ServeDir {
    inner: Arc<Config>,
}

#[derive(Debug, Clone)]
struct Config {
    root: PathBuf,
    index: Option<String>,
    multi_range: MultiRange,
    max_ranges: usize,
}

impl ServeDir {
    /// Serves the files under `root` (resolved on each request, so the root may be a
    /// symlink that is switched to deploy).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            inner: Arc::new(Config {
                root: root.into(),
                index: Some("index.html".to_owned()),
                multi_range: MultiRange::Multipart,
                max_ranges: DEFAULT_MAX_RANGES,
            }),
        }
    }

    /// The file served for a directory (default `index.html`); `None` answers
    /// directories with `404`.
    pub fn index_file(mut self, name: Option<&str>) -> Self {
        Arc::make_mut(&mut self.inner).index = name.map(str::to_owned);
        self
    }

    /// How several ranges are answered (default [`MultiRange::Multipart`]).
    pub fn multi_range(mut self, mode: MultiRange) -> Self {
        Arc::make_mut(&mut self.inner).multi_range = mode;
        self
    }

    /// The most ranges one request may ask for (default [`DEFAULT_MAX_RANGES`]); with
    /// more, the `Range` header is ignored and the whole file sent.
    pub fn max_ranges(mut self, n: usize) -> Self {
        Arc::make_mut(&mut self.inner).max_ranges = n.max(1);
        self
    }
}

impl Handler for ServeDir {
    fn call(&self, req: Request) -> BoxFuture<'static, Response> {
        let config = self.inner.clone();
        Box::pin(async move { config.serve(req).await })
    }
}

/// What a path resolved to.
enum Found {
    File(File, Metadata, String),
    /// A directory asked for without the final `/`.
    AddSlash,
    NotFound,
}

impl Config {
    async fn serve(&self, req: Request) -> Response {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            let mut res = status_response(StatusCode::METHOD_NOT_ALLOWED);
            res.headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            return res;
        }
        let rel = match req.params().iter().last() {
            Some((_, v)) => v.to_owned(),
            None => match path_segments(req.uri().path()) {
                Some(segs) => segs.join("/"),
                None => return status_response(StatusCode::BAD_REQUEST),
            },
        };
        let Some(segments) = safe_segments(&rel) else {
            return status_response(StatusCode::BAD_REQUEST);
        };
        let (root, index) = (self.root.clone(), self.index.clone());
        let trailing_slash = req.uri().path().ends_with('/');
        let found = tokio::task::spawn_blocking(move || {
            resolve(&root, &segments, index.as_deref(), trailing_slash)
        })
        .await;
        match found {
            Ok(Ok(Found::File(file, meta, name))) => self.respond(&req, &file, &meta, &name),
            Ok(Ok(Found::AddSlash)) => {
                let mut location = format!("{}/", req.uri().path());
                if let Some(q) = req.uri().query() {
                    location = format!("{location}?{q}");
                }
                let mut res = status_response(StatusCode::MOVED_PERMANENTLY);
                if let Ok(v) = HeaderValue::from_str(&location) {
                    res.headers_mut().insert(LOCATION, v);
                }
                res
            }
            Ok(Ok(Found::NotFound)) => status_response(StatusCode::NOT_FOUND),
            Ok(Err(e)) if e.kind() == io::ErrorKind::PermissionDenied => {
                status_response(StatusCode::FORBIDDEN)
            }
            Ok(Err(e)) => {
                tracing::warn!(root = %self.root.display(), "serving a file failed: {e}");
                status_response(StatusCode::INTERNAL_SERVER_ERROR)
            }
            Err(e) => {
                tracing::warn!("file lookup task failed: {e}");
                status_response(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    fn respond(&self, req: &Request, file: &File, meta: &Metadata, name: &str) -> Response {
        let v = etag::Validators::of(meta);
        let len = meta.len();
        let ct = content_type(name);
        let mut headers = HeaderMap::new();
        if let Ok(tag) = HeaderValue::from_str(&v.etag) {
            headers.insert(ETAG, tag);
        }
        if let Some(lm) = v
            .last_modified()
            .and_then(|d| HeaderValue::from_str(&d).ok())
        {
            headers.insert(LAST_MODIFIED, lm);
        }
        let rh = req.headers();
        let mut inm = rh
            .get_all(IF_NONE_MATCH)
            .iter()
            .map(HeaderValue::as_bytes)
            .peekable();
        let not_modified = if inm.peek().is_some() {
            v.none_match(inm)
        } else {
            rh.get(IF_MODIFIED_SINCE)
                .is_some_and(|ims| v.not_modified_since(ims.as_bytes()))
        };
        if not_modified {
            return with_headers(StatusCode::NOT_MODIFIED, headers, Body::empty());
        }
        headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        let ranges = match rh.get(RANGE).and_then(|r| r.to_str().ok()) {
            Some(range) if rh.get(IF_RANGE).is_none_or(|ir| v.if_range(ir.as_bytes())) => {
                range::parse(range, len, self.max_ranges)
            }
            _ => Ranges::Ignore,
        };
        let body = |offset, n| match file.try_clone() {
            Ok(f) => Ok(Body::file_range(f, offset, n)),
            Err(e) => Err(e),
        };
        let result = match ranges {
            Ranges::Ignore => body(0, len).map(|b| {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
                (StatusCode::OK, b)
            }),
            Ranges::Unsatisfiable => {
                headers.insert(
                    CONTENT_RANGE,
                    content_range_value(&format!("bytes */{len}")),
                );
                let mut res = status_response(StatusCode::RANGE_NOT_SATISFIABLE);
                res.headers_mut().extend(headers);
                return res;
            }
            Ranges::Satisfiable(rs) if rs.len() == 1 || self.multi_range == MultiRange::First => {
                let r = &rs[0];
                let value = format!("bytes {}-{}/{len}", r.start, r.end - 1);
                headers.insert(CONTENT_RANGE, content_range_value(&value));
                headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
                body(r.start, r.end - r.start).map(|b| (StatusCode::PARTIAL_CONTENT, b))
            }
            Ranges::Satisfiable(rs) => {
                let boundary = multipart::boundary();
                let value = format!("multipart/byteranges; boundary={boundary}");
                headers.insert(CONTENT_TYPE, content_range_value(&value));
                multipart::body(file, &rs, len, ct, &boundary)
                    .map(|b| (StatusCode::PARTIAL_CONTENT, b))
            }
        };
        match result {
            Ok((status, body)) => with_headers(status, headers, body),
            Err(e) => {
                tracing::warn!("duplicating a file handle failed: {e}");
                status_response(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

fn content_range_value(s: &str) -> HeaderValue {
    // Built from numbers and our own boundary: always a valid value.
    HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static("bytes */0"))
}

fn with_headers(status: StatusCode, headers: HeaderMap, body: Body) -> Response {
    let mut res = Response::new(body);
    *res.status_mut() = status;
    *res.headers_mut() = headers;
    res
}

/// The segments of a decoded relative path, or `None` when one could climb out of the
/// root or means something else on some platform: `..`, a backslash, a NUL, and on
/// Windows a drive or stream colon. Empty and `.` segments are dropped.
fn safe_segments(rel: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => return None,
            s if s.contains(['\\', '\0']) => return None,
            s if cfg!(windows) && s.contains(':') => return None,
            s => out.push(s.to_owned()),
        }
    }
    Some(out)
}

/// Resolves `segments` under `root` (blocking: runs on the blocking pool).
fn resolve(
    root: &Path,
    segments: &[String],
    index: Option<&str>,
    slash: bool,
) -> io::Result<Found> {
    let root = root.canonicalize()?;
    let mut path = root.clone();
    path.extend(segments);
    let Some((mut real, mut meta)) = inside(&root, &path)? else {
        return Ok(Found::NotFound);
    };
    if meta.is_dir() {
        let Some(index) = index else {
            return Ok(Found::NotFound);
        };
        if !slash && !segments.is_empty() {
            return Ok(Found::AddSlash);
        }
        match inside(&root, &real.join(index))? {
            Some((r, m)) => (real, meta) = (r, m),
            None => return Ok(Found::NotFound),
        }
    }
    if !meta.is_file() {
        return Ok(Found::NotFound);
    }
    let file = File::open(&real)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Ok(Found::NotFound); // replaced between the check and the open
    }
    let name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Found::File(file, meta, name))
}

/// `path` resolved (symlinks followed) with its metadata, when it exists and stays
/// under `root`.
fn inside(root: &Path, path: &Path) -> io::Result<Option<(PathBuf, Metadata)>> {
    let real = match path.canonicalize() {
        Ok(p) => p,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    if !real.starts_with(root) {
        tracing::debug!(path = %path.display(), "refused: resolves outside the root");
        return Ok(None);
    }
    let meta = std::fs::metadata(&real)?;
    Ok(Some((real, meta)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_segments_are_refused() {
        assert_eq!(safe_segments("a/./b//c").unwrap(), ["a", "b", "c"]);
        assert_eq!(safe_segments("").unwrap(), Vec::<String>::new());
        for bad in ["..", "a/../b", "a/..", "a\\..\\b", "x\0y"] {
            assert!(safe_segments(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn resolves_only_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("a.txt"), b"a").unwrap();
        std::fs::write(dir.path().join("secret"), b"s").unwrap();
        let seg = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(matches!(
            resolve(&root, &seg(&["a.txt"]), None, false).unwrap(),
            Found::File(..)
        ));
        assert!(matches!(
            resolve(&root, &seg(&["nope"]), None, false).unwrap(),
            Found::NotFound
        ));
        assert!(matches!(
            resolve(&root, &seg(&["a.txt", "x"]), None, false).unwrap(),
            Found::NotFound
        ));
        assert!(matches!(
            resolve(&root, &seg(&["sub"]), Some("index.html"), false).unwrap(),
            Found::AddSlash
        ));
        assert!(matches!(
            resolve(&root, &seg(&["sub"]), Some("index.html"), true).unwrap(),
            Found::NotFound
        ));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret"), root.join("link")).unwrap();
            assert!(matches!(
                resolve(&root, &seg(&["link"]), None, false).unwrap(),
                Found::NotFound
            ));
        }
    }
}
