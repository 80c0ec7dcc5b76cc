//! Message-level state machines: a stream of requests (server side) or of responses
//! (client side), fed bytes, yielding heads, body pieces and ends.

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Method};

use crate::codec::body_decoder::{BodyDecoder, Decoded};
use crate::codec::head::{Scratch, check_size, may_be_complete};
use crate::codec::limits::Limits;
use crate::codec::request_head::{self, RequestHead};
use crate::codec::response_head::{self, ResponseHead};
use crate::error::{Error, Result};

/// What a decoder produced from the buffer.
#[derive(Debug)]
pub enum Event<H> {
    /// A message head.
    Head(H),
    /// A piece of the current message's body.
    Data(Bytes),
    /// The trailer fields of the current (chunked) message.
    Trailers(HeaderMap),
    /// The current message is complete.
    End,
    /// The buffer is used up: read more bytes (or call `decode_eof` at end of input).
    NeedMore,
}

#[derive(Debug)]
enum State {
    Head,
    Body(BodyDecoder),
    /// After an upgrade or a protocol error: nothing more is decoded.
    Stopped,
}

/// Decodes a stream of pipelined requests, sans-IO.
///
/// After an error the decoder stops: the connection must be closed, since where the next
/// message starts is unknown. After a request asking for an upgrade it stops too: what
/// follows belongs to the new protocol (or to a new request, if the server declined;
/// call [`RequestDecoder::resume`] then).
///
/// ```
/// use bytes::BytesMut;
/// use ghostnet_http1::codec::{Event, RequestDecoder};
/// use ghostnet_http1::Limits;
///
/// let mut dec = RequestDecoder::new(Limits::default());
/// let mut buf = BytesMut::from(&b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET /b HTTP/1.1\r\nHost: x\r\n\r\n"[..]);
/// let mut seen = Vec::new();
/// loop {
///     match dec.decode(&mut buf).unwrap() {
///         Event::Head(h) => seen.push(h.uri.path().to_owned()),
///         Event::Data(d) => seen.push(format!("{} bytes", d.len())),
///         Event::Trailers(_) => {}
///         Event::End => seen.push("end".into()),
///         Event::NeedMore => break,
///     }
/// }
/// assert_eq!(seen, ["/a", "2 bytes", "end", "/b", "end"]);
/// ```
#[derive(Debug)]
pub struct RequestDecoder {
    limits: Limits,
    state: State,
    scratch: Scratch,
    /// Bytes of a partial head already searched for its blank line.
    scanned: usize,
    /// The current head was found partial once: wait for a blank line before re-parsing.
    partial: bool,
}

impl RequestDecoder {
    /// A decoder enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            state: State::Head,
            scratch: Scratch::default(),
            scanned: 0,
            partial: false,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Decodes the next event from the front of `buf`.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Event<RequestHead>> {
        let result = self.step(buf);
        if result.is_err() {
            self.state = State::Stopped;
        }
        result
    }

    /// The next request head for the server: [`decode`](Self::decode) for the case where
    /// a head is due, returned as parsed (no re-wrapping of a 200-byte value), and
    /// without the `End` event of a bodiless request: the decoder goes straight back to
    /// reading heads. `None` when more bytes are needed.
    pub(crate) fn decode_head(&mut self, buf: &mut BytesMut) -> Result<Option<RequestHead>> {
        if !matches!(self.state, State::Head) {
            self.state = State::Stopped;
            return Err(Error::InvalidHead {
                reason: "request framing out of step",
            });
        }
        let result = self.head(buf);
        match &result {
            Ok(Some(head)) if !head.upgrade && head.body.is_empty() => {}
            Ok(Some(head)) => self.state = self.after_head(head),
            Ok(None) => {}
            Err(_) => self.state = State::Stopped,
        }
        result
    }

    /// Parses a head from the front of `buf`, if a whole one is there.
    fn head(&mut self, buf: &mut BytesMut) -> Result<Option<RequestHead>> {
        // First attempt at a head: parse straight away (the usual case is a whole head in
        // the buffer). Once it proved partial, re-parse only when a blank line may have
        // arrived, so a head dripped in stays linear.
        let lines_checked = self.partial;
        if self.partial && !may_be_complete(buf, &mut self.scanned)? {
            check_size(buf, &self.limits)?;
            return Ok(None);
        }
        let head = request_head::parse_with(buf, &self.limits, &mut self.scratch, lines_checked)?;
        if head.is_some() {
            self.scanned = 0;
            self.partial = false;
        } else if !self.partial {
            self.partial = true;
            self.scanned = 0;
            may_be_complete(buf, &mut self.scanned)?;
        }
        Ok(head)
    }

    /// The state after `head`: its body, or nothing more after an upgrade request.
    fn after_head(&self, head: &RequestHead) -> State {
        if head.upgrade {
            State::Stopped
        } else {
            State::Body(BodyDecoder::new(head.body, &self.limits))
        }
    }

