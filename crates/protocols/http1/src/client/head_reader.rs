//! Reading response heads: interim ones skipped, the final one within the request
//! timeout, and whether any response byte came at all (which decides whether a failed
//! exchange may be retried).

use std::time::Duration;

use bytes::BytesMut;
use http::StatusCode;
use tokio::io::AsyncReadExt;

use crate::client::conn::Conn;
use crate::client::exchange::Failure;
use crate::codec::{Event, ResponseDecoder, ResponseHead};
use crate::error::{Error, Result};

/// Room made in the receive buffer before reading a head.
pub(crate) const HEAD_CHUNK: usize = 8 * 1024;

const WHAT_HEAD: &str = "response head (request timeout)";

/// Reads response heads into a buffer, remembering whether any byte came.
pub(crate) struct HeadReader<'a> {
    pub(crate) buf: &'a mut BytesMut,
    pub(crate) decoder: &'a mut ResponseDecoder,
    pub(crate) got_bytes: bool,
    /// A final head that came while the request was still being sent.
    pub(crate) early: Option<ResponseHead>,
}

impl<'a> HeadReader<'a> {
    pub(crate) fn new(buf: &'a mut BytesMut, decoder: &'a mut ResponseDecoder) -> Self {
        Self {
            buf,
            decoder,
            got_bytes: false,
            early: None,
        }
    }

    /// Whether an early final head is kept whose status ends an upload: an error or a
    /// redirect (a success may come while a full-duplex server still reads the body).
    pub(crate) fn answered_early(&self) -> bool {
        self.early
            .as_ref()
            .is_some_and(|h| h.status.as_u16() >= 300)
    }

    /// Decodes what is buffered, without I/O: interim heads are dropped, a final head is
    /// kept in `early`. `Ok(true)` once a final head is there.
    pub(crate) fn decode_buffered(&mut self) -> Result<bool> {
        while self.early.is_none() {
            match self.decoder.decode(self.buf)? {
                Event::Head(head) => {
                    check_not_switching(&head)?;
                    if !head.status.is_informational() {
                        self.early = Some(head);
                    }
                }
                Event::NeedMore => return Ok(false),
                Event::Data(_) | Event::Trailers(_) | Event::End => {
                    return Err(Error::InvalidHead {
                        reason: "response bytes where a head was expected",
                    });
                }
            }
        }
        Ok(true)
    }

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
    pub(crate) async fn read_final(
        &mut self,
        conn: &mut impl Conn,
    ) -> Result<ResponseHead, Failure> {
        if let Some(head) = self.early.take() {
            return Ok(head);
        }
        loop {
            let head = self.read_head(conn).await?;
            check_not_switching(&head)?;
            if !head.status.is_informational() {
                return Ok(head);
            }
        }
    }

    /// The final head within the request timeout.
    pub(crate) async fn read_final_within(
        &mut self,
        conn: &mut impl Conn,
        limit: Duration,
    ) -> Result<ResponseHead, Failure> {
        ghostnet_runtime::timeout(limit, self.read_final(conn))
            .await
            .map_err(|_| Error::Timeout {
                what: WHAT_HEAD,
                after: limit,
            })?
    }

    /// `100 Continue` or the final head, skipping other interim ones.
    pub(crate) async fn read_final_or_continue(
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

fn check_not_switching(head: &ResponseHead) -> Result<()> {
    if head.status == StatusCode::SWITCHING_PROTOCOLS {
        return Err(Error::InvalidHead {
            reason: "101 Switching Protocols to a request that asked for no upgrade",
        });
    }
    Ok(())
}
