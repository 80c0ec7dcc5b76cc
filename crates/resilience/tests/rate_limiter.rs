//! Rate limiters on tokio's paused clock: burst, then pacing at the rate; per-key
//! isolation; bounded memory.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ghostnet_resilience::Error;
use ghostnet_resilience::rate::{KeyedRateLimiter, RateLimit, RateLimiter};
use tokio::time::Instant;

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

#[tokio::test(start_paused = true)]
async fn admits_the_burst_then_paces_at_the_rate() {
    let limiter = RateLimiter::new(RateLimit::per_second(10).burst(20)).unwrap();
    let start = Instant::now();
    let mut admitted = Vec::new();
    for _ in 0..30 {
        limiter.until_ready().await;
        admitted.push(ms(start.elapsed()));
    }
    assert!(admitted[..20].iter().all(|t| *t == 0), "{admitted:?}");
    let paced: Vec<u128> = (1..=10).map(|i| i * 100).collect();
    assert_eq!(admitted[20..], paced[..]);
}

#[tokio::test(start_paused = true)]
async fn check_is_non_blocking_and_refills_with_time() {
    let limiter = RateLimiter::new(RateLimit::per_second(10).burst(20)).unwrap();
    let granted = (0..50).filter(|_| limiter.check().is_ok()).count();
    assert_eq!(granted, 20);
    assert_eq!(
        limiter.check(),
        Err(Error::RateLimited {
            retry_in: Duration::from_millis(100)
        })
    );
    // One second refills ten slots, not more.
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!((0..50).filter(|_| limiter.check().is_ok()).count(), 10);
    // A long idle spell refills only up to the burst.
    tokio::time::advance(Duration::from_secs(3600)).await;
    assert_eq!((0..50).filter(|_| limiter.check().is_ok()).count(), 20);
}

#[tokio::test(start_paused = true)]
async fn concurrent_waiters_share_the_rate() {
    let limiter = RateLimiter::new(RateLimit::per_second(5).burst(1)).unwrap();
    let times = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (limiter, times) = (limiter.clone(), times.clone());
        tasks.push(tokio::spawn(async move {
            limiter.until_ready().await;
            times.lock().unwrap().push(ms(start.elapsed()));
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut times = times.lock().unwrap().clone();
    times.sort_unstable();
    // One every 200 ms, whoever wins each slot.
    let expected: Vec<u128> = (0..10).map(|i| i * 200).collect();
    assert_eq!(times, expected);
}

#[tokio::test(start_paused = true)]
async fn slow_rates_below_one_per_second() {
    let limiter = RateLimiter::new(RateLimit::every(Duration::from_secs(5))).unwrap();
    let start = Instant::now();
    for _ in 0..3 {
        limiter.until_ready().await;
    }
    assert_eq!(start.elapsed(), Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn keys_are_isolated() {
    let limiter = KeyedRateLimiter::new(RateLimit::per_second(10).burst(5)).unwrap();
    let busy = "busy.example";
    let quiet = "quiet.example";
    assert_eq!(
        (0..100)
            .filter(|_| limiter.check_key(&busy).is_ok())
            .count(),
        5
    );
    // The busy key is exhausted; the quiet one still has its whole burst.
    assert!(limiter.check_key(&busy).is_err());
    assert_eq!(
        (0..100)
            .filter(|_| limiter.check_key(&quiet).is_ok())
            .count(),
        5
    );
    assert_eq!(limiter.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn until_key_ready_paces_each_key_on_its_own() {
    let limiter = KeyedRateLimiter::new(RateLimit::per_second(10).burst(1)).unwrap();
    let start = Instant::now();
    let times = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for key in ["a", "b"] {
        let (limiter, times) = (limiter.clone(), times.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..3 {
                limiter.until_key_ready(&key).await;
                times.lock().unwrap().push((key, ms(start.elapsed())));
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let times = times.lock().unwrap().clone();
    for key in ["a", "b"] {
        let mine: Vec<u128> = times
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, t)| *t)
            .collect();
        assert_eq!(mine, [0, 100, 200], "key {key}");
    }
}

#[tokio::test(start_paused = true)]
async fn keyed_memory_stays_bounded_under_many_keys() {
    let threshold = 100;
    let limiter =
        KeyedRateLimiter::with_cleanup_threshold(RateLimit::per_second(10).burst(1), threshold)
            .unwrap();
    let mut peak = 0;
    // 20 000 distinct keys (a crawl over many hosts), 50 new ones every 100 ms: each key
    // is idle again (indistinguishable from fresh) 100 ms after its one request.
    for batch in 0..400u32 {
        for i in 0..50 {
            limiter.check_key(&(batch * 50 + i)).unwrap();
        }
        peak = peak.max(limiter.len());
        tokio::time::advance(Duration::from_millis(100)).await;
    }
    assert!(peak <= 2 * threshold + 64, "peak {peak} keys");
    // Without cleanup the map would hold all 20 000.
    assert!(limiter.len() < 20_000);
}

#[tokio::test(start_paused = true)]
async fn active_keys_survive_cleanup() {
    let limiter =
        KeyedRateLimiter::with_cleanup_threshold(RateLimit::per_second(1).burst(1), 10).unwrap();
    // 200 keys used at once: all active, none may be forgotten (that would reset its limit).
    for k in 0..200u32 {
        limiter.check_key(&k).unwrap();
    }
    assert_eq!(limiter.len(), 200);
    for k in 0..200u32 {
        assert!(limiter.check_key(&k).is_err(), "key {k} lost its state");
    }
}
