//! # ghostnet-transport
//!
//! Byte streams and datagrams behind narrow traits, so protocols never see a socket type:
//!
//! - [`Dial`]: target → [`Stream`] (`AsyncRead + AsyncWrite` plus [`ConnectionInfo`]).
//! - [`Listen`]: an accept loop yielding streams and peer addresses.
//! - [`Datagram`]: `send_to` / `recv_from`.
//!
//! Each has a boxed form ([`BoxDial`], [`BoxListen`], [`BoxDatagram`]) for choosing a
//! transport at run time. Implementations:
//!
//! - [`tcp`]: [`TcpDialer`] (Happy Eyeballs, RFC 8305, with a connect timeout),
//!   [`TcpListener`], [`TcpOptions`] applied through socket2 before `connect`/`listen`,
//!   and [`tcp::close_gracefully`] (FIN, bounded drain, close).
//! - [`udp`]: [`UdpSocket`] with [`UdpOptions`], connected sockets, and batch
//!   send/receive (GSO, `recvmmsg` and GRO on Linux through quinn-udp).
//! - [`tls`]: [`TlsDialer`] over any inner `Dial` and [`TlsListener`] over any inner
//!   `Listen` (rustls with the ring provider; handshakes off the accept path; ALPN;
//!   client certificates; certificate hot reload), configured by [`TlsClientConfig`] and
//!   [`TlsServerConfig`].
//! - [`pool`]: a connection pool over any [`Dial`], exclusive ([`pool::Pool`], HTTP/1.1)
//!   or multiplexed ([`pool::MuxPool`], HTTP/2 and QUIC).
//! - The in-memory [`MemoryNetwork`] for tests.
//!
//! ```
//! # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
//! use ghostnet_transport::{Dial, Listen, TcpDialer, TcpListener, TcpOptions};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap(), TcpOptions::default()).unwrap();
//! let mut client = TcpDialer::new().dial(&listener.local_addr().into()).await.unwrap();
//! let (mut server, _peer) = listener.accept().await.unwrap();
//! client.write_all(b"hello").await.unwrap();
//! let mut buf = [0; 5];
//! server.read_exact(&mut buf).await.unwrap();
//! assert_eq!(&buf, b"hello");
//! # }).unwrap();
//! ```
//!
//! ## Errors
//!
//! One [`Error`] enum; [`Error::is_transient`] tells retry logic whether a new attempt
//! can help.

mod accept;
mod error;
mod memory;
pub mod pool;
mod socket;
mod stream;
mod target;
pub mod tcp;
pub mod tls;
mod traits;
pub mod udp;

pub use accept::{ACCEPT_BACKOFF, accept_until};
pub use error::{Error, Result};
pub use memory::{DEFAULT_PIPE_BUFFER, MemoryDialer, MemoryListener, MemoryNetwork, MemoryStream};
pub use stream::{BoxStream, ConnectionInfo, Stream, is_closed_or_dirty};
pub use target::{Host, Target};
pub use tcp::{TcpDialer, TcpListener, TcpOptions};
pub use tls::{TlsClientConfig, TlsDialer, TlsListener, TlsServerConfig, TlsStream};
pub use traits::{
    BoxDatagram, BoxDial, BoxFuture, BoxListen, Datagram, Dial, DynDatagram, DynDial, DynListen,
    Listen,
};
pub use udp::{UdpOptions, UdpSocket};
