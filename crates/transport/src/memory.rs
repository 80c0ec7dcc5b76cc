//! An in-memory transport: a [`Dial`]/[`Listen`] pair over tokio duplex pipes, for tests
//! that need connections without sockets (and for simulating many hosts in one process).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::stream::{ConnectionInfo, Stream};
use crate::target::Target;
use crate::traits::{Dial, Listen};

/// Bytes buffered in each direction of an in-memory connection by default.
pub const DEFAULT_PIPE_BUFFER: usize = 64 * 1024;

/// Pending connections a listener holds before dials wait (like a listen backlog).
const BACKLOG: usize = 128;

type Incoming = (MemoryStream, SocketAddr);

/// A listener's entry: its id (so a dropped listener removes only itself) and its queue.
struct Registration {
    id: u64,
    queue: mpsc::Sender<Incoming>,
}

/// A namespace of in-memory listeners. Clones share it; dialers reach only listeners of
/// the same network.
///
/// ```
/// # tokio_test_block_on(async {
/// use ghostnet_transport::{Dial, Listen, MemoryNetwork};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// let net = MemoryNetwork::new();
/// let listener = net.listen(&"db.test:5432".parse().unwrap()).unwrap();
/// let mut client = net.dialer().dial(&"db.test:5432".parse().unwrap()).await.unwrap();
/// let (mut server, _peer) = listener.accept().await.unwrap();
/// client.write_all(b"ping").await.unwrap();
/// let mut buf = [0; 4];
/// server.read_exact(&mut buf).await.unwrap();
/// assert_eq!(&buf, b"ping");
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone)]
pub struct MemoryNetwork {
    inner: Arc<Shared>,
}

struct Shared {
    listeners: Mutex<HashMap<Target, Registration>>,
    next_listener: AtomicU64,
    next_port: AtomicU16,
    dials: AtomicU64,
    buffer: usize,
}

impl MemoryNetwork {
    /// An empty network with [`DEFAULT_PIPE_BUFFER`]-byte pipes.
    pub fn new() -> Self {
        Self::with_buffer(DEFAULT_PIPE_BUFFER)
    }

    /// An empty network whose connections buffer `bytes` in each direction (at least 1).
    pub fn with_buffer(bytes: usize) -> Self {
        Self {
            inner: Arc::new(Shared {
                listeners: Mutex::new(HashMap::new()),
                next_listener: AtomicU64::new(0),
                next_port: AtomicU16::new(1),
                dials: AtomicU64::new(0),
                buffer: bytes.max(1),
            }),
        }
    }

    /// Listens at `target`; fails with `AddrInUse` when a live listener already has it.
    pub fn listen(&self, target: &Target) -> Result<MemoryListener> {
        let mut map = self.lock();
        if map.get(target).is_some_and(|r| !r.queue.is_closed()) {
            return Err(Error::io(
                format!("listen on memory address {target}"),
                io::Error::new(io::ErrorKind::AddrInUse, "address already in use"),
            ));
        }
        let (tx, rx) = mpsc::channel(BACKLOG);
        let id = self.inner.next_listener.fetch_add(1, Ordering::Relaxed);
        map.insert(target.clone(), Registration { id, queue: tx });
        Ok(MemoryListener {
            id,
            incoming: tokio::sync::Mutex::new(rx),
            local: synthetic_addr(target),
            target: target.clone(),
            network: self.clone(),
        })
    }

    /// A dialer into this network.
    pub fn dialer(&self) -> MemoryDialer {
        MemoryDialer {
            network: self.clone(),
        }
    }

    /// How many dials were attempted on this network (successful or not).
    pub fn dial_count(&self) -> u64 {
        self.inner.dials.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Target, Registration>> {
        self.inner
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn client_addr(&self) -> SocketAddr {
        let port = self.inner.next_port.fetch_add(1, Ordering::Relaxed);
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), port.max(1))
    }
}

impl Default for MemoryNetwork {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MemoryNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryNetwork")
            .field("listeners", &self.lock().len())
            .finish()
    }
}

/// A listener's address as a socket address: the target's own when it is an IP, a
/// stand-in on 127.0.0.1 otherwise.
fn synthetic_addr(target: &Target) -> SocketAddr {
    match target.host {
        crate::target::Host::Ip(ip) => SocketAddr::new(ip, target.port),
        crate::target::Host::Name(_) => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), target.port),
    }
}

/// Dials listeners of a [`MemoryNetwork`]. A target nobody listens on is refused at once,
/// like a closed TCP port.
#[derive(Clone, Debug)]
pub struct MemoryDialer {
    network: MemoryNetwork,
}

impl Dial for MemoryDialer {
    type Stream = MemoryStream;

