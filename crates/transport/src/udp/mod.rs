//! UDP: a [`Datagram`](crate::Datagram) implementation with socket options, connected
//! sockets, and batch sends and receives.
//!
//! - [`UdpSocket`]: bind with [`UdpOptions`], `send_to`/`recv_from` (the `Datagram`
//!   trait), `connect` + `send`/`recv`, [`recv_info`](UdpSocket::recv_info) to detect
//!   truncation.
//! - [`UdpSocket::send_batch`] / [`UdpSocket::recv_batch`] with a reusable
//!   [`RecvBatch`]: on Linux, GSO for runs of equal datagrams to one peer and
//!   `recvmmsg` + GRO on receive (through the quinn-udp crate, so no hand-written
//!   `unsafe`); elsewhere one datagram per system call behind the same API.

mod batch;
mod options;
mod socket;

pub use batch::{DEFAULT_RECV_SLOTS, MAX_RECV_SLOTS, RecvBatch};
pub use options::UdpOptions;
pub use socket::{MAX_DATAGRAM_SIZE, RecvInfo, UdpSocket};
