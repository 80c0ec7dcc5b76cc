//! HTTP/2 connections in a [`MuxPool`]: the h2 handshake as the pool's establish step,
//! and ghostnet-http2's `SendRequest` as the shared handle.
//!
//! Over TLS the establish step also sees the server's ALPN answer: a connection on which
//! it chose `http/1.1` is handed to the HTTP/1.1 client's pool ([`Http1Handoff`]) before
//! the step fails with the ALPN mismatch, so the HTTP/1.1 request that follows goes out
//! on that connection instead of a second dial and handshake.

use std::io;

use ghostnet_http2::client::SendRequest;
use ghostnet_transport::pool::{Establish, Multiplexed, MuxPool, PoolKey};
use ghostnet_transport::{Dial, Stream, TlsStream};

use crate::error::Error;

/// What the pool's establish step calls a failed HTTP/2 handshake; the h2 error rides
/// inside the transport error and is taken out again by [`from_pool_error`].
const HANDSHAKE_OP: &str = "http/2 handshake";

/// The ALPN token of HTTP/1.1.
const HTTP11: &[u8] = b"http/1.1";

/// One HTTP/2 connection, shared by the requests multiplexed on it.
#[derive(Clone, Debug)]
pub(crate) struct H2Conn(pub(crate) SendRequest);

impl Multiplexed for H2Conn {
    fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    fn max_concurrent_streams(&self) -> Option<usize> {
        Some(self.0.max_concurrent_streams())
    }
}

/// Where a connection goes when its server answered `http/1.1` in ALPN.
pub(crate) trait Http1Handoff<S>: Send + Sync + 'static {
    /// Takes `stream`, dialed for `key`; failing that, it is closed.
    fn hand_over(&self, stream: S, key: PoolKey) -> impl Future<Output = ()> + Send;
}

/// No handoff (h2c: no ALPN, so no answer to act on); the connection is closed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NoHandoff;

impl<S: Send + 'static> Http1Handoff<S> for NoHandoff {
    fn hand_over(&self, stream: S, _key: PoolKey) -> impl Future<Output = ()> + Send {
        drop(stream);
        std::future::ready(())
    }
}

/// The HTTP/1.1 client takes the connection into its `https` pool, idle, for the
/// request the fallback to HTTP/1.1 sends next.
impl<D: Dial + Clone> Http1Handoff<TlsStream<D::Stream>> for ghostnet_http1::client::Client<D> {
    async fn hand_over(&self, stream: TlsStream<D::Stream>, key: PoolKey) {
        if let Err(e) = self.adopt_https(&key, stream).await {
            tracing::debug!(%key, error = %e, "an http/1.1 connection could not be kept");
        }
    }
}

/// The establish step: the HTTP/2 handshake, with the connection driver spawned.
#[derive(Debug, Clone)]
pub(crate) struct H2Establish<H = NoHandoff> {
    pub(crate) settings: ghostnet_http2::Settings,
    /// Takes connections whose server chose `http/1.1`.
    pub(crate) http1: H,
}

impl<S: Stream, H: Http1Handoff<S>> Establish<S> for H2Establish<H> {
    type Handle = H2Conn;

    async fn establish(&self, stream: S, key: PoolKey) -> ghostnet_transport::Result<H2Conn> {
        if stream.info().alpn.as_deref() == Some(HTTP11) {
            self.http1.hand_over(stream, key).await;
            // Still a failure for this pool: the caller learns the server's choice.
            return Err(handshake_error(ghostnet_http2::Error::AlpnMismatch {
                alpn: String::from_utf8_lossy(HTTP11).into_owned(),
            }));
        }
        ghostnet_http2::client::connect(stream, &self.settings)
            .await
            .map(H2Conn)
            .map_err(handshake_error)
    }
}

/// A failed handshake as the pool reports it; [`from_pool_error`] undoes it.
fn handshake_error(e: ghostnet_http2::Error) -> ghostnet_transport::Error {
    ghostnet_transport::Error::Io {
        op: HANDSHAKE_OP.to_owned(),
        source: io::Error::other(e),
    }
}

/// A pool of HTTP/2 connections over the dialer `D`, handing `http/1.1` answers to `H`.
pub(crate) type H2Pool<D, H = NoHandoff> = MuxPool<D, H2Establish<H>>;

/// The crate error for a pool failure: the HTTP/2 error itself for a failed handshake
/// (so an ALPN refusal reads as [`ghostnet_http2::Error::AlpnMismatch`]), the transport
/// error otherwise.
pub(crate) fn from_pool_error(e: ghostnet_transport::Error) -> Error {
    match e {
        ghostnet_transport::Error::Io { op, source } if op == HANDSHAKE_OP => {
            match source
                .into_inner()
                .map(|inner| inner.downcast::<ghostnet_http2::Error>())
            {
                Some(Ok(h2)) => Error::from(*h2),
                Some(Err(other)) => Error::Io(io::Error::other(other)),
                None => Error::Io(io::ErrorKind::Other.into()),
            }
        }
        other => Error::Transport(other),
    }
}