    async fn dial(&self, target: &Target) -> Result<MemoryStream> {
        let net = &self.network;
        net.inner.dials.fetch_add(1, Ordering::Relaxed);
        let refused = || Error::Connect {
            target: target.to_string(),
            source: io::Error::new(io::ErrorKind::ConnectionRefused, "no memory listener"),
        };
        let tx = net
            .lock()
            .get(target)
            .map(|r| r.queue.clone())
            .ok_or_else(refused)?;
        let client_addr = net.client_addr();
        let server_addr = synthetic_addr(target);
        let (a, b) = tokio::io::duplex(net.inner.buffer);
        let server_side = MemoryStream {
            pipe: b,
            local: server_addr,
            peer: client_addr,
        };
        tx.send((server_side, client_addr))
            .await
            .map_err(|_| refused())?;
        Ok(MemoryStream {
            pipe: a,
            local: client_addr,
            peer: server_addr,
        })
    }
}

/// Accepts connections dialed to its target. Dropping it frees the address; pending
/// dials are then refused.
pub struct MemoryListener {
    id: u64,
    incoming: tokio::sync::Mutex<mpsc::Receiver<Incoming>>,
    local: SocketAddr,
    target: Target,
    network: MemoryNetwork,
}

impl MemoryListener {
    /// The address dialers use.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The listener's address as a socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

impl std::fmt::Debug for MemoryListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryListener")
            .field("target", &self.target)
            .finish()
    }
}

impl Listen for MemoryListener {
    type Stream = MemoryStream;

    async fn accept(&self) -> Result<(MemoryStream, SocketAddr)> {
        // The network keeps a sender, so `None` never happens while registered; treat it
        // as a closed listener anyway.
        self.incoming.lock().await.recv().await.ok_or_else(|| {
            Error::io(
                format!("accept on memory address {}", self.target),
                io::Error::new(io::ErrorKind::NotConnected, "listener closed"),
            )
        })
    }
}

impl Drop for MemoryListener {
    fn drop(&mut self) {
        let mut map = self.network.lock();
        // Only remove our own registration (a newer listener may hold the address).
        if map.get(&self.target).is_some_and(|r| r.id == self.id) {
            map.remove(&self.target);
        }
    }
}

/// One end of an in-memory connection.
#[derive(Debug)]
pub struct MemoryStream {
    pipe: DuplexStream,
    local: SocketAddr,
    peer: SocketAddr,
}

impl Stream for MemoryStream {
    fn info(&self) -> ConnectionInfo {
        ConnectionInfo::new("memory", Some(self.local), Some(self.peer))
    }
}

impl AsyncRead for MemoryStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.pipe).poll_read(cx, buf)
    }
}

impl AsyncWrite for MemoryStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.pipe).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.pipe).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.pipe.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.pipe).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.pipe).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn t(s: &str) -> Target {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn round_trip_and_info() {
        let net = MemoryNetwork::new();
        let l = net.listen(&t("svc:1")).unwrap();
        let mut c = net.dialer().dial(&t("svc:1")).await.unwrap();
        let (mut s, peer) = l.accept().await.unwrap();
        assert_eq!(c.info().transport, "memory");
        assert_eq!(c.info().local_addr, Some(peer));
        assert_eq!(s.info().peer_addr, Some(peer));
        c.write_all(b"hello").await.unwrap();
        c.shutdown().await.unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"hello");
        assert_eq!(net.dial_count(), 1);
    }

    #[tokio::test]
    async fn refused_without_listener_and_after_drop() {
        let net = MemoryNetwork::new();
        let err = net.dialer().dial(&t("nobody:1")).await.unwrap_err();
        assert!(
            matches!(&err, Error::Connect { source, .. } if source.kind() == io::ErrorKind::ConnectionRefused)
        );
        assert!(err.is_transient());
        let l = net.listen(&t("svc:1")).unwrap();
        drop(l);
        assert!(net.dialer().dial(&t("svc:1")).await.is_err());
        // The address is free again.
        let _l2 = net.listen(&t("svc:1")).unwrap();
    }

    #[tokio::test]
    async fn address_in_use() {
        let net = MemoryNetwork::new();
        let _l = net.listen(&t("svc:1")).unwrap();
        let err = net.listen(&t("svc:1")).unwrap_err();
        assert!(err.to_string().contains("in use"), "{err}");
    }

    #[tokio::test]
    async fn networks_are_isolated() {
        let a = MemoryNetwork::new();
        let b = MemoryNetwork::new();
        let _l = a.listen(&t("svc:1")).unwrap();
        assert!(b.dialer().dial(&t("svc:1")).await.is_err());
    }
}
