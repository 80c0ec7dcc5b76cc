//! [`Pool`]: exclusive checkout, one user per connection at a time (HTTP/1.1).

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use super::config::PoolConfig;
use super::core::{Checkout, Core, Flavor};
use super::key::PoolKey;
use super::pooled::Pooled;
use super::stats::PoolStats;
use crate::error::{Error, Result};
use crate::stream::{Stream, is_closed_or_dirty};
use crate::traits::Dial;

/// Exclusive pooling: the lease is the stream itself, moved out while checked out.
pub(crate) struct Exclusive<S>(PhantomData<fn() -> S>);

impl<S: Stream> Flavor for Exclusive<S> {
    /// `None` while checked out.
    type Conn = Option<S>;
    type Lease = S;
    const NEWEST_FIRST: bool = true;

    fn capacity(&self, _: &Option<S>) -> usize {
        1
    }

    fn expected_capacity(&self) -> usize {
        1
    }

    fn is_usable(&self, conn: &mut Option<S>, active: usize) -> bool {
        match conn {
            // The one read polled with a no-op waker: never blocks.
            Some(stream) => !is_closed_or_dirty(stream),
            None => active > 0,
        }
    }

    fn lease(&self, conn: &mut Option<S>) -> Option<S> {
        conn.take()
    }

    fn unlease(&self, conn: &mut Option<S>, stream: S) {
        *conn = Some(stream);
    }
}

/// A pool of byte streams for protocols with one exchange per connection at a time
/// (HTTP/1.1, most database and mail protocols), generic over any [`Dial`].
///
/// [`get`](Pool::get) returns a [`Pooled`] guard that derefs to the stream and goes back
/// to the pool when dropped, unless it was marked not reusable. Before an idle connection
/// is handed out it is checked with [`is_closed_or_dirty`](crate::is_closed_or_dirty): a
/// socket the server closed, or one with bytes nobody asked for, is closed and counted as
/// evicted, never returned. Clones share the pool; when the last clone is dropped the pool
/// closes (see [`close`](Pool::close)).
///
/// Limits, timeouts and their defaults are in [`PoolConfig`]. A caller that finds its key
/// (or the whole pool) at the limit queues; the queue is served first come, first served,
/// and a caller that gives up (timeout, cancelled future) loses nothing for the others.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use ghostnet_transport::pool::{Pool, PoolKey};
/// use ghostnet_transport::{Listen, MemoryNetwork};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// let net = MemoryNetwork::new();
/// let listener = net.listen(&"echo.test:7".parse().unwrap()).unwrap();
/// tokio::spawn(async move {
///     while let Ok((mut conn, _)) = listener.accept().await {
///         tokio::spawn(async move {
///             let mut buf = [0u8; 4];
///             while conn.read_exact(&mut buf).await.is_ok() {
///                 if conn.write_all(&buf).await.is_err() { break; }
///             }
///         });
///     }
/// });
///
/// let pool = Pool::new(net.dialer());
/// let key: PoolKey = "tcp://echo.test:7".parse().unwrap();
/// for round in 0..3 {
///     let mut conn = pool.get(&key).await.unwrap();
///     assert_eq!(conn.is_reused(), round > 0);
///     conn.write_all(b"ping").await.unwrap();
///     let mut reply = [0u8; 4];
///     conn.read_exact(&mut reply).await.unwrap();
///     assert_eq!(&reply, b"ping");
/// } // each `conn` goes back to the pool here
/// let stats = pool.stats();
/// assert_eq!((stats.created, stats.reused, stats.idle), (1, 2, 1));
/// # });
/// ```
pub struct Pool<D: Dial> {
    inner: Arc<Inner<D>>,
}

struct Inner<D: Dial> {
    dialer: D,
    core: Arc<Core<Exclusive<D::Stream>>>,
}

impl<D: Dial> Drop for Inner<D> {
    /// The last handle is gone: nobody can check out again, so close idle connections
    /// and stop the reaper. Checked-out connections close when their guards drop.
    fn drop(&mut self) {
        self.core.close();
    }
}

impl<D: Dial> Clone for Pool<D> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<D: Dial> fmt::Debug for Pool<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("config", self.config())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl<D: Dial> Pool<D> {
    /// A pool over `dialer` with the [default limits](PoolConfig).
    pub fn new(dialer: D) -> Self {
        Self::build(dialer, PoolConfig::default())
    }

