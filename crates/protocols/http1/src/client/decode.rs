//! Content decoding of response bodies (gzip, br, deflate, zstd) with async-compression,
//! and the cap that stops decompression bombs.
//!
//! The cap is relative: a body may decode to at most `max_ratio` times the encoded bytes
//! received so far, plus [`BOMB_ALLOWANCE`] so that small, very compressible responses
//! (a page of zeros, a sparse JSON array) pass. It is checked as output is produced, so a
//! bomb is stopped after about that much output, whatever its final size.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use async_compression::tokio::bufread::{
    BrotliDecoder, DeflateDecoder, GzipDecoder, ZlibDecoder, ZstdDecoder,
};
use bytes::{Buf, Bytes, BytesMut};
use http::HeaderMap;
use http::header::CONTENT_ENCODING;
use tokio::io::{AsyncBufRead, AsyncRead, ReadBuf};
use tokio_util::io::poll_read_buf;

use crate::client::wire::WireBody;
use crate::codec::body_length::trim_ows;
use crate::error::{Error, Result};

/// Default for [`ClientBuilder::max_decompression_ratio`](crate::client::ClientBuilder::max_decompression_ratio).
pub const DEFAULT_MAX_DECOMPRESSION_RATIO: u64 = 100;

/// Decoded bytes always allowed on top of the ratio: 1 MiB.
pub const BOMB_ALLOWANCE: u64 = 1024 * 1024;

/// Room made for decoded output per read.
const OUT_CHUNK: usize = 32 * 1024;

/// A content coding this client decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Gzip,
    Brotli,
    Deflate,
    Zstd,
}

impl Coding {
    /// The coding of a response, when it has exactly one that we decode. Unknown or
    /// stacked codings are left alone: the caller gets the bytes as sent, and the
    /// `Content-Encoding` field that says what they are.
    pub(crate) fn of(headers: &HeaderMap) -> Option<Self> {
        let mut values = headers.get_all(CONTENT_ENCODING).iter();
        let value = values.next()?;
        if values.next().is_some() {
            return None;
        }
        Some(match trim_ows(value.as_bytes()) {
            v if v.eq_ignore_ascii_case(b"gzip") || v.eq_ignore_ascii_case(b"x-gzip") => Self::Gzip,
            v if v.eq_ignore_ascii_case(b"br") => Self::Brotli,
            v if v.eq_ignore_ascii_case(b"deflate") => Self::Deflate,
            v if v.eq_ignore_ascii_case(b"zstd") => Self::Zstd,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Brotli => "br",
            Self::Deflate => "deflate",
            Self::Zstd => "zstd",
        }
    }
}

/// The wire body as an `AsyncBufRead`, which async-compression decoders read from.
#[derive(Debug)]
pub(crate) struct WireReader {
    pub(crate) wire: WireBody,
    chunk: Bytes,
}

impl AsyncBufRead for WireReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        while this.chunk.is_empty() {
            match ready!(this.wire.poll_chunk(cx)) {
                None => break,
                Some(Ok(b)) => this.chunk = b,
                // Carried through the decoder inside an io::Error, unwrapped on the way out.
                Some(Err(e)) => return Poll::Ready(Err(io::Error::other(e))),
            }
        }
        Poll::Ready(Ok(&this.chunk))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().chunk.advance(amt);
    }
}

impl AsyncRead for WireReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let src = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = src.len().min(buf.remaining());
        buf.put_slice(&src[..n]);
        self.consume(n);
        Poll::Ready(Ok(()))
    }
}

enum Decoder {
    /// `deflate` before its first bytes: RFC 9110 says zlib, some servers send raw deflate.
    Sniffing(Option<WireReader>),
    Gzip(GzipDecoder<WireReader>),
    Brotli(BrotliDecoder<WireReader>),
    Zlib(ZlibDecoder<WireReader>),
    RawDeflate(DeflateDecoder<WireReader>),
    Zstd(ZstdDecoder<WireReader>),
}

impl Decoder {
    fn reader(&self) -> Option<&WireReader> {
        match self {
            Self::Sniffing(r) => r.as_ref(),
            Self::Gzip(d) => Some(d.get_ref()),
            Self::Brotli(d) => Some(d.get_ref()),
            Self::Zlib(d) => Some(d.get_ref()),
            Self::RawDeflate(d) => Some(d.get_ref()),
            Self::Zstd(d) => Some(d.get_ref()),
        }
    }

    fn reader_mut(&mut self) -> Option<&mut WireReader> {
        match self {
            Self::Sniffing(r) => r.as_mut(),
            Self::Gzip(d) => Some(d.get_mut()),
            Self::Brotli(d) => Some(d.get_mut()),
            Self::Zlib(d) => Some(d.get_mut()),
            Self::RawDeflate(d) => Some(d.get_mut()),
            Self::Zstd(d) => Some(d.get_mut()),
        }
    }

    fn poll_read_into(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut BytesMut,
    ) -> Poll<io::Result<usize>> {
        match self {
            Self::Sniffing(_) => Poll::Ready(Ok(0)),
            Self::Gzip(d) => poll_read_buf(Pin::new(d), cx, out),
            Self::Brotli(d) => poll_read_buf(Pin::new(d), cx, out),
            Self::Zlib(d) => poll_read_buf(Pin::new(d), cx, out),
            Self::RawDeflate(d) => poll_read_buf(Pin::new(d), cx, out),
            Self::Zstd(d) => poll_read_buf(Pin::new(d), cx, out),
        }
    }
}

/// Whether `b` starts with a zlib header (RFC 1950: deflate method, check bits).
fn is_zlib_header(b: &[u8]) -> bool {
    b.len() >= 2 && b[0] & 0x0f == 8 && (u16::from(b[0]) << 8 | u16::from(b[1])) % 31 == 0
}

