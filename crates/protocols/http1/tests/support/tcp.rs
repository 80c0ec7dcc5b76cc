//! PRIVATE STAND-IN, one place only: `Listen` for a tokio `TcpListener`, until
//! ghostnet-transport's own TCP listener lands. Tests, `examples/hello_server.rs` and
//! `benches/src/bin/bench_http1.rs` include this file with `#[path]`; the integrator
//! replaces those uses with `ghostnet_transport::TcpListener` and deletes this file.

use std::net::SocketAddr;

use ghostnet_transport::{Error, Listen, Result};

/// A bound TCP listener that sets `TCP_NODELAY` on accepted streams.
pub struct TcpListener(tokio::net::TcpListener);

impl TcpListener {
    /// Binds `addr` (use port 0 in tests).
    pub async fn bind(addr: SocketAddr) -> Result<Self> {
        tokio::net::TcpListener::bind(addr)
            .await
            .map(Self)
            .map_err(|e| Error::io(format!("bind {addr}"), e))
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.0.local_addr().expect("bound listener has an address")
    }
}

impl Listen for TcpListener {
    type Stream = tokio::net::TcpStream;

    async fn accept(&self) -> Result<(tokio::net::TcpStream, SocketAddr)> {
        let (s, peer) = self.0.accept().await.map_err(|e| Error::io("accept", e))?;
        let _ = s.set_nodelay(true);
        Ok((s, peer))
    }
}
