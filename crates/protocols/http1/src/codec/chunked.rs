//! The chunked transfer coding (RFC 9112 section 7.1): a decoder fed bytes, and the
//! encoder's framing helpers.
//!
//! Decoding is strict where parsers disagree in the wild: the size is 1 to 16 hex digits
//! and nothing else (no `0x`, signs, spaces or empty sizes), optional whitespace is
//! allowed only before a `;` extension, every line ends in CRLF, and extensions and
//! trailers are bounded.

use bytes::{BufMut, Bytes, BytesMut};
use http::HeaderMap;
use http::header::{CONNECTION, CONTENT_LENGTH, HOST, TE, TRAILER, TRANSFER_ENCODING};

use crate::codec::head::{Scratch, check_line_endings, may_be_complete};
use crate::codec::limits::{HEADER_SLOTS, Limits};
use crate::error::{Error, Result};

/// Longest chunk-size line without extensions: 16 hex digits (u64) and CRLF; longer
/// size fields with leading zeros are still accepted up to this many digits.
const MAX_SIZE_DIGITS: usize = 32;

/// What one step of the decoder produced.
#[derive(Debug)]
pub(crate) enum Chunk {
    /// Body bytes.
    Data(Bytes),
    /// The trailer section (only when it has fields).
    Trailers(HeaderMap),
    /// The body ended.
    Done,
    /// More input is needed.
    NeedMore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a chunk-size line.
    Size,
    /// Inside chunk data, this many bytes left.
    Data(u64),
    /// Expecting the CRLF after chunk data.
    DataEnd,
    /// After the last chunk: trailer fields until a blank line.
    Trailers,
    /// Finished.
    Done,
}

/// A chunked-body decoder: feed it the receive buffer, it consumes what it decodes.
#[derive(Debug)]
pub(crate) struct ChunkedDecoder {
    state: State,
    /// Extension bytes seen so far in this message.
    ext_used: usize,
    max_ext: usize,
    max_trailer: usize,
    max_fields: usize,
    /// Bytes of the current line (or trailer section) already searched for its end, so
    /// input dripped byte by byte is scanned once, not once per byte.
    scanned: usize,
}

