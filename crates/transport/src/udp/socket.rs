//! `UdpSocket`: [`Datagram`] over UDP, single and connected sends and receives. The
//! batch operations live in `batch.rs`.

use std::io::IoSliceMut;
use std::net::SocketAddr;
use std::ops::Range;

use quinn_udp::{RecvMeta, UdpSockRef, UdpSocketState};
use tokio::io::Interest;

use super::options::UdpOptions;
use crate::error::{Error, Result};
use crate::socket::require_runtime;
use crate::traits::Datagram;

/// Bytes one receive buffer holds: the largest UDP payload, and the largest run of
/// datagrams the kernel coalesces with GRO (64 KiB by default), so nothing is cut.
pub const MAX_DATAGRAM_SIZE: usize = 64 * 1024;

/// What receives wait for. A pending socket error (an ICMP "port unreachable" on a
/// connected socket) wakes epoll with `EPOLLERR` alone, not `EPOLLIN`: waiting for
/// readability only would hang instead of reporting it.
pub(super) const RECV_INTEREST: Interest = Interest::READABLE.add(Interest::ERROR);

/// What one receive delivered; see [`UdpSocket::recv_info`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecvInfo {
    /// Bytes copied into the caller's buffer.
    pub len: usize,
    /// The sender.
    pub from: SocketAddr,
    /// The datagram's full length; more than `len` when the buffer was too small.
    pub datagram_len: usize,
}

impl RecvInfo {
    /// Whether the datagram was longer than the buffer (its tail is lost).
    pub fn is_truncated(&self) -> bool {
        self.datagram_len > self.len
    }
}

/// Datagrams that arrived coalesced (GRO) and were not handed out yet.
#[derive(Debug, Clone, Copy)]
pub(super) struct Run {
    pub(super) from: SocketAddr,
    pub(super) next: usize,
    pub(super) end: usize,
    pub(super) stride: usize,
}

impl Run {
    /// The next datagram's byte range in the inbox buffer.
    fn take(&mut self) -> Range<usize> {
        let start = self.next;
        self.next = (start + self.stride).min(self.end);
        start..self.next
    }

    pub(super) fn is_done(&self) -> bool {
        self.next >= self.end
    }
}

/// Receive state for single-datagram receives: where one kernel delivery lands, and
/// what of it is left.
#[derive(Default)]
pub(super) struct Inbox {
    /// Allocated at the first single receive: sockets that only send or only batch never
    /// pay for it.
    pub(super) buf: Vec<u8>,
    pub(super) run: Option<Run>,
}

/// A UDP socket, bound with [`UdpOptions`], that implements [`Datagram`] and adds
/// connected sends and receives and the batch operations
/// [`send_batch`](UdpSocket::send_batch) / [`recv_batch`](UdpSocket::recv_batch).
///
/// I/O goes through quinn-udp: on Linux, batches use UDP segmentation offload (GSO, one
/// `sendmsg` for a run of equal-sized datagrams to one peer) and `recvmmsg` with GRO; on
/// other platforms the same calls fall back to one datagram per system call. quinn-udp
/// also turns IP fragmentation off (`IP_PMTUDISC_PROBE`/`DONTFRAG`): a datagram larger
/// than the path MTU fails to send instead of being fragmented, which is what QUIC and
/// DHTs want.
///
/// **Truncation.** [`recv_from`](Datagram::recv_from), [`recv`](Self::recv) and
/// [`recv_info`](Self::recv_info) copy at most the buffer's length and drop the rest of
/// that datagram, as `recvfrom(2)` does; the next receive gets the next datagram.
/// [`recv_info`](Self::recv_info) says when that happened.
/// [`recv_batch`](Self::recv_batch) never truncates: each of its slots holds
/// [`MAX_DATAGRAM_SIZE`] bytes. Datagrams the kernel coalesced (GRO) are always handed
/// out one by one, as the peer sent them.
///
/// All receives are cancel-safe: a datagram is never lost because a receive future was
/// dropped.
///
/// ```
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// use ghostnet_transport::Datagram;
/// use ghostnet_transport::udp::{UdpOptions, UdpSocket};
///
/// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap(), UdpOptions::default()).unwrap();
/// let b = UdpSocket::bind("127.0.0.1:0".parse().unwrap(), UdpOptions::default()).unwrap();
/// a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
/// let mut buf = [0; 1500];
/// let (n, from) = b.recv_from(&mut buf).await.unwrap();
/// assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
/// # }).unwrap();
/// ```
pub struct UdpSocket {
    pub(super) io: tokio::net::UdpSocket,
    pub(super) state: UdpSocketState,
    /// Held across the wait for a datagram, so coalesced leftovers are handed out in
    /// order and a second receiver never waits on the socket while leftovers sit here.
    pub(super) inbox: tokio::sync::Mutex<Inbox>,
    pub(super) local: SocketAddr,
}

