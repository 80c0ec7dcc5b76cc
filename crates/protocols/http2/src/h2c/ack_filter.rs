//! Drops the SETTINGS ACK h2 writes for the settings taken from `HTTP2-Settings`.
//!
//! The upgrade's `101` response is the acknowledgement of those settings (RFC 7540
//! §3.2.1), and a client that gets an ACK it did not ask for may treat it as a protocol
//! error (nghttp2 does). h2 sees them as an ordinary SETTINGS frame and acknowledges it;
//! being the first SETTINGS h2 received, its ACK is the first ACK h2 writes. Frame
//! headers are scanned until that one is dropped; after it, writes pass straight through.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const HEAD_LEN: usize = 9;

pub(crate) struct DropSettingsAck<S> {
    inner: S,
    done: bool,
    /// The frame header being collected, and how much of it arrived.
    head: [u8; HEAD_LEN],
    have: usize,
    /// Payload bytes of the current frame still to pass through.
    payload_left: usize,
    /// Bytes accepted from the writer and not yet written to `inner`.
    pending: BytesMut,
}

impl<S> DropSettingsAck<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self {
            inner,
            done: false,
            head: [0; HEAD_LEN],
            have: 0,
            payload_left: 0,
            pending: BytesMut::new(),
        }
    }
}

impl<S: AsyncWrite + Unpin> DropSettingsAck<S> {
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending.advance(n);
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for DropSettingsAck<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for DropSettingsAck<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_drain(cx))?;
        if this.done || buf.is_empty() {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        }
        if this.payload_left > 0 {
            let n = this.payload_left.min(buf.len());
            let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..n]))?;
            this.payload_left -= n;
            return Poll::Ready(Ok(n));
        }
        let take = (HEAD_LEN - this.have).min(buf.len());
        this.head[this.have..this.have + take].copy_from_slice(&buf[..take]);
        this.have += take;
        if this.have == HEAD_LEN {
            this.have = 0;
            let len = (usize::from(this.head[0]) << 16)
                | (usize::from(this.head[1]) << 8)
                | usize::from(this.head[2]);
            let is_settings_ack = this.head[3] == 0x4 && this.head[4] & 0x1 != 0 && len == 0;
            if is_settings_ack {
                this.done = true;
            } else {
                this.pending.extend_from_slice(&this.head);
                this.payload_left = len;
            }
        }
        Poll::Ready(Ok(take))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn frame(kind: u8, flags: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0, 0, payload.len() as u8, kind, flags, 0, 0, 0, 0];
        f.extend_from_slice(payload);
        f
    }

    #[tokio::test]
    async fn drops_only_the_first_ack_even_when_split() {
        let settings = frame(0x4, 0, &[0, 3, 0, 0, 0, 100]);
        let ack = frame(0x4, 0x1, &[]);
        let ping = frame(0x6, 0, &[7; 8]);
        let mut all = Vec::new();
        for f in [&settings, &ack, &ping, &ack] {
            all.extend_from_slice(f);
        }
        let (a, mut b) = tokio::io::duplex(1024);
        let mut w = DropSettingsAck::new(a);
        // Byte by byte: headers split across writes must still be recognized.
        for byte in &all {
            w.write_all(std::slice::from_ref(byte)).await.unwrap();
        }
        w.flush().await.unwrap();
        drop(w);
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        let mut want = Vec::new();
        for f in [&settings, &ping, &ack] {
            want.extend_from_slice(f);
        }
        assert_eq!(got, want);
    }
}
