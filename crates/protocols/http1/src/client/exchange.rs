//! One exchange on one connection: write the request (with `Expect: 100-continue` when
//! asked), read the response head within the request timeout, and hand the connection to
//! the response body.
//!
//! The connection is marked not reusable first thing, and marked reusable again only
//! when the response has been read to its end (see [`WireBody`]): an exchange cancelled
//! at any await point closes its connection instead of handing a half-read one on.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_ENCODING, CONTENT_LENGTH, EXPECT, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode, Uri};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::io::poll_read_buf;

use crate::body::{Body, Frame};
use crate::client::body::ResponseBody;
use crate::client::conn::Conn;
use crate::client::decode::{Coding, Decoding};
use crate::client::encode::{Extra, encode_request_head, framing};
use crate::client::wire::{Deadlines, WireBody};
use crate::codec::body_length::has_token;
use crate::codec::{BodyEncoder, BodyLength, Event, Limits, ResponseDecoder, ResponseHead};
use crate::error::{Error, Result};

/// Request bodies up to this size are copied behind the head and sent in one write.
const COALESCE: usize = 16 * 1024;
/// Pending request bytes above which a streamed body is written out.
const WRITE_HIGH_WATER: usize = 64 * 1024;
/// Room made in the receive buffer before reading a head.
const HEAD_CHUNK: usize = 8 * 1024;

/// How long a failed upload looks for an early answer that is already on its way.
const SALVAGE_WAIT: Duration = Duration::from_secs(1);

const WHAT_HEAD: &str = "response head (request timeout)";
const WHAT_WRITE: &str = "server to take more of the request (read-idle timeout)";

/// A request body as the exchange sends it.
pub(crate) enum OutBody {
    /// All of it, possibly empty.
    Bytes(Bytes),
    /// Produced while it is sent.
    Stream(Body),
}

impl OutBody {
    fn len(&self) -> Option<u64> {
        match self {
            Self::Bytes(b) => Some(b.len() as u64),
            Self::Stream(b) => b.size_hint(),
        }
    }
}

/// What one exchange needs to know.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
    pub(crate) method: &'a Method,
    pub(crate) uri: &'a Uri,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) host: HeaderValue,
    pub(crate) user_agent: Option<&'a HeaderValue>,
    pub(crate) limits: &'a Limits,
    pub(crate) request_timeout: Duration,
    pub(crate) deadlines: Deadlines,
    /// Ask for compression and decode it.
    pub(crate) decompress: bool,
    pub(crate) max_decompression_ratio: u64,
    pub(crate) max_buffered_body_bytes: u64,
    pub(crate) expect_continue_threshold: Option<u64>,
    pub(crate) expect_continue_timeout: Duration,
}

/// Why an exchange failed, and whether the server can have seen nothing of it answered:
/// the connection broke (closed, reset) before any response byte arrived.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) error: Error,
    pub(crate) unanswered: bool,
    /// Not a failure: the server answered while the request was being sent, and the
    /// rest of it was not sent (the exchange reads that answer).
    answered: bool,
}

