//! Multiplexed pool: one connection shared by concurrent users, stream limits, replacement
//! of closed connections, establish failures and idle eviction.

mod pool_support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use ghostnet_transport::pool::{Establish, Multiplexed, MuxPool, PoolConfig, PoolKey};
use ghostnet_transport::{
    Error, Listen, MemoryDialer, MemoryNetwork, MemoryStream, Result, Target,
};
use pool_support::until;
use tokio::io::AsyncReadExt;

/// Stands in for h2's `SendRequest`.
#[derive(Clone, Debug)]
struct Session {
    id: usize,
    closed: Arc<AtomicBool>,
    peer_max: Option<usize>,
    /// Lets the test see when every clone of the handle is gone.
    _alive: Arc<()>,
}

impl Multiplexed for Session {
    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
    fn max_concurrent_streams(&self) -> Option<usize> {
        self.peer_max
    }
}

/// Keeps accepted connections so the test can close them (the peer going away).
#[derive(Clone, Default)]
struct Server(Arc<Mutex<Vec<MemoryStream>>>);

impl Server {
    fn start(net: &MemoryNetwork, name: &str) -> (Self, Target) {
        let target: Target = format!("{name}:443").parse().unwrap();
        let listener = net.listen(&target).unwrap();
        let server = Self::default();
        let conns = server.0.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                conns.lock().unwrap().push(conn);
            }
        });
        (server, target)
    }

    /// Closes every connection accepted so far, once `n` have been accepted.
    async fn close_all(&self, n: usize) {
        until("the server accepts", || self.0.lock().unwrap().len() == n).await;
        self.0.lock().unwrap().clear();
    }
}

/// How the test's establish step behaves.
#[derive(Clone, Default)]
struct Handshake {
    made: Arc<AtomicUsize>,
    delay: Duration,
    peer_max: Option<usize>,
    fail_first: Arc<AtomicBool>,
    sessions: Arc<Mutex<Vec<Weak<()>>>>,
}

impl Establish<MemoryStream> for Handshake {
    type Handle = Session;

    async fn establish(&self, mut stream: MemoryStream, _key: PoolKey) -> Result<Session> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        if self.fail_first.swap(false, Ordering::SeqCst) {
            return Err(Error::io(
                "handshake",
                std::io::Error::new(std::io::ErrorKind::InvalidData, "bad preface"),
            ));
        }
        let closed = Arc::new(AtomicBool::new(false));
        let flag = closed.clone();
        // The connection's driver: flags the session closed when the peer goes away.
        tokio::spawn(async move {
            let _ = stream.read(&mut [0u8; 1]).await;
            flag.store(true, Ordering::Release);
        });
        let alive = Arc::new(());
        self.sessions.lock().unwrap().push(Arc::downgrade(&alive));
        Ok(Session {
            id: self.made.fetch_add(1, Ordering::SeqCst),
            closed,
            peer_max: self.peer_max,
            _alive: alive,
        })
    }
}

type Pool = MuxPool<MemoryDialer, Handshake>;

fn setup(cfg: PoolConfig, hs: Handshake) -> (MemoryNetwork, Server, Pool, PoolKey) {
    let net = MemoryNetwork::new();
    let (server, target) = Server::start(&net, "h2");
    let pool = MuxPool::with_config(net.dialer(), hs, cfg).unwrap();
    (net, server, pool, PoolKey::new("https", target).unwrap())
}

#[tokio::test]
async fn concurrent_users_share_one_connection() {
    let (net, _server, pool, key) = setup(PoolConfig::default(), Handshake::default());
    let barrier = Arc::new(tokio::sync::Barrier::new(21));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (pool, key, barrier) = (pool.clone(), key.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let shared = pool.get(&key).await.unwrap();
            barrier.wait().await; // all 20 hold their share at once
            barrier.wait().await;
            shared.id
        }));
    }
    barrier.wait().await;
    let s = pool.stats();
    assert_eq!((s.created, s.leases, s.in_use, s.idle), (1, 20, 1, 0));
    assert_eq!(s.reused, 19);
    barrier.wait().await;
    for t in tasks {
        assert_eq!(t.await.unwrap(), 0, "every user got session 0");
    }
    assert_eq!(net.dial_count(), 1);
    let s = pool.stats();
    assert_eq!((s.leases, s.in_use, s.idle), (0, 0, 1));
}

#[tokio::test(start_paused = true)]
async fn callers_arriving_during_the_handshake_wait_for_it() {
    let hs = Handshake {
        delay: Duration::from_secs(1),
        ..Handshake::default()
    };
    let (net, _server, pool, key) = setup(PoolConfig::default(), hs);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (pool, key) = (pool.clone(), key.clone());
        tasks.push(tokio::spawn(
            async move { pool.get(&key).await.unwrap().id },
        ));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 0);
    }
    assert_eq!(net.dial_count(), 1, "one dial served the whole burst");
    let s = pool.stats();
    assert_eq!((s.created, s.reused), (1, 9));
}

