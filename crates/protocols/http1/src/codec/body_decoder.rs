//! Decoding a message body of any framing from a receive buffer, sans-IO.

use bytes::{Bytes, BytesMut};
use http::HeaderMap;

use crate::codec::body_length::BodyLength;
use crate::codec::chunked::{Chunk, ChunkedDecoder};
use crate::codec::limits::Limits;
use crate::error::{Error, Result};

/// One step of body decoding.
#[derive(Debug)]
pub enum Decoded {
    /// Body bytes (sharing the receive buffer, no copy).
    Data(Bytes),
    /// The trailer fields of a chunked body.
    Trailers(HeaderMap),
    /// The body is complete; bytes after it in the buffer belong to the next message.
    Done,
    /// The buffer holds no more of the body: read more and call again.
    NeedMore,
}

#[derive(Debug)]
enum Kind {
    Length(u64),
    Chunked(ChunkedDecoder),
    CloseDelimited,
    Done,
}

/// A body decoder for one message: [`Content-Length`](BodyLength::Length),
/// [chunked](BodyLength::Chunked) or [close-delimited](BodyLength::CloseDelimited).
///
/// ```
/// use bytes::BytesMut;
/// use ghostnet_http1::codec::{BodyDecoder, BodyLength, Decoded};
/// use ghostnet_http1::Limits;
///
/// let mut dec = BodyDecoder::new(BodyLength::Chunked, &Limits::default());
/// let mut buf = BytesMut::from(&b"3\r\nabc\r\n0\r\n\r\nNEXT"[..]);
/// assert!(matches!(dec.decode(&mut buf).unwrap(), Decoded::Data(d) if d == "abc"));
/// assert!(matches!(dec.decode(&mut buf).unwrap(), Decoded::Done));
/// assert_eq!(&buf[..], b"NEXT");
/// ```
#[derive(Debug)]
pub struct BodyDecoder {
    kind: Kind,
    /// Bytes produced so far.
    received: u64,
    /// Limit on `received`, if any.
    max: Option<u64>,
}

impl BodyDecoder {
    /// A decoder for a body framed as `length`, bounded by [`Limits::max_body_bytes`].
    pub fn new(length: BodyLength, limits: &Limits) -> Self {
        let kind = match length {
            BodyLength::Empty => Kind::Done,
            BodyLength::Length(n) => Kind::Length(n),
            BodyLength::Chunked => Kind::Chunked(ChunkedDecoder::new(limits)),
            BodyLength::CloseDelimited => Kind::CloseDelimited,
        };
        Self {
            kind,
            received: 0,
            max: limits.max_body_bytes,
        }
    }

    /// Whether the whole body has been decoded.
    pub fn is_done(&self) -> bool {
        matches!(self.kind, Kind::Done)
    }

    /// Body bytes produced so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Bytes of body still expected, when the framing says (Content-Length).
    pub fn remaining(&self) -> Option<u64> {
        match self.kind {
            Kind::Length(n) => Some(n),
            Kind::Done => Some(0),
            _ => None,
        }
    }

    /// Decodes the next piece from the front of `buf`, consuming what it uses.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Decoded> {
        let out = match &mut self.kind {
            Kind::Done => return Ok(Decoded::Done),
            Kind::Length(left) => {
                if buf.is_empty() {
                    return Ok(Decoded::NeedMore);
                }
                let take = usize::try_from(*left).unwrap_or(usize::MAX).min(buf.len());
                *left -= take as u64;
                if *left == 0 {
                    self.kind = Kind::Done;
                }
                Decoded::Data(buf.split_to(take).freeze())
            }
            Kind::CloseDelimited => {
                if buf.is_empty() {
                    return Ok(Decoded::NeedMore);
                }
                Decoded::Data(buf.split().freeze())
            }
            Kind::Chunked(c) => match c.decode(buf)? {
                Chunk::Data(d) => Decoded::Data(d),
                Chunk::Trailers(t) => Decoded::Trailers(t),
                Chunk::Done => {
                    self.kind = Kind::Done;
                    Decoded::Done
                }
                Chunk::NeedMore => Decoded::NeedMore,
            },
        };
        if let Decoded::Data(d) = &out {
            self.received += d.len() as u64;
            if let Some(max) = self.max
                && self.received > max
            {
                return Err(Error::BodyTooLarge { limit: max });
            }
        } else if let (Decoded::Trailers(_), Kind::Chunked(c)) = (&out, &self.kind)
            && c.is_done()
        {
            self.kind = Kind::Done;
        }
        Ok(out)
    }

    /// The connection reached end of input: a close-delimited body ends here, any other
    /// unfinished body is [`Error::IncompleteBody`].
    pub fn decode_eof(&mut self) -> Result<Decoded> {
        match self.kind {
            Kind::Done => Ok(Decoded::Done),
            Kind::CloseDelimited => {
                self.kind = Kind::Done;
                Ok(Decoded::Done)
            }
            _ => Err(Error::IncompleteBody),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_stops_at_the_boundary() {
        let mut d = BodyDecoder::new(BodyLength::Length(3), &Limits::default());
        let mut buf = BytesMut::from(&b"ab"[..]);
        assert!(matches!(d.decode(&mut buf).unwrap(), Decoded::Data(x) if x == "ab"));
        assert!(matches!(d.decode(&mut buf).unwrap(), Decoded::NeedMore));
        assert_eq!(d.remaining(), Some(1));
        buf.extend_from_slice(b"cGET");
        assert!(matches!(d.decode(&mut buf).unwrap(), Decoded::Data(x) if x == "c"));
        assert!(d.is_done());
        assert!(matches!(d.decode(&mut buf).unwrap(), Decoded::Done));
        assert_eq!(&buf[..], b"GET");
        assert!(matches!(d.decode_eof(), Ok(Decoded::Done)));
    }

    #[test]
    fn eof_rules() {
        let mut d = BodyDecoder::new(BodyLength::Length(3), &Limits::default());
        assert!(matches!(d.decode_eof(), Err(Error::IncompleteBody)));
        let mut d = BodyDecoder::new(BodyLength::CloseDelimited, &Limits::default());
        let mut buf = BytesMut::from(&b"all of it"[..]);
        assert!(matches!(d.decode(&mut buf).unwrap(), Decoded::Data(x) if x == "all of it"));
        assert!(matches!(d.decode_eof(), Ok(Decoded::Done)));
    }

    #[test]
    fn body_limit_applies_to_chunked() {
        let limits = Limits::default().max_body_bytes(Some(4));
        let mut d = BodyDecoder::new(BodyLength::Chunked, &limits);
        let mut buf = BytesMut::from(&b"5\r\nhello\r\n0\r\n\r\n"[..]);
        assert!(matches!(
            d.decode(&mut buf),
            Err(Error::BodyTooLarge { limit: 4 })
        ));
    }

    #[test]
    fn trailers_end_the_body() {
        let mut d = BodyDecoder::new(BodyLength::Chunked, &Limits::default());
        let mut buf = BytesMut::from(&b"0\r\nX: y\r\n\r\n"[..]);
        assert!(matches!(d.decode(&mut buf).unwrap(), Decoded::Trailers(_)));
        assert!(d.is_done());
    }
}