impl Failure {
    fn answered() -> Self {
        Self {
            error: Error::InvalidRequest {
                reason: "the server answered before the request was sent",
            },
            unanswered: false,
            answered: true,
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Self {
            error,
            unanswered: false,
            answered: false,
        }
    }
}

/// Sends one request on `conn` and returns the response with its body still on the
/// connection (or already complete, for small responses).
pub(crate) async fn exchange<C: Conn + 'static>(
    mut conn: C,
    plan: &Plan<'_>,
    body: OutBody,
) -> Result<Response<ResponseBody>, Failure> {
    conn.set_reusable(false);
    let encoder = framing(plan.method, plan.headers, body.len())?;
    let has_body = !matches!(encoder, BodyEncoder::None | BodyEncoder::Length(0));
    let expect_continue = has_body
        && (has_token(plan.headers, EXPECT, "100-continue")
            || plan
                .expect_continue_threshold
                .is_some_and(|t| body.len().is_none_or(|n| n >= t)));
    let mut out = Vec::with_capacity(256);
    let extra = Extra {
        host: Some(&plan.host),
        accept_encoding: plan.decompress,
        user_agent: plan.user_agent,
        expect_continue,
    };
    encode_request_head(
        &mut out,
        plan.method,
        plan.uri,
        plan.headers,
        encoder,
        extra,
    )?;

    let mut buf = BytesMut::with_capacity(HEAD_CHUNK);
    let mut decoder = ResponseDecoder::new(plan.limits.clone());
    decoder.expect(plan.method.clone());
    let mut reader = HeadReader {
        buf: &mut buf,
        decoder: &mut decoder,
        got_bytes: false,
    };
    let idle = plan.deadlines.idle;

    let mut early: Option<ResponseHead> = None;
    if expect_continue {
        write_all(&mut conn, &out, idle, &mut reader).await?;
        flush(&mut conn, idle, &mut reader).await?;
        out.clear();
        // Wait for the server's go-ahead; without one in time, send anyway (RFC 9110
        // section 10.1.1). A final status instead means: do not send the body.
        match ghostnet_runtime::timeout(
            plan.expect_continue_timeout,
            reader.read_final_or_continue(&mut conn),
        )
        .await
        {
            Ok(Ok(head)) if head.status == StatusCode::CONTINUE => {}
            Ok(Ok(head)) => early = Some(head),
            Ok(Err(f)) => return Err(f),
            Err(_) => {}
        }
    }
    if early.is_none()
        && let Err(failed) = send_body(&mut conn, &mut out, body, encoder, idle, &mut reader).await
    {
        // A server may answer before the whole body is sent (413, 401, a redirect), and
        // then stop reading or close: the answer is what the caller must see.
        early = if failed.answered {
            Some(
                ghostnet_runtime::timeout(plan.request_timeout, reader.read_final(&mut conn))
                    .await
                    .map_err(|_| Error::Timeout {
                        what: WHAT_HEAD,
                        after: plan.request_timeout,
                    })??,
            )
        } else {
            salvage_answer(&mut conn, &mut reader, &failed).await
        };
        if early.is_none() {
            return Err(failed);
        }
    }

    let answered_early = early.is_some();
    let head = match early {
        Some(head) => head,
        None => ghostnet_runtime::timeout(plan.request_timeout, reader.read_final(&mut conn))
            .await
            .map_err(|_| Error::Timeout {
                what: WHAT_HEAD,
                after: plan.request_timeout,
            })??,
    };
    // A final answer before the body was sent: the server still expects the body (or
    // closes), so the connection cannot carry another request.
    let keep_alive =
        head.keep_alive && !answered_early && !has_token(plan.headers, CONNECTION, "close");
    Ok(respond(conn, buf, decoder, head, keep_alive, plan))
}

/// Builds the response; the body takes the connection.
fn respond<C: Conn + 'static>(
    mut conn: C,
    mut buf: BytesMut,
    decoder: ResponseDecoder,
    head: ResponseHead,
    keep_alive: bool,
    plan: &Plan<'_>,
) -> Response<ResponseBody> {
    let ResponseHead {
        status,
        version,
        mut headers,
        body: length,
        ..
    } = head;
    let coding = Coding::of(&headers).filter(|_| plan.decompress);
    let body = if length.is_empty() {
        // No body (HEAD, 204, 304, Content-Length: 0): the connection is free now.
        conn.set_reusable(keep_alive && buf.is_empty());
        drop(conn);
        ResponseBody::empty()
    } else if let (BodyLength::Length(n), None) = (length, coding)
        && buf.len() as u64 >= n
        && plan.limits.max_body_bytes.is_none_or(|max| n <= max)
    {
        // The whole body came with the head (the common small response): take it as it
        // is, exactly as the codec's length decoder would, and free the connection.
        let data = buf.split_to(n as usize).freeze();
        conn.set_reusable(keep_alive && buf.is_empty());
        drop(conn);
        ResponseBody::full(data, plan.max_buffered_body_bytes)
    } else {
        let wire = WireBody::new(
            Box::new(conn),
            buf,
            decoder,
            keep_alive,
            length.exact(),
            plan.deadlines,
        );
        match coding {
            Some(coding) => {
                // They describe the encoded bytes, not what the reader gets.
                headers.remove(CONTENT_ENCODING);
                headers.remove(CONTENT_LENGTH);
                ResponseBody::decoding(
                    Decoding::new(coding, wire, plan.max_decompression_ratio),
                    plan.max_buffered_body_bytes,
                )
            }
            None => ResponseBody::wire(wire, plan.max_buffered_body_bytes),
        }
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.version_mut() = version;
    *response.headers_mut() = headers;
    response
}

/// Reads response heads into a buffer, remembering whether any byte came.
struct HeadReader<'a> {
    buf: &'a mut BytesMut,
    decoder: &'a mut ResponseDecoder,
    got_bytes: bool,
}

