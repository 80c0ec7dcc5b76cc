//! The byte stream every transport produces, and what is known about its connection.

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What a connection is: addresses, and for TLS the negotiated protocol.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// `tcp`, `tls`, `memory`, ...
    pub transport: &'static str,
    /// Our end, when the transport has addresses.
    pub local_addr: Option<SocketAddr>,
    /// The peer's end, when the transport has addresses.
    pub peer_addr: Option<SocketAddr>,
    /// The ALPN protocol agreed in the TLS handshake (`h2`, `http/1.1`), if any.
    pub alpn: Option<Vec<u8>>,
}

impl ConnectionInfo {
    /// Info for a transport with the given name and addresses.
    pub fn new(
        transport: &'static str,
        local_addr: Option<SocketAddr>,
        peer_addr: Option<SocketAddr>,
    ) -> Self {
        Self {
            transport,
            local_addr,
            peer_addr,
            alpn: None,
        }
    }

    /// The same info with `alpn` set.
    pub fn with_alpn(mut self, alpn: Option<Vec<u8>>) -> Self {
        self.alpn = alpn;
        self
    }
}

/// A connected byte stream: what protocols read from and write to.
///
/// The one method reports what the connection is; reading and writing come from tokio's
/// `AsyncRead` and `AsyncWrite`.
pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static {
    /// Addresses and negotiated protocol of this connection.
    fn info(&self) -> ConnectionInfo;
}

/// A type-erased [`Stream`].
pub type BoxStream = Box<dyn Stream>;

impl Stream for BoxStream {
    fn info(&self) -> ConnectionInfo {
        (**self).info()
    }
}

impl Stream for tokio::net::TcpStream {
    fn info(&self) -> ConnectionInfo {
        ConnectionInfo::new("tcp", self.local_addr().ok(), self.peer_addr().ok())
    }
}

/// Probes a stream that sits idle (in a pool) without blocking: `true` when the peer has
/// closed it or sent bytes nobody asked for, so it must not be reused.
///
/// One read is polled with a no-op waker: `Pending` means open and quiet, `Ready(0)` means
/// closed by the peer, `Ready(n)` means unsolicited data (for request/response protocols a
/// sign of a broken exchange), `Ready(Err)` means reset.
pub fn is_closed_or_dirty<S: AsyncRead + Unpin + ?Sized>(stream: &mut S) -> bool {
    let mut byte = [0u8; 1];
    let mut buf = ReadBuf::new(&mut byte);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    match Pin::new(stream).poll_read(&mut cx, &mut buf) {
        Poll::Pending => false,
        Poll::Ready(Ok(())) => true, // 0 bytes: EOF; 1 byte: unsolicited data
        Poll::Ready(Err(_)) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn probe_sees_open_closed_and_dirty() {
        let (mut a, b) = tokio::io::duplex(64);
        assert!(!is_closed_or_dirty(&mut a), "open and quiet");
        let (mut a2, mut b2) = tokio::io::duplex(64);
        b2.write_all(b"x").await.unwrap();
        assert!(is_closed_or_dirty(&mut a2), "unsolicited byte");
        drop(b);
        assert!(is_closed_or_dirty(&mut a), "peer closed");
    }
}
