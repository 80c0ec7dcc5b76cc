//! [`MuxPool`]: many users share one connection (HTTP/2, QUIC), through a cloneable
//! handle made from the stream by a user-supplied [`Establish`] step.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use super::config::PoolConfig;
use super::core::{Checkout, Core, Flavor};
use super::key::PoolKey;
use super::shared::Shared;
use super::stats::PoolStats;
use crate::error::{Error, Result};
use crate::traits::Dial;

/// A cloneable handle to a multiplexed connection: each clone can open streams (send
/// requests) on it concurrently, e.g. h2's `SendRequest`.
///
/// Both methods are called under the pool's lock: they must be cheap, must not block and
/// must not call back into the pool.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use ghostnet_transport::pool::Multiplexed;
///
/// #[derive(Clone)]
/// struct Session {
///     closed: Arc<AtomicBool>, // set by the task that drives the connection
/// }
///
/// impl Multiplexed for Session {
///     fn is_closed(&self) -> bool {
///         self.closed.load(Ordering::Acquire)
///     }
/// }
/// ```
pub trait Multiplexed: Clone + Send + Sync + 'static {
    /// Whether the connection can take no more streams (closed, GOAWAY received, driver
    /// task ended). A closed connection is evicted and the next caller gets a new one.
    fn is_closed(&self) -> bool;

    /// How many concurrent streams the peer allows now (HTTP/2
    /// `SETTINGS_MAX_CONCURRENT_STREAMS`), if known. The pool uses the smaller of this and
    /// [`PoolConfig::max_streams_per_connection`].
    fn max_concurrent_streams(&self) -> Option<usize> {
        None
    }
}

/// Turns a freshly dialed stream into a [`Multiplexed`] handle: the protocol handshake
/// (an HTTP/2 preface and SETTINGS exchange, say), usually spawning a task that drives
/// the connection. Runs within the pool's connect timeout.
///
/// Any `Fn(S, PoolKey) -> impl Future<Output = Result<H>>` closure is an `Establish`:
///
/// ```
/// use ghostnet_transport::pool::{Establish, Multiplexed, PoolKey};
/// use ghostnet_transport::{MemoryStream, Result};
///
/// #[derive(Clone)]
/// struct Handle;
/// impl Multiplexed for Handle {
///     fn is_closed(&self) -> bool { false }
/// }
///
/// fn takes<E: Establish<MemoryStream>>(_: E) {}
/// takes(|_stream: MemoryStream, _key: PoolKey| async { Ok::<_, ghostnet_transport::Error>(Handle) });
/// ```
pub trait Establish<S>: Send + Sync + 'static {
    /// The handle the pool stores and hands out clones of.
    type Handle: Multiplexed;

    /// Runs the handshake on `stream`, dialed for `key`.
    fn establish(
        &self,
        stream: S,
        key: PoolKey,
    ) -> impl Future<Output = Result<Self::Handle>> + Send;
}

impl<S, F, Fut, H> Establish<S> for F
where
    F: Fn(S, PoolKey) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<H>> + Send,
    H: Multiplexed,
{
    type Handle = H;

    fn establish(&self, stream: S, key: PoolKey) -> impl Future<Output = Result<H>> + Send {
        self(stream, key)
    }
}

/// Multiplexed pooling: the entry holds the handle, each lease is a clone of it.
pub(crate) struct Multiplex<H> {
    max_streams: usize,
    _handle: PhantomData<fn() -> H>,
}

impl<H: Multiplexed> Flavor for Multiplex<H> {
    type Conn = H;
    type Lease = H;
    const NEWEST_FIRST: bool = false;

    fn capacity(&self, h: &H) -> usize {
        h.max_concurrent_streams()
            .map_or(self.max_streams, |peer| peer.min(self.max_streams))
    }

    fn expected_capacity(&self) -> usize {
        self.max_streams
    }

    fn is_usable(&self, h: &mut H, _active: usize) -> bool {
        !h.is_closed()
    }

    fn lease(&self, h: &mut H) -> Option<H> {
        Some(h.clone())
    }

    fn unlease(&self, _: &mut H, lease: H) {
        drop(lease);
    }
}

/// A pool of multiplexed connections (HTTP/2, QUIC): concurrent callers for one key share
/// a connection, up to its stream limit, and a new connection is opened only when none
/// is usable and has room.
///
/// The pool dials with `D`, runs the [`Establish`] step on the stream, and keeps the
/// resulting [`Multiplexed`] handle. [`get`](MuxPool::get) returns a [`Shared`] guard
/// (a clone of the handle plus one counted stream slot); drop it when the stream is done.
/// A handle that reports [`is_closed`](Multiplexed::is_closed) is evicted and replaced on
/// the next checkout. Callers arriving together while the first connection is still being
/// established wait for it instead of dialing their own; limits and timeouts are those of
/// [`PoolConfig`] (`max_per_host` counts connections, `max_streams_per_connection` users
/// of one).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use ghostnet_transport::pool::{MuxPool, Multiplexed, PoolKey};
/// use ghostnet_transport::{MemoryNetwork, MemoryStream, Listen};
/// use tokio::io::AsyncReadExt;
///
/// /// Stands in for h2's `SendRequest`: shared, and closed when the peer goes away.
/// #[derive(Clone)]
/// struct Session(Arc<AtomicBool>);
/// impl Multiplexed for Session {
///     fn is_closed(&self) -> bool { self.0.load(Ordering::Acquire) }
/// }
///
/// let net = MemoryNetwork::new();
/// let listener = net.listen(&"h2.test:443".parse().unwrap()).unwrap();
/// tokio::spawn(async move {
///     while let Ok((conn, _)) = listener.accept().await {
///         tokio::spawn(async move { let _keep_open = conn; std::future::pending::<()>().await });
///     }
/// });
///
/// // The establish step: a handshake would go here; the spawned task drives the
/// // connection and flags the session closed when the stream ends.
/// let establish = |mut stream: MemoryStream, _key: PoolKey| async move {
///     let closed = Arc::new(AtomicBool::new(false));
///     let flag = closed.clone();
///     tokio::spawn(async move {
///         let _ = stream.read(&mut [0u8; 1]).await;
///         flag.store(true, Ordering::Release);
///     });
///     Ok(Session(closed))
/// };
/// let pool = MuxPool::new(net.dialer(), establish);
/// let key: PoolKey = "https://h2.test:443".parse().unwrap();
///
/// let a = pool.get(&key).await.unwrap();
/// let b = pool.get(&key).await.unwrap(); // shares a's connection
/// assert!(!a.is_reused() && b.is_reused());
/// assert_eq!(pool.stats().created, 1);
/// assert_eq!(pool.stats().leases, 2);
/// # });
/// ```
pub struct MuxPool<D: Dial, E: Establish<D::Stream>> {
    inner: Arc<Inner<D, E>>,
}

