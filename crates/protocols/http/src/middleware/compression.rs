//! [`Compression`]: response bodies compressed by `Accept-Encoding`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_compression::Level;
use async_compression::tokio::bufread::{BrotliEncoder, DeflateEncoder, GzipEncoder, ZstdEncoder};
use bytes::{Buf, Bytes, BytesMut};
use http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE,
    ETAG, HeaderMap, HeaderValue, VARY,
};
use http::{Method, StatusCode};
use tokio::io::{AsyncBufRead, AsyncRead};

use super::{Middleware, Next};
use crate::body::Body;
use crate::handler::BoxFuture;
use crate::{Request, Response};

/// Default for [`Compression::min_size`]: bodies under 1 KiB are sent as they are
/// (compression would save less than its framing costs).
pub const DEFAULT_MIN_SIZE: u64 = 1024;

/// Output buffer per read of the encoder.
const CHUNK: usize = 16 * 1024;

/// A content coding [`Compression`] can apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// Brotli (`br`), at quality 4: close to gzip's speed, smaller output.
    Brotli,
    /// Zstandard (`zstd`), level 3.
    Zstd,
    /// gzip, level 6.
    Gzip,
    /// zlib-wrapped deflate (`deflate`), level 6.
    Deflate,
}

impl Encoding {
    /// The `Content-Encoding` token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Brotli => "br",
            Self::Zstd => "zstd",
            Self::Gzip => "gzip",
            Self::Deflate => "deflate",
        }
    }
}

/// Compresses response bodies with the coding the client prefers
/// (`Accept-Encoding` q-values; on a tie, the server's order: br, zstd, gzip, deflate).
///
/// Left alone: responses with a `Content-Encoding` already, range answers (`206`, or a
/// `Content-Range`), `1xx`/`204`/`304`, `HEAD` answers, `Cache-Control: no-transform`,
/// bodies known to be under [`min_size`](Self::min_size), already-compressed types
/// (images but SVG, audio, video, fonts, archives, PDF) and `text/event-stream` (events
/// must not wait in an encoder's buffer). Compressed responses lose `Content-Length`
/// (the size is not known before the end) and trailers, gain `Vary: Accept-Encoding`,
/// and a strong `ETag` becomes weak (`W/`), since the bytes differ from the identity
/// representation's.
///
/// ```
/// use ghostnet_http::middleware::{Compression, Encoding};
///
/// let gzip_only = Compression::new().encodings([Encoding::Gzip]).min_size(256);
/// # let _ = gzip_only;
/// ```
#[derive(Debug, Clone)]
pub struct Compression {
    encodings: Vec<Encoding>,
    min_size: u64,
}

impl Default for Compression {
    fn default() -> Self {
        Self::new()
    }
}

impl Compression {
    /// All four codings, [`DEFAULT_MIN_SIZE`].
    pub fn new() -> Self {
        Self {
            encodings: vec![
                Encoding::Brotli,
                Encoding::Zstd,
                Encoding::Gzip,
                Encoding::Deflate,
            ],
            min_size: DEFAULT_MIN_SIZE,
        }
    }

    /// The codings to offer, in the server's order of preference.
    pub fn encodings<I: IntoIterator<Item = Encoding>>(mut self, encodings: I) -> Self {
        self.encodings = encodings.into_iter().collect();
        self
    }

    /// Bodies of known length under `bytes` are not compressed.
    pub fn min_size(mut self, bytes: u64) -> Self {
        self.min_size = bytes;
        self
    }

    fn compressible(&self, res: &Response) -> bool {
        let status = res.status();
        if status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::PARTIAL_CONTENT
            || status == StatusCode::NOT_MODIFIED
        {
            return false;
        }
        let h = res.headers();
        if h.contains_key(CONTENT_RANGE)
            || h.get(CONTENT_ENCODING).is_some_and(|v| v != "identity")
            || h.get_all(CACHE_CONTROL).iter().any(|v| {
                v.to_str()
                    .is_ok_and(|v| v.to_ascii_lowercase().contains("no-transform"))
            })
        {
            return false;
        }
        if let Some(ct) = h.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())
            && already_compressed(ct)
        {
            return false;
        }
        res.body().size_hint().is_none_or(|n| n >= self.min_size)
    }
}

