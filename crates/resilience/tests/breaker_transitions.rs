//! CircuitBreaker on tokio's paused clock: trips at the ratio only after the minimum
//! calls, fails fast while open, probes when half-open, recovers.

use std::time::Duration;

use ghostnet_resilience::{BreakerState, CallError, CircuitBreaker, Error};
use tokio::time::Instant;

const COOLDOWN: Duration = Duration::from_secs(5);

fn breaker(min_calls: u32, probes: u32) -> CircuitBreaker {
    CircuitBreaker::builder()
        .failure_ratio(0.5)
        .min_calls(min_calls)
        .window(Duration::from_secs(10))
        .cooldown(COOLDOWN)
        .half_open_probes(probes)
        .build()
        .unwrap()
}

async fn ok(b: &CircuitBreaker) -> Result<(), CallError<&'static str>> {
    b.call(async { Ok(()) }).await
}

async fn fail(b: &CircuitBreaker) -> Result<(), CallError<&'static str>> {
    b.call(async { Err("boom") }).await
}

/// Drives a breaker into the open state.
async fn trip(b: &CircuitBreaker, calls: u32) {
    for _ in 0..calls {
        let _ = fail(b).await;
    }
    assert_eq!(b.state(), BreakerState::Open);
}

#[tokio::test(start_paused = true)]
async fn does_not_trip_before_the_minimum_calls() {
    let b = breaker(10, 1);
    for i in 1..=9 {
        assert_eq!(fail(&b).await, Err(CallError::Failed("boom")));
        assert_eq!(b.state(), BreakerState::Closed, "tripped after {i} calls");
    }
    // The tenth call reaches the minimum at a 100 % failure ratio.
    let _ = fail(&b).await;
    assert_eq!(b.state(), BreakerState::Open);
}

#[tokio::test(start_paused = true)]
async fn trips_exactly_at_the_ratio() {
    let b = breaker(10, 1);
    // 6 successes, 4 failures: 40 % < 50 %.
    for _ in 0..6 {
        ok(&b).await.unwrap();
    }
    for _ in 0..4 {
        let _ = fail(&b).await;
    }
    assert_eq!(b.state(), BreakerState::Closed);
    assert_eq!(b.stats().calls, 10);
    assert_eq!(b.stats().failures, 4);
    // A fifth failure: 5 of 11 = 45 %, still closed; a sixth: 6 of 12 = 50 %, open.
    let _ = fail(&b).await;
    assert_eq!(b.state(), BreakerState::Closed);
    let _ = fail(&b).await;
    assert_eq!(b.state(), BreakerState::Open);
}

#[tokio::test(start_paused = true)]
async fn old_failures_slide_out_of_the_window() {
    let b = breaker(4, 1);
    for _ in 0..3 {
        let _ = fail(&b).await;
    }
    // 11 s later those failures are gone: three more fail without reaching 4 calls.
    tokio::time::advance(Duration::from_secs(11)).await;
    for _ in 0..3 {
        let _ = fail(&b).await;
    }
    assert_eq!(b.state(), BreakerState::Closed);
    assert_eq!(b.stats().calls, 3);
    let _ = fail(&b).await;
    assert_eq!(b.state(), BreakerState::Open);
}

#[tokio::test(start_paused = true)]
async fn open_fails_fast_without_running_the_call() {
    let b = breaker(2, 1);
    trip(&b, 2).await;
    let mut ran = false;
    let start = Instant::now();
    let r = b
        .call(async {
            ran = true;
            Ok::<_, &str>(())
        })
        .await;
    assert!(!ran, "the call was made while open");
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(
        r,
        Err(CallError::Rejected(Error::CircuitOpen {
            retry_in: COOLDOWN
        }))
    );
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(
        b.acquire().unwrap_err(),
        Error::CircuitOpen {
            retry_in: Duration::from_secs(3)
        }
    );
    assert!(r.unwrap_err().to_string().contains("failing fast"));
}

