//! Exclusive pool: per-host and total limits under concurrency.

mod pool_support;

use std::sync::Arc;
use std::time::Duration;

use ghostnet_transport::MemoryNetwork;
use ghostnet_transport::pool::{Pool, PoolConfig, PoolKey};
use pool_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_users_never_exceed_the_per_host_limit() {
    let target = tcp_server(Mode::KeepAlive).await;
    let dialer = Counting::new(TcpDial);
    let gauge = dialer.gauge.clone();
    let pool = Pool::new(dialer); // max_per_host = 6
    let key = PoolKey::new("http", target).unwrap();

    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (pool, key) = (pool.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..5 {
                let mut conn = pool.get(&key).await.unwrap();
                exchange(&mut conn).await.unwrap();
                tokio::task::yield_now().await; // hold it across a scheduling point
            }
        }));
    }
    for t in tasks {
        t.await.expect("every user completes");
    }
    assert!(gauge.max_open() <= 6, "max open was {}", gauge.max_open());
    assert!(gauge.dials() <= 6, "dialed {} times", gauge.dials());
    let s = pool.stats();
    assert_eq!(s.created + s.reused, 500);
    assert_eq!((s.in_use, s.waiting, s.connecting, s.leases), (0, 0, 0, 0));
    assert!(s.idle <= 6 && s.idle == gauge.open());
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_callers_dials_only_up_to_the_limit() {
    let net = MemoryNetwork::new();
    let target = memory_server(&net, "api", Mode::KeepAlive);
    let mut dialer = Counting::new(net.dialer());
    dialer.delay = Duration::from_millis(50); // every caller arrives before a dial ends
    let gauge = dialer.gauge.clone();
    let pool = Pool::new(dialer);
    let key = PoolKey::new("http", target).unwrap();

    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (pool, key) = (pool.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = pool.get(&key).await.unwrap();
            exchange(&mut conn).await.unwrap();
        }));
    }
    until("all callers arrive", || pool.stats().waiting == 44).await;
    assert_eq!(pool.stats().connecting, 6);
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(gauge.dials(), 6);
    let s = pool.stats();
    assert_eq!((s.created, s.reused), (6, 44));
}

#[tokio::test(start_paused = true)]
async fn total_limit_closes_the_least_recently_used_idle_connection() {
    let net = MemoryNetwork::new();
    let a = PoolKey::new("http", memory_server(&net, "a", Mode::KeepAlive)).unwrap();
    let b = PoolKey::new("http", memory_server(&net, "b", Mode::KeepAlive)).unwrap();
    let c = PoolKey::new("http", memory_server(&net, "c", Mode::KeepAlive)).unwrap();
    let dialer = Counting::new(net.dialer());
    let gauge = dialer.gauge.clone();
    let cfg = PoolConfig::default().max_per_host(2).max_total(2);
    let pool = Pool::with_config(dialer, cfg).unwrap();

    let (a1, c1) = (pool.get(&a).await.unwrap(), pool.get(&c).await.unwrap());
    drop(a1); // idle longest
    tokio::time::sleep(Duration::from_secs(1)).await;
    drop(c1);
    let b1 = pool.get(&b).await.unwrap();
    assert!(!b1.is_reused());
    let s = pool.stats();
    assert_eq!((s.created, s.evicted, s.open()), (3, 1, 2));
    assert_eq!(gauge.open(), 2);
    assert_eq!(
        pool.key_stats(&a).unwrap().evicted,
        1,
        "a's was the older one"
    );
    assert_eq!(pool.key_stats(&c).unwrap().idle, 1);
}

#[tokio::test]
async fn a_caller_blocked_by_the_total_limit_gets_the_next_free_room() {
    let net = MemoryNetwork::new();
    let a = PoolKey::new("http", memory_server(&net, "a", Mode::KeepAlive)).unwrap();
    let b = PoolKey::new("http", memory_server(&net, "b", Mode::KeepAlive)).unwrap();
    let cfg = PoolConfig::default().max_per_host(2).max_total(2);
    let pool = Pool::with_config(net.dialer(), cfg).unwrap();

    let a1 = pool.get(&a).await.unwrap();
    let a2 = pool.get(&a).await.unwrap();
    let waiter = {
        let (pool, b) = (pool.clone(), b.clone());
        tokio::spawn(async move {
            let mut conn = pool.get(&b).await.unwrap();
            exchange(&mut conn).await.unwrap();
        })
    };
    until("b queues", || pool.stats().waiting == 1).await;
    // a1 goes idle: nobody waits for `a`, so it is closed to make room for `b`.
    drop(a1);
    waiter.await.unwrap();
    let s = pool.stats();
    assert_eq!((s.created, s.evicted, s.waiting), (3, 1, 0));
    assert!(s.open() <= 2);
    drop(a2);
}

#[tokio::test]
async fn limit_of_one_serialises_users_on_one_connection() {
    let net = MemoryNetwork::new();
    let target = memory_server(&net, "api", Mode::KeepAlive);
    let pool = Pool::with_config(net.dialer(), PoolConfig::default().max_per_host(1)).unwrap();
    let key = PoolKey::new("http", target).unwrap();
    let active = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (pool, key, active) = (pool.clone(), key.clone(), active.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = pool.get(&key).await.unwrap();
            let now = active.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            assert_eq!(now, 0, "two users hold the only connection");
            exchange(&mut conn).await.unwrap();
            active.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(pool.stats().created, 1);
    assert_eq!(net.dial_count(), 1);
}

#[tokio::test]
async fn callers_blocked_by_the_total_limit_are_served_oldest_first_across_keys() {
    let net = MemoryNetwork::new();
    let a = PoolKey::new("http", memory_server(&net, "a", Mode::KeepAlive)).unwrap();
    let b = PoolKey::new("http", memory_server(&net, "b", Mode::KeepAlive)).unwrap();
    let c = PoolKey::new("http", memory_server(&net, "c", Mode::KeepAlive)).unwrap();
    let cfg = PoolConfig::default().max_per_host(2).max_total(2);
    let pool = Pool::with_config(net.dialer(), cfg).unwrap();
    let a1 = pool.get(&a).await.unwrap();
    let a2 = pool.get(&a).await.unwrap();

    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for (i, key) in [c, b].into_iter().enumerate() {
        let (p, order) = (pool.clone(), order.clone());
        tasks.push(tokio::spawn(async move {
            let conn = p.get(&key).await.unwrap();
            order.lock().unwrap().push(key.target().to_string());
            conn // held, so the next one needs the other slot
        }));
        until("the caller queues", || pool.stats().waiting == i + 1).await;
    }
    drop(a2);
    until("one is served", || order.lock().unwrap().len() == 1).await;
    drop(a1);
    let mut held = Vec::new();
    for t in tasks {
        held.push(t.await.unwrap());
    }
    assert_eq!(*order.lock().unwrap(), ["c:80", "b:80"]);
    assert_eq!(pool.stats().open(), 2);
}