impl UdpSocket {
    /// Binds `addr` (port 0 picks a free port) with `options`. Must run inside a tokio
    /// runtime.
    pub fn bind(addr: SocketAddr, options: UdpOptions) -> Result<Self> {
        options.validate()?;
        require_runtime(|| format!("bind UDP {addr}"))?;
        let socket = options.bind_socket(addr)?;
        let io = tokio::net::UdpSocket::from_std(socket.into())
            .map_err(|e| Error::io(format!("register UDP socket {addr}"), e))?;
        let local = io
            .local_addr()
            .map_err(|e| Error::io(format!("read the address of UDP socket {addr}"), e))?;
        let state = UdpSocketState::new(UdpSockRef::from(&io))
            .map_err(|e| Error::io(format!("enable UDP offloads on {local}"), e))?;
        Ok(Self {
            io,
            state,
            inbox: tokio::sync::Mutex::new(Inbox::default()),
            local,
        })
    }

    /// Sets the default peer: [`send`](Self::send) goes there, and the kernel delivers
    /// only that peer's datagrams (and reports ICMP errors such as "port unreachable" as
    /// receive errors).
    pub async fn connect(&self, peer: SocketAddr) -> Result<()> {
        self.io
            .connect(peer)
            .await
            .map_err(|e| Error::io(format!("connect UDP {} to {peer}", self.local), e))
    }

    /// The connected peer, if [`connect`](Self::connect) was called.
    pub fn peer_addr(&self) -> Result<SocketAddr> {
        self.io
            .peer_addr()
            .map_err(|e| Error::io(format!("read the peer of UDP socket {}", self.local), e))
    }

    /// Sends `buf` as one datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> Result<usize> {
        self.io
            .send(buf)
            .await
            .map_err(|e| Error::io(format!("send on UDP {}", self.local), e))
    }

    /// Receives one datagram from the connected peer into `buf`; returns its length
    /// (truncated to `buf`, see [the type's docs](Self)).
    pub async fn recv(&self, buf: &mut [u8]) -> Result<usize> {
        Ok(self.recv_info(buf).await?.len)
    }

    /// Receives one datagram into `buf` and reports its sender and full length, so
    /// truncation can be detected.
    ///
    /// ```
    /// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
    /// use ghostnet_transport::Datagram;
    /// use ghostnet_transport::udp::{UdpOptions, UdpSocket};
    ///
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap(), UdpOptions::default()).unwrap();
    /// let b = UdpSocket::bind("127.0.0.1:0".parse().unwrap(), UdpOptions::default()).unwrap();
    /// a.send_to(b"0123456789", b.local_addr().unwrap()).await.unwrap();
    /// let mut small = [0; 4];
    /// let info = b.recv_info(&mut small).await.unwrap();
    /// assert_eq!((info.len, info.datagram_len, info.is_truncated()), (4, 10, true));
    /// assert_eq!(&small, b"0123");
    /// # }).unwrap();
    /// ```
    pub async fn recv_info(&self, buf: &mut [u8]) -> Result<RecvInfo> {
        let mut guard = self.inbox.lock().await;
        let inbox = &mut *guard;
        let (range, from) = match inbox.run.as_mut() {
            Some(run) => (run.take(), run.from),
            None => {
                if inbox.buf.is_empty() {
                    inbox.buf = vec![0; MAX_DATAGRAM_SIZE];
                }
                let meta = self.recv_into(&mut inbox.buf).await?;
                let first = first_datagram_len(&meta);
                if first < meta.len {
                    inbox.run = Some(Run {
                        from: meta.addr,
                        next: first,
                        end: meta.len,
                        stride: meta.stride,
                    });
                }
                (0..first, meta.addr)
            }
        };
        if inbox.run.is_some_and(|r| r.is_done()) {
            inbox.run = None;
        }
        let datagram = &inbox.buf[range];
        let len = datagram.len().min(buf.len());
        buf[..len].copy_from_slice(&datagram[..len]);
        Ok(RecvInfo {
            len,
            from,
            datagram_len: datagram.len(),
        })
    }

    /// One kernel delivery (a datagram or a GRO run) into `buf`.
    async fn recv_into(&self, buf: &mut [u8]) -> Result<RecvMeta> {
        self.io
            .async_io(RECV_INTEREST, || {
                let mut meta = [RecvMeta::default()];
                self.state.recv(
                    UdpSockRef::from(&self.io),
                    &mut [IoSliceMut::new(&mut *buf)],
                    &mut meta,
                )?;
                Ok(meta[0])
            })
            .await
            .map_err(|e| Error::io(format!("receive on UDP {}", self.local), e))
    }

    /// Datagrams one `sendmsg` may carry with segmentation offload; 1 where the
    /// platform (or the network driver, found out at the first failure) has none.
    pub fn max_gso_segments(&self) -> usize {
        self.state.max_gso_segments()
    }

    /// Datagrams one receive may return coalesced by the kernel (GRO); 1 without GRO.
    pub fn gro_segments(&self) -> usize {
        self.state.gro_segments()
    }

    /// The tokio socket inside, e.g. to read socket options with socket2.
    pub fn get_ref(&self) -> &tokio::net::UdpSocket {
        &self.io
    }
}