#[tokio::test(start_paused = true)]
async fn half_open_after_the_cooldown_and_a_successful_probe_closes() {
    let b = breaker(2, 1);
    trip(&b, 2).await;
    tokio::time::advance(COOLDOWN - Duration::from_millis(1)).await;
    assert_eq!(b.state(), BreakerState::Open);
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(b.state(), BreakerState::HalfOpen);
    ok(&b).await.unwrap();
    assert_eq!(b.state(), BreakerState::Closed);
    // Closing starts from an empty window: one failure does not reopen it.
    assert_eq!(b.stats().calls, 0);
    let _ = fail(&b).await;
    assert_eq!(b.state(), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_failed_probe_reopens_for_another_cooldown() {
    let b = breaker(2, 1);
    trip(&b, 2).await;
    tokio::time::advance(COOLDOWN).await;
    assert_eq!(fail(&b).await, Err(CallError::Failed("boom")));
    assert_eq!(b.state(), BreakerState::Open);
    assert_eq!(
        b.acquire().unwrap_err(),
        Error::CircuitOpen { retry_in: COOLDOWN }
    );
}

#[tokio::test(start_paused = true)]
async fn half_open_admits_only_the_probe_calls() {
    let b = breaker(2, 3);
    trip(&b, 2).await;
    tokio::time::advance(COOLDOWN).await;
    let probes: Vec<_> = (0..3).map(|_| b.acquire().unwrap()).collect();
    assert!(probes.iter().all(|p| p.is_probe()));
    assert_eq!(
        b.acquire().unwrap_err(),
        Error::CircuitHalfOpen { probes: 3 }
    );
    let mut probes = probes.into_iter();
    probes.next().unwrap().success();
    probes.next().unwrap().success();
    assert_eq!(b.state(), BreakerState::HalfOpen, "needs all 3 probes");
    // Slots are admissions, not concurrency: the two finished ones are not handed out again.
    assert!(b.acquire().is_err());
    probes.next().unwrap().success();
    assert_eq!(b.state(), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn watchers_see_every_transition() {
    use BreakerState::*;
    let b = breaker(1, 1);
    let mut rx = b.subscribe();
    let mut next = move || {
        assert!(rx.has_changed().unwrap(), "no transition signalled");
        *rx.borrow_and_update()
    };
    let _ = fail(&b).await;
    assert_eq!(next(), Open);
    tokio::time::advance(COOLDOWN).await;
    assert_eq!(b.state(), HalfOpen); // looking moves it on
    assert_eq!(next(), HalfOpen);
    let _ = fail(&b).await;
    assert_eq!(next(), Open);
    tokio::time::advance(COOLDOWN).await;
    ok(&b).await.unwrap(); // half-open on the call, closed by its success
    assert_eq!(next(), Closed);
}

#[tokio::test(start_paused = true)]
async fn a_watcher_task_wakes_on_trip_and_recovery() {
    let b = breaker(1, 1);
    let mut rx = b.subscribe();
    let watcher = tokio::spawn(async move {
        rx.wait_for(|s| *s == BreakerState::Open).await.unwrap();
        let opened = Instant::now();
        rx.wait_for(|s| *s == BreakerState::Closed).await.unwrap();
        opened.elapsed()
    });
    tokio::task::yield_now().await;
    let _ = fail(&b).await;
    tokio::task::yield_now().await;
    tokio::time::sleep(COOLDOWN).await;
    ok(&b).await.unwrap();
    assert_eq!(watcher.await.unwrap(), COOLDOWN);
}

#[tokio::test(start_paused = true)]
async fn clones_share_one_breaker() {
    let a = breaker(2, 1);
    let b = a.clone();
    let _ = fail(&a).await;
    let _ = fail(&b).await;
    assert_eq!(a.state(), BreakerState::Open);
    assert!(ok(&b).await.unwrap_err().is_rejected());
}

#[tokio::test(start_paused = true)]
async fn recovery_cycle_under_a_down_then_healthy_server() {
    // A server that is down for the first 20 s, then up; one call every 500 ms for 40 s.
    let b = breaker(5, 1);
    let start = Instant::now();
    let (mut made_down, mut made_up, mut rejected) = (0u32, 0u32, 0u32);
    while start.elapsed() < Duration::from_secs(40) {
        let down = start.elapsed() < Duration::from_secs(20);
        let made = if down { &mut made_down } else { &mut made_up };
        let r = b
            .call(async {
                *made += 1;
                if down { Err("down") } else { Ok(()) }
            })
            .await;
        if matches!(r, Err(CallError::Rejected(_))) {
            rejected += 1;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(b.state(), BreakerState::Closed);
    // While down: 5 calls trip it at 2 s, then one probe per 5 s cooldown (7, 12, 17 s).
    assert_eq!(made_down, 8);
    // Once up: still open until the probe at 22 s succeeds, then every call goes through.
    assert_eq!(made_up, 36);
    assert_eq!(rejected, 80 - 8 - 36);
}
