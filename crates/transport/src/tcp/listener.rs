//! `TcpListener`: [`Listen`] over TCP, with the listening socket built by socket2 so
//! reuse flags, buffer sizes and the backlog are set before `listen`.

use std::io;
use std::net::SocketAddr;

use socket2::SockRef;
use tokio::net::TcpStream;

use super::options::TcpOptions;
use crate::error::{Error, Result};
use crate::socket::require_runtime;
use crate::traits::Listen;

/// Accepts TCP connections. Each accepted stream gets the per-connection
/// [`TcpOptions`] (nodelay, keepalive, buffer sizes) before it is returned, so servers
/// behave the same whatever the platform inherits from the listening socket.
///
/// ```
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// use ghostnet_transport::{Dial, Listen};
/// use ghostnet_transport::tcp::{TcpDialer, TcpListener, TcpOptions};
///
/// let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::default()).unwrap();
/// let addr = listener.local_addr();
/// let client = TcpDialer::new().dial(&addr.into()).await.unwrap();
/// let (server, peer) = listener.accept().await.unwrap();
/// assert_eq!(peer, client.local_addr().unwrap());
/// assert!(server.nodelay().unwrap());
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct TcpListener {
    inner: tokio::net::TcpListener,
    options: TcpOptions,
    local: SocketAddr,
}

impl TcpListener {
    /// Binds `addr` (port 0 picks a free port) with `options` and starts listening.
    /// Must run inside a tokio runtime.
    pub fn bind(addr: SocketAddr, options: TcpOptions) -> Result<Self> {
        options.validate()?;
        require_runtime(|| format!("listen on {addr}"))?;
        let socket = options.listen_socket(addr)?;
        let inner = tokio::net::TcpListener::from_std(socket.into())
            .map_err(|e| Error::io(format!("register listener on {addr}"), e))?;
        let local = inner
            .local_addr()
            .map_err(|e| Error::io(format!("read the address of listener {addr}"), e))?;
        Ok(Self {
            inner,
            options,
            local,
        })
    }

    /// The address the listener is bound to, with the real port when 0 was asked for.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The options this listener applies.
    pub fn tcp_options(&self) -> &TcpOptions {
        &self.options
    }

    /// The tokio listener inside, e.g. to read socket options with socket2.
    pub fn get_ref(&self) -> &tokio::net::TcpListener {
        &self.inner
    }

    /// Unwraps the tokio listener; accepted streams then no longer get the options.
    pub fn into_inner(self) -> tokio::net::TcpListener {
        self.inner
    }
}

/// Errors that concern one incoming connection only (it was reset or aborted before we
/// took it): the accept loop skips them instead of failing.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    )
}

impl Listen for TcpListener {
    type Stream = TcpStream;

    /// Waits for the next connection. Connections that fail before or while their
    /// options are applied are skipped (logged at debug level); errors of the listener
    /// itself (e.g. `EMFILE`, out of file descriptors) are returned, and a server should
    /// back off briefly before accepting again.
    async fn accept(&self) -> Result<(TcpStream, SocketAddr)> {
        loop {
            let (stream, peer) = match self.inner.accept().await {
                Ok(accepted) => accepted,
                Err(e) if is_per_connection(&e) => {
                    tracing::debug!(error = %e, "skipping a connection that failed during accept");
                    continue;
                }
                Err(e) => return Err(Error::io(format!("accept on {}", self.local), e)),
            };
            match self.options.apply_to_connection(SockRef::from(&stream)) {
                Ok(()) => return Ok((stream, peer)),
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "dropping an accepted connection");
                }
            }
        }
    }
}