/// Whether `content_type` is compressed already, or must not be buffered (SSE).
fn already_compressed(content_type: &str) -> bool {
    let ct = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if ct == "image/svg+xml" {
        return false;
    }
    ct.starts_with("image/")
        || ct.starts_with("audio/")
        || ct.starts_with("video/")
        || ct.starts_with("font/woff")
        || matches!(
            ct.as_str(),
            "application/zip"
                | "application/gzip"
                | "application/x-gzip"
                | "application/zstd"
                | "application/x-bzip2"
                | "application/x-xz"
                | "application/x-7z-compressed"
                | "application/x-rar-compressed"
                | "application/pdf"
                | "text/event-stream"
        )
}

/// The coding to use for `accept` (all `Accept-Encoding` values), among `offered` in
/// preference order; `None` for identity.
pub(crate) fn choose(accept: &HeaderMap, offered: &[Encoding]) -> Option<Encoding> {
    let mut best: Option<(u16, usize)> = None; // (q in thousandths, index in offered)
    let mut star: Option<u16> = None;
    let mut listed = vec![false; offered.len()];
    let entries = accept
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','));
    let consider = |q: u16, idx: usize, best: &mut Option<(u16, usize)>| {
        if q > 0 && best.is_none_or(|(bq, bi)| q > bq || (q == bq && idx < bi)) {
            *best = Some((q, idx));
        }
    };
    for entry in entries {
        let mut parts = entry.split(';');
        let token = parts.next().unwrap_or("").trim();
        if token.is_empty() {
            continue;
        }
        let q = parts
            .find_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("q")
                    .then(|| parse_q(v.trim()))
            })
            .unwrap_or(Some(1000));
        let Some(q) = q else { continue }; // malformed q: not acceptable
        if token == "*" {
            star = Some(q);
            continue;
        }
        if let Some(idx) = offered.iter().position(|e| {
            e.as_str().eq_ignore_ascii_case(token)
                || (token.eq_ignore_ascii_case("x-gzip") && *e == Encoding::Gzip)
        }) {
            listed[idx] = true;
            consider(q, idx, &mut best);
        }
    }
    if let Some(q) = star {
        for idx in 0..offered.len() {
            if !listed[idx] {
                consider(q, idx, &mut best);
            }
        }
    }
    best.map(|(_, idx)| offered[idx])
}

/// A q-value (`0`, `0.5`, `1.000`) in thousandths; `None` when malformed.
fn parse_q(v: &str) -> Option<u16> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let scaled = match int {
        "0" => frac
            .bytes()
            .chain(std::iter::repeat(b'0'))
            .take(3)
            .fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0')),
        "1" if frac.bytes().all(|b| b == b'0') => 1000,
        _ => return None,
    };
    Some(scaled)
}

impl Middleware for Compression {
    fn call<'a>(&'a self, req: Request, next: Next) -> BoxFuture<'a, Response> {
        let chosen = choose(req.headers(), &self.encodings);
        let head = req.method() == Method::HEAD;
        Box::pin(async move {
            let res = next.run(req).await;
            if !self.compressible(&res) {
                return res;
            }
            let (mut parts, body) = res.into_parts();
            parts
                .headers
                .append(VARY, HeaderValue::from_static("Accept-Encoding"));
            let Some(encoding) = chosen.filter(|_| !head) else {
                return Response::from_parts(parts, body);
            };
            parts.headers.remove(CONTENT_LENGTH);
            parts.headers.insert(
                CONTENT_ENCODING,
                HeaderValue::from_static(encoding.as_str()),
            );
            if let Some(etag) = parts.headers.get(ETAG)
                && !etag.as_bytes().starts_with(b"W/")
            {
                let mut weak = b"W/".to_vec();
                weak.extend_from_slice(etag.as_bytes());
                if let Ok(v) = HeaderValue::from_bytes(&weak) {
                    parts.headers.insert(ETAG, v);
                }
            }
            Response::from_parts(parts, compress(body, encoding))
        })
    }
}

