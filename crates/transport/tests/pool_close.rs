//! Closing a pool: waiters and later checkouts fail with `PoolClosed`, idle connections
//! close at once, checked-out ones when they come back; dropping the pool does the same
//! and stops the reaper.

mod pool_support;

use std::time::Duration;

use ghostnet_transport::pool::{Multiplexed, MuxPool, Pool, PoolConfig, PoolKey};
use ghostnet_transport::{Error, MemoryNetwork, MemoryStream};
use pool_support::*;

#[tokio::test]
async fn close_fails_waiters_and_closes_connections() {
    let net = MemoryNetwork::new();
    let a = PoolKey::new("http", memory_server(&net, "a", Mode::KeepAlive)).unwrap();
    let key = PoolKey::new("http", memory_server(&net, "b", Mode::KeepAlive)).unwrap();
    let dialer = Counting::new(net.dialer());
    let gauge = dialer.gauge.clone();
    let pool = Pool::with_config(dialer, PoolConfig::default().max_per_host(1)).unwrap();

    drop(pool.get(&a).await.unwrap()); // idle
    let mut busy = pool.get(&key).await.unwrap();
    let waiter = {
        let (pool, key) = (pool.clone(), key.clone());
        tokio::spawn(async move { pool.get(&key).await.map(drop) })
    };
    until("the waiter queues", || pool.stats().waiting == 1).await;
    assert_eq!(gauge.open(), 2);

    pool.close();
    assert!(pool.is_closed());
    assert!(matches!(waiter.await.unwrap(), Err(Error::PoolClosed)));
    assert!(matches!(pool.get(&key).await, Err(Error::PoolClosed)));
    assert_eq!(gauge.open(), 1, "the idle connection is closed at once");
    exchange(&mut busy).await.unwrap(); // a checked-out connection stays usable
    drop(busy);
    assert_eq!(gauge.open(), 0, "and is closed when it comes back");
    let s = pool.stats();
    assert_eq!((s.open(), s.waiting, s.leases), (0, 0, 0));
    assert!(Error::PoolClosed.to_string().contains("closed"));
    pool.close(); // idempotent
}

#[tokio::test]
async fn close_during_a_dial_closes_the_new_connection() {
    let net = MemoryNetwork::new();
    let target = memory_server(&net, "api", Mode::KeepAlive);
    let mut dialer = Counting::new(net.dialer());
    dialer.delay = Duration::from_millis(20);
    let gauge = dialer.gauge.clone();
    let pool = Pool::new(dialer);
    let key = PoolKey::new("http", target).unwrap();
    let getter = {
        let (pool, key) = (pool.clone(), key.clone());
        tokio::spawn(async move { pool.get(&key).await.map(drop) })
    };
    until("the dial starts", || pool.stats().connecting == 1).await;
    pool.close();
    assert!(matches!(getter.await.unwrap(), Err(Error::PoolClosed)));
    assert_eq!(gauge.open(), 0);
    assert_eq!(pool.stats().open(), 0);
}

#[tokio::test]
async fn dropping_the_pool_closes_it_and_stops_the_reaper() {
    let net = MemoryNetwork::new();
    let target = memory_server(&net, "api", Mode::KeepAlive);
    let dialer = Counting::new(net.dialer());
    let gauge = dialer.gauge.clone();
    let metrics = tokio::runtime::Handle::current().metrics();
    settle().await;
    let before = metrics.num_alive_tasks();

    let pool = Pool::new(dialer);
    let key = PoolKey::new("http", target).unwrap();
    let kept = {
        drop(pool.get(&key).await.unwrap());
        pool.get(&key).await.unwrap()
    };
    drop(pool.get(&key).await.unwrap()); // a second, idle connection
    settle().await;
    // Server tasks for the two connections, and the reaper.
    assert_eq!(metrics.num_alive_tasks(), before + 3);

    drop(pool);
    settle().await;
    assert_eq!(gauge.open(), 1, "the idle connection closed with the pool");
    // The reaper and the idle connection's server task have ended.
    assert_eq!(metrics.num_alive_tasks(), before + 1);
    drop(kept);
    settle().await;
    assert_eq!(
        gauge.open(),
        0,
        "the checked-out one closes when it comes back"
    );
    assert_eq!(metrics.num_alive_tasks(), before);
}

#[derive(Clone)]
struct Never;

impl Multiplexed for Never {
    fn is_closed(&self) -> bool {
        false
    }
}

#[tokio::test]
async fn closing_a_mux_pool_fails_waiters_and_later_checkouts() {
    let net = MemoryNetwork::new();
    let target = memory_server(&net, "h2", Mode::KeepAlive);
    let cfg = PoolConfig::default()
        .max_per_host(1)
        .max_streams_per_connection(1);
    let establish = |_s: MemoryStream, _k: PoolKey| async { Ok(Never) };
    let pool = MuxPool::with_config(net.dialer(), establish, cfg).unwrap();
    let key = PoolKey::new("https", target).unwrap();
    let held = pool.get(&key).await.unwrap();
    let waiter = {
        let (pool, key) = (pool.clone(), key.clone());
        tokio::spawn(async move { pool.get(&key).await.map(drop) })
    };
    until("the waiter queues", || pool.stats().waiting == 1).await;
    pool.close();
    assert!(matches!(waiter.await.unwrap(), Err(Error::PoolClosed)));
    assert!(matches!(pool.get(&key).await, Err(Error::PoolClosed)));
    assert_eq!(pool.stats().open(), 1, "kept until its last user is done");
    drop(held);
    assert_eq!(pool.stats().open(), 0);
}
