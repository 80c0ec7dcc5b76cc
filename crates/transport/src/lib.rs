//! # ghostnet-transport
//!
//! Byte streams and datagrams behind narrow traits, so protocols never see a socket type:
//!
//! - [`Dial`]: target → [`Stream`] (`AsyncRead + AsyncWrite` plus [`ConnectionInfo`]).
//! - [`Listen`]: an accept loop yielding streams and peer addresses.
//! - [`Datagram`]: `send_to` / `recv_from`.
//!
//! Each has a boxed form ([`BoxDial`], [`BoxListen`], [`BoxDatagram`]) for choosing a
//! transport at run time. Implementations: the in-memory [`MemoryNetwork`] for tests.
//!
//! ## Errors
//!
//! One [`Error`] enum; [`Error::is_transient`] tells retry logic whether a new attempt
//! can help.

mod error;
mod memory;
mod stream;
mod target;
pub mod tls;
mod traits;

pub use error::{Error, Result};
pub use memory::{DEFAULT_PIPE_BUFFER, MemoryDialer, MemoryListener, MemoryNetwork, MemoryStream};
pub use stream::{BoxStream, ConnectionInfo, Stream, is_closed_or_dirty};
pub use target::{Host, Target};
pub use tls::{TlsClientConfig, TlsDialer, TlsListener, TlsServerConfig, TlsStream};
pub use traits::{
    BoxDatagram, BoxDial, BoxFuture, BoxListen, Datagram, Dial, DynDatagram, DynDial, DynListen,
    Listen,
};
