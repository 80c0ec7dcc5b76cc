//! Exclusive pool: the FIFO queue at the limit, cancellation, wait and connect timeouts.

mod pool_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ghostnet_transport::pool::{Pool, PoolConfig, PoolKey};
use ghostnet_transport::{Error, MemoryNetwork};
use pool_support::*;
use tokio::time::Instant;

fn one_per_host(net: &MemoryNetwork) -> (Pool<ghostnet_transport::MemoryDialer>, PoolKey) {
    let target = memory_server(net, "api", Mode::KeepAlive);
    let pool = Pool::with_config(net.dialer(), PoolConfig::default().max_per_host(1)).unwrap();
    (pool, PoolKey::new("http", target).unwrap())
}

#[tokio::test]
async fn waiters_are_served_in_arrival_order() {
    let net = MemoryNetwork::new();
    let (pool, key) = one_per_host(&net);
    let held = pool.get(&key).await.unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (p, key, order) = (pool.clone(), key.clone(), order.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = p.get(&key).await.unwrap();
            order.lock().unwrap().push(i);
            exchange(&mut conn).await.unwrap();
        }));
        // The next one arrives only after this one is in line.
        until("the waiter queues", || pool.stats().waiting == i + 1).await;
    }
    drop(held);
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), (0..8).collect::<Vec<_>>());
    let s = pool.stats();
    assert_eq!((s.created, s.reused, s.waiting), (1, 8, 0));
}

#[tokio::test]
async fn a_cancelled_waiter_does_not_leak_a_slot() {
    let net = MemoryNetwork::new();
    let (pool, key) = one_per_host(&net);
    let held = pool.get(&key).await.unwrap();
    let first = {
        let (pool, key) = (pool.clone(), key.clone());
        tokio::spawn(async move { pool.get(&key).await.map(drop) })
    };
    until("first queues", || pool.stats().waiting == 1).await;
    let second = {
        let (pool, key) = (pool.clone(), key.clone());
        tokio::spawn(async move {
            let mut conn = pool.get(&key).await?;
            exchange(&mut conn)
                .await
                .map_err(|e| Error::io("exchange", e))
        })
    };
    until("second queues", || pool.stats().waiting == 2).await;
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    assert_eq!(pool.stats().waiting, 1);
    drop(held);
    second.await.unwrap().unwrap();
    let s = pool.stats();
    assert_eq!(
        (s.created, s.reused, s.idle, s.in_use, s.waiting),
        (1, 1, 1, 0, 0)
    );
}

#[tokio::test]
async fn a_connection_handed_to_a_waiter_that_then_gives_up_goes_back() {
    let net = MemoryNetwork::new();
    let (pool, key) = one_per_host(&net);
    let held = pool.get(&key).await.unwrap();
    let mut waiter = Box::pin(pool.get(&key));
    assert!(poll_once(&mut waiter).is_pending());
    assert_eq!(pool.stats().waiting, 1);
    drop(held); // handed to `waiter`, which is never polled again
    drop(waiter);
    let s = pool.stats();
    assert_eq!(
        (s.idle, s.in_use, s.leases, s.waiting, s.reused),
        (1, 0, 0, 0, 0)
    );
    let conn = pool.get(&key).await.unwrap();
    assert!(conn.is_reused(), "the same connection, not a new one");
    assert_eq!(pool.stats().created, 1);
}

#[tokio::test]
async fn a_dial_slot_handed_to_a_waiter_that_then_gives_up_is_freed() {
    let net = MemoryNetwork::new();
    let (pool, key) = one_per_host(&net);
    let held = pool.get(&key).await.unwrap();
    let mut waiter = Box::pin(pool.get(&key));
    assert!(poll_once(&mut waiter).is_pending());
    held.discard(); // the slot goes to `waiter` as a permission to dial
    assert_eq!(pool.stats().connecting, 1);
    drop(waiter);
    let s = pool.stats();
    assert_eq!((s.connecting, s.open(), s.waiting), (0, 0, 0));
    let mut conn = pool.get(&key).await.unwrap();
    exchange(&mut conn).await.unwrap();
    assert_eq!(pool.stats().created, 2);
}

#[tokio::test(start_paused = true)]
async fn waiting_past_the_wait_timeout_is_an_error() {
    let net = MemoryNetwork::new();
    let target = memory_server(&net, "api", Mode::KeepAlive);
    let cfg = PoolConfig::default().max_per_host(1);
    let pool = Pool::with_config(net.dialer(), cfg).unwrap();
    let key = PoolKey::new("http", target).unwrap();
    let held = pool.get(&key).await.unwrap();

    let start = Instant::now();
    let err = pool.get(&key).await.unwrap_err();
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(30),
        "the default wait timeout"
    );
    assert!(
        matches!(&err, Error::PoolTimeout { key: k, after } if k == "http://api:80" && *after == Duration::from_secs(30)),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert!(
        err.to_string().contains("raise the per-host limit"),
        "{err}"
    );
    assert_eq!(pool.stats().waiting, 0);
    drop(held);
    assert!(pool.get(&key).await.unwrap().is_reused());
}

#[tokio::test]
async fn zero_wait_timeout_fails_at_once_at_the_limit() {
    let net = MemoryNetwork::new();
    let target = memory_server(&net, "api", Mode::KeepAlive);
    let cfg = PoolConfig::default()
        .max_per_host(1)
        .wait_timeout(Duration::ZERO);
    let pool = Pool::with_config(net.dialer(), cfg).unwrap();
    let key = PoolKey::new("http", target).unwrap();
    let held = pool.get(&key).await.unwrap();
    assert!(matches!(
        pool.get(&key).await,
        Err(Error::PoolTimeout { .. })
    ));
    drop(held);
    pool.get(&key).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_dial_that_hangs_times_out_and_frees_its_slot() {
    let net = MemoryNetwork::new();
    let target = memory_server(&net, "api", Mode::KeepAlive);
    let mut dialer = Counting::new(net.dialer());
    dialer.hang = true;
    let cfg = PoolConfig::default()
        .max_per_host(1)
        .wait_timeout(Duration::from_secs(60));
    let pool = Pool::with_config(dialer, cfg).unwrap();
    let key = PoolKey::new("http", target).unwrap();

    let start = Instant::now();
    let (a, b) = tokio::join!(pool.get(&key), pool.get(&key));
    for err in [a.unwrap_err(), b.unwrap_err()] {
        assert!(
            matches!(&err, Error::ConnectTimeout { after, .. } if *after == Duration::from_secs(10)),
            "{err:?}"
        );
    }
    // One at a time under max_per_host = 1: the second dialed after the first gave up.
    assert_eq!(start.elapsed(), Duration::from_secs(20));
    let s = pool.stats();
    assert_eq!((s.connecting, s.waiting, s.open()), (0, 0, 0));
}
