//! What request and response heads share: httparse error mapping, the bare-LF check
//! httparse leaves to us, and turning parsed fields into a `HeaderMap` without copying.

use bytes::Bytes;
use http::HeaderMap;
use http::header::{
    CONNECTION, CONTENT_LENGTH, EXPECT, HOST, HeaderName, HeaderValue, TRANSFER_ENCODING, UPGRADE,
};

use crate::codec::body_length::{parse_decimal, trim_ows};

use crate::codec::limits::Limits;
use crate::error::{Error, Result};

/// Byte ranges of one parsed field inside the head buffer. Recorded while httparse's
/// borrow of the buffer is alive, used after the head is split off as `Bytes`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldRange {
    name: (u32, u32),
    value: (u32, u32),
}

/// Reusable per-connection scratch space for field ranges, so parsing a head does not
/// allocate once the vector has grown to the usual field count.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub(crate) fields: Vec<FieldRange>,
    /// A header map handed back after use (a sent response's), reused for the next head
    /// so that its storage is not allocated again (hyper does the same).
    pub(crate) spare: Option<HeaderMap>,
}

/// Header maps with more slots than this are not kept for reuse.
const MAX_SPARE_CAPACITY: usize = 128;

impl Scratch {
    /// Records the fields httparse found in `buf`.
    pub(crate) fn record(&mut self, buf: &[u8], fields: &[httparse::Header<'_>]) {
        let base = buf.as_ptr() as usize;
        let range = |s: &[u8]| {
            let start = s.as_ptr() as usize - base;
            (start as u32, (start + s.len()) as u32)
        };
        self.fields.clear();
        self.fields.extend(fields.iter().map(|h| FieldRange {
            name: range(h.name.as_bytes()),
            value: range(h.value),
        }));
    }

    /// Keeps `map`'s storage for the next head.
    pub(crate) fn recycle(&mut self, map: HeaderMap) {
        if map.capacity() <= MAX_SPARE_CAPACITY {
            self.spare = Some(map);
        }
    }

    /// Builds the header map from the recorded ranges over the frozen head, and in the
    /// same pass notes what framing and connection handling need, so no field is looked
    /// up (hashed) again afterwards.
    pub(crate) fn header_map(&mut self, head: &Bytes) -> Result<(HeaderMap, Fields)> {
        let mut map = match self.spare.take() {
            Some(mut m) => {
                m.clear();
                m.reserve(self.fields.len());
                m
            }
            None => HeaderMap::with_capacity(self.fields.len()),
        };
        let mut fields = Fields::default();
        for f in &self.fields {
            let name = HeaderName::from_bytes(&head[f.name.0 as usize..f.name.1 as usize])
                .map_err(|_| Error::InvalidHead {
                    reason: "invalid header field name",
                })?;
            let bytes = &head[f.value.0 as usize..f.value.1 as usize];
            fields.note(&name, bytes);
            let value =
                HeaderValue::from_maybe_shared(head.slice(f.value.0 as usize..f.value.1 as usize))
                    .map_err(|_| Error::InvalidHead {
                        reason: "invalid header field value",
                    })?;
            map.append(name, value);
        }
        Ok((map, fields))
    }
}

/// What the fields of a head say about framing and the connection, gathered while the
/// header map is built.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    /// `Content-Length` fields seen, and the value of the first.
    pub(crate) content_length_count: u32,
    pub(crate) content_length: Option<Result<u64>>,
    /// A `Transfer-Encoding` field is present.
    pub(crate) transfer_encoding: bool,
    /// `Connection` tokens.
    pub(crate) close: bool,
    pub(crate) keep_alive: bool,
    pub(crate) connection_upgrade: bool,
    /// An `Upgrade` field is present.
    pub(crate) upgrade: bool,
    /// `Expect` fields: how many, and whether the (first) one is `100-continue`.
    pub(crate) expect_count: u32,
    pub(crate) expect_continue: bool,
    /// `Host` fields seen, and whether all looked like `host[:port]`.
    pub(crate) host_count: u32,
    pub(crate) host_invalid: bool,
}

impl Fields {
    fn note(&mut self, name: &HeaderName, value: &[u8]) {
        if *name == CONTENT_LENGTH {
            self.content_length_count += 1;
            if self.content_length.is_none() {
                self.content_length = Some(parse_decimal(value));
            }
        } else if *name == TRANSFER_ENCODING {
            self.transfer_encoding = true;
        } else if *name == CONNECTION {
            for token in value.split(|&b| b == b',') {
                let token = trim_ows(token);
                if token.eq_ignore_ascii_case(b"close") {
                    self.close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    self.keep_alive = true;
                } else if token.eq_ignore_ascii_case(b"upgrade") {
                    self.connection_upgrade = true;
                }
            }
        } else if *name == HOST {
            self.host_count += 1;
            self.host_invalid |= !value.iter().all(|&b| HOST_CHARS[b as usize]);
        } else if *name == EXPECT {
            self.expect_count += 1;
            self.expect_continue = value.eq_ignore_ascii_case(b"100-continue");
        } else if *name == UPGRADE {
            self.upgrade = true;
        }
    }
}

