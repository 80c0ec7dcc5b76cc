//! Batch sends and receives: many datagrams per system call where the platform allows.
//!
//! Sends group consecutive datagrams to the same peer with the same length (the last of a
//! group may be shorter) into one `sendmsg` with `UDP_SEGMENT` (GSO): the kernel cuts
//! them apart again. Receives use `recvmmsg`, and with GRO one buffer may hold several
//! datagrams of one sender, which are split again here. quinn-udp does the system calls;
//! where it has no offload the same code sends and receives one datagram per call.

use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::ops::Range;

use quinn_udp::{RecvMeta, Transmit, UdpSockRef};
use tokio::io::Interest;

use super::socket::{MAX_DATAGRAM_SIZE, RECV_INTEREST, UdpSocket, first_datagram_len};
use crate::error::{Error, Result};

/// Most receive slots a [`RecvBatch`] has; larger requests are clamped to it.
pub const MAX_RECV_SLOTS: usize = 64;

/// Receive slots of [`RecvBatch::default`] (1 MiB of buffers).
pub const DEFAULT_RECV_SLOTS: usize = 16;

/// Most payload bytes put in one segmented send: what fits in one 64 KiB IP packet.
const MAX_GSO_BYTES: usize = 65_000;

/// Buffers for [`UdpSocket::recv_batch`], reused from call to call.
///
/// Each slot holds [`MAX_DATAGRAM_SIZE`] bytes, so nothing received in a batch is ever
/// truncated, and one kernel delivery fills one slot; with GRO a slot may carry several
/// datagrams, so a batch can hold more datagrams than it has slots. Memory is 64 KiB per
/// slot.
///
/// ```
/// use ghostnet_transport::udp::RecvBatch;
///
/// let batch = RecvBatch::new(8);
/// assert_eq!(batch.slots(), 8);
/// assert!(batch.is_empty());
/// assert_eq!(RecvBatch::new(0).slots(), 1); // clamped, never a panic
/// ```
pub struct RecvBatch {
    buf: Vec<u8>,
    metas: Vec<RecvMeta>,
    datagrams: Vec<(Range<usize>, SocketAddr)>,
}

impl RecvBatch {
    /// Buffers for `slots` kernel deliveries, clamped to `1..=`[`MAX_RECV_SLOTS`].
    pub fn new(slots: usize) -> Self {
        let slots = slots.clamp(1, MAX_RECV_SLOTS);
        Self {
            buf: vec![0; slots * MAX_DATAGRAM_SIZE],
            metas: vec![RecvMeta::default(); slots],
            datagrams: Vec::with_capacity(slots),
        }
    }

    /// How many kernel deliveries one receive can take.
    pub fn slots(&self) -> usize {
        self.metas.len()
    }

    /// Datagrams received by the last [`UdpSocket::recv_batch`].
    pub fn len(&self) -> usize {
        self.datagrams.len()
    }

    /// Whether the batch holds no datagram.
    pub fn is_empty(&self) -> bool {
        self.datagrams.is_empty()
    }

    /// Datagram `index`: its payload and sender.
    pub fn get(&self, index: usize) -> Option<(&[u8], SocketAddr)> {
        self.datagrams
            .get(index)
            .map(|(r, from)| (&self.buf[r.clone()], *from))
    }

    /// The received datagrams in arrival order: payload and sender.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&[u8], SocketAddr)> + '_ {
        self.datagrams
            .iter()
            .map(|(r, from)| (&self.buf[r.clone()], *from))
    }

    /// Records one delivery of `len` bytes at `base` as datagrams `stride` bytes apart.
    fn push_delivery(&mut self, base: usize, len: usize, stride: usize, from: SocketAddr) {
        let mut start = 0;
        loop {
            let end = if stride == 0 {
                len
            } else {
                (start + stride).min(len)
            };
            self.datagrams.push((base + start..base + end, from));
            start = end;
            if start >= len {
                return;
            }
        }
    }
}

impl std::fmt::Debug for RecvBatch {
    // Not derived: the buffers are megabytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBatch")
            .field("slots", &self.slots())
            .field("datagrams", &self.len())
            .finish()
    }
}

impl Default for RecvBatch {
    fn default() -> Self {
        Self::new(DEFAULT_RECV_SLOTS)
    }
}

