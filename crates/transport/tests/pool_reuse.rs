//! Exclusive pool: reuse on sequential requests, statistics, discard, take-out, and
//! connections that must not go back.

mod pool_support;

use ghostnet_transport::pool::{Pool, PoolConfig, PoolKey, PoolStats};
use ghostnet_transport::{Error, MemoryNetwork, Target};
use pool_support::*;
use tokio::io::AsyncReadExt;

fn key(scheme: &str, target: &Target) -> PoolKey {
    PoolKey::new(scheme, target.clone()).unwrap()
}

#[tokio::test]
async fn sequential_requests_reuse_one_connection() {
    let net = MemoryNetwork::new();
    let target = memory_server(&net, "api", Mode::KeepAlive);
    let pool = Pool::new(net.dialer());
    let key = key("http", &target);
    const N: u64 = 50;
    for i in 0..N {
        let mut conn = pool.get(&key).await.unwrap();
        assert_eq!(conn.is_reused(), i > 0, "request {i}");
        exchange(&mut conn).await.unwrap();
    }
    let s = pool.stats();
    assert_eq!((s.created, s.reused, s.evicted), (1, N - 1, 0));
    assert_eq!(net.dial_count(), 1);
    assert_eq!(pool.key_stats(&key), Some(s));
}

#[tokio::test]
async fn sequential_requests_reuse_over_real_tcp() {
    let target = tcp_server(Mode::KeepAlive).await;
    let dialer = Counting::new(TcpDial);
    let gauge = dialer.gauge.clone();
    let pool = Pool::new(dialer);
    let key = key("http", &target);
    for _ in 0..100 {
        let mut conn = pool.get(&key).await.unwrap();
        exchange(&mut conn).await.unwrap();
    }
    let s = pool.stats();
    assert_eq!((s.created, s.reused), (1, 99));
    assert_eq!((gauge.dials(), gauge.open()), (1, 1));
    drop(pool);
    assert_eq!(gauge.open(), 0, "dropping the pool closes idle connections");
}

#[tokio::test]
async fn stats_follow_every_state() {
    let net = MemoryNetwork::new();
    let a = key("http", &memory_server(&net, "a", Mode::KeepAlive));
    let b = key("http", &memory_server(&net, "b", Mode::KeepAlive));
    let pool = Pool::new(net.dialer());
    assert_eq!(pool.stats(), PoolStats::default());
    assert_eq!(pool.key_stats(&a), None);

    let c1 = pool.get(&a).await.unwrap();
    let c2 = pool.get(&a).await.unwrap();
    let c3 = pool.get(&b).await.unwrap();
    let s = pool.stats();
    assert_eq!(
        (s.created, s.in_use, s.leases, s.idle, s.open()),
        (3, 3, 3, 0, 3)
    );
    let sa = pool.key_stats(&a).unwrap();
    assert_eq!((sa.created, sa.in_use), (2, 2));

    drop(c1);
    let s = pool.stats();
    assert_eq!((s.in_use, s.idle, s.leases, s.open()), (2, 1, 2, 3));
    drop((c2, c3));
    let s = pool.stats();
    assert_eq!((s.in_use, s.idle, s.leases, s.open()), (0, 3, 0, 3));

    let _c = pool.get(&a).await.unwrap();
    let s = pool.stats();
    assert_eq!((s.created, s.reused, s.in_use, s.idle), (3, 1, 1, 2));
    let by_key = pool.stats_by_key();
    assert_eq!(by_key.len(), 2);
    assert_eq!(by_key[0].0, a);
    assert_eq!((by_key[0].1.reused, by_key[1].1.reused), (1, 0));
    // Per-key figures add up to the totals.
    let sum: u64 = by_key.iter().map(|(_, s)| s.created).sum();
    assert_eq!(sum, pool.stats().created);
}

#[tokio::test]
async fn keys_with_other_schemes_do_not_share() {
    let net = MemoryNetwork::new();
    let target = memory_server(&net, "api", Mode::KeepAlive);
    let pool = Pool::new(net.dialer());
    drop(pool.get(&key("http", &target)).await.unwrap());
    let conn = pool.get(&key("h2c", &target)).await.unwrap();
    assert!(!conn.is_reused());
    assert_eq!(pool.stats().created, 2);
}

