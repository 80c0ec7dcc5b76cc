//! The accept loop every server runs: take connections until shutdown, ride out
//! accept errors.

use std::net::SocketAddr;
use std::time::Duration;

use ghostnet_runtime::Shutdown;

use crate::Listen;

/// How long [`accept_until`] pauses after a failed accept before trying again.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Accepts connections from `listener` until `shutdown` fires, handing each to
/// `on_accept` (which usually spawns its service with [`Shutdown::spawn`], so that
/// [`Shutdown::shutdown`] waits for it). Returns once `shutdown` fires.
///
/// An accept error (running out of file descriptors, say) is logged and retried after
/// [`ACCEPT_BACKOFF`]: the listener may recover, and a server that stopped on the
/// first one would take the whole service down with it.
///
/// ```
/// use ghostnet_runtime::Shutdown;
/// use ghostnet_transport::{MemoryNetwork, accept_until};
/// use tokio::io::AsyncWriteExt;
///
/// # ghostnet_runtime::run(ghostnet_runtime::Config::for_cli(), async {
/// let net = MemoryNetwork::new();
/// let listener = net.listen(&"server:80".parse().unwrap()).unwrap();
/// let shutdown = Shutdown::new();
/// let server = {
///     let shutdown = shutdown.clone();
///     tokio::spawn(async move {
///         accept_until(&listener, &shutdown, |mut io, _peer| {
///             shutdown.spawn(async move {
///                 let _ = io.write_all(b"hello").await;
///             });
///         })
///         .await;
///     })
/// };
/// shutdown.trigger();
/// server.await.unwrap();
/// # }).unwrap();
/// ```
pub async fn accept_until<L, F>(listener: &L, shutdown: &Shutdown, mut on_accept: F)
where
    L: Listen,
    F: FnMut(L::Stream, SocketAddr),
{
    loop {
        let accepted = tokio::select! {
            biased;
            () = shutdown.triggered() => return,
            r = listener.accept() => r,
        };
        match accepted {
            Ok((io, peer)) => on_accept(io, peer),
            Err(e) => {
                tracing::warn!("accepting a connection failed: {e}");
                tokio::select! {
                    () = shutdown.triggered() => return,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                }
            }
        }
    }
}
