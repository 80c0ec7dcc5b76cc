//! [`TlsListener`]: TLS on top of any [`Listen`], with handshakes run concurrently and
//! off the accept path.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::{AbortHandle, JoinSet};

use super::server::TlsServerConfig;
use super::stream::TlsStream;
use crate::error::{Error, Result};
use crate::traits::Listen;

type Ready<S> = Result<(TlsStream<S>, SocketAddr)>;

/// Accepts connections from an inner listener (TCP, in-memory, ...) and yields them once
/// their TLS handshake has finished.
///
/// Handshakes do not happen in [`accept`](Listen::accept): a background task accepts from
/// the inner listener and runs each handshake as its own task, at most
/// [`max_handshakes`](super::TlsServerConfigBuilder::max_handshakes) at once (default
/// 256) and each within the handshake timeout (default 10 s). A slow or silent client
/// therefore delays nobody else. A failed or timed-out handshake is logged
/// (`tracing::info!`), counted in [`stats`](Self::stats) and skipped; it is never returned
/// from `accept`. Errors of the inner listener's own `accept` are passed through.
///
/// Backpressure: when `max_handshakes` connections are in handshake or finished but not
/// yet taken by `accept`, the task stops accepting and new connections wait in the inner
/// listener's backlog.
///
/// `accept` is cancel-safe (e.g. in `select!` with a shutdown signal): a finished
/// connection stays queued until an `accept` returns it.
///
/// The task starts when the listener is created inside a tokio runtime (or at the first
/// `accept`) and stops when the listener is dropped; handshakes still in progress are
/// then dropped. Connections already returned are unaffected.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use ghostnet_transport::tls::{TlsListener, TlsServerConfig};
/// use ghostnet_transport::{Listen, MemoryNetwork};
///
/// # let key = rcgen::KeyPair::generate().unwrap();
/// # let cert = rcgen::CertificateParams::new(vec!["api.test".into()]).unwrap()
/// #     .self_signed(&key).unwrap();
/// # let (cert_pem, key_pem) = (cert.pem(), key.serialize_pem());
/// let net = MemoryNetwork::new();
/// let config = TlsServerConfig::builder().cert_pem(cert_pem, key_pem).build().unwrap();
/// let listener = TlsListener::new(net.listen(&"api.test:443".parse().unwrap()).unwrap(), config);
/// // Serve: every `accept` returns a finished TLS connection.
/// tokio::spawn(async move {
///     while let Ok((stream, peer)) = listener.accept().await {
///         let _ = (stream, peer); // hand it to the protocol
///     }
/// });
/// # });
/// ```
pub struct TlsListener<L: Listen> {
    shared: Arc<Shared<L>>,
    ready: tokio::sync::Mutex<mpsc::Receiver<Ready<L::Stream>>>,
    /// The sender, until the background task takes it.
    sender: Mutex<Option<mpsc::Sender<Ready<L::Stream>>>>,
    task: OnceLock<AbortHandle>,
}

/// What the listener and its background task share.
struct Shared<L> {
    inner: L,
    config: TlsServerConfig,
    permits: Arc<Semaphore>,
    /// Connections in handshake or waiting for `accept` (the permits in use, minus the
    /// one the accept loop holds while it waits for the next connection).
    pending: AtomicUsize,
    accepted: AtomicU64,
    ok: AtomicU64,
    failed: AtomicU64,
    timed_out: AtomicU64,
}

/// Counters of a [`TlsListener`], from [`TlsListener::stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsListenerStats {
    /// Connections taken from the inner listener.
    pub accepted: u64,
    /// Handshakes that finished.
    pub handshakes_ok: u64,
    /// Handshakes that failed (bad certificate, not TLS, no common protocol, ...).
    pub handshakes_failed: u64,
    /// Handshakes that did not finish within the handshake timeout.
    pub handshakes_timed_out: u64,
    /// Connections in handshake, or finished and waiting for `accept`.
    pub pending: usize,
}

impl<L: Listen> TlsListener<L> {
    /// TLS with `config` over connections from `inner`.
    pub fn new(inner: L, config: TlsServerConfig) -> Self {
        let max = config.max_handshakes();
        let (tx, rx) = mpsc::channel(max);
        let listener = Self {
            shared: Arc::new(Shared {
                inner,
                config,
                permits: Arc::new(Semaphore::new(max)),
                pending: AtomicUsize::new(0),
                accepted: AtomicU64::new(0),
                ok: AtomicU64::new(0),
                failed: AtomicU64::new(0),
                timed_out: AtomicU64::new(0),
            }),
            ready: tokio::sync::Mutex::new(rx),
            sender: Mutex::new(Some(tx)),
            task: OnceLock::new(),
        };
        // Start handshaking right away when we can; otherwise the first accept starts it.
        if tokio::runtime::Handle::try_current().is_ok() {
            listener.start();
        }
        listener
    }

