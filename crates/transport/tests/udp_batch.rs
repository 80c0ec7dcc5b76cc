//! Batch sends and receives: N datagrams in, the same N datagrams out, in order, whether
//! the kernel segmented (GSO) and coalesced (GRO) them or not.

use std::net::SocketAddr;
use std::time::Duration;

use ghostnet_transport::Datagram;
use ghostnet_transport::udp::{MAX_DATAGRAM_SIZE, RecvBatch, UdpOptions, UdpSocket};
use tokio::time::timeout;

/// Bounds every receive so a lost datagram fails the test instead of hanging it.
const GUARD: Duration = Duration::from_secs(10);

fn bind() -> UdpSocket {
    // A large receive buffer: a burst of datagrams must not be dropped by the kernel.
    let opts = UdpOptions::default().recv_buffer_size(4 << 20);
    UdpSocket::bind("127.0.0.1:0".parse().unwrap(), opts).unwrap()
}

/// Datagram `i` of a test: `len` bytes that encode `i`, so order and content both show.
fn datagram(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|j| (i * 7 + j) as u8).collect()
}

/// Receives with `recv_batch` until `n` datagrams arrived; returns them and the number
/// of calls it took.
async fn recv_n(sock: &UdpSocket, n: usize, slots: usize) -> (Vec<(Vec<u8>, SocketAddr)>, usize) {
    let mut batch = RecvBatch::new(slots);
    let mut got = Vec::new();
    let mut calls = 0;
    while got.len() < n {
        let count = timeout(GUARD, sock.recv_batch(&mut batch))
            .await
            .expect("datagrams arrive")
            .unwrap();
        calls += 1;
        assert_eq!(count, batch.len());
        assert!(count > 0, "recv_batch returns at least one datagram");
        got.extend(batch.iter().map(|(d, from)| (d.to_vec(), from)));
    }
    (got, calls)
}

#[tokio::test]
async fn batch_send_and_receive_move_n_datagrams() {
    const N: usize = 200;
    let (a, b) = (bind(), bind());
    let to = b.local_addr().unwrap();
    let out: Vec<_> = (0..N).map(|i| (datagram(i, 1200), to)).collect();

    assert_eq!(a.send_batch(&out).await.unwrap(), N);
    let (got, calls) = recv_n(&b, N, 32).await;
    assert_eq!(got.len(), N);
    for (i, (d, from)) in got.iter().enumerate() {
        assert_eq!(d, &out[i].0, "datagram {i}");
        assert_eq!(*from, a.local_addr().unwrap());
    }
    assert!(calls <= N, "{calls} calls");
}

#[tokio::test]
async fn mixed_sizes_and_peers_keep_their_boundaries() {
    let (a, b, c) = (bind(), bind(), bind());
    let (to_b, to_c) = (b.local_addr().unwrap(), c.local_addr().unwrap());
    // Runs of equal sizes, a shorter tail, a change of peer, empty and large datagrams.
    let sizes_b = [100, 100, 100, 37, 100, 0, 500, 500, 9000, 9000, 9000, 1];
    let mut out = Vec::new();
    for (i, &len) in sizes_b.iter().enumerate() {
        out.push((datagram(i, len), to_b));
        if i % 4 == 3 {
            out.push((datagram(1000 + i, 64), to_c));
        }
    }
    assert_eq!(a.send_batch(&out).await.unwrap(), out.len());

    let expect_b: Vec<_> = out
        .iter()
        .filter(|(_, to)| *to == to_b)
        .map(|(d, _)| d.clone())
        .collect();
    let expect_c: Vec<_> = out
        .iter()
        .filter(|(_, to)| *to == to_c)
        .map(|(d, _)| d.clone())
        .collect();
    let (got_b, _) = recv_n(&b, expect_b.len(), 4).await;
    let (got_c, _) = recv_n(&c, expect_c.len(), 4).await;
    let got_b: Vec<_> = got_b.into_iter().map(|(d, _)| d).collect();
    let got_c: Vec<_> = got_c.into_iter().map(|(d, _)| d).collect();
    assert_eq!(got_b, expect_b);
    assert_eq!(got_c, expect_c);
}

#[tokio::test]
async fn single_receives_split_coalesced_batches() {
    // With GSO and GRO (Linux loopback) one batch send can arrive as one coalesced
    // buffer; recv_from must still hand out the datagrams one by one.
    const N: usize = 40;
    let (a, b) = (bind(), bind());
    let to = b.local_addr().unwrap();
    let out: Vec<_> = (0..N).map(|i| (datagram(i, 300), to)).collect();
    assert_eq!(a.send_batch(&out).await.unwrap(), N);

    let mut buf = vec![0u8; 2048];
    for (i, (expected, _)) in out.iter().enumerate().take(N / 2) {
        let (n, from) = timeout(GUARD, b.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], expected.as_slice(), "datagram {i}");
        assert_eq!(from, a.local_addr().unwrap());
    }
    // A batch receive continues where the single receives stopped.
    let (rest, _) = recv_n(&b, N / 2, 8).await;
    for (k, (d, _)) in rest.iter().enumerate() {
        assert_eq!(d, &out[N / 2 + k].0, "datagram {}", N / 2 + k);
    }
}

#[tokio::test]
async fn batch_receive_never_truncates() {
    let (a, b) = (bind(), bind());
    let to = b.local_addr().unwrap();
    let big = datagram(1, 60_000);
    a.send_to(&big, to).await.unwrap();
    let (got, _) = recv_n(&b, 1, 1).await;
    assert_eq!(got[0].0, big);
    assert!(big.len() <= MAX_DATAGRAM_SIZE);
}

#[tokio::test]
async fn oversized_datagrams_fail_clearly() {
    let (a, b) = (bind(), bind());
    let to = b.local_addr().unwrap();
    let err = a.send_batch(&[(vec![0u8; 70_000], to)]).await.unwrap_err();
    assert!(
        err.to_string().starts_with("send from UDP 127.0.0.1:"),
        "{err}"
    );
    // Sent before the failure: counted, not an error.
    let sent = a
        .send_batch(&[(vec![1u8; 10], to), (vec![0u8; 70_000], to)])
        .await
        .unwrap();
    assert_eq!(sent, 1);
    assert_eq!(a.send_batch::<Vec<u8>>(&[]).await.unwrap(), 0);
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn linux_offloads_are_on() {
    // This kernel supports UDP GSO (4.18+) and GRO (5.0+); the batch tests above then
    // exercise the segmented and coalesced paths, not only the fallback.
    let a = bind();
    assert!(a.max_gso_segments() > 1, "GSO: {}", a.max_gso_segments());
    assert!(a.gro_segments() > 1, "GRO: {}", a.gro_segments());
}
