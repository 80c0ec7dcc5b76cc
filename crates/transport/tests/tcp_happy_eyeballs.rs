//! Happy Eyeballs (RFC 8305) against real loopback sockets, timed on tokio's paused
//! clock: with real sockets the runtime advances virtual time whenever it is idle, so a
//! black-holed attempt costs no real time and every delay is exact in virtual time.

mod support;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ghostnet_transport::tcp::{AttemptErrors, Resolve, StaticResolver, TcpDialer, TcpListener};
use ghostnet_transport::{Dial, Error, Listen, Target, TcpOptions};
use tokio::time::Instant;

fn listener(ip: &str) -> TcpListener {
    TcpListener::bind(format!("{ip}:0").parse().unwrap(), TcpOptions::default()).unwrap()
}

fn dialer_for(addrs: &[SocketAddr]) -> TcpDialer<StaticResolver> {
    TcpDialer::new().resolver(StaticResolver::new().with("svc.test", addrs.iter().copied()))
}

fn svc() -> Target {
    "svc.test:1".parse().unwrap()
}

#[tokio::test(start_paused = true)]
async fn dead_first_candidate_costs_one_attempt_delay() {
    let dead = support::black_hole("127.0.0.1");
    let live = listener("127.0.0.1");
    let dialer = dialer_for(&[dead.addr, live.local_addr()]);

    let start = Instant::now();
    let stream = dialer.dial(&svc()).await.unwrap();
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr());
    // The second attempt started when the first had run for the attempt delay, and
    // connected at once: the dead one did not hold it back any longer.
    assert_eq!(start.elapsed(), Duration::from_millis(250));
    let (_server, peer) = live.accept().await.unwrap();
    assert_eq!(peer, stream.local_addr().unwrap());
}

#[tokio::test(start_paused = true)]
async fn attempt_delay_is_configurable() {
    let dead = support::black_hole("127.0.0.1");
    let live = listener("127.0.0.1");
    let dialer =
        dialer_for(&[dead.addr, live.local_addr()]).attempt_delay(Duration::from_millis(40));

    let start = Instant::now();
    let stream = dialer.dial(&svc()).await.unwrap();
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr());
    assert_eq!(start.elapsed(), Duration::from_millis(40));
}

#[tokio::test(start_paused = true)]
async fn a_failed_attempt_starts_the_next_at_once() {
    let refused = support::refusing("127.0.0.1");
    let live = listener("127.0.0.1");
    let dialer = dialer_for(&[refused.addr, live.local_addr()]);

    let start = Instant::now();
    let stream = dialer.dial(&svc()).await.unwrap();
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr());
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_failure_starts_the_next_even_while_another_attempt_runs() {
    // t=0: dead starts. t=250ms: refused starts and fails at once, so live starts at
    // 250ms too instead of waiting for 500ms; dead is still pending all along.
    let dead = support::black_hole("127.0.0.1");
    let refused = support::refusing("127.0.0.1");
    let live = listener("127.0.0.1");
    let dialer = dialer_for(&[dead.addr, refused.addr, live.local_addr()]);

    let start = Instant::now();
    let stream = dialer.dial(&svc()).await.unwrap();
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr());
    assert_eq!(start.elapsed(), Duration::from_millis(250));
}

#[tokio::test(start_paused = true)]
async fn attempts_keep_running_until_one_wins() {
    // Two dead candidates before the live one: the live one starts after two delays,
    // while both dead attempts are still pending.
    let dead1 = support::black_hole("127.0.0.1");
    let dead2 = support::black_hole("127.0.0.1");
    let live = listener("127.0.0.1");
    let dialer = dialer_for(&[dead1.addr, dead2.addr, live.local_addr()]);

    let start = Instant::now();
    let stream = dialer.dial(&svc()).await.unwrap();
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr());
    assert_eq!(start.elapsed(), Duration::from_millis(500));
}

#[tokio::test(start_paused = true)]
async fn families_are_interleaved() {
    if !support::has_ipv6() {
        eprintln!("no IPv6 loopback here: the interleaving is covered by unit tests only");
        return;
    }
    // The resolver prefers IPv6 and lists two dead IPv6 addresses before the live IPv4
    // one. Interleaved, IPv4 is the second attempt: it starts after one delay, not two.
    let dead1 = support::black_hole("::1");
    let dead2 = support::black_hole("::1");
    let live = listener("127.0.0.1");
    let dialer = dialer_for(&[dead1.addr, dead2.addr, live.local_addr()]);

    let start = Instant::now();
    let stream = dialer.dial(&svc()).await.unwrap();
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr());
    assert_eq!(start.elapsed(), Duration::from_millis(250));
}

#[tokio::test(start_paused = true)]
async fn all_refused_names_the_target_and_every_address() {
    let a = support::refusing("127.0.0.1");
    let b = support::refusing("127.0.0.1");
    let dialer = dialer_for(&[a.addr, b.addr]);

    let start = Instant::now();
    let err = dialer.dial(&svc()).await.unwrap_err();
    assert_eq!(
        start.elapsed(),
        Duration::ZERO,
        "refusals do not wait for the delay"
    );
    let Error::Connect { target, source } = &err else {
        panic!("expected Connect, got {err:?}");
    };
    assert_eq!(target, "svc.test:1");
    assert_eq!(source.kind(), io::ErrorKind::ConnectionRefused);
    let all = source
        .get_ref()
        .and_then(|e| e.downcast_ref::<AttemptErrors>())
        .expect("the attempts are attached");
    let tried: Vec<_> = all.attempts().iter().map(|(addr, _)| *addr).collect();
    assert_eq!(tried, [a.addr, b.addr]);
    let msg = err.to_string();
    assert!(msg.contains("svc.test:1"), "{msg}");
    assert!(msg.contains(&a.addr.to_string()), "{msg}");
    assert!(msg.contains(&b.addr.to_string()), "{msg}");
    assert!(err.is_transient());
}

/// Counts lookups, answering with one fixed address.
struct Counting {
    calls: AtomicUsize,
    addr: SocketAddr,
}

impl Resolve for Counting {
    async fn resolve(&self, _host: &str, _port: u16) -> io::Result<Vec<SocketAddr>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(vec![self.addr])
    }
}

#[tokio::test]
async fn ip_literals_skip_the_resolver() {
    let live = listener("127.0.0.1");
    let resolver = Arc::new(Counting {
        calls: AtomicUsize::new(0),
        addr: live.local_addr(),
    });
    let dialer = TcpDialer::new().resolver(resolver.clone());

    dialer.dial(&live.local_addr().into()).await.unwrap();
    assert_eq!(resolver.calls.load(Ordering::SeqCst), 0);
    dialer.dial(&"any.test:9".parse().unwrap()).await.unwrap();
    assert_eq!(resolver.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn resolution_failures_are_clear() {
    let dialer = TcpDialer::new().resolver(StaticResolver::new().with("empty.test", []));
    let err = dialer
        .dial(&"missing.test:80".parse().unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Resolve { host, .. } if host == "missing.test"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("could not resolve missing.test"),
        "{err}"
    );

    let err = dialer
        .dial(&"empty.test:80".parse().unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::NoAddresses { host } if host == "empty.test"),
        "{err:?}"
    );
}

#[tokio::test]
async fn system_resolver_reaches_localhost() {
    // "localhost" may resolve to ::1 first; with nothing listening there, the refusal
    // moves straight on to 127.0.0.1.
    let live = listener("127.0.0.1");
    let target = Target::new("localhost", live.local_addr().port());
    let stream = TcpDialer::new().dial(&target).await.unwrap();
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr());
}