    /// The inner listener (e.g. for its local address).
    pub fn inner(&self) -> &L {
        &self.shared.inner
    }

    /// The TLS config; its [`cert`](TlsServerConfig::cert) reloads the certificate.
    pub fn config(&self) -> &TlsServerConfig {
        &self.shared.config
    }

    /// Counters since the listener was created.
    pub fn stats(&self) -> TlsListenerStats {
        let s = &self.shared;
        TlsListenerStats {
            accepted: s.accepted.load(Ordering::Relaxed),
            handshakes_ok: s.ok.load(Ordering::Relaxed),
            handshakes_failed: s.failed.load(Ordering::Relaxed),
            handshakes_timed_out: s.timed_out.load(Ordering::Relaxed),
            pending: s.pending.load(Ordering::Relaxed),
        }
    }

    fn start(&self) {
        self.task.get_or_init(|| {
            let tx = self
                .sender
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            let shared = self.shared.clone();
            let task = async move {
                if let Some(tx) = tx {
                    accept_loop(shared, tx).await;
                }
            };
            tokio::spawn(task).abort_handle()
        });
    }
}

impl<L: Listen> Listen for TlsListener<L> {
    type Stream = TlsStream<L::Stream>;

    async fn accept(&self) -> Result<(Self::Stream, SocketAddr)> {
        self.start();
        let next = self.ready.lock().await.recv().await;
        // `None` only if the background task ended, which it does only by panicking in
        // the inner listener's accept.
        next.unwrap_or_else(|| {
            Err(Error::io(
                "accept TLS connection",
                io::Error::other("the TLS accept task stopped (the inner listener panicked)"),
            ))
        })
    }
}

impl<L: Listen> Drop for TlsListener<L> {
    fn drop(&mut self) {
        if let Some(task) = self.task.get() {
            task.abort();
        }
    }
}

impl<L: Listen + std::fmt::Debug> std::fmt::Debug for TlsListener<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsListener")
            .field("inner", &self.shared.inner)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Accepts from the inner listener and starts one handshake task per connection, while a
/// handshake permit is free. Dropping this future (on abort) drops every handshake task.
async fn accept_loop<L: Listen>(shared: Arc<Shared<L>>, tx: mpsc::Sender<Ready<L::Stream>>) {
    let mut handshakes = JoinSet::new();
    loop {
        // Forget finished handshake tasks so the set stays as small as the permit count.
        while handshakes.try_join_next().is_some() {}
        let Ok(permit) = shared.permits.clone().acquire_owned().await else {
            return; // the semaphore is never closed
        };
        match shared.inner.accept().await {
            Ok((stream, peer)) => {
                shared.accepted.fetch_add(1, Ordering::Relaxed);
                let slot = Slot::new(shared.clone(), permit);
                handshakes.spawn(handshake(slot, stream, peer, tx.clone()));
            }
            Err(e) => {
                drop(permit);
                if tx.send(Err(e)).await.is_err() {
                    return; // the listener is gone
                }
            }
        }
    }
}

/// A connection's place among the pending ones: its permit, and its count in
/// [`TlsListenerStats::pending`]. Both are given back on drop, also when the task is
/// aborted.
struct Slot<L> {
    shared: Arc<Shared<L>>,
    _permit: OwnedSemaphorePermit,
}

impl<L> Slot<L> {
    fn new(shared: Arc<Shared<L>>, permit: OwnedSemaphorePermit) -> Self {
        shared.pending.fetch_add(1, Ordering::Relaxed);
        Self {
            shared,
            _permit: permit,
        }
    }
}

impl<L> Drop for Slot<L> {
    fn drop(&mut self) {
        self.shared.pending.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One server handshake; the slot is held until the connection is handed to `accept`.
async fn handshake<L: Listen>(
    slot: Slot<L>,
    stream: L::Stream,
    peer: SocketAddr,
    tx: mpsc::Sender<Ready<L::Stream>>,
) {
    let shared = &slot.shared;
    match shared.config.accept_from(stream, Some(peer)).await {
        Ok(tls) => {
            shared.ok.fetch_add(1, Ordering::Relaxed);
            let _ = tx.send(Ok((tls, peer))).await;
        }
        Err(e) => {
            let counter = if matches!(e, Error::TlsHandshakeTimeout { .. }) {
                &shared.timed_out
            } else {
                &shared.failed
            };
            counter.fetch_add(1, Ordering::Relaxed);
            tracing::info!(%peer, error = %e, "TLS handshake failed; connection dropped");
        }
    }
}