struct Inner<D: Dial, E: Establish<D::Stream>> {
    dialer: D,
    establish: E,
    core: Arc<Core<Multiplex<E::Handle>>>,
}

impl<D: Dial, E: Establish<D::Stream>> Drop for Inner<D, E> {
    fn drop(&mut self) {
        self.core.close();
    }
}

impl<D: Dial, E: Establish<D::Stream>> Clone for MuxPool<D, E> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<D: Dial, E: Establish<D::Stream>> fmt::Debug for MuxPool<D, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MuxPool")
            .field("config", self.config())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl<D: Dial, E: Establish<D::Stream>> MuxPool<D, E> {
    /// A pool dialing with `dialer` and establishing with `establish`, with the
    /// [default limits](PoolConfig).
    pub fn new(dialer: D, establish: E) -> Self {
        Self::build(dialer, establish, PoolConfig::default())
    }

    /// Like [`new`](MuxPool::new) with `config`; fails with [`Error::InvalidConfig`]
    /// naming the first unusable field.
    pub fn with_config(dialer: D, establish: E, config: PoolConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self::build(dialer, establish, config))
    }

    fn build(dialer: D, establish: E, config: PoolConfig) -> Self {
        let flavor = Multiplex {
            max_streams: config.max_streams_per_connection,
            _handle: PhantomData,
        };
        Self {
            inner: Arc::new(Inner {
                dialer,
                establish,
                core: Core::new(config, flavor),
            }),
        }
    }

    /// A share of a usable connection for `key` with room for one more stream; else a new
    /// connection (dial + establish, within the connect timeout); else — at a limit — a
    /// place in line for at most the wait timeout.
    ///
    /// Errors: the dialer's and the establish step's, [`Error::ConnectTimeout`],
    /// [`Error::PoolTimeout`], [`Error::PoolClosed`].
    pub async fn get(&self, key: &PoolKey) -> Result<Shared<E::Handle>> {
        let core = &self.inner.core;
        match core.checkout(key, false).await? {
            Checkout::Leased(l) => Ok(Shared::new(l.ticket, l.lease, l.reused)),
            Checkout::Dial(permit) => {
                let limit = core.config().connect_timeout;
                let target = key.target();
                let connect = async {
                    let stream = self.inner.dialer.dial(target).await?;
                    self.inner.establish.establish(stream, key.clone()).await
                };
                // On any early return the permit drops and frees the slot.
                let handle = ghostnet_runtime::timeout(limit, connect)
                    .await
                    .map_err(|_| Error::ConnectTimeout {
                        target: target.to_string(),
                        after: limit,
                    })??;
                let l = permit.complete(handle.clone(), handle)?;
                Ok(Shared::new(l.ticket, l.lease, l.reused))
            }
        }
    }

    /// Totals over all keys, read without locking. `in_use` and `idle` count
    /// connections; `leases` counts the streams checked out.
    pub fn stats(&self) -> PoolStats {
        self.inner.core.stats()
    }

    /// The counters of one key; `None` for a key the pool does not know.
    pub fn key_stats(&self, key: &PoolKey) -> Option<PoolStats> {
        self.inner.core.key_stats(key)
    }

    /// The counters of every known key, sorted by key.
    pub fn stats_by_key(&self) -> Vec<(PoolKey, PoolStats)> {
        self.inner.core.stats_by_key()
    }

    /// Closes the pool: queued callers and later checkouts get [`Error::PoolClosed`];
    /// handles with no stream out are dropped now, the others when their last [`Shared`]
    /// drops. Idempotent.
    pub fn close(&self) {
        self.inner.core.close();
    }

    /// Whether [`close`](MuxPool::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.core.is_closed()
    }

    /// The configuration in force.
    pub fn config(&self) -> &PoolConfig {
        self.inner.core.config()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct Peer(Option<usize>);

    impl Multiplexed for Peer {
        fn is_closed(&self) -> bool {
            false
        }
        fn max_concurrent_streams(&self) -> Option<usize> {
            self.0
        }
    }

    #[test]
    fn capacity_is_the_smaller_of_ours_and_the_peers() {
        let f = Multiplex::<Peer> {
            max_streams: 100,
            _handle: PhantomData,
        };
        assert_eq!(f.capacity(&Peer(None)), 100);
        assert_eq!(f.capacity(&Peer(Some(10))), 10);
        assert_eq!(f.capacity(&Peer(Some(1000))), 100);
        assert_eq!(
            f.capacity(&Peer(Some(0))),
            0,
            "a peer may allow none for a while"
        );
        assert_eq!(f.expected_capacity(), 100);
    }
}
