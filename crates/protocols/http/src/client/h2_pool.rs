//! HTTP/2 connections in a [`MuxPool`]: the h2 handshake as the pool's establish step,
//! and ghostnet-http2's `SendRequest` as the shared handle.

use std::io;

use ghostnet_http2::client::SendRequest;
use ghostnet_transport::Stream;
use ghostnet_transport::pool::{Establish, Multiplexed, MuxPool, PoolKey};

use crate::error::Error;

/// What the pool's establish step calls a failed HTTP/2 handshake; the h2 error rides
/// inside the transport error and is taken out again by [`from_pool_error`].
const HANDSHAKE_OP: &str = "http/2 handshake";

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

/// The establish step: the HTTP/2 handshake, with the connection driver spawned.
#[derive(Debug, Clone)]
pub(crate) struct H2Establish {
    pub(crate) settings: ghostnet_http2::Settings,
}

impl<S: Stream> Establish<S> for H2Establish {
    type Handle = H2Conn;

    fn establish(
        &self,
        stream: S,
        _key: PoolKey,
    ) -> impl Future<Output = ghostnet_transport::Result<H2Conn>> + Send {
        let settings = self.settings.clone();
        async move {
            ghostnet_http2::client::connect(stream, &settings)
                .await
                .map(H2Conn)
                .map_err(|e| ghostnet_transport::Error::Io {
                    op: HANDSHAKE_OP.to_owned(),
                    source: io::Error::other(e),
                })
        }
    }
}

/// A pool of HTTP/2 connections over the dialer `D`.
pub(crate) type H2Pool<D> = MuxPool<D, H2Establish>;

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