/// How many datagrams from the start of `datagrams` can go in one segmented send: same
/// peer, same length, except that the last may be shorter; at most `max_segments` and
/// [`MAX_GSO_BYTES`].
fn gso_run<B: AsRef<[u8]>>(datagrams: &[(B, SocketAddr)], max_segments: usize) -> usize {
    let Some((first, to)) = datagrams.first() else {
        return 0;
    };
    let size = first.as_ref().len();
    if size == 0 || max_segments <= 1 {
        return 1;
    }
    let (mut count, mut total) = (1, size);
    for (d, addr) in &datagrams[1..] {
        let len = d.as_ref().len();
        if addr != to
            || len == 0
            || len > size
            || count >= max_segments
            || total + len > MAX_GSO_BYTES
        {
            break;
        }
        count += 1;
        total += len;
        if len < size {
            break; // a shorter datagram ends a segmented send
        }
    }
    count
}

impl UdpSocket {
    /// Sends `contents` to `to` as one datagram, or as datagrams of `segment` bytes.
    async fn transmit(
        &self,
        to: SocketAddr,
        contents: &[u8],
        segment: Option<usize>,
    ) -> io::Result<()> {
        let transmit = Transmit {
            destination: to,
            ecn: None,
            contents,
            segment_size: segment,
            src_ip: None,
        };
        self.io
            .async_io(Interest::WRITABLE, || {
                self.state.try_send(UdpSockRef::from(&self.io), &transmit)
            })
            .await
    }