/// A content-decoded body over a [`WireBody`].
pub(crate) struct Decoding {
    coding: Coding,
    decoder: Decoder,
    out: BytesMut,
    decoded: u64,
    max_ratio: u64,
    /// The decoder reached the end of its stream; what is left of the wire body is
    /// read and dropped (servers sometimes pad), so the connection can be reused.
    finishing: bool,
    done: bool,
}

impl Decoding {
    pub(crate) fn new(coding: Coding, wire: WireBody, max_ratio: u64) -> Self {
        let reader = WireReader {
            wire,
            chunk: Bytes::new(),
        };
        let decoder = match coding {
            Coding::Gzip => {
                let mut d = GzipDecoder::new(reader);
                d.multiple_members(true);
                Decoder::Gzip(d)
            }
            Coding::Brotli => Decoder::Brotli(BrotliDecoder::new(reader)),
            Coding::Deflate => Decoder::Sniffing(Some(reader)),
            Coding::Zstd => Decoder::Zstd(ZstdDecoder::new(reader)),
        };
        Self {
            coding,
            decoder,
            out: BytesMut::new(),
            decoded: 0,
            max_ratio,
            finishing: false,
            done: false,
        }
    }

    pub(crate) fn coding(&self) -> Coding {
        self.coding
    }

    pub(crate) fn wire(&self) -> Option<&WireBody> {
        self.decoder.reader().map(|r| &r.wire)
    }

    pub(crate) fn decoded(&self) -> u64 {
        self.decoded
    }

    pub(crate) fn is_end(&self) -> bool {
        self.done
    }

    /// The next piece of decoded body; `None` at its end.
    pub(crate) fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes>>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Decoder::Sniffing(reader) = &mut self.decoder {
            let Some(r) = reader.as_mut() else {
                return Poll::Ready(Some(Err(Error::BodyClosed)));
            };
            let zlib = match ready!(Pin::new(&mut *r).poll_fill_buf(cx)) {
                Ok(b) => b.is_empty() || is_zlib_header(b),
                Err(e) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(to_error(self.coding, e))));
                }
            };
            let Some(r) = reader.take() else {
                return Poll::Ready(Some(Err(Error::BodyClosed)));
            };
            self.decoder = if zlib {
                Decoder::Zlib(ZlibDecoder::new(r))
            } else {
                Decoder::RawDeflate(DeflateDecoder::new(r))
            };
        }
        if self.finishing {
            return self.poll_finish_wire(cx);
        }
        if self.out.capacity() - self.out.len() < OUT_CHUNK / 4 {
            self.out.reserve(OUT_CHUNK);
        }
        match ready!(self.decoder.poll_read_into(cx, &mut self.out)) {
            Ok(0) => {
                self.finishing = true;
                self.poll_finish_wire(cx)
            }
            Ok(n) => {
                self.decoded += n as u64;
                let wire = self.wire().map_or(0, WireBody::received);
                let allowed = wire
                    .saturating_mul(self.max_ratio)
                    .saturating_add(BOMB_ALLOWANCE);
                if self.decoded > allowed {
                    self.done = true;
                    return Poll::Ready(Some(Err(Error::DecompressionBomb {
                        encoding: self.coding.name(),
                        wire,
                        decoded: self.decoded,
                    })));
                }
                Poll::Ready(Some(Ok(self.out.split().freeze())))
            }
            Err(e) => {
                self.done = true;
                Poll::Ready(Some(Err(to_error(self.coding, e))))
            }
        }
    }

    /// After the decoder's end: reads the wire body to its end, so its connection goes
    /// back to the pool, ignoring bytes after the compressed stream.
    fn poll_finish_wire(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes>>> {
        let Some(reader) = self.decoder.reader_mut() else {
            self.done = true;
            return Poll::Ready(None);
        };
        reader.chunk.clear();
        loop {
            match ready!(reader.wire.poll_chunk(cx)) {
                None => break,
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
        self.done = true;
        Poll::Ready(None)
    }
}

/// Our own error when the decoder passed one of ours through (a timeout, a truncated
/// body), otherwise a decoding error naming the coding.
fn to_error(coding: Coding, e: io::Error) -> Error {
    if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        if let Some(inner) = e.into_inner()
            && let Ok(ours) = inner.downcast::<Error>()
        {
            return *ours;
        }
        return Error::BodyClosed;
    }
    Error::Decompress {
        encoding: coding.name(),
        source: e,
    }
}

impl std::fmt::Debug for Decoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoding")
            .field("coding", &self.coding.name())
            .field("decoded", &self.decoded)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn codings_are_recognised_alone() {
        let of = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(CONTENT_ENCODING, HeaderValue::from_static(v));
            Coding::of(&h)
        };
        assert_eq!(of("gzip"), Some(Coding::Gzip));
        assert_eq!(of(" X-GZIP "), Some(Coding::Gzip));
        assert_eq!(of("br"), Some(Coding::Brotli));
        assert_eq!(of("deflate"), Some(Coding::Deflate));
        assert_eq!(of("zstd"), Some(Coding::Zstd));
        assert_eq!(of("identity"), None);
        assert_eq!(of("gzip, br"), None, "stacked codings are passed through");
        assert_eq!(Coding::of(&HeaderMap::new()), None);
    }

    #[test]
    fn zlib_header_sniffing() {
        assert!(is_zlib_header(&[0x78, 0x9c]));
        assert!(is_zlib_header(&[0x78, 0x01]));
        assert!(!is_zlib_header(&[0xcb, 0x48])); // raw deflate of "hello"
        assert!(!is_zlib_header(&[0x78]));
    }
}