impl HeadReader<'_> {
    /// The next head, interim or final.
    async fn read_head(&mut self, conn: &mut impl Conn) -> Result<ResponseHead, Failure> {
        loop {
            match self.decoder.decode(self.buf)? {
                Event::Head(head) => return Ok(head),
                Event::NeedMore => {}
                Event::Data(_) | Event::Trailers(_) | Event::End => {
                    return Err(Error::InvalidHead {
                        reason: "response bytes where a head was expected",
                    }
                    .into());
                }
            }
            if self.buf.capacity() - self.buf.len() < HEAD_CHUNK / 4 {
                self.buf.reserve(HEAD_CHUNK);
            }
            match conn.read_buf(self.buf).await {
                Ok(0) if !self.got_bytes => {
                    return Err(Failure {
                        error: Error::IncompleteBody,
                        unanswered: true,
                        answered: false,
                    });
                }
                Ok(0) => {
                    self.decoder.decode_eof(self.buf)?;
                    return Err(Error::InvalidHead {
                        reason: "connection closed in the middle of a response head",
                    }
                    .into());
                }
                Ok(_) => self.got_bytes = true,
                Err(e) => {
                    return Err(Failure {
                        error: Error::Io(e),
                        unanswered: !self.got_bytes,
                        answered: false,
                    });
                }
            }
        }
    }

    /// The final head, skipping interim ones (100, 103, ...).
    async fn read_final(&mut self, conn: &mut impl Conn) -> Result<ResponseHead, Failure> {
        loop {
            let head = self.read_head(conn).await?;
            check_not_switching(&head)?;
            if !head.status.is_informational() {
                return Ok(head);
            }
        }
    }

    /// `100 Continue` or the final head, skipping other interim ones.
    async fn read_final_or_continue(
        &mut self,
        conn: &mut impl Conn,
    ) -> Result<ResponseHead, Failure> {
        loop {
            let head = self.read_head(conn).await?;
            check_not_switching(&head)?;
            if head.status == StatusCode::CONTINUE || !head.status.is_informational() {
                return Ok(head);
            }
        }
    }
}

/// After a failed write: the response the server sent before it stopped reading, if one
/// is already on its way (looked for briefly, only after an I/O error).
async fn salvage_answer(
    conn: &mut impl Conn,
    reader: &mut HeadReader<'_>,
    failed: &Failure,
) -> Option<ResponseHead> {
    if !matches!(failed.error, Error::Io(_)) {
        return None;
    }
    match ghostnet_runtime::timeout(SALVAGE_WAIT, reader.read_final(conn)).await {
        Ok(Ok(head)) => Some(head),
        _ => None,
    }
}

fn check_not_switching(head: &ResponseHead) -> Result<()> {
    if head.status == StatusCode::SWITCHING_PROTOCOLS {
        return Err(Error::InvalidHead {
            reason: "101 Switching Protocols to a request that asked for no upgrade",
        });
    }
    Ok(())
}

/// An I/O failure while sending: unanswered unless response bytes already came.
fn io_failure(e: std::io::Error, reader: &HeadReader<'_>) -> Failure {
    Failure {
        error: Error::Io(e),
        unanswered: !reader.got_bytes,
        answered: false,
    }
}

fn write_timeout(after: Duration) -> Failure {
    Error::Timeout {
        what: WHAT_WRITE,
        after,
    }
    .into()
}

/// `fut` within `limit`, without arming a timer when it is ready at its first poll (the
/// common case: a write into a socket buffer with room).
async fn timed<F: Future>(limit: Duration, fut: F) -> ghostnet_runtime::Result<F::Output> {
    let mut fut = pin!(fut);
    let first = poll_fn(|cx| match fut.as_mut().poll(cx) {
        Poll::Ready(v) => Poll::Ready(Some(v)),
        Poll::Pending => Poll::Ready(None),
    })
    .await;
    match first {
        Some(v) => Ok(v),
        None => ghostnet_runtime::timeout(limit, fut).await,
    }
}

