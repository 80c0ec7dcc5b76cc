//! Sending a request: the head and body in their framing, each write bounded by the
//! read-idle timeout, and an eye on the response side while the server takes no more
//! (it may have answered already).

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio_util::io::poll_read_buf;

use crate::body::{Body, Frame};
use crate::client::conn::Conn;
use crate::client::exchange::Failure;
use crate::client::head_reader::{HEAD_CHUNK, HeadReader};
use crate::codec::BodyEncoder;
use crate::error::Error;

/// Request bodies up to this size are copied behind the head and sent in one write.
const COALESCE: usize = 16 * 1024;
/// Pending request bytes above which a streamed body is written out.
const WRITE_HIGH_WATER: usize = 64 * 1024;

const WHAT_WRITE: &str = "server to take more of the request (read-idle timeout)";

/// A request body as the exchange sends it.
pub(crate) enum OutBody {
    /// All of it, possibly empty.
    Bytes(Bytes),
    /// Produced while it is sent.
    Stream(Body),
}

impl OutBody {
    pub(crate) fn len(&self) -> Option<u64> {
        match self {
            Self::Bytes(b) => Some(b.len() as u64),
            Self::Stream(b) => b.size_hint(),
        }
    }
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
pub(crate) async fn write_all(
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
            Ok(Step::Failed(e)) => return Err(e.into()),
            Err(_) => return Err(write_timeout(idle)),
        }
    }
    Ok(())
}

/// One write, or word that the server answered (or broke the protocol) while it took
/// no more of the request.
enum Step {
    Wrote(std::io::Result<usize>),
    Answered,
    Failed(Error),
}

/// Writes what the connection takes; while it takes nothing (the server stopped reading),
/// looks at what the server sent meanwhile. An error or redirect ends the upload, as
/// servers refuse uploads (413, 401, 307) before reading them; interim heads are skipped;
/// a success is kept for later while the body goes on (a full-duplex server may answer
/// while it still reads).
fn poll_write_or_answer(
    conn: &mut impl Conn,
    cx: &mut Context<'_>,
    data: &[u8],
    reader: &mut HeadReader<'_>,
) -> Poll<Step> {
    if let Poll::Ready(r) = Pin::new(&mut *conn).poll_write(cx, data) {
        return Poll::Ready(Step::Wrote(r));
    }
    if reader.early.is_some() {
        return Poll::Pending; // a success came: only the write matters now
    }
    loop {
        if reader.buf.capacity() - reader.buf.len() < HEAD_CHUNK / 4 {
            reader.buf.reserve(HEAD_CHUNK);
        }
        match poll_read_buf(Pin::new(&mut *conn), cx, reader.buf) {
            Poll::Ready(Ok(n)) if n > 0 => {
                reader.got_bytes = true;
                match reader.decode_buffered() {
                    Ok(true) if reader.answered_early() => return Poll::Ready(Step::Answered),
                    Ok(true) => return Poll::Pending,
                    Ok(false) => {} // a partial or interim head: read on
                    Err(e) => return Poll::Ready(Step::Failed(e)),
                }
            }
            // Closed or failed: the blocked write fails next (its waker is registered),
            // and an answer already received is looked for then.
            Poll::Ready(_) | Poll::Pending => return Poll::Pending,
        }
    }
}

pub(crate) async fn flush(
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
pub(crate) async fn send_body(
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