#[tokio::test]
async fn a_closed_connection_is_replaced() {
    let (_net, server, pool, key) = setup(PoolConfig::default(), Handshake::default());
    let first = pool.get(&key).await.unwrap();
    let handle = (*first).clone();
    assert_eq!(first.id, 0);
    drop(first);
    server.close_all(1).await; // the peer goes away
    until("the session sees the close", || handle.is_closed()).await;
    let second = pool.get(&key).await.unwrap();
    assert_eq!(second.id, 1);
    assert!(!second.is_reused());
    let s = pool.stats();
    assert_eq!((s.created, s.evicted, s.open()), (2, 1, 1));
}

#[tokio::test]
async fn a_connection_closed_while_in_use_gets_no_new_users() {
    let (_net, server, pool, key) = setup(PoolConfig::default(), Handshake::default());
    let first = pool.get(&key).await.unwrap();
    server.close_all(1).await;
    until("the session sees the close", || first.is_closed()).await;
    let second = pool.get(&key).await.unwrap();
    assert_eq!((first.id, second.id), (0, 1));
    drop(first); // returns to an evicted connection: nothing to do
    let s = pool.stats();
    assert_eq!(
        (s.created, s.evicted, s.leases, s.in_use, s.idle),
        (2, 1, 1, 1, 0)
    );
}

#[tokio::test]
async fn the_stream_limit_spreads_users_over_connections() {
    let cfg = PoolConfig::default()
        .max_streams_per_connection(2)
        .max_per_host(3);
    let (_net, _server, pool, key) = setup(cfg, Handshake::default());
    let mut held = Vec::new();
    for _ in 0..6 {
        held.push(pool.get(&key).await.unwrap());
    }
    let mut ids: Vec<usize> = held.iter().map(|s| s.id).collect();
    ids.sort_unstable();
    assert_eq!(ids, [0, 0, 1, 1, 2, 2]);
    let s = pool.stats();
    assert_eq!((s.created, s.leases, s.in_use), (3, 6, 3));

    // All three connections are full: the seventh user queues for a stream slot.
    let waiter = {
        let (pool, key) = (pool.clone(), key.clone());
        tokio::spawn(async move { pool.get(&key).await.unwrap().id })
    };
    until("the seventh queues", || pool.stats().waiting == 1).await;
    let freed = held.remove(3).id;
    assert_eq!(waiter.await.unwrap(), freed, "it got the freed slot");
    assert_eq!(pool.stats().created, 3);
}

#[tokio::test]
async fn the_peer_stream_limit_is_respected() {
    let hs = Handshake {
        peer_max: Some(1),
        ..Handshake::default()
    };
    let (_net, _server, pool, key) = setup(PoolConfig::default(), hs);
    let a = pool.get(&key).await.unwrap();
    let b = pool.get(&key).await.unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(pool.stats().created, 2);
}

#[tokio::test]
async fn mark_broken_takes_the_connection_out() {
    let (_net, _server, pool, key) = setup(PoolConfig::default(), Handshake::default());
    let mut a = pool.get(&key).await.unwrap();
    let b = pool.get(&key).await.unwrap();
    a.mark_broken();
    drop(a);
    let c = pool.get(&key).await.unwrap();
    assert_eq!((b.id, c.id), (0, 1), "no new user on the broken connection");
    let s = pool.stats();
    assert_eq!((s.discarded, s.created, s.leases), (1, 2, 2));
}

#[tokio::test]
async fn an_establish_failure_is_returned_and_frees_the_slot() {
    let hs = Handshake {
        fail_first: Arc::new(AtomicBool::new(true)),
        ..Handshake::default()
    };
    let cfg = PoolConfig::default().max_per_host(1);
    let (_net, _server, pool, key) = setup(cfg, hs);
    let err = pool.get(&key).await.unwrap_err();
    assert!(err.to_string().contains("bad preface"), "{err}");
    let s = pool.stats();
    assert_eq!((s.connecting, s.open()), (0, 0));
    assert_eq!(pool.get(&key).await.unwrap().id, 0);
}

#[tokio::test(start_paused = true)]
async fn a_full_connection_makes_callers_wait_until_the_wait_timeout() {
    let cfg = PoolConfig::default()
        .max_per_host(1)
        .max_streams_per_connection(1)
        .wait_timeout(Duration::from_secs(3));
    let (_net, _server, pool, key) = setup(cfg, Handshake::default());
    let _a = pool.get(&key).await.unwrap();
    let err = pool.get(&key).await.unwrap_err();
    assert!(matches!(err, Error::PoolTimeout { after, .. } if after == Duration::from_secs(3)));
    assert_eq!(pool.stats().waiting, 0);
}

#[tokio::test(start_paused = true)]
async fn idle_connections_are_dropped_after_the_idle_timeout() {
    let hs = Handshake::default();
    let sessions = hs.sessions.clone();
    let (_net, _server, pool, key) = setup(PoolConfig::default(), hs);
    drop(pool.get(&key).await.unwrap());
    tokio::time::sleep(Duration::from_secs(91)).await;
    let s = pool.stats();
    assert_eq!((s.evicted, s.open()), (1, 0));
    let weak = sessions.lock().unwrap()[0].clone();
    assert!(weak.upgrade().is_none(), "the pool let go of the handle");
    assert_eq!(pool.get(&key).await.unwrap().id, 1);
}
