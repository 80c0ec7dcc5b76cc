//! Connection pooling over any [`Dial`](crate::Dial), in two modes:
//!
//! - [`Pool`]: **exclusive checkout** for protocols with one exchange per connection at a
//!   time (HTTP/1.1). [`Pool::get`] returns a [`Pooled`] guard that derefs to the stream
//!   and goes back to the idle set on drop, unless marked not reusable.
//! - [`MuxPool`]: **multiplexed sharing** for HTTP/2 and QUIC. An [`Establish`] step turns
//!   a new stream into a cloneable [`Multiplexed`] handle; [`MuxPool::get`] returns a
//!   [`Shared`] guard holding a clone and one of the connection's stream slots.
//!
//! Both are keyed by [`PoolKey`] (`scheme://host:port`) and share one engine, so limits,
//! queueing, eviction, statistics and close behave the same:
//!
//! - **Limits**: at most [`PoolConfig::max_per_host`] connections per key (default 6) and
//!   [`PoolConfig::max_total`] overall (default 100), counting dials in flight, so a burst
//!   of callers never dials past them. At the total limit, the least recently used idle
//!   connection of any key is closed to make room.
//! - **Fair waiting**: a caller that finds no room queues; each key's queue is served in
//!   arrival order, for at most [`PoolConfig::wait_timeout`] (default 30 s, then
//!   [`Error::PoolTimeout`](crate::Error::PoolTimeout)). A caller that gives up — timeout
//!   or a dropped future — never takes a connection or a slot with it.
//! - **Health**: before an idle connection is handed out (and when it comes back) it is
//!   checked: an exclusive stream with [`is_closed_or_dirty`](crate::is_closed_or_dirty),
//!   a multiplexed handle with [`Multiplexed::is_closed`]. Stale ones are closed and
//!   counted as evicted, never handed out.
//! - **Idle eviction**: connections unused for [`PoolConfig::idle_timeout`] (default 60 s)
//!   are closed on the next checkout of their key and by a background reaper task, which
//!   starts with the first checkout and stops when the pool is closed or dropped.
//! - **Statistics**: [`PoolStats`] totals (lock-free) and per key.
//! - **Close**: [`Pool::close`] / [`MuxPool::close`], or dropping the last handle.
//!
//! Checkouts use tokio timers (connect and wait timeouts), so they must run on a runtime
//! with time enabled, as every `ghostnet_runtime::Config` preset has.
//!
//! # HTTP/1.1 on [`Pool`]
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use ghostnet_transport::pool::{Pool, PoolConfig, PoolKey};
//! use ghostnet_transport::{Listen, MemoryNetwork};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
//!
//! let net = MemoryNetwork::new();
//! let listener = net.listen(&"api.test:80".parse().unwrap()).unwrap();
//! tokio::spawn(async move {
//!     while let Ok((mut conn, _)) = listener.accept().await {
//!         tokio::spawn(async move {
//!             let mut req = [0u8; 18];
//!             while conn.read_exact(&mut req).await.is_ok() {
//!                 if conn.write_all(RESPONSE).await.is_err() { break; }
//!             }
//!         });
//!     }
//! });
//!
//! let pool = Pool::with_config(net.dialer(), PoolConfig::default().max_per_host(4)).unwrap();
//! let key: PoolKey = "http://api.test".parse().unwrap();
//! for _ in 0..3 {
//!     let mut conn = pool.get(&key).await.unwrap();
//!     conn.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
//!     let mut resp = [0u8; RESPONSE.len()];
//!     conn.read_exact(&mut resp).await.unwrap();
//!     // A `Connection: close` response or a parse error would call `conn.discard()`.
//! }
//! assert_eq!(pool.stats().created, 1);
//! assert_eq!(pool.stats().reused, 2);
//! # });
//! ```
//!
//! # HTTP/2 on [`MuxPool`]
//!
//! The establish step does the handshake and returns the request handle; with the `h2`
//! crate it is about this (`H2` wraps `SendRequest` and implements [`Multiplexed`] with
//! `is_closed` from a flag the connection task sets, and `max_concurrent_streams` from
//! `SendRequest::current_max_send_streams`):
//!
//! ```text
//! let pool = MuxPool::new(tls_dialer, |stream, _key| async move {
//!     let (send, conn) = h2::client::handshake(stream).await.map_err(to_transport_error)?;
//!     let closed = Arc::new(AtomicBool::new(false));
//!     let flag = closed.clone();
//!     tokio::spawn(async move { let _ = conn.await; flag.store(true, Ordering::Release) });
//!     Ok(H2 { send, closed })
//! });
//! let shared = pool.get(&"https://example.com".parse()?).await?;
//! let (response, _) = shared.send.clone().ready().await?.send_request(request, true)?;
//! ```
//!
//! A runnable version with a stand-in handle is on [`MuxPool`].

mod config;
mod core;
mod exclusive;
mod key;
mod multiplexed;
mod pooled;
mod reaper;
mod shared;
mod stats;

pub use config::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_PER_HOST,
    DEFAULT_MAX_STREAMS_PER_CONNECTION, DEFAULT_MAX_TOTAL, DEFAULT_WAIT_TIMEOUT, PoolConfig,
};
pub use exclusive::Pool;
pub use key::PoolKey;
pub use multiplexed::{Establish, Multiplexed, MuxPool};
pub use pooled::Pooled;
pub use shared::Shared;
pub use stats::PoolStats;
