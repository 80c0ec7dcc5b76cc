//! The narrow traits between transports and the layers above: [`Dial`], [`Listen`],
//! [`Datagram`], and their boxed (type-erased) forms.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use crate::error::Result;
use crate::stream::{BoxStream, Stream};
use crate::target::Target;

/// A boxed, `Send` future: what the object-safe forms of the traits return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Opens byte streams to targets. TCP, TLS-over-TCP and the in-memory transport
/// implement it; the connection pool and every protocol client take one.
///
/// ```
/// use ghostnet_transport::{Dial, Stream, Target};
///
/// async fn banner<D: Dial>(dialer: &D) -> ghostnet_transport::Result<String> {
///     let stream = dialer.dial(&"127.0.0.1:25".parse()?).await?;
///     Ok(format!("connected over {}", stream.info().transport))
/// }
/// ```
pub trait Dial: Send + Sync + 'static {
    /// The stream this dialer produces.
    type Stream: Stream;

    /// Connects to `target`.
    fn dial(&self, target: &Target) -> impl Future<Output = Result<Self::Stream>> + Send;
}

/// Accepts incoming byte streams.
pub trait Listen: Send + Sync + 'static {
    /// The stream this listener yields.
    type Stream: Stream;

    /// Waits for the next connection and returns it with the peer's address.
    fn accept(&self) -> impl Future<Output = Result<(Self::Stream, SocketAddr)>> + Send;
}

/// Sends and receives datagrams (UDP, or a simulated network in tests).
pub trait Datagram: Send + Sync + 'static {
    /// Sends `buf` to `target` as one datagram; returns the bytes sent.
    fn send_to(&self, buf: &[u8], target: SocketAddr)
    -> impl Future<Output = Result<usize>> + Send;

    /// Receives one datagram into `buf`; returns its length and sender. A datagram
    /// longer than `buf` is truncated, as with `recvfrom(2)`.
    fn recv_from(&self, buf: &mut [u8])
    -> impl Future<Output = Result<(usize, SocketAddr)>> + Send;

    /// The address this socket is bound to.
    fn local_addr(&self) -> Result<SocketAddr>;
}

/// The object-safe form of [`Dial`]; every `Dial` implements it.
pub trait DynDial: Send + Sync + 'static {
    /// Connects to `target`, returning a boxed stream.
    fn dial_boxed<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Result<BoxStream>>;
}

impl<D: Dial> DynDial for D {
    fn dial_boxed<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Result<BoxStream>> {
        Box::pin(async move { Ok(Box::new(self.dial(target).await?) as BoxStream) })
    }
}

/// A type-erased dialer: pick TCP or TLS at run time, store dialers in one collection.
///
/// ```
/// use ghostnet_transport::{BoxDial, MemoryNetwork};
/// let net = MemoryNetwork::new();
/// let dialers: Vec<BoxDial> = vec![BoxDial::new(net.dialer())];
/// # let _ = dialers;
/// ```
#[derive(Clone)]
pub struct BoxDial(Arc<dyn DynDial>);

impl BoxDial {
    /// Erases `dialer`'s type.
    pub fn new<D: Dial>(dialer: D) -> Self {
        Self(Arc::new(dialer))
    }
}

impl std::fmt::Debug for BoxDial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BoxDial")
    }
}

impl Dial for BoxDial {
    type Stream = BoxStream;

    async fn dial(&self, target: &Target) -> Result<BoxStream> {
        self.0.dial_boxed(target).await
    }
}

/// The object-safe form of [`Listen`]; every `Listen` implements it.
pub trait DynListen: Send + Sync + 'static {
    /// Waits for the next connection, returning a boxed stream.
    fn accept_boxed(&self) -> BoxFuture<'_, Result<(BoxStream, SocketAddr)>>;
}

impl<L: Listen> DynListen for L {
    fn accept_boxed(&self) -> BoxFuture<'_, Result<(BoxStream, SocketAddr)>> {
        Box::pin(async move {
            let (s, addr) = self.accept().await?;
            Ok((Box::new(s) as BoxStream, addr))
        })
    }
}

/// A type-erased listener.
pub struct BoxListen(Box<dyn DynListen>);

impl BoxListen {
    /// Erases `listener`'s type.
    pub fn new<L: Listen>(listener: L) -> Self {
        Self(Box::new(listener))
    }
}

impl std::fmt::Debug for BoxListen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BoxListen")
    }
}

impl Listen for BoxListen {
    type Stream = BoxStream;

    fn accept(&self) -> impl Future<Output = Result<(BoxStream, SocketAddr)>> + Send {
        self.0.accept_boxed()
    }
}

/// The object-safe form of [`Datagram`]; every `Datagram` implements it.
pub trait DynDatagram: Send + Sync + 'static {
    /// See [`Datagram::send_to`].
    fn send_to_boxed<'a>(
        &'a self,
        buf: &'a [u8],
        target: SocketAddr,
    ) -> BoxFuture<'a, Result<usize>>;
    /// See [`Datagram::recv_from`].
    fn recv_from_boxed<'a>(
        &'a self,
        buf: &'a mut [u8],
    ) -> BoxFuture<'a, Result<(usize, SocketAddr)>>;
    /// See [`Datagram::local_addr`].
    fn local_addr_dyn(&self) -> Result<SocketAddr>;
}

impl<T: Datagram> DynDatagram for T {
    fn send_to_boxed<'a>(
        &'a self,
        buf: &'a [u8],
        target: SocketAddr,
    ) -> BoxFuture<'a, Result<usize>> {
        Box::pin(self.send_to(buf, target))
    }
    fn recv_from_boxed<'a>(
        &'a self,
        buf: &'a mut [u8],
    ) -> BoxFuture<'a, Result<(usize, SocketAddr)>> {
        Box::pin(self.recv_from(buf))
    }
    fn local_addr_dyn(&self) -> Result<SocketAddr> {
        self.local_addr()
    }
}

/// A type-erased datagram socket, cheap to clone and share between tasks.
#[derive(Clone)]
pub struct BoxDatagram(Arc<dyn DynDatagram>);

impl BoxDatagram {
    /// Erases `socket`'s type.
    pub fn new<T: Datagram>(socket: T) -> Self {
        Self(Arc::new(socket))
    }
}

impl std::fmt::Debug for BoxDatagram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BoxDatagram")
    }
}

impl Datagram for BoxDatagram {
    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> Result<usize> {
        self.0.send_to_boxed(buf, target).await
    }
    async fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, SocketAddr)> {
        self.0.recv_from_boxed(buf).await
    }
    fn local_addr(&self) -> Result<SocketAddr> {
        self.0.local_addr_dyn()
    }
}
