//! RetryPolicy on tokio's paused clock: attempt counts, exact delays, what stops it.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ghostnet_resilience::{
    Backoff, FailureKind, GiveUp, Jitter, RetryError, RetryOn, RetryPolicy, RetryPolicyBuilder,
};
use tokio::time::Instant;

const BASE: Duration = Duration::from_millis(100);

/// A builder with no budget (tested separately) and the given backoff.
fn policy(backoff: Backoff) -> RetryPolicyBuilder {
    RetryPolicy::builder()
        .backoff(backoff)
        .base_delay(BASE)
        .max_delay(Duration::from_secs(1))
        .without_budget()
}

/// `(attempt, delay)` of every retry, as told to the `on_retry` hook.
type RetryLog = Arc<Mutex<Vec<(u32, Duration)>>>;

/// Adds an `on_retry` hook that records `(attempt, delay)`.
fn recorded(b: RetryPolicyBuilder) -> (RetryPolicy, RetryLog) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    let p = b
        .on_retry(move |e| l.lock().unwrap().push((e.attempt, e.delay)))
        .build()
        .unwrap();
    (p, log)
}

/// Runs an operation that always fails with `kind`; returns the error, the attempt
/// numbers it saw, and the virtual time it took.
async fn always_failing(
    p: &RetryPolicy,
    kind: FailureKind,
) -> (RetryError<FailureKind>, Vec<u32>, Duration) {
    let start = Instant::now();
    let mut seen = Vec::new();
    let err = p
        .run(|attempt| {
            seen.push(attempt);
            async move { Err::<(), _>(kind) }
        })
        .await
        .unwrap_err();
    (err, seen, start.elapsed())
}

#[tokio::test(start_paused = true)]
async fn constant_backoff_waits_base_delay_between_attempts() {
    let (p, log) = recorded(policy(Backoff::Constant).max_attempts(4));
    let (err, seen, took) = always_failing(&p, FailureKind::Transient).await;
    assert_eq!(seen, [1, 2, 3, 4]);
    assert_eq!(err.attempts(), 4);
    assert_eq!(err.reason(), GiveUp::AttemptsExhausted);
    assert_eq!(took, BASE * 3);
    assert_eq!(*log.lock().unwrap(), [(1, BASE), (2, BASE), (3, BASE)]);
}

#[tokio::test(start_paused = true)]
async fn exponential_without_jitter_doubles_up_to_the_cap() {
    let (p, log) = recorded(
        policy(Backoff::Exponential)
            .max_attempts(7)
            .jitter(Jitter::none()),
    );
    let (err, _, took) = always_failing(&p, FailureKind::Timeout).await;
    assert_eq!(err.attempts(), 7);
    let delays: Vec<u128> = log
        .lock()
        .unwrap()
        .iter()
        .map(|(_, d)| d.as_millis())
        .collect();
    assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
    assert_eq!(took, Duration::from_millis(3500));
}

#[tokio::test(start_paused = true)]
async fn full_jitter_stays_within_zero_and_the_cap_and_is_reproducible() {
    let run = || async {
        let (p, log) = recorded(
            policy(Backoff::Exponential)
                .max_attempts(12)
                .jitter(Jitter::seeded(42)),
        );
        let (_, _, took) = always_failing(&p, FailureKind::Transient).await;
        let log = log.lock().unwrap().clone();
        (log, took)
    };
    let (log, took) = run().await;
    assert_eq!(log.len(), 11);
    for &(retry, delay) in &log {
        let cap = Backoff::Exponential.cap(retry, BASE, Duration::from_secs(1));
        assert!(delay <= cap, "retry {retry}: {delay:?} above cap {cap:?}");
    }
    // The clock moved by exactly the reported delays.
    assert_eq!(took, log.iter().map(|(_, d)| *d).sum::<Duration>());
    // Jitter really spreads: not every delay is its cap.
    assert!(
        log.iter().any(|&(retry, d)| {
            d < Backoff::Exponential.cap(retry, BASE, Duration::from_secs(1))
        })
    );
    // Same seed, same delays.
    assert_eq!(run().await.0, log);
}

