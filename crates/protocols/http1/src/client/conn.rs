//! [`Conn`]: a pooled connection with its stream type erased, so the exchange and the
//! response body are written once for every transport (TCP, TLS, in-memory).

use ghostnet_transport::Stream;
use ghostnet_transport::pool::Pooled;
use tokio::io::{AsyncRead, AsyncWrite};

/// A checked-out connection: bytes both ways, and the say in whether it goes back to the
/// pool when dropped.
pub(crate) trait Conn: AsyncRead + AsyncWrite + Send + Unpin {
    /// Whether it goes back to the pool when dropped.
    fn set_reusable(&mut self, reusable: bool);
}

impl<S: Stream> Conn for Pooled<S> {
    fn set_reusable(&mut self, reusable: bool) {
        Pooled::set_reusable(self, reusable);
    }
}

/// The boxed form every layer above the pool uses.
pub(crate) type BoxConn = Box<dyn Conn>;
