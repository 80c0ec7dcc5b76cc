//! Requests that arrive together are answered together: the responses to every stream
//! h2 hands over from one read leave in one write, not one write per response.

mod support;

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use ghostnet_http2::{Server, Settings};
use ghostnet_transport::{ConnectionInfo, Stream};
use support::frames::*;
use support::hello_or_echo;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio_util::sync::CancellationToken;

/// The server's end of the connection, counting the writes that moved bytes.
struct CountWrites {
    inner: DuplexStream,
    writes: Arc<AtomicUsize>,
}

impl CountWrites {
    fn counted(&self, done: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        if let Poll::Ready(Ok(n)) = &done
            && *n > 0
        {
            self.writes.fetch_add(1, Ordering::SeqCst);
        }
        done
    }
}

impl AsyncRead for CountWrites {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for CountWrites {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let done = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.counted(done)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let done = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.counted(done)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl Stream for CountWrites {
    fn info(&self) -> ConnectionInfo {
        ConnectionInfo::new("memory", None, None)
    }
}

#[tokio::test]
async fn answers_to_requests_read_together_leave_in_one_write() {
    const STREAMS: u32 = 20;
    let (client_end, server_end) = tokio::io::duplex(1 << 20);
    let writes = Arc::new(AtomicUsize::new(0));
    let io = CountWrites {
        inner: server_end,
        writes: writes.clone(),
    };
    let server = Server::new(Settings::default()).unwrap();
    let token = CancellationToken::new();
    let serving = tokio::spawn({
        let token = token.clone();
        async move {
            server
                .serve_connection(io, Arc::new(hello_or_echo), token)
                .await
        }
    });

    let mut peer = Peer::new(client_end);
    peer.handshake().await;
    // The server's SETTINGS ACK may still be on its way: wait for it so that the
    // count below holds only the answers.
    peer.until("SETTINGS ACK", |f| f.kind == SETTINGS && f.flags & ACK != 0)
        .await;
    let before = writes.load(Ordering::SeqCst);

    let requests: Vec<u8> = (0..STREAMS).flat_map(|i| get(2 * i + 1)).collect();
    peer.send(&requests).await;
    let mut finished = 0;
    while finished < STREAMS {
        let f = peer.next().await.expect("a response frame");
        if f.kind == DATA && f.flags & END_STREAM != 0 {
            assert_eq!(f.payload, b"Hello, World!");
            finished += 1;
        }
    }
    let answer_writes = writes.load(Ordering::SeqCst) - before;
    assert!(
        answer_writes <= 2,
        "{STREAMS} answers took {answer_writes} writes; one for the lot was expected"
    );

    // The peer goes away without a GOAWAY of its own: how the server sees that end
    // does not matter here, only that it ends.
    token.cancel();
    drop(peer);
    let _ = serving.await.unwrap();
}
