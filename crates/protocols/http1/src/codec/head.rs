//! What request and response heads share: httparse error mapping, the bare-LF check
//! httparse leaves to us, and turning parsed fields into a `HeaderMap` without copying.

use bytes::Bytes;
use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};

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
}

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

    /// Builds the header map from the recorded ranges over the frozen head.
    pub(crate) fn header_map(&self, head: &Bytes) -> Result<HeaderMap> {
        let mut map = HeaderMap::with_capacity(self.fields.len());
        for f in &self.fields {
            let name = HeaderName::from_bytes(&head[f.name.0 as usize..f.name.1 as usize])
                .map_err(|_| Error::InvalidHead {
                    reason: "invalid header field name",
                })?;
            let value =
                HeaderValue::from_maybe_shared(head.slice(f.value.0 as usize..f.value.1 as usize))
                    .map_err(|_| Error::InvalidHead {
                        reason: "invalid header field value",
                    })?;
            map.append(name, value);
        }
        Ok(map)
    }
}

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
    let mut prev = 0u8;
    for &b in head {
        if b == b'\n' && prev != b'\r' {
            return Err(Error::InvalidHead {
                reason: "bare LF where CRLF is required",
            });
        }
        prev = b;
    }
    Ok(())
}

/// Whether `buf` may hold a complete head (or trailer section): it has a blank line,
/// `\n\r\n` or `\n\n`. Only bytes from `*scanned` on (less a small overlap) are
/// looked at, and `*scanned` is advanced, so a head dripped in byte by byte costs linear
/// time instead of one full re-parse per byte.
pub(crate) fn may_be_complete(buf: &[u8], scanned: &mut usize) -> bool {
    let from = scanned.saturating_sub(2);
    let found = buf[from.min(buf.len())..]
        .windows(2)
        .any(|w| w[0] == b'\n' && (w[1] == b'\n' || w[1] == b'\r'));
    // `\n\r` is enough to try: the parse tells `\n\r\n` from `\n\rX`.
    *scanned = buf.len();
    found
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
        assert!(!may_be_complete(
            b"GET / HTTP/1.1\r\nHost: a\r",
            &mut scanned
        ));
        assert_eq!(scanned, 24);
        assert!(may_be_complete(
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            &mut scanned
        ));
        let mut scanned = 0;
        assert!(may_be_complete(b"GET /\n\n", &mut scanned));
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
