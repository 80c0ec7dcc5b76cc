//! Exclusive pool: servers that close kept-alive sockets, unsolicited bytes, and idle
//! eviction (lazy and by the reaper). A stale connection is never handed out.

mod pool_support;

use std::time::Duration;

use ghostnet_transport::MemoryNetwork;
use ghostnet_transport::pool::{Pool, PoolConfig, PoolKey};
use pool_support::*;

#[tokio::test]
async fn server_closing_after_each_response_never_fails_a_request() {
    let net = MemoryNetwork::new();
    let target = memory_server(&net, "api", Mode::CloseAfterResponse);
    let pool = Pool::new(net.dialer());
    let key = PoolKey::new("http", target).unwrap();
    const N: u64 = 20;
    for i in 0..N {
        let mut conn = pool.get(&key).await.unwrap();
        assert!(
            !conn.is_reused(),
            "request {i} got a connection the server closed"
        );
        exchange(&mut conn).await.unwrap();
    }
    let s = pool.stats();
    assert_eq!((s.created, s.reused), (N, 0));
    assert_eq!(s.evicted, N, "each closed connection was found and evicted");
}

#[tokio::test]
async fn server_closing_after_each_response_over_real_tcp() {
    let target = tcp_server(Mode::CloseAfterResponse).await;
    let dialer = Counting::new(TcpDial);
    let gauge = dialer.gauge.clone();
    let pool = Pool::new(dialer);
    let key = PoolKey::new("http", target).unwrap();
    for i in 0..20 {
        // Let the runtime's I/O driver see the server's FIN, as it would have long
        // before the next request of a real client.
        settle().await;
        let mut conn = pool.get(&key).await.unwrap();
        assert!(
            !conn.is_reused(),
            "request {i} got a connection the server closed"
        );
        exchange(&mut conn).await.unwrap();
    }
    assert_eq!(pool.stats().created, 20);
    settle().await;
    assert!(
        gauge.open() <= 1,
        "closed sockets are not held: {}",
        gauge.open()
    );
}

#[tokio::test(start_paused = true)]
async fn server_closing_idle_sockets_never_fails_a_request() {
    let net = MemoryNetwork::new();
    let server_idle = Duration::from_secs(5);
    let target = memory_server(&net, "api", Mode::CloseWhenIdle(server_idle));
    let pool = Pool::new(net.dialer()); // our idle timeout (60 s) is longer
    let key = PoolKey::new("http", target).unwrap();
    for round in 0..5u64 {
        for i in 0..3 {
            let mut conn = pool.get(&key).await.unwrap();
            assert_eq!(conn.is_reused(), i > 0, "round {round} request {i}");
            exchange(&mut conn).await.unwrap();
        }
        tokio::time::sleep(server_idle * 2).await; // the server gives up on us
    }
    let s = pool.stats();
    assert_eq!((s.created, s.reused, s.evicted), (5, 10, 4));
}

#[tokio::test]
async fn server_closing_idle_sockets_over_real_tcp_with_one_retry() {
    // Real time here: the server closes after 30 ms idle, we pause 100 ms. A request may
    // race the server's close; the documented retry-once-on-reused pattern covers that.
    let target = tcp_server(Mode::CloseWhenIdle(Duration::from_millis(30))).await;
    let pool = Pool::new(TcpDial);
    let key = PoolKey::new("http", target).unwrap();
    let (mut ok, mut retries) = (0, 0);
    for _ in 0..4 {
        for _ in 0..3 {
            let mut conn = pool.get(&key).await.unwrap();
            if let Err(e) = exchange(&mut conn).await {
                assert!(conn.is_reused(), "a fresh connection failed: {e}");
                conn.discard();
                retries += 1;
                let mut fresh = pool.get_new(&key).await.unwrap();
                exchange(&mut fresh).await.unwrap();
            }
            ok += 1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ok, 12);
    let s = pool.stats();
    assert_eq!(s.created + s.reused, 12 + retries, "{s:?}");
}

#[tokio::test]
async fn a_connection_with_unsolicited_bytes_is_not_reused() {
    let net = MemoryNetwork::new();
    let target = memory_server(&net, "api", Mode::TrailingGarbage);
    let pool = Pool::new(net.dialer());
    let key = PoolKey::new("http", target).unwrap();
    for _ in 0..3 {
        let mut conn = pool.get(&key).await.unwrap();
        assert!(!conn.is_reused());
        exchange(&mut conn).await.unwrap();
        settle().await; // the stray byte arrives
    }
    let s = pool.stats();
    assert_eq!((s.created, s.reused, s.evicted), (3, 0, 3));
}

#[tokio::test(start_paused = true)]
async fn idle_connections_are_evicted_by_the_reaper() {
    let net = MemoryNetwork::new();
    let target = memory_server(&net, "api", Mode::KeepAlive);
    let dialer = Counting::new(net.dialer());
    let gauge = dialer.gauge.clone();
    let pool = Pool::new(dialer);
    let key = PoolKey::new("http", target).unwrap();
    drop(pool.get(&key).await.unwrap());
    drop(pool.get(&key).await.unwrap());

    tokio::time::sleep(Duration::from_secs(59)).await;
    assert_eq!(pool.stats().idle, 1, "not yet: the idle timeout is 60 s");
    // The reaper runs every 30 s; by 90 s it has seen the connection expire. No checkout
    // happens meanwhile, so only the reaper can have closed it.
    tokio::time::sleep(Duration::from_secs(31)).await;
    let s = pool.stats();
    assert_eq!((s.idle, s.evicted, s.open()), (0, 1, 0));
    assert_eq!(gauge.open(), 0, "the socket is closed, not just forgotten");
}

#[tokio::test(start_paused = true)]
async fn an_expired_idle_connection_is_not_handed_out() {
    let net = MemoryNetwork::new();
    let target = memory_server(&net, "api", Mode::KeepAlive);
    let cfg = PoolConfig::default().idle_timeout(Duration::from_secs(10));
    let pool = Pool::with_config(net.dialer(), cfg).unwrap();
    let key = PoolKey::new("http", target).unwrap();
    drop(pool.get(&key).await.unwrap());
    tokio::time::sleep(Duration::from_secs(9)).await;
    assert!(
        pool.get(&key).await.unwrap().is_reused(),
        "still fresh at 9 s"
    );
    tokio::time::sleep(Duration::from_secs(10)).await;
    let mut conn = pool.get(&key).await.unwrap();
    assert!(!conn.is_reused());
    exchange(&mut conn).await.unwrap();
    let s = pool.stats();
    assert_eq!((s.created, s.evicted), (2, 1));
}