#[tokio::test(start_paused = true)]
async fn custom_jitter_source_sets_exact_delays() {
    let (p, log) = recorded(
        policy(Backoff::Exponential)
            .max_attempts(4)
            .jitter(Jitter::from_fn(|cap| cap / 4)),
    );
    let (_, _, took) = always_failing(&p, FailureKind::Transient).await;
    let delays: Vec<u128> = log
        .lock()
        .unwrap()
        .iter()
        .map(|(_, d)| d.as_millis())
        .collect();
    assert_eq!(delays, [25, 50, 100]);
    assert_eq!(took, Duration::from_millis(175));
}

#[tokio::test(start_paused = true)]
async fn succeeds_after_transient_failures() {
    let p = policy(Backoff::Constant).max_attempts(5).build().unwrap();
    let start = Instant::now();
    let v = p
        .run(|attempt| async move {
            match attempt {
                1 => Err(io::Error::from(io::ErrorKind::ConnectionReset)),
                2 => Err(io::Error::from(io::ErrorKind::ConnectionRefused)),
                _ => Ok(attempt),
            }
        })
        .await
        .unwrap();
    assert_eq!(v, 3);
    assert_eq!(start.elapsed(), BASE * 2);
}

#[tokio::test(start_paused = true)]
async fn permanent_errors_stop_at_once() {
    let (p, log) = recorded(policy(Backoff::Constant).max_attempts(5));
    let start = Instant::now();
    let err = p
        .run(|_| async { Err::<(), _>(io::Error::from(io::ErrorKind::PermissionDenied)) })
        .await
        .unwrap_err();
    assert_eq!(err.attempts(), 1);
    assert_eq!(err.reason(), GiveUp::NotRetryable(FailureKind::Permanent));
    assert_eq!(err.error().kind(), io::ErrorKind::PermissionDenied);
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert!(log.lock().unwrap().is_empty());
    assert!(err.to_string().starts_with("gave up after 1 attempt(s)"));
}

