//! One exchange on one connection: write the request (with `Expect: 100-continue` when
//! asked), read the response head within the request timeout, and hand the connection to
//! the response body.
//!
//! The connection is marked not reusable first thing, and marked reusable again only
//! when the response has been read to its end (see [`WireBody`]): an exchange cancelled
//! at any await point closes its connection instead of handing a half-read one on.

use std::time::Duration;

use bytes::BytesMut;
use http::header::{CONNECTION, CONTENT_ENCODING, CONTENT_LENGTH, EXPECT, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode, Uri};

use crate::client::body::ResponseBody;
use crate::client::conn::Conn;
use crate::client::encode::{Extra, encode_request_head, framing};
use crate::client::head_reader::{HEAD_CHUNK, HeadReader};
use crate::client::send::{OutBody, flush, send_body, write_all};
use crate::client::wire::{Deadlines, WireBody};
use crate::codec::body_length::has_token;
use crate::codec::{BodyEncoder, BodyLength, Limits, ResponseDecoder, ResponseHead};
use crate::coding::{Coding, Decoding};
use crate::error::{Error, Result};

/// How long a failed upload looks for an early answer that is already on its way.
const SALVAGE_WAIT: Duration = Duration::from_secs(1);

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

impl Plan<'_> {
    /// Whether a request with a body of `len` bytes (`None`: a stream) is sent with
    /// `Expect: 100-continue`: the caller asked for it, or the body reaches the threshold.
    pub(crate) fn expects_continue(&self, len: Option<u64>) -> bool {
        has_token(self.headers, EXPECT, "100-continue")
            || self
                .expect_continue_threshold
                .is_some_and(|t| len.is_none_or(|n| n >= t))
    }
}

/// Why an exchange failed, and whether the server can have seen nothing of it answered:
/// the connection broke (closed, reset) before any response byte arrived.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) error: Error,
    pub(crate) unanswered: bool,
    /// Not a failure: the server answered while the request was being sent, and the
    /// rest of it was not sent (the exchange reads that answer).
    pub(crate) answered: bool,
}

impl Failure {
    pub(crate) fn answered() -> Self {
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
    let expect_continue = has_body && plan.expects_continue(body.len());
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
    let mut reader = HeadReader::new(&mut buf, &mut decoder);
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
                reader
                    .read_final_within(&mut conn, plan.request_timeout)
                    .await?,
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
        None => {
            reader
                .read_final_within(&mut conn, plan.request_timeout)
                .await?
        }
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
