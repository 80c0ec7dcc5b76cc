//! UDP socket options, applied through socket2 before `bind`.

use std::net::SocketAddr;

use socket2::{Domain, Protocol, SockRef, Socket, Type};

use crate::error::{Error, Result};
use crate::socket::{check_buffer_size, set_buffer_sizes, set_reuse};

/// Options for [`UdpSocket::bind`](super::UdpSocket::bind). All default to the OS's
/// behaviour.
///
/// ```
/// use ghostnet_transport::udp::UdpOptions;
///
/// let opts = UdpOptions::default().reuse_port(true).recv_buffer_size(4 << 20);
/// opts.validate().unwrap();
/// assert!(UdpOptions::default().recv_buffer_size(0).validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UdpOptions {
    /// `SO_REUSEADDR`: on Linux, lets several sockets bind the same address when all set it
    /// (the last one bound receives unicast); mostly useful for multicast.
    pub reuse_address: bool,
    /// `SO_REUSEPORT`: several sockets share one address and Linux spreads incoming
    /// datagrams between them by flow. Unsupported platforms reject `true`.
    pub reuse_port: bool,
    /// `SO_SNDBUF` in bytes; `None` keeps the OS default.
    pub send_buffer_size: Option<usize>,
    /// `SO_RCVBUF` in bytes; `None` keeps the OS default. Raise it for bursts: datagrams
    /// that do not fit are dropped by the kernel.
    pub recv_buffer_size: Option<usize>,
}

impl UdpOptions {
    /// Sets [`UdpOptions::reuse_address`].
    pub fn reuse_address(mut self, on: bool) -> Self {
        self.reuse_address = on;
        self
    }

    /// Sets [`UdpOptions::reuse_port`].
    pub fn reuse_port(mut self, on: bool) -> Self {
        self.reuse_port = on;
        self
    }

    /// Sets [`UdpOptions::send_buffer_size`] in bytes.
    pub fn send_buffer_size(mut self, bytes: usize) -> Self {
        self.send_buffer_size = Some(bytes);
        self
    }

    /// Sets [`UdpOptions::recv_buffer_size`] in bytes.
    pub fn recv_buffer_size(mut self, bytes: usize) -> Self {
        self.recv_buffer_size = Some(bytes);
        self
    }

    /// Checks every field and says which one is wrong and what to use instead.
    pub fn validate(&self) -> Result<()> {
        check_buffer_size("send_buffer_size", self.send_buffer_size)?;
        check_buffer_size("recv_buffer_size", self.recv_buffer_size)
    }

    /// A bound, non-blocking UDP socket with the options applied.
    pub(crate) fn bind_socket(&self, addr: SocketAddr) -> Result<Socket> {
        let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))
            .map_err(|e| Error::io("create a UDP socket", e))?;
        socket
            .set_nonblocking(true)
            .map_err(|e| Error::io("make a UDP socket non-blocking", e))?;
        set_reuse(SockRef::from(&socket), self.reuse_address, self.reuse_port)?;
        set_buffer_sizes(
            SockRef::from(&socket),
            self.send_buffer_size,
            self.recv_buffer_size,
        )?;
        socket
            .bind(&addr.into())
            .map_err(|e| Error::io(format!("bind UDP {addr}"), e))?;
        Ok(socket)
    }
}