#[tokio::test(start_paused = true)]
async fn retry_on_filters_kinds() {
    let p = policy(Backoff::Constant)
        .max_attempts(5)
        .retry_on(RetryOn::all().server_errors(false))
        .build()
        .unwrap();
    let (err, seen, _) = always_failing(&p, FailureKind::for_status(500, None)).await;
    assert_eq!(seen, [1]);
    assert!(matches!(
        err.reason(),
        GiveUp::NotRetryable(FailureKind::ServerError { status: 500, .. })
    ));
    // Other kinds are still retried.
    let (err, _, _) = always_failing(&p, FailureKind::Timeout).await;
    assert_eq!(err.attempts(), 5);
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_instead_of_backoff() {
    let (p, log) = recorded(
        policy(Backoff::Exponential)
            .max_attempts(3)
            .max_retry_after(Duration::from_secs(30)),
    );
    let start = Instant::now();
    let v = p
        .run(|attempt| async move {
            match attempt {
                1 => Err(FailureKind::for_status(503, Some(Duration::from_secs(7)))),
                2 => Err(FailureKind::TooManyRequests {
                    retry_after: Some(Duration::from_secs(2)),
                }),
                _ => Ok("done"),
            }
        })
        .await
        .unwrap();
    assert_eq!(v, "done");
    assert_eq!(start.elapsed(), Duration::from_secs(9));
    assert_eq!(
        *log.lock().unwrap(),
        [(1, Duration::from_secs(7)), (2, Duration::from_secs(2))]
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_above_the_limit_fails_without_sleeping() {
    let p = policy(Backoff::Exponential)
        .max_attempts(5)
        .build()
        .unwrap(); // limit = max_delay = 1 s
    let start = Instant::now();
    let kind = FailureKind::TooManyRequests {
        retry_after: Some(Duration::from_secs(3600)),
    };
    let (err, seen, _) = always_failing(&p, kind).await;
    assert_eq!(seen, [1]);
    assert_eq!(
        err.reason(),
        GiveUp::RetryAfterTooLong {
            retry_after: Duration::from_secs(3600),
            limit: Duration::from_secs(1),
        }
    );
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert!(err.to_string().contains("raise max_retry_after"));
}

#[tokio::test(start_paused = true)]
async fn retry_after_header_values_flow_through_the_parser() {
    let now = std::time::SystemTime::now();
    let parsed = ghostnet_resilience::parse_retry_after("86400", now).unwrap();
    // The parser caps a hostile day-long wait at an hour; the policy refuses even that.
    assert_eq!(parsed, ghostnet_resilience::retry::RETRY_AFTER_CAP);
    let p = policy(Backoff::Constant).build().unwrap();
    let kind = FailureKind::for_status(503, Some(parsed));
    let (err, _, took) = always_failing(&p, kind).await;
    assert!(matches!(err.reason(), GiveUp::RetryAfterTooLong { .. }));
    assert_eq!(took, Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn max_elapsed_stops_before_an_overlong_wait() {
    let p = policy(Backoff::Constant)
        .base_delay(Duration::from_secs(1))
        .max_delay(Duration::from_secs(1))
        .max_attempts(100)
        .max_elapsed(Duration::from_millis(3500))
        .build()
        .unwrap();
    let (err, seen, took) = always_failing(&p, FailureKind::Transient).await;
    // Waits end at 1, 2, 3 s; the fourth would end at 4 s > 3.5 s.
    assert_eq!(seen, [1, 2, 3, 4]);
    assert_eq!(took, Duration::from_secs(3));
    assert_eq!(
        err.reason(),
        GiveUp::DeadlineExceeded {
            would_be: Duration::from_secs(4),
            limit: Duration::from_millis(3500),
        }
    );
}

#[tokio::test(start_paused = true)]
async fn slow_attempts_count_against_max_elapsed() {
    let p = policy(Backoff::Constant)
        .max_attempts(10)
        .max_elapsed(Duration::from_secs(10))
        .build()
        .unwrap();
    let err = p
        .run(|_| async {
            tokio::time::sleep(Duration::from_secs(6)).await;
            Err::<(), _>(FailureKind::Timeout)
        })
        .await
        .unwrap_err();
    assert_eq!(err.attempts(), 2);
    assert!(matches!(err.reason(), GiveUp::DeadlineExceeded { .. }));
}

#[tokio::test(start_paused = true)]
async fn single_attempt_policy_never_retries() {
    let p = policy(Backoff::Constant).max_attempts(1).build().unwrap();
    let (err, seen, _) = always_failing(&p, FailureKind::Transient).await;
    assert_eq!(seen, [1]);
    assert_eq!(err.reason(), GiveUp::AttemptsExhausted);
}

#[tokio::test(start_paused = true)]
async fn ghostnet_errors_are_classified() {
    let p = policy(Backoff::Constant).max_attempts(3).build().unwrap();
    let err = p
        .run(|_| async { Err::<(), _>(ghostnet_runtime::Error::Timeout(Duration::from_secs(1))) })
        .await
        .unwrap_err();
    assert_eq!(err.attempts(), 3);
    let err = p
        .run(|_| async {
            Err::<(), _>(ghostnet_transport::Error::InvalidTarget {
                input: "x".into(),
                reason: "no port".into(),
            })
        })
        .await
        .unwrap_err();
    assert_eq!(err.attempts(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_run_future_is_send() {
    fn assert_send<T: Send>(t: T) -> T {
        t
    }
    let p = RetryPolicy::default();
    let handle =
        tokio::spawn(async move { assert_send(p.run(|_| async { Ok::<_, io::Error>(1) })).await });
    assert_eq!(handle.await.unwrap().unwrap(), 1);
}