    /// Sends every datagram (payload, peer) in order and returns how many were sent.
    ///
    /// Runs of datagrams to one peer with one length go out in a single system call where
    /// the platform offers segmentation offload (Linux GSO, see
    /// [`max_gso_segments`](Self::max_gso_segments)); the rest one per call. If offload
    /// fails (some drivers refuse it), the run is sent again one by one. Like
    /// `sendmmsg(2)`, when a datagram fails after others were sent the count so far is
    /// returned; sending the remainder again reports the error.
    ///
    /// ```
    /// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
    /// use ghostnet_transport::Datagram;
    /// use ghostnet_transport::udp::{RecvBatch, UdpOptions, UdpSocket};
    ///
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap(), UdpOptions::default()).unwrap();
    /// let b = UdpSocket::bind("127.0.0.1:0".parse().unwrap(), UdpOptions::default()).unwrap();
    /// let to = b.local_addr().unwrap();
    /// let sent = a.send_batch(&[(b"one".as_slice(), to), (b"two", to), (b"three", to)]).await.unwrap();
    /// assert_eq!(sent, 3);
    ///
    /// let mut batch = RecvBatch::new(4);
    /// let mut got = Vec::new();
    /// while got.len() < 3 {
    ///     b.recv_batch(&mut batch).await.unwrap();
    ///     got.extend(batch.iter().map(|(d, _)| d.to_vec()));
    /// }
    /// assert_eq!(got, [&b"one"[..], b"two", b"three"]);
    /// # }).unwrap();
    /// ```
    pub async fn send_batch<B: AsRef<[u8]>>(&self, datagrams: &[(B, SocketAddr)]) -> Result<usize> {
        let mut sent = 0;
        let mut joined = Vec::new();
        let mut offload = true;
        while sent < datagrams.len() {
            let rest = &datagrams[sent..];
            let to = rest[0].1;
            let max = if offload { self.max_gso_segments() } else { 1 };
            let run = gso_run(rest, max);
            let result = if run == 1 {
                self.transmit(to, rest[0].0.as_ref(), None).await
            } else {
                joined.clear();
                for (d, _) in &rest[..run] {
                    joined.extend_from_slice(d.as_ref());
                }
                let segment = rest[0].0.as_ref().len();
                match self.transmit(to, &joined, Some(segment)).await {
                    Err(e) => {
                        tracing::debug!(error = %e, "segmented UDP send failed; sending one by one");
                        offload = false;
                        continue;
                    }
                    ok => ok,
                }
            };
            match result {
                Ok(()) => sent += run,
                Err(_) if sent > 0 => return Ok(sent),
                Err(e) => {
                    return Err(Error::io(
                        format!("send from UDP {} to {to}", self.local),
                        e,
                    ));
                }
            }
        }
        Ok(sent)
    }

    /// Waits for at least one datagram, then receives as many as are queued (up to the
    /// batch's slots, several per system call with `recvmmsg` on Linux) into `batch`,
    /// replacing its previous contents. Returns how many datagrams it now holds.
    ///
    /// Nothing is truncated (see [`RecvBatch`]). Datagrams left over from a coalesced
    /// delivery that [`recv_from`](crate::Datagram::recv_from) started on come first.
    pub async fn recv_batch(&self, batch: &mut RecvBatch) -> Result<usize> {
        batch.datagrams.clear();
        let mut inbox = self.inbox.lock().await;
        if let Some(run) = inbox.run.take() {
            // Copy the leftovers (at most one slot's worth) in their stride layout.
            let len = run.end - run.next;
            batch.buf[..len].copy_from_slice(&inbox.buf[run.next..run.end]);
            batch.push_delivery(0, len, run.stride, run.from);
            return Ok(batch.len());
        }
        let slots = batch.slots();
        let RecvBatch { buf, metas, .. } = batch;
        let filled = self
            .io
            .async_io(RECV_INTEREST, || {
                let mut chunks = buf.chunks_mut(MAX_DATAGRAM_SIZE);
                let mut slices: [IoSliceMut<'_>; MAX_RECV_SLOTS] =
                    std::array::from_fn(|_| IoSliceMut::new(chunks.next().unwrap_or_default()));
                let mut filled = 0;
                while filled < slots {
                    let asked = (slots - filled).min(quinn_udp::BATCH_SIZE);
                    let sock = UdpSockRef::from(&self.io);
                    match self.state.recv(
                        sock,
                        &mut slices[filled..filled + asked],
                        &mut metas[filled..filled + asked],
                    ) {
                        Ok(n) => {
                            filled += n;
                            if n < asked {
                                break; // the queue is empty: skip a call that would block
                            }
                        }
                        // Deliver what we have; a real error shows up on the next call.
                        Err(_) if filled > 0 => break,
                        Err(e) => return Err(e),
                    }
                }
                Ok(filled)
            })
            .await
            .map_err(|e| Error::io(format!("receive on UDP {}", self.local), e))?;
        drop(inbox);
        for i in 0..filled {
            let meta = batch.metas[i];
            let stride = first_datagram_len(&meta);
            batch.push_delivery(i * MAX_DATAGRAM_SIZE, meta.len, stride, meta.addr);
        }
        Ok(batch.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn gso_runs_group_same_peer_and_size() {
        let d = |n: usize, p: u16| (vec![0u8; n], to(p));
        // Same peer, same size, then a shorter one closes the run.
        let list = [d(100, 1), d(100, 1), d(40, 1), d(100, 1)];
        assert_eq!(gso_run(&list, 64), 3);
        // Another peer or a longer datagram ends the run before it.
        assert_eq!(gso_run(&[d(100, 1), d(100, 2)], 64), 1);
        assert_eq!(gso_run(&[d(100, 1), d(101, 1)], 64), 1);
        // Segment and byte caps.
        let many: Vec<_> = (0..10).map(|_| d(100, 1)).collect();
        assert_eq!(gso_run(&many, 4), 4);
        assert_eq!(gso_run(&many, 1), 1);
        let big: Vec<_> = (0..10).map(|_| d(20_000, 1)).collect();
        assert_eq!(gso_run(&big, 64), 3);
        // Empty datagrams are sent alone.
        assert_eq!(gso_run(&[d(0, 1), d(0, 1)], 64), 1);
        assert_eq!(gso_run::<Vec<u8>>(&[], 64), 0);
    }

    #[test]
    fn deliveries_split_at_stride() {
        let mut b = RecvBatch::new(2);
        let from = to(9);
        b.push_delivery(0, 25, 10, from);
        b.push_delivery(MAX_DATAGRAM_SIZE, 0, 0, from);
        b.push_delivery(2 * 10, 5, 5, from);
        let ranges: Vec<_> = b.datagrams.iter().map(|(r, _)| r.clone()).collect();
        let s = MAX_DATAGRAM_SIZE;
        assert_eq!(ranges, [0..10, 10..20, 20..25, s..s, 20..25]);
        assert_eq!(b.len(), 5);
        assert_eq!(b.get(3).unwrap().0.len(), 0);
        assert!(b.get(5).is_none());
    }

    #[test]
    fn slots_are_clamped() {
        assert_eq!(RecvBatch::new(0).slots(), 1);
        assert_eq!(RecvBatch::new(1000).slots(), MAX_RECV_SLOTS);
        assert_eq!(RecvBatch::default().slots(), DEFAULT_RECV_SLOTS);
        assert_eq!(
            format!("{:?}", RecvBatch::new(2)),
            "RecvBatch { slots: 2, datagrams: 0 }"
        );
    }
}