    /// A pool over `dialer` with `config`; fails with [`Error::InvalidConfig`] naming the
    /// first unusable field.
    ///
    /// ```
    /// use ghostnet_transport::MemoryNetwork;
    /// use ghostnet_transport::pool::{Pool, PoolConfig};
    ///
    /// let net = MemoryNetwork::new();
    /// let pool = Pool::with_config(net.dialer(), PoolConfig::default().max_per_host(2)).unwrap();
    /// assert_eq!(pool.config().max_per_host, 2);
    /// assert!(Pool::with_config(net.dialer(), PoolConfig::default().max_total(0)).is_err());
    /// ```
    pub fn with_config(dialer: D, config: PoolConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self::build(dialer, config))
    }

    fn build(dialer: D, config: PoolConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                dialer,
                core: Core::new(config, Exclusive(PhantomData)),
            }),
        }
    }

    /// A connection for `key`: an idle one that passed the health check, else a new one
    /// dialed to `key.target()` (within the connect timeout), else — at a limit — the
    /// first one freed, waiting in line for at most the wait timeout.
    ///
    /// Errors: the dialer's (e.g. [`Error::Connect`]), [`Error::ConnectTimeout`],
    /// [`Error::PoolTimeout`], [`Error::PoolClosed`].
    pub async fn get(&self, key: &PoolKey) -> Result<Pooled<D::Stream>> {
        self.checkout(key, false).await
    }

    /// Like [`get`](Pool::get), but never reuses: always a newly dialed connection (at the
    /// per-key limit, an idle connection of `key` is closed to make room). For the retry
    /// after a request on a reused connection failed, when the server had closed it just
    /// as it was sent.
    ///
    /// ```
    /// use ghostnet_transport::pool::{Pool, PoolKey};
    /// use ghostnet_transport::{Dial, Error, Result};
    /// use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
    ///
    /// async fn exchange<S>(conn: &mut S, req: &[u8], resp: &mut [u8]) -> std::io::Result<()>
    /// where
    ///     S: AsyncRead + AsyncWrite + Unpin,
    /// {
    ///     conn.write_all(req).await?;
    ///     conn.read_exact(resp).await?;
    ///     Ok(())
    /// }
    ///
    /// async fn fetch<D: Dial>(pool: &Pool<D>, key: &PoolKey, req: &[u8], resp: &mut [u8]) -> Result<()> {
    ///     let mut conn = pool.get(key).await?;
    ///     match exchange(&mut conn, req, resp).await {
    ///         Ok(()) => Ok(()),
    ///         // The server may have closed a kept-alive connection just as we sent:
    ///         // retry once, on a connection that cannot be stale.
    ///         Err(_) if conn.is_reused() => {
    ///             conn.discard();
    ///             let mut fresh = pool.get_new(key).await?;
    ///             exchange(&mut fresh, req, resp).await.map_err(|e| Error::io("request", e))
    ///         }
    ///         Err(e) => Err(Error::io("request", e)), // `conn` saw an error: not reused
    ///     }
    /// }
    /// ```
    pub async fn get_new(&self, key: &PoolKey) -> Result<Pooled<D::Stream>> {
        self.checkout(key, true).await
    }

    /// Takes a connection for `key` that was dialed elsewhere into the pool, counted as
    /// a new one (within the limits, as [`get_new`](Pool::get_new) would dial), and returns
    /// it checked out; dropped, it goes back idle for the next [`get`](Pool::get).
    ///
    /// For a connection whose protocol was settled only once it was up: a TLS dial that
    /// offered `h2` and `http/1.1` in ALPN, answered `http/1.1`, can serve the HTTP/1.1
    /// pool instead of being closed and dialed again.
    ///
    /// Errors: [`Error::PoolTimeout`] (at a limit for the wait timeout),
    /// [`Error::PoolClosed`]; `stream` is closed then.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use ghostnet_transport::pool::{Pool, PoolKey};
    /// use ghostnet_transport::{Dial, MemoryNetwork};
    ///
    /// let net = MemoryNetwork::new();
    /// let _listener = net.listen(&"db.test:5432".parse().unwrap()).unwrap();
    /// let key: PoolKey = "tcp://db.test:5432".parse().unwrap();
    /// let stream = net.dialer().dial(key.target()).await.unwrap();
    ///
    /// let pool = Pool::new(net.dialer());
    /// drop(pool.adopt(&key, stream).await.unwrap()); // idle in the pool now
    /// assert!(pool.get(&key).await.unwrap().is_reused());
    /// assert_eq!(pool.stats().created, 1);
    /// # });
    /// ```
    pub async fn adopt(&self, key: &PoolKey, stream: D::Stream) -> Result<Pooled<D::Stream>> {
        match self.inner.core.checkout(key, true).await? {
            Checkout::Dial(permit) => {
                let l = permit.complete(None, stream)?;
                Ok(Pooled::new(l.ticket, l.lease, l.reused))
            }
            // A fresh checkout is granted a slot to dial, never a lease; were it one, that
            // connection serves as well, and the adopted one is closed.
            Checkout::Leased(l) => Ok(Pooled::new(l.ticket, l.lease, l.reused)),
        }
    }

    async fn checkout(&self, key: &PoolKey, fresh: bool) -> Result<Pooled<D::Stream>> {
        let core = &self.inner.core;
        match core.checkout(key, fresh).await? {
            Checkout::Leased(l) => Ok(Pooled::new(l.ticket, l.lease, l.reused)),
            Checkout::Dial(permit) => {
                let limit = core.config().connect_timeout;
                let target = key.target();
                // On any early return the permit drops and frees the slot.
                let stream = ghostnet_runtime::timeout(limit, self.inner.dialer.dial(target))
                    .await
                    .map_err(|_| Error::ConnectTimeout {
                        target: target.to_string(),
                        after: limit,
                    })??;
                let l = permit.complete(None, stream)?;
                Ok(Pooled::new(l.ticket, l.lease, l.reused))
            }
        }
    }

    /// Totals over all keys, read without locking.
    pub fn stats(&self) -> PoolStats {
        self.inner.core.stats()
    }

    /// The counters of one key; `None` for a key the pool does not know (never used, or
    /// forgotten one idle timeout after its last connection closed).
    pub fn key_stats(&self, key: &PoolKey) -> Option<PoolStats> {
        self.inner.core.key_stats(key)
    }

    /// The counters of every known key, sorted by key.
    pub fn stats_by_key(&self) -> Vec<(PoolKey, PoolStats)> {
        self.inner.core.stats_by_key()
    }

    /// Closes the pool: queued callers and later checkouts get [`Error::PoolClosed`],
    /// idle connections are closed now, checked-out ones when their guards drop, and the
    /// reaper stops. Idempotent.
    pub fn close(&self) {
        self.inner.core.close();
    }

    /// Whether [`close`](Pool::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.core.is_closed()
    }

    /// The configuration in force.
    pub fn config(&self) -> &PoolConfig {
        self.inner.core.config()
    }

    /// The dialer new connections come from.
    pub fn dialer(&self) -> &D {
        &self.inner.dialer
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::memory::MemoryNetwork;
    use crate::traits::Listen;

    fn serve(net: &MemoryNetwork, name: &str) -> PoolKey {
        let listener = net.listen(&format!("{name}:1").parse().unwrap()).unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((conn, _)) = listener.accept().await {
                held.push(conn);
            }
        });
        format!("tcp://{name}:1").parse().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn checkout_evicts_expired_connections_without_the_reaper() {
        let net = MemoryNetwork::new();
        let key = serve(&net, "a");
        let pool = Pool::new(net.dialer());
        pool.inner.core.reaper.stop(); // only the lazy path is left
        drop(pool.get(&key).await.unwrap());
        ghostnet_runtime::sleep(Duration::from_secs(120)).await;
        assert_eq!(pool.stats().idle, 1, "nobody reaped it");
        let conn = pool.get(&key).await.unwrap();
        assert!(!conn.is_reused());
        let s = pool.stats();
        assert_eq!((s.evicted, s.created), (1, 2));
    }

    #[test]
    fn a_pool_built_outside_a_runtime_works_inside_one() {
        let net = MemoryNetwork::new();
        let pool = Pool::new(net.dialer());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let key = serve(&net, "b");
            let c = pool.get(&key).await.unwrap();
            assert_eq!(c.info().transport, "memory");
            assert!(format!("{c:?}").contains("tcp://b:1"));
            assert!(format!("{pool:?}").contains("max_per_host: 6"));
        });
    }

    #[tokio::test(start_paused = true)]
    async fn forgotten_keys_lose_their_counters_only_after_an_idle_timeout() {
        let net = MemoryNetwork::new();
        let key = serve(&net, "c");
        let cfg = PoolConfig::default().idle_timeout(Duration::from_millis(1));
        let pool = Pool::with_config(net.dialer(), cfg).unwrap();
        pool.get(&key).await.unwrap().discard();
        assert!(pool.key_stats(&key).is_some());
        ghostnet_runtime::sleep(Duration::from_millis(5)).await;
        pool.inner.core.reap();
        assert_eq!(pool.key_stats(&key), None);
        assert_eq!(pool.stats().discarded, 1, "totals keep counting");
    }

    #[tokio::test]
    async fn adopted_connections_count_against_the_limits_and_close_with_the_pool() {
        let net = MemoryNetwork::new();
        let key = serve(&net, "d");
        let cfg = PoolConfig::default().max_per_host(1);
        let pool = Pool::with_config(net.dialer(), cfg).unwrap();
        let idle = pool.get(&key).await.unwrap();
        drop(idle);
        // At the per-key limit, the idle connection makes room, as for `get_new`.
        let stream = net.dialer().dial(key.target()).await.unwrap();
        let adopted = pool.adopt(&key, stream).await.unwrap();
        assert!(!adopted.is_reused());
        drop(adopted);
        let s = pool.stats();
        assert_eq!((s.created, s.evicted, s.idle), (2, 1, 1));
        assert!(pool.get(&key).await.unwrap().is_reused());
        pool.close();
        let stream = net.dialer().dial(key.target()).await.unwrap();
        assert!(matches!(
            pool.adopt(&key, stream).await,
            Err(Error::PoolClosed)
        ));
    }
}