/// `body`, compressed with `encoding` as it streams.
pub(crate) fn compress(body: Body, encoding: Encoding) -> Body {
    let reader = BodyReader {
        body,
        chunk: Bytes::new(),
    };
    let encoder: Pin<Box<dyn AsyncRead + Send>> = match encoding {
        Encoding::Brotli => Box::pin(BrotliEncoder::with_quality(reader, Level::Precise(4))),
        Encoding::Zstd => Box::pin(ZstdEncoder::with_quality(reader, Level::Default)),
        Encoding::Gzip => Box::pin(GzipEncoder::with_quality(reader, Level::Default)),
        Encoding::Deflate => Box::pin(DeflateEncoder::with_quality(reader, Level::Default)),
    };
    Body::wrap(Compressed {
        encoder,
        buf: BytesMut::new(),
        done: false,
    })
}

/// A body as an `AsyncBufRead`, for the encoders. Trailers are dropped.
struct BodyReader {
    body: Body,
    chunk: Bytes,
}

impl AsyncRead for BodyReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let data = std::task::ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = data.len().min(buf.remaining());
        buf.put_slice(&data[..n]);
        self.consume(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncBufRead for BodyReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        while this.chunk.is_empty() {
            match std::task::ready!(this.body.poll_frame(cx)) {
                None => break,
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        this.chunk = data;
                    }
                }
                Some(Err(e)) => return Poll::Ready(Err(io::Error::other(e))),
            }
        }
        Poll::Ready(Ok(&this.chunk))
    }

    fn consume(mut self: Pin<&mut Self>, amt: usize) {
        self.chunk.advance(amt);
    }
}

/// The encoder's output as a body.
struct Compressed {
    encoder: Pin<Box<dyn AsyncRead + Send>>,
    buf: BytesMut,
    done: bool,
}

impl http_body::Body for Compressed {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<io::Result<http_body::Frame<Bytes>>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let this = &mut *self;
        this.buf.reserve(CHUNK);
        match std::task::ready!(tokio_util::io::poll_read_buf(
            this.encoder.as_mut(),
            cx,
            &mut this.buf
        )) {
            Ok(0) => {
                this.done = true;
                Poll::Ready(None)
            }
            Ok(_) => Poll::Ready(Some(Ok(http_body::Frame::data(this.buf.split().freeze())))),
            Err(e) => {
                this.done = true;
                Poll::Ready(Some(Err(e)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT_ENCODING, v.parse().unwrap());
        h
    }

    #[test]
    fn chooses_by_q_then_preference() {
        let all = Compression::new().encodings;
        assert_eq!(choose(&accept("gzip, br"), &all), Some(Encoding::Brotli));
        assert_eq!(
            choose(&accept("gzip;q=1, br;q=0.5"), &all),
            Some(Encoding::Gzip)
        );
        assert_eq!(
            choose(&accept("br;q=0, gzip;q=0.1"), &all),
            Some(Encoding::Gzip)
        );
        assert_eq!(choose(&accept("identity"), &all), None);
        assert_eq!(choose(&accept("*"), &all), Some(Encoding::Brotli));
        assert_eq!(
            choose(&accept("br;q=0, *;q=0.5"), &all),
            Some(Encoding::Zstd)
        );
        assert_eq!(choose(&accept("*;q=0"), &all), None);
        assert_eq!(choose(&accept("gzip;q=2"), &all), None, "malformed q");
        assert_eq!(
            choose(&accept("GZIP;Q=0.8, deflate;q=0.9"), &all),
            Some(Encoding::Deflate)
        );
        assert_eq!(choose(&HeaderMap::new(), &all), None);
        assert_eq!(choose(&accept("x-gzip"), &all), Some(Encoding::Gzip));
    }

    #[test]
    fn q_values() {
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("1.000"), Some(1000));
        assert_eq!(parse_q("0.5"), Some(500));
        assert_eq!(parse_q("0.125"), Some(125));
        assert_eq!(parse_q("0"), Some(0));
        for bad in ["1.5", "0.1234", "-1", "", "x", "0.x"] {
            assert_eq!(parse_q(bad), None, "{bad}");
        }
    }

    #[test]
    fn compressed_types() {
        assert!(already_compressed("image/png"));
        assert!(!already_compressed("image/svg+xml"));
        assert!(already_compressed("application/zip"));
        assert!(already_compressed("text/event-stream; charset=utf-8"));
        assert!(!already_compressed("text/html; charset=utf-8"));
        assert!(!already_compressed("application/json"));
    }
}