    fn step(&mut self, buf: &mut BytesMut) -> Result<Event<RequestHead>> {
        match &mut self.state {
            State::Head => {
                let Some(head) = self.head(buf)? else {
                    return Ok(Event::NeedMore);
                };
                self.state = self.after_head(&head);
                Ok(Event::Head(head))
            }
            State::Body(body) => Ok(match body.decode(buf)? {
                Decoded::Data(d) => Event::Data(d),
                Decoded::Trailers(t) => Event::Trailers(t),
                Decoded::Done => {
                    self.state = State::Head;
                    Event::End
                }
                Decoded::NeedMore => Event::NeedMore,
            }),
            State::Stopped => Ok(Event::NeedMore),
        }
    }

    /// End of input: `Ok(true)` if it fell between messages (a clean close), an error
    /// when a head or body was cut short.
    pub fn decode_eof(&mut self, buf: &BytesMut) -> Result<bool> {
        match &mut self.state {
            State::Head if buf.is_empty() => Ok(true),
            State::Head => Err(Error::InvalidHead {
                reason: "connection closed in the middle of a request head",
            }),
            State::Body(b) => b.decode_eof().map(|_| false),
            State::Stopped => Ok(true),
        }
    }

    /// Goes back to reading requests after an upgrade request the server declined.
    pub fn resume(&mut self, body: crate::codec::BodyLength) {
        self.state = State::Body(BodyDecoder::new(body, &self.limits));
    }

    /// Hands back a header map that is no longer needed (e.g. a sent response's): its
    /// storage is reused for the next request head instead of allocating.
    pub fn recycle_headers(&mut self, headers: HeaderMap) {
        self.scratch.recycle(headers);
    }

    /// Bytes left of the current request body when its length is known.
    pub fn body_remaining(&self) -> Option<u64> {
        match &self.state {
            State::Body(b) => b.remaining(),
            _ => None,
        }
    }

    /// Whether the decoder is between messages.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Head)
    }
}

/// Decodes the responses to requests sent on one connection, sans-IO (the client side).
///
/// The method of the request each response answers decides its framing (HEAD, CONNECT);
/// set it with [`ResponseDecoder::expect`] before each response.
///
/// ```
/// use bytes::BytesMut;
/// use ghostnet_http1::codec::{Event, ResponseDecoder};
/// use ghostnet_http1::Limits;
/// use http::Method;
///
/// let mut dec = ResponseDecoder::new(Limits::default());
/// dec.expect(Method::GET);
/// let mut buf = BytesMut::from(&b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"[..]);
/// assert!(matches!(dec.decode(&mut buf).unwrap(), Event::Head(h) if h.status == 100));
/// assert!(matches!(dec.decode(&mut buf).unwrap(), Event::Head(h) if h.status == 200));
/// assert!(matches!(dec.decode(&mut buf).unwrap(), Event::Data(d) if d == "x"));
/// assert!(matches!(dec.decode(&mut buf).unwrap(), Event::End));
/// ```
#[derive(Debug)]
pub struct ResponseDecoder {
    limits: Limits,
    state: State,
    method: Method,
    scratch: Scratch,
    /// Bytes of a partial head already searched for its blank line.
    scanned: usize,
}