/// Writes all of `data`, failing when one write makes no progress for `idle`.
async fn write_all(
    conn: &mut impl Conn,
    mut data: &[u8],
    idle: Duration,
    reader: &mut HeadReader<'_>,
) -> Result<(), Failure> {
    while !data.is_empty() {
        let step = timed(
            idle,
            poll_fn(|cx| poll_write_or_answer(conn, cx, data, reader)),
        )
        .await;
        match step {
            Ok(Step::Wrote(Ok(0))) => {
                return Err(io_failure(std::io::ErrorKind::WriteZero.into(), reader));
            }
            Ok(Step::Wrote(Ok(n))) => data = &data[n..],
            Ok(Step::Wrote(Err(e))) => return Err(io_failure(e, reader)),
            Ok(Step::Answered) => return Err(Failure::answered()),
            Err(_) => return Err(write_timeout(idle)),
        }
    }
    Ok(())
}

/// One write, or word that the server answered while it took no more of the request.
enum Step {
    Wrote(std::io::Result<usize>),
    Answered,
}

/// Writes what the connection takes; while it takes nothing (the server stopped reading),
/// looks whether the server has answered instead, as servers do to refuse an upload
/// (413, 401, a redirect) before reading it.
fn poll_write_or_answer(
    conn: &mut impl Conn,
    cx: &mut Context<'_>,
    data: &[u8],
    reader: &mut HeadReader<'_>,
) -> Poll<Step> {
    if let Poll::Ready(r) = Pin::new(&mut *conn).poll_write(cx, data) {
        return Poll::Ready(Step::Wrote(r));
    }
    if reader.buf.capacity() - reader.buf.len() < HEAD_CHUNK / 4 {
        reader.buf.reserve(HEAD_CHUNK);
    }
    match poll_read_buf(Pin::new(&mut *conn), cx, reader.buf) {
        Poll::Ready(Ok(n)) if n > 0 => {
            reader.got_bytes = true;
            Poll::Ready(Step::Answered)
        }
        // Closed or failed: the blocked write fails next (its waker is registered), and
        // an answer already received is looked for then.
        Poll::Ready(_) | Poll::Pending => Poll::Pending,
    }
}

async fn flush(
    conn: &mut impl Conn,
    idle: Duration,
    reader: &mut HeadReader<'_>,
) -> Result<(), Failure> {
    match timed(idle, conn.flush()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(io_failure(e, reader)),
        Err(_) => Err(write_timeout(idle)),
    }
}

/// A request body of another length than its framing announced.
fn length_mismatch(e: Error) -> Error {
    match e {
        Error::BodyLengthMismatch { .. } => Error::InvalidRequest {
            reason: "the request body's length differs from its content-length",
        },
        other => other,
    }
}

/// Sends `out` (the head, unless already sent) and the body in its framing.
async fn send_body(
    conn: &mut impl Conn,
    out: &mut Vec<u8>,
    body: OutBody,
    mut encoder: BodyEncoder,
    idle: Duration,
    reader: &mut HeadReader<'_>,
) -> Result<(), Failure> {
    match body {
        OutBody::Bytes(b) if encoder != BodyEncoder::Chunked => {
            if b.len() <= COALESCE {
                out.extend_from_slice(&b);
                write_all(conn, out, idle, reader).await?;
            } else {
                write_all(conn, out, idle, reader).await?;
                write_all(conn, &b, idle, reader).await?;
            }
        }
        OutBody::Bytes(b) => {
            encoder.encode(out, &b).map_err(length_mismatch)?;
            encoder.finish(out, None).map_err(length_mismatch)?;
            write_all(conn, out, idle, reader).await?;
        }
        OutBody::Stream(mut body) => {
            while let Some(frame) = body.frame().await {
                match frame.map_err(Failure::from)? {
                    Frame::Data(d) if d.len() >= COALESCE => {
                        encoder.begin_data(out, d.len()).map_err(length_mismatch)?;
                        write_all(conn, out, idle, reader).await?;
                        out.clear();
                        write_all(conn, &d, idle, reader).await?;
                        encoder.end_data(out, d.len());
                    }
                    Frame::Data(d) => {
                        encoder.encode(out, &d).map_err(length_mismatch)?;
                        if out.len() >= WRITE_HIGH_WATER {
                            write_all(conn, out, idle, reader).await?;
                            out.clear();
                        }
                    }
                    Frame::Trailers(t) => {
                        encoder.finish(out, Some(&t)).map_err(length_mismatch)?;
                        break;
                    }
                }
            }
            encoder.finish(out, None).map_err(length_mismatch)?;
            write_all(conn, out, idle, reader).await?;
        }
    }
    out.clear();
    flush(conn, idle, reader).await
}