#[tokio::test]
async fn discard_does_not_return_the_connection() {
    let net = MemoryNetwork::new();
    let target = memory_server(&net, "api", Mode::KeepAlive);
    let dialer = Counting::new(net.dialer());
    let gauge = dialer.gauge.clone();
    let pool = Pool::new(dialer);
    let key = key("http", &target);

    let mut conn = pool.get(&key).await.unwrap();
    exchange(&mut conn).await.unwrap();
    conn.discard();
    let s = pool.stats();
    assert_eq!((s.discarded, s.idle, s.in_use, s.open()), (1, 0, 0, 0));
    assert_eq!(gauge.open(), 0, "the discarded stream is closed");

    let mut conn = pool.get(&key).await.unwrap();
    assert!(!conn.is_reused());
    conn.set_reusable(false);
    assert!(!conn.is_reusable());
    drop(conn);
    let s = pool.stats();
    assert_eq!((s.created, s.reused, s.discarded, s.idle), (2, 0, 2, 0));
}

#[tokio::test]
async fn io_error_or_end_of_stream_keeps_a_connection_out() {
    let net = MemoryNetwork::new();
    let target = memory_server(&net, "api", Mode::CloseAfterResponse);
    let pool = Pool::new(net.dialer());
    let key = key("http", &target);
    let mut conn = pool.get(&key).await.unwrap();
    exchange(&mut conn).await.unwrap();
    assert!(conn.is_reusable());
    let n = conn.read(&mut [0u8; 8]).await.unwrap();
    assert_eq!(n, 0, "server closed");
    assert!(!conn.is_reusable(), "end of stream seen through the guard");
    drop(conn);
    assert_eq!(pool.stats().discarded, 1);
}

#[tokio::test]
async fn into_inner_takes_the_stream_out_and_frees_the_slot() {
    let net = MemoryNetwork::new();
    let target = memory_server(&net, "api", Mode::KeepAlive);
    let pool = Pool::with_config(net.dialer(), PoolConfig::default().max_per_host(1)).unwrap();
    let key = key("ws", &target);
    let mut raw = pool.get(&key).await.unwrap().into_inner();
    exchange(&mut raw).await.unwrap(); // still usable, now owned by us
    let s = pool.stats();
    assert_eq!((s.open(), s.discarded), (0, 1));
    // The slot is free: a second connection fits under max_per_host = 1.
    let conn = pool.get(&key).await.unwrap();
    assert!(!conn.is_reused());
}

#[tokio::test]
async fn get_new_never_reuses() {
    let net = MemoryNetwork::new();
    let target = memory_server(&net, "api", Mode::KeepAlive);
    let pool = Pool::with_config(net.dialer(), PoolConfig::default().max_per_host(1)).unwrap();
    let key = key("http", &target);
    drop(pool.get(&key).await.unwrap());
    // At the per-host limit with one idle connection: it is closed to make room.
    let mut conn = pool.get_new(&key).await.unwrap();
    assert!(!conn.is_reused());
    exchange(&mut conn).await.unwrap();
    let s = pool.stats();
    assert_eq!((s.created, s.reused, s.evicted, s.open()), (2, 0, 1, 1));
}

#[tokio::test]
async fn dial_errors_surface_and_free_the_slot() {
    let net = MemoryNetwork::new();
    let pool = Pool::with_config(net.dialer(), PoolConfig::default().max_per_host(1)).unwrap();
    let key: PoolKey = "http://nobody:80".parse().unwrap();
    for _ in 0..3 {
        let err = pool.get(&key).await.unwrap_err();
        assert!(matches!(err, Error::Connect { .. }), "{err}");
    }
    let s = pool.stats();
    assert_eq!((s.connecting, s.open(), s.created), (0, 0, 0));
}

#[test]
fn invalid_config_is_an_error_not_a_panic() {
    let net = MemoryNetwork::new();
    let err = Pool::with_config(net.dialer(), PoolConfig::default().max_per_host(0)).unwrap_err();
    assert!(
        err.to_string().contains("max_per_host") && err.to_string().contains("at least 1"),
        "{err}"
    );
}