impl ChunkedDecoder {
    pub(crate) fn new(limits: &Limits) -> Self {
        Self {
            state: State::Size,
            ext_used: 0,
            max_ext: limits.max_chunk_extension_bytes,
            max_trailer: limits.max_trailer_bytes,
            max_fields: limits.header_slots(),
            scanned: 0,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes the next piece from the front of `buf`.
    pub(crate) fn decode(&mut self, buf: &mut BytesMut) -> Result<Chunk> {
        loop {
            match self.state {
                State::Size => {
                    let Some(size) = self.size_line(buf)? else {
                        return Ok(Chunk::NeedMore);
                    };
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::Data(size)
                    };
                }
                State::Data(left) => {
                    if buf.is_empty() {
                        return Ok(Chunk::NeedMore);
                    }
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                    return Ok(Chunk::Data(buf.split_to(take).freeze()));
                }
                State::DataEnd => {
                    match &buf[..buf.len().min(2)] {
                        b"\r\n" => {}
                        [] | b"\r" => return Ok(Chunk::NeedMore),
                        _ => {
                            return Err(Error::InvalidChunk {
                                reason: "chunk data is not followed by CRLF (wrong chunk size?)",
                            });
                        }
                    }
                    let _ = buf.split_to(2);
                    self.state = State::Size;
                }
                State::Trailers => return self.trailers(buf),
                State::Done => return Ok(Chunk::Done),
            }
        }
    }

    /// Parses a chunk-size line; `None` when it is not complete yet.
    fn size_line(&mut self, buf: &mut BytesMut) -> Result<Option<u64>> {
        let ext_left = self.max_ext.saturating_sub(self.ext_used);
        let max_line = MAX_SIZE_DIGITS + ext_left + 2;
        let from = self.scanned.min(buf.len());
        let found = buf[from..]
            .iter()
            .take((max_line + 1).saturating_sub(from))
            .position(|&b| b == b'\n');
        let Some(lf) = found.map(|i| from + i) else {
            self.scanned = buf.len();
            if buf.len() > max_line {
                return Err(self.line_too_long(buf));
            }
            // A bare CR or a non-hex first byte is already wrong: fail before waiting.
            return match buf.first() {
                Some(b) if !b.is_ascii_hexdigit() => Err(Error::InvalidChunk {
                    reason: "chunk size is empty or not hexadecimal",
                }),
                _ => Ok(None),
            };
        };
        if lf == 0 || buf[lf - 1] != b'\r' {
            return Err(Error::InvalidChunk {
                reason: "chunk-size line ends in a bare LF instead of CRLF",
            });
        }
        let line = &buf[..lf - 1];
        if line.contains(&b'\r') {
            return Err(Error::InvalidChunk {
                reason: "bare CR in a chunk-size line",
            });
        }
        let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if digits == 0 {
            return Err(Error::InvalidChunk {
                reason: "chunk size is empty or not hexadecimal",
            });
        }
        let mut size: u64 = 0;
        for &b in &line[..digits] {
            let d = (b as char).to_digit(16).unwrap_or(0);
            size = size
                .checked_mul(16)
                .and_then(|s| s.checked_add(u64::from(d)))
                .ok_or(Error::InvalidChunk {
                    reason: "chunk size overflows 64 bits",
                })?;
        }
        let rest = &line[digits..];
        if !rest.is_empty() {
            // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
            let ext_start = rest.iter().position(|&b| b != b' ' && b != b'\t');
            match ext_start {
                Some(i) if rest[i] == b';' => {}
                _ => {
                    return Err(Error::InvalidChunk {
                        reason: "chunk size is followed by something other than a ;extension",
                    });
                }
            }
            if !rest
                .iter()
                .all(|&b| b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80)
            {
                return Err(Error::InvalidChunk {
                    reason: "control character in a chunk extension",
                });
            }
            self.ext_used += rest.len();
            if self.ext_used > self.max_ext {
                return Err(Error::ChunkExtensionsTooLarge {
                    limit: self.max_ext,
                });
            }
        }
        let _ = buf.split_to(lf + 1);
        self.scanned = 0;
        Ok(Some(size))
    }

    fn line_too_long(&self, buf: &[u8]) -> Error {
        let digits = buf.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if digits > MAX_SIZE_DIGITS || digits == buf.len() {
            Error::InvalidChunk {
                reason: "chunk size has too many digits",
            }
        } else {
            Error::ChunkExtensionsTooLarge {
                limit: self.max_ext,
            }
        }
    }

    /// The trailer section after the last chunk.
    fn trailers(&mut self, buf: &mut BytesMut) -> Result<Chunk> {
        match &buf[..buf.len().min(2)] {
            b"\r\n" => {
                let _ = buf.split_to(2);
                self.state = State::Done;
                return Ok(Chunk::Done);
            }
            [] | b"\r" => return Ok(Chunk::NeedMore),
            _ => {}
        }
        // `\r\n` was handled above, so the section ends in a blank line after a field.
        if !may_be_complete(buf, &mut self.scanned)? {
            if buf.len() > self.max_trailer {
                return Err(Error::TrailersTooLarge {
                    limit: self.max_trailer,
                });
            }
            return Ok(Chunk::NeedMore);
        }
        let mut slots = [httparse::EMPTY_HEADER; HEADER_SLOTS];
        let slots = &mut slots[..self.max_fields];
        let too_large = Error::TrailersTooLarge {
            limit: self.max_trailer,
        };
        match httparse::parse_headers(&buf[..], slots) {
            Ok(httparse::Status::Partial) => {
                if buf.len() > self.max_trailer {
                    return Err(too_large);
                }
                check_line_endings(buf)?;
                Ok(Chunk::NeedMore)
            }
            Ok(httparse::Status::Complete((len, fields))) => {
                if len > self.max_trailer {
                    return Err(too_large);
                }
                check_line_endings(&buf[..len])?;
                let mut scratch = Scratch::default();
                scratch.record(&buf[..], fields);
                let section = buf.split_to(len).freeze();
                let (mut map, _) = scratch.header_map(&section)?;
                // RFC 9110 6.5.1: fields that frame, route or control the connection must
                // not come from trailers; drop them rather than let anyone merge them.
                for name in [
                    CONTENT_LENGTH,
                    TRANSFER_ENCODING,
                    HOST,
                    CONNECTION,
                    TE,
                    TRAILER,
                ] {
                    map.remove(name);
                }
                self.state = State::Done;
                Ok(if map.is_empty() {
                    Chunk::Done
                } else {
                    Chunk::Trailers(map)
                })
            }
            Err(httparse::Error::TooManyHeaders) => Err(too_large),
            Err(_) => {
                check_line_endings(buf)?;
                Err(Error::InvalidChunk {
                    reason: "malformed trailer field",
                })
            }
        }
    }
}

/// Appends the framing before a chunk of `len` bytes (`len` in hex, CRLF).
pub(crate) fn encode_chunk_head(dst: &mut Vec<u8>, len: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut tmp = [0u8; 16];
    let mut i = tmp.len();
    let mut n = len;
    loop {
        i -= 1;
        tmp[i] = HEX[n & 0xf];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    dst.put_slice(&tmp[i..]);
    dst.put_slice(b"\r\n");
}

/// Appends the last chunk and the trailer section.
pub(crate) fn encode_last_chunk(dst: &mut Vec<u8>, trailers: Option<&HeaderMap>) {
    dst.put_slice(b"0\r\n");
    if let Some(t) = trailers {
        for (name, value) in t {
            dst.put_slice(name.as_str().as_bytes());
            dst.put_slice(b": ");
            dst.put_slice(value.as_bytes());
            dst.put_slice(b"\r\n");
        }
    }
    dst.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` fed one byte at a time; returns the body and the trailers.
    fn decode_bytewise(input: &[u8]) -> Result<(Vec<u8>, Option<HeaderMap>)> {
        let mut d = ChunkedDecoder::new(&Limits::default());
        let mut buf = BytesMut::new();
        let mut body = Vec::new();
        let mut trailers = None;
        for &b in input {
            buf.put_u8(b);
            loop {
                match d.decode(&mut buf)? {
                    Chunk::Data(d) => body.extend_from_slice(&d),
                    Chunk::Trailers(t) => trailers = Some(t),
                    Chunk::Done => return Ok((body, trailers)),
                    Chunk::NeedMore => break,
                }
            }
        }
        Err(Error::IncompleteBody)
    }

    #[test]
    fn decodes_chunks_extensions_and_trailers() {
        let (body, t) =
            decode_bytewise(b"5\r\nhello\r\n6;a=b \t;c=\"d\"\r\n world\r\n0\r\n\r\n").unwrap();
        assert_eq!(body, b"hello world");
        assert!(t.is_none());
        let (body, t) =
            decode_bytewise(b"3 ;x\r\nabc\r\n0\r\nExpires: never\r\nContent-Length: 9\r\n\r\n")
                .unwrap();
        assert_eq!(body, b"abc");
        let t = t.unwrap();
        assert_eq!(t["expires"], "never");
        assert!(!t.contains_key("content-length"));
        let (body, _) =
            decode_bytewise(b"000000000000000000000A\r\n0123456789\r\n0\r\n\r\n").unwrap();
        assert_eq!(body.len(), 10);
    }

    #[test]
    fn refuses_bad_sizes_and_delimiters() {
        for bad in [
            &b"0x5\r\nhello\r\n0\r\n\r\n"[..],
            b"+5\r\nhello\r\n0\r\n\r\n",
            b"-5\r\nhello\r\n0\r\n\r\n",
            b" 5\r\nhello\r\n0\r\n\r\n",
            b"5 \r\nhello\r\n0\r\n\r\n",
            b"\r\nhello\r\n0\r\n\r\n",
            b"g\r\n",
            b"10000000000000000\r\n",
            b"5\nhello\r\n0\r\n\r\n",
            b"5\r\nhello\n0\r\n\r\n",
            b"5\r\nhelloXX0\r\n\r\n",
            b"5\r\nhello\r\n0\r\n\n",
            b"5\r\nhello\r\n0\r\nX: y\n\r\n",
            b"5;a\rb\r\nhello\r\n0\r\n\r\n",
            b"5;\x01\r\nhello\r\n0\r\n\r\n",
        ] {
            assert!(
                decode_bytewise(bad)
                    .is_err_and(|e| e.status() == Some(http::StatusCode::BAD_REQUEST)),
                "{:?} accepted",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn extensions_and_trailers_are_bounded() {
        let ext = format!("1;{}\r\na\r\n0\r\n\r\n", "e".repeat(20_000));
        assert!(matches!(
            decode_bytewise(ext.as_bytes()),
            Err(Error::ChunkExtensionsTooLarge { .. })
        ));
        // Many small extensions add up across chunks.
        let many = "1;eeeeeeeeee\r\na\r\n".repeat(2000) + "0\r\n\r\n";
        assert!(matches!(
            decode_bytewise(many.as_bytes()),
            Err(Error::ChunkExtensionsTooLarge { .. })
        ));
        let trailer = format!("0\r\nX: {}\r\n\r\n", "v".repeat(20_000));
        assert!(matches!(
            decode_bytewise(trailer.as_bytes()),
            Err(Error::TrailersTooLarge { .. })
        ));
    }

    #[test]
    fn encoder_framing() {
        let mut v = Vec::new();
        encode_chunk_head(&mut v, 0x1a2b);
        encode_chunk_head(&mut v, 0);
        assert_eq!(v, b"1a2b\r\n0\r\n");
        let mut v = Vec::new();
        let mut t = HeaderMap::new();
        t.insert("x-sum", "1".parse().unwrap());
        encode_last_chunk(&mut v, Some(&t));
        assert_eq!(v, b"0\r\nx-sum: 1\r\n\r\n");
    }
}
