//! The retry budget under a sustained outage: retries stop multiplying the load.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ghostnet_resilience::{Backoff, FailureKind, GiveUp, RetryBudget, RetryPolicy};

/// Sends `requests` requests, one every 10 ms, against a server that always fails, and
/// returns (attempts the server saw, requests that stopped for lack of budget).
async fn outage(policy: &RetryPolicy, requests: u32) -> (u32, u32) {
    let attempts = Arc::new(AtomicU32::new(0));
    let mut tasks = Vec::new();
    for _ in 0..requests {
        let (policy, attempts) = (policy.clone(), attempts.clone());
        tasks.push(tokio::spawn(async move {
            policy
                .run(|_| {
                    attempts.fetch_add(1, Ordering::Relaxed);
                    async { Err::<(), _>(FailureKind::for_status(503, None)) }
                })
                .await
                .unwrap_err()
        }));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut budget_stops = 0;
    for t in tasks {
        if t.await.unwrap().reason() == GiveUp::BudgetExhausted {
            budget_stops += 1;
        }
    }
    (attempts.load(Ordering::Relaxed), budget_stops)
}

fn policy(budget: Option<RetryBudget>) -> RetryPolicy {
    let b = RetryPolicy::builder()
        .max_attempts(4)
        .backoff(Backoff::Constant)
        .base_delay(Duration::from_millis(50));
    match budget {
        Some(budget) => b.budget(budget),
        None => b.without_budget(),
    }
    .build()
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn without_a_budget_an_outage_quadruples_the_load() {
    let (attempts, budget_stops) = outage(&policy(None), 500).await;
    assert_eq!(attempts, 2000);
    assert_eq!(budget_stops, 0);
}

#[tokio::test(start_paused = true)]
async fn budget_caps_retries_at_the_ratio_plus_the_floor() {
    // 500 requests over 5 s, inside one 10 s ttl: retries <= 10 % of 500 + 1/s × 10 s.
    let budget = RetryBudget::new(Duration::from_secs(10), 1, 0.1).unwrap();
    let (attempts, budget_stops) = outage(&policy(Some(budget.clone())), 500).await;
    let retries = attempts - 500;
    assert!(retries <= 50 + 10, "{retries} retries");
    // The budget was used, not left idle: nearly all of it went to retries.
    assert!(retries >= 55, "{retries} retries");
    // At most 60 / 3 requests could have used all their retries; the rest hit the budget.
    assert!(
        budget_stops >= 480,
        "{budget_stops} requests stopped by the budget"
    );
    assert_eq!(budget.available(), 0);
}

#[tokio::test(start_paused = true)]
async fn budget_refills_when_the_outage_ends() {
    let budget = RetryBudget::new(Duration::from_secs(2), 5, 0.0).unwrap();
    let p = policy(Some(budget.clone()));
    let (attempts, _) = outage(&p, 100).await;
    assert!(attempts < 100 + 2 * 5 + 1, "{attempts}");
    assert_eq!(budget.available(), 0);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(budget.available(), 10);
    // Healthy again: a request that fails once is retried.
    let v = p
        .run(|attempt| async move {
            if attempt == 1 {
                Err(FailureKind::Transient)
            } else {
                Ok(attempt)
            }
        })
        .await
        .unwrap();
    assert_eq!(v, 2);
}

#[tokio::test(start_paused = true)]
async fn a_budget_is_shared_by_every_policy_given_it() {
    let budget = RetryBudget::new(Duration::from_secs(10), 1, 0.0).unwrap(); // 10 retries
    let a = policy(Some(budget.clone()));
    let b = policy(Some(budget.clone()));
    let (attempts_a, _) = outage(&a, 3).await; // 3 first attempts + 9 retries
    assert_eq!(attempts_a, 12);
    let (attempts_b, stops) = outage(&b, 3).await; // 1 retry left
    assert_eq!(attempts_b, 4);
    assert_eq!(stops, 3);
}
