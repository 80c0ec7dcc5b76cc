//! [`Decoding`]: a content-decoded body over any `http_body::Body` of `Bytes`.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use async_compression::tokio::bufread::{
    BrotliDecoder, DeflateDecoder, GzipDecoder, ZlibDecoder, ZstdDecoder,
};
use bytes::{Bytes, BytesMut};
use http_body::Body;
use tokio::io::AsyncBufRead;
use tokio_util::io::poll_read_buf;

use super::reader::BodyReader;
use super::{BOMB_ALLOWANCE, Coding, DecodeError};

/// Room made for decoded output per read.
const OUT_CHUNK: usize = 32 * 1024;

enum Decoder<B: Body> {
    /// `deflate` before its first bytes: RFC 9110 says zlib, some servers send raw
    /// deflate. `None` only while switching to the decoder the first bytes call for.
    Sniffing(Option<BodyReader<B>>),
    Gzip(GzipDecoder<BodyReader<B>>),
    Brotli(BrotliDecoder<BodyReader<B>>),
    Zlib(ZlibDecoder<BodyReader<B>>),
    RawDeflate(DeflateDecoder<BodyReader<B>>),
    Zstd(ZstdDecoder<BodyReader<B>>),
}

impl<B: Body<Data = Bytes> + Unpin> Decoder<B> {
    fn reader(&self) -> Option<&BodyReader<B>> {
        match self {
            Self::Sniffing(r) => r.as_ref(),
            Self::Gzip(d) => Some(d.get_ref()),
            Self::Brotli(d) => Some(d.get_ref()),
            Self::Zlib(d) => Some(d.get_ref()),
            Self::RawDeflate(d) => Some(d.get_ref()),
            Self::Zstd(d) => Some(d.get_ref()),
        }
    }

    fn reader_mut(&mut self) -> Option<&mut BodyReader<B>> {
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

/// A body decoded from its content coding as it is read, over the encoded body `B`
/// (this crate's client wire body, an HTTP/2 stream, any `http_body::Body` of `Bytes`).
///
/// Counts both sides ([`wire_bytes`](Self::wire_bytes),
/// [`decoded_bytes`](Self::decoded_bytes)) for progress, and stops a decompression bomb
/// (see the [module docs](super)). Once the compressed stream ends, the rest of the
/// encoded body is read and dropped (servers sometimes pad), so that its connection or
/// stream is finished cleanly.
///
/// A corrupt or truncated encoding is a [`DecodeError::Corrupt`], never a silently
/// short body; the body's own errors come back as [`DecodeError::Body`].
pub struct Decoding<B: Body> {
    coding: Coding,
    decoder: Decoder<B>,
    out: BytesMut,
    decoded: u64,
    max_ratio: u64,
    /// The decoder reached the end of its stream; what is left of the body is drained.
    finishing: bool,
    done: bool,
}

impl<B: Body<Data = Bytes> + Unpin> Decoding<B> {
    /// Decodes `body`, encoded with `coding`; it may decode to at most `max_ratio` times
    /// the encoded bytes read, plus [`BOMB_ALLOWANCE`].
    pub fn new(coding: Coding, body: B, max_ratio: u64) -> Self {
        let reader = BodyReader::new(body);
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

    /// The coding being decoded.
    pub fn coding(&self) -> Coding {
        self.coding
    }

    /// The encoded body (for its length, trailers, or state). `None` only while a poll
    /// switches `deflate` to the decoder its first bytes call for, so never between
    /// calls.
    pub fn get_ref(&self) -> Option<&B> {
        self.decoder.reader().map(|r| &r.body)
    }

    /// Encoded bytes read from the body so far.
    pub fn wire_bytes(&self) -> u64 {
        self.decoder.reader().map_or(0, |r| r.received)
    }

    /// Decoded bytes handed out so far.
    pub fn decoded_bytes(&self) -> u64 {
        self.decoded
    }

    /// Whether the decoded body has been read to its end (or failed).
    pub fn is_end(&self) -> bool {
        self.done
    }

    /// The next piece of the decoded body; `None` at its end.
    pub async fn chunk(&mut self) -> Option<Result<Bytes, DecodeError<B::Error>>> {
        poll_fn(|cx| self.poll_chunk(cx)).await
    }

    /// Polls for the next piece of the decoded body; `None` at its end.
    pub fn poll_chunk(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, DecodeError<B::Error>>>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Decoder::Sniffing(reader) = &mut self.decoder {
            let Some(r) = reader.as_mut() else {
                return Poll::Ready(None);
            };
            let zlib = match ready!(Pin::new(&mut *r).poll_fill_buf(cx)) {
                Ok(b) => b.is_empty() || is_zlib_header(b),
                Err(e) => return self.fail(e),
            };
            if let Some(r) = reader.take() {
                self.decoder = if zlib {
                    Decoder::Zlib(ZlibDecoder::new(r))
                } else {
                    Decoder::RawDeflate(DeflateDecoder::new(r))
                };
            }
        }
        if self.finishing {
            return self.poll_finish_body(cx);
        }
        if self.out.capacity() - self.out.len() < OUT_CHUNK / 4 {
            self.out.reserve(OUT_CHUNK);
        }
        match ready!(self.decoder.poll_read_into(cx, &mut self.out)) {
            Ok(0) => {
                self.finishing = true;
                self.poll_finish_body(cx)
            }
            Ok(n) => {
                self.decoded += n as u64;
                let wire = self.wire_bytes();
                let allowed = wire
                    .saturating_mul(self.max_ratio)
                    .saturating_add(BOMB_ALLOWANCE);
                if self.decoded > allowed {
                    self.done = true;
                    return Poll::Ready(Some(Err(DecodeError::Bomb {
                        encoding: self.coding.name(),
                        wire,
                        decoded: self.decoded,
                    })));
                }
                Poll::Ready(Some(Ok(self.out.split().freeze())))
            }
            Err(e) => self.fail(e),
        }
    }

    /// Ends the body with the decoder's error: the body's own one when the body failed
    /// under it, otherwise a decoding error naming the coding.
    fn fail(&mut self, e: io::Error) -> Poll<Option<Result<Bytes, DecodeError<B::Error>>>> {
        self.done = true;
        let error = match self.decoder.reader_mut().and_then(|r| r.error.take()) {
            Some(body) => DecodeError::Body(body),
            None => DecodeError::Corrupt {
                encoding: self.coding.name(),
                source: e,
            },
        };
        Poll::Ready(Some(Err(error)))
    }

    /// After the decoder's end: reads the body to its end, ignoring bytes after the
    /// compressed stream, so its connection or stream is finished.
    fn poll_finish_body(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, DecodeError<B::Error>>>> {
        let Some(reader) = self.decoder.reader_mut() else {
            self.done = true;
            return Poll::Ready(None);
        };
        reader.clear();
        while let Some(next) = ready!(reader.poll_data(cx)) {
            if let Err(e) = next {
                self.done = true;
                return Poll::Ready(Some(Err(DecodeError::Body(e))));
            }
        }
        self.done = true;
        Poll::Ready(None)
    }
}

impl<B: Body> fmt::Debug for Decoding<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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

    #[test]
    fn zlib_header_sniffing() {
        assert!(is_zlib_header(&[0x78, 0x9c]));
        assert!(is_zlib_header(&[0x78, 0x01]));
        assert!(!is_zlib_header(&[0xcb, 0x48])); // raw deflate of "hello"
        assert!(!is_zlib_header(&[0x78]));
    }
}