impl ResponseDecoder {
    /// A decoder enforcing `limits`, expecting a response to GET.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            state: State::Head,
            method: Method::GET,
            scratch: Scratch::default(),
            scanned: 0,
        }
    }

    /// Sets the method of the request the next response answers.
    pub fn expect(&mut self, method: Method) {
        self.method = method;
    }

    /// Decodes the next event from the front of `buf`.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Event<ResponseHead>> {
        let result = self.step(buf);
        if result.is_err() {
            self.state = State::Stopped;
        }
        result
    }

    fn step(&mut self, buf: &mut BytesMut) -> Result<Event<ResponseHead>> {
        match &mut self.state {
            State::Head => {
                if !may_be_complete(buf, &mut self.scanned)? {
                    check_size(buf, &self.limits)?;
                    return Ok(Event::NeedMore);
                }
                let Some(head) = response_head::parse_with(
                    buf,
                    &self.limits,
                    &self.method,
                    &mut self.scratch,
                    true,
                )?
                else {
                    return Ok(Event::NeedMore);
                };
                self.scanned = 0;
                let interim = head.status.is_informational()
                    && head.status != http::StatusCode::SWITCHING_PROTOCOLS;
                let tunnel = head.status == http::StatusCode::SWITCHING_PROTOCOLS
                    || (self.method == Method::CONNECT && head.status.is_success());
                if tunnel {
                    self.state = State::Stopped;
                } else if !interim {
                    self.state = State::Body(BodyDecoder::new(head.body, &self.limits));
                }
                Ok(Event::Head(head))
            }
            State::Body(body) => Ok(match body.decode(buf)? {
                Decoded::Data(d) => Event::Data(d),
                Decoded::Trailers(t) => Event::Trailers(t),
                Decoded::Done => {
                    self.state = State::Head;
                    Event::End
                }
                Decoded::NeedMore => Event::NeedMore,
            }),
            State::Stopped => Ok(Event::NeedMore),
        }
    }

    /// End of input: a close-delimited body ends ([`Event::End`]); a cut-short head or
    /// body is an error; between messages it is [`Event::NeedMore`] (nothing pending).
    pub fn decode_eof(&mut self, buf: &BytesMut) -> Result<Event<ResponseHead>> {
        match &mut self.state {
            State::Head if buf.is_empty() => Ok(Event::NeedMore),
            State::Head => Err(Error::InvalidHead {
                reason: "connection closed in the middle of a response head",
            }),
            State::Body(b) => {
                b.decode_eof()?;
                self.state = State::Head;
                Ok(Event::End)
            }
            State::Stopped => Ok(Event::NeedMore),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_chunk_stops_the_request_stream() {
        let mut dec = RequestDecoder::new(Limits::default());
        let mut buf = BytesMut::from(
            &b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x1\r\n"[..],
        );
        assert!(matches!(dec.decode(&mut buf).unwrap(), Event::Head(_)));
        assert!(dec.decode(&mut buf).is_err());
        // Whatever follows is never read as a request.
        buf.extend_from_slice(b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n");
        assert!(matches!(dec.decode(&mut buf).unwrap(), Event::NeedMore));
    }

    #[test]
    fn bare_lf_is_refused_whole_or_dripped() {
        let cases: &[&[u8]] = &[
            b"GET / HTTP/1.1\nHost: a\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a \t\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\n\n",
            b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
            b"\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET / HTTP/1.0\r\n\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nX:\n\r\n",
        ];
        for raw in cases {
            let whole = RequestDecoder::new(Limits::default()).decode(&mut BytesMut::from(*raw));
            assert!(
                whole.is_err(),
                "{:?} accepted whole",
                String::from_utf8_lossy(raw)
            );
            let mut dec = RequestDecoder::new(Limits::default());
            let mut buf = BytesMut::new();
            let mut failed = false;
            for &b in *raw {
                buf.extend_from_slice(&[b]);
                match dec.decode(&mut buf) {
                    Err(_) => {
                        failed = true;
                        break;
                    }
                    Ok(Event::NeedMore) => {}
                    Ok(_) => break,
                }
            }
            assert!(
                failed,
                "{:?} accepted dripped",
                String::from_utf8_lossy(raw)
            );
        }
        for ok in [
            &b"\r\nGET / HTTP/1.1\r\nHost: a \r\nX:\r\n\r\n"[..],
            b"GET / HTTP/1.0\r\n\r\n",
        ] {
            let mut dec = RequestDecoder::new(Limits::default());
            assert!(matches!(
                dec.decode(&mut BytesMut::from(ok)),
                Ok(Event::Head(_))
            ));
            let mut dec = RequestDecoder::new(Limits::default());
            let mut buf = BytesMut::new();
            let mut head = false;
            for &b in ok {
                buf.extend_from_slice(&[b]);
                if let Event::Head(_) = dec.decode(&mut buf).unwrap() {
                    head = true;
                }
            }
            assert!(head);
        }
    }

    #[test]
    fn eof_between_and_inside_messages() {
        let mut dec = RequestDecoder::new(Limits::default());
        assert!(dec.decode_eof(&BytesMut::new()).unwrap());
        assert!(dec.decode_eof(&BytesMut::from(&b"GET"[..])).is_err());
        let mut buf =
            BytesMut::from(&b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab"[..]);
        assert!(matches!(dec.decode(&mut buf).unwrap(), Event::Head(_)));
        assert!(matches!(dec.decode(&mut buf).unwrap(), Event::Data(_)));
        assert!(matches!(dec.decode_eof(&buf), Err(Error::IncompleteBody)));
    }

    #[test]
    fn close_delimited_response_ends_at_eof() {
        let mut dec = ResponseDecoder::new(Limits::default());
        let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\n\r\nabc"[..]);
        assert!(matches!(dec.decode(&mut buf).unwrap(), Event::Head(_)));
        assert!(matches!(dec.decode(&mut buf).unwrap(), Event::Data(_)));
        assert!(matches!(dec.decode(&mut buf).unwrap(), Event::NeedMore));
        assert!(matches!(dec.decode_eof(&buf).unwrap(), Event::End));
    }

    #[test]
    fn head_response_has_no_body() {
        let mut dec = ResponseDecoder::new(Limits::default());
        dec.expect(Method::HEAD);
        let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"[..]);
        assert!(matches!(dec.decode(&mut buf).unwrap(), Event::Head(_)));
        assert!(matches!(dec.decode(&mut buf).unwrap(), Event::End));
    }
}