impl std::fmt::Debug for UdpSocket {
    // Not derived: the inbox holds a 64 KiB buffer nobody wants in a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local", &self.local)
            .field("peer", &self.io.peer_addr().ok())
            .field("max_gso_segments", &self.max_gso_segments())
            .field("gro_segments", &self.gro_segments())
            .finish()
    }
}

/// Length of the first datagram of a delivery: `stride` when the kernel coalesced
/// several, the whole length otherwise.
pub(super) fn first_datagram_len(meta: &RecvMeta) -> usize {
    if meta.stride > 0 && meta.stride < meta.len {
        meta.stride
    } else {
        meta.len
    }
}

impl Datagram for UdpSocket {
    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> Result<usize> {
        self.io
            .send_to(buf, target)
            .await
            .map_err(|e| Error::io(format!("send from UDP {} to {target}", self.local), e))
    }

    /// Receives one datagram; see [`UdpSocket`] on truncation and [`UdpSocket::recv_info`]
    /// to detect it.
    async fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, SocketAddr)> {
        let info = self.recv_info(buf).await?;
        Ok((info.len, info.from))
    }

    fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn debug_output_is_short() {
        let s = UdpSocket::bind("127.0.0.1:0".parse().unwrap(), UdpOptions::default()).unwrap();
        let shown = format!("{s:?}");
        assert!(
            shown.starts_with("UdpSocket { local: 127.0.0.1:"),
            "{shown}"
        );
        assert!(shown.len() < 200, "{shown}");
    }

    #[test]
    fn runs_hand_out_segments_in_order() {
        let mut run = Run {
            from: "127.0.0.1:1".parse().unwrap(),
            next: 10,
            end: 35,
            stride: 10,
        };
        assert_eq!(run.take(), 10..20);
        assert!(!run.is_done());
        assert_eq!(run.take(), 20..30);
        assert_eq!(run.take(), 30..35);
        assert!(run.is_done());
    }

    #[test]
    fn first_datagram_of_a_delivery() {
        let mut meta = RecvMeta::default();
        (meta.len, meta.stride) = (30, 10);
        assert_eq!(first_datagram_len(&meta), 10);
        (meta.len, meta.stride) = (7, 7);
        assert_eq!(first_datagram_len(&meta), 7);
        (meta.len, meta.stride) = (0, 0);
        assert_eq!(first_datagram_len(&meta), 0);
    }
}