/// Bytes allowed in a Host value: RFC 3986 reg-name, IP literals and a port.
static HOST_CHARS: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric();
        i += 1;
    }
    let extra = b"-._~!$&'()*+,;=:[]%";
    let mut j = 0;
    while j < extra.len() {
        t[extra[j] as usize] = true;
        j += 1;
    }
    t
};

/// httparse's error, as ours.
pub(crate) fn map_parse_error(e: httparse::Error, limits: &Limits) -> Error {
    use httparse::Error as E;
    match e {
        E::TooManyHeaders => Error::TooManyHeaders {
            limit: limits.header_slots(),
        },
        E::Version => Error::UnsupportedVersion,
        E::HeaderName => Error::InvalidHead {
            reason: "invalid header field name (whitespace before the colon, obs-fold or a bad character)",
        },
        E::HeaderValue => Error::InvalidHead {
            reason: "invalid header field value (a control character or bare CR)",
        },
        E::NewLine => Error::InvalidHead {
            reason: "bare CR where CRLF is required",
        },
        E::Token => Error::InvalidHead {
            reason: "invalid token in the start line",
        },
        E::Status => Error::InvalidHead {
            reason: "invalid status code",
        },
    }
}

/// Refuses a bare LF (one not preceded by CR) in a head: httparse accepts them as line
/// ends, but a proxy in front may not, and the disagreement is a smuggling door.
pub(crate) fn check_line_endings(head: &[u8]) -> Result<()> {
    // Jump from LF to LF (a word-at-a-time search) rather than testing every byte.
    let mut from = 0;
    while let Some(i) = head[from..].iter().position(|&b| b == b'\n') {
        let at = from + i;
        if at == 0 || head[at - 1] != b'\r' {
            return Err(Error::InvalidHead {
                reason: "bare LF where CRLF is required",
            });
        }
        from = at + 1;
    }
    Ok(())
}

/// Whether `buf` may hold a complete head (or trailer section): it has a blank line,
/// `\n\r\n` or `\n\n`. Every LF met on the way must follow a CR (a bare LF is an
/// error, found as soon as it arrives). Only bytes from `*scanned` on are looked at, and
/// `*scanned` is advanced, so a head dripped in byte by byte costs linear time instead of
/// one full re-parse per byte.
pub(crate) fn may_be_complete(buf: &[u8], scanned: &mut usize) -> Result<bool> {
    let mut from = (*scanned).min(buf.len());
    *scanned = buf.len();
    while let Some(i) = buf[from..].iter().position(|&b| b == b'\n') {
        let at = from + i;
        if at == 0 || buf[at - 1] != b'\r' {
            return Err(Error::InvalidHead {
                reason: "bare LF where CRLF is required",
            });
        }
        // `\n\r` is enough to try: the parse tells `\n\r\n` from `\n\rX`.
        match buf.get(at + 1) {
            Some(b'\r') => {
                // If the parse finds the head still partial, look here again next time.
                *scanned = at;
                return Ok(true);
            }
            Some(b'\n') => {
                return Err(Error::InvalidHead {
                    reason: "bare LF where CRLF is required",
                });
            }
            Some(_) => from = at + 1,
            // The next byte decides: look at this LF again when it arrives.
            None => {
                *scanned = at;
                return Ok(false);
            }
        }
    }
    Ok(false)
}

/// Checks the growth of a partial head: over the size limit, or already broken by a
/// bare LF, it is refused before more bytes are waited for.
pub(crate) fn check_partial(buf: &[u8], limits: &Limits) -> Result<()> {
    check_size(buf, limits)?;
    check_line_endings(buf)
}

/// Refuses a partial head that is already over the size limit.
pub(crate) fn check_size(buf: &[u8], limits: &Limits) -> Result<()> {
    if buf.len() > limits.max_head_bytes {
        return Err(Error::HeadTooLarge {
            limit: limits.max_head_bytes,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_lf_is_refused() {
        assert!(check_line_endings(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").is_ok());
        assert!(check_line_endings(b"GET / HTTP/1.1\nHost: a\r\n\r\n").is_err());
        assert!(check_line_endings(b"\n").is_err());
    }

    #[test]
    fn blank_line_detection_is_incremental() {
        let mut scanned = 0;
        assert!(!may_be_complete(b"GET / HTTP/1.1\r\nHost: a\r", &mut scanned).unwrap());
        assert_eq!(scanned, 24);
        assert!(may_be_complete(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", &mut scanned).unwrap());
        // `\n\r` found but the final LF not yet there: found again on the next call.
        let mut scanned = 0;
        assert!(may_be_complete(b"X: y\r\n\r", &mut scanned).unwrap());
        assert!(may_be_complete(b"X: y\r\n\r\n", &mut scanned).unwrap());
        // Bare LFs are refused as soon as they arrive.
        assert!(may_be_complete(b"GET /\n", &mut 0).is_err());
        assert!(may_be_complete(b"\n", &mut 0).is_err());
        assert!(may_be_complete(b"GET /\r\n\n", &mut 0).is_err());
    }

    #[test]
    fn partial_over_limit_is_refused() {
        let limits = Limits::default().max_head_bytes(4);
        assert!(matches!(
            check_partial(b"GET /", &limits),
            Err(Error::HeadTooLarge { limit: 4 })
        ));
    }
}
