//! [`TlsStream`]: an encrypted [`Stream`] over any inner stream, client or server side.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use rustls_pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::describe::{Side, rustls_error, tls_error};
use super::vectored::Vectored;
use crate::stream::{ConnectionInfo, Stream};

/// A TLS connection over an inner stream `S` (TCP, in-memory, ...), from a
/// [`TlsDialer`](super::TlsDialer) or a [`TlsListener`](super::TlsListener).
///
/// [`info`](Stream::info) reports transport `tls`, the inner stream's addresses and the
/// negotiated ALPN protocol; [`get_ref`](Self::get_ref) reaches the inner stream itself
/// (e.g. `stream.get_ref().info()` says `tcp`).
///
/// TLS errors while reading or writing (e.g. a fatal alert from the peer) come back as
/// `io::Error`s wrapping a worded [`Error::Tls`](crate::Error::Tls).
pub struct TlsStream<S> {
    inner: tokio_rustls::TlsStream<Vectored<S>>,
}

impl<S: Stream> TlsStream<S> {
    pub(crate) fn from_client(inner: tokio_rustls::client::TlsStream<Vectored<S>>) -> Self {
        Self {
            inner: inner.into(),
        }
    }

    pub(crate) fn from_server(inner: tokio_rustls::server::TlsStream<Vectored<S>>) -> Self {
        Self {
            inner: inner.into(),
        }
    }

    /// Rewords an I/O error that carries a rustls error (an alert, a bad record). The
    /// peer's address is looked up only here: for TCP it costs a system call, too much to
    /// pay on every connection for the rare error.
    #[cold]
    fn reword(&self, e: io::Error) -> io::Error {
        if rustls_error(&e).is_none() {
            return e;
        }
        let side = if self.is_client() {
            Side::Client
        } else {
            Side::Server
        };
        let peer = self
            .get_ref()
            .info()
            .peer_addr
            .map_or_else(|| "the peer".to_owned(), |a| a.to_string());
        let kind = e.kind();
        io::Error::new(kind, tls_error(side, peer, e))
    }
}

impl<S> TlsStream<S> {
    /// The inner (unencrypted) stream.
    pub fn get_ref(&self) -> &S {
        &self.inner.get_ref().0.0
    }

    /// The inner stream, mutably. Reading or writing it directly corrupts the TLS session.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner.get_mut().0.0
    }

    /// rustls' view of the connection (cipher suite, key exchange group, ...).
    pub fn tls_state(&self) -> &rustls::CommonState {
        self.inner.get_ref().1
    }

    /// Whether we are the client end.
    pub fn is_client(&self) -> bool {
        matches!(self.inner, tokio_rustls::TlsStream::Client(_))
    }

    /// The ALPN protocol both ends agreed on (`h2`, `http/1.1`), if any.
    pub fn alpn(&self) -> Option<&[u8]> {
        self.tls_state().alpn_protocol()
    }

    /// The peer's certificate chain, leaf first: the server's on the client side, the
    /// client's (when it sent one) on the server side.
    pub fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.tls_state().peer_certificates()
    }

    /// The TLS version in use (1.2 or 1.3).
    pub fn protocol_version(&self) -> Option<rustls::ProtocolVersion> {
        self.tls_state().protocol_version()
    }

    /// On the server side, the host name the client asked for (SNI), if it sent one.
    pub fn server_name(&self) -> Option<&str> {
        match &self.inner {
            tokio_rustls::TlsStream::Server(s) => s.get_ref().1.server_name(),
            tokio_rustls::TlsStream::Client(_) => None,
        }
    }
}

impl<S> std::fmt::Debug for TlsStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsStream")
            .field("client", &self.is_client())
            .field("version", &self.protocol_version())
            .field(
                "alpn",
                &self.alpn().map(|a| String::from_utf8_lossy(a).into_owned()),
            )
            .finish_non_exhaustive()
    }
}

impl<S: Stream> Stream for TlsStream<S> {
    fn info(&self) -> ConnectionInfo {
        let inner = self.get_ref().info();
        ConnectionInfo::new("tls", inner.local_addr, inner.peer_addr)
            .with_alpn(self.alpn().map(<[u8]>::to_vec))
    }
}

impl<S: Stream> AsyncRead for TlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.reword(e))),
            other => other,
        }
    }
}

impl<S: Stream> AsyncWrite for TlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.reword(e))),
            other => other,
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.reword(e))),
            other => other,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
