//! HealthCheck on tokio's paused clock: thresholds, timeouts, latency, stopping.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ghostnet_resilience::HealthCheck;
use ghostnet_runtime::Shutdown;
use tokio::time::Instant;

const INTERVAL: Duration = Duration::from_secs(1);

/// A fake fleet: per endpoint, whether it answers and how long it takes.
#[derive(Clone, Default)]
struct Fleet {
    state: Arc<Mutex<HashMap<&'static str, (bool, Duration)>>>,
    probes: Arc<AtomicU32>,
}

impl Fleet {
    fn set(&self, endpoint: &'static str, up: bool, latency: Duration) {
        self.state.lock().unwrap().insert(endpoint, (up, latency));
    }

    fn probe(
        &self,
    ) -> impl Fn(&'static str) -> std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>
    + Send
    + Sync
    + 'static {
        let fleet = self.clone();
        move |endpoint| {
            let fleet = fleet.clone();
            Box::pin(async move {
                fleet.probes.fetch_add(1, Ordering::SeqCst);
                let (up, latency) = fleet.state.lock().unwrap()[endpoint];
                tokio::time::sleep(latency).await;
                if up {
                    Ok(())
                } else {
                    Err(format!("{endpoint}: connection refused"))
                }
            })
        }
    }
}

#[tokio::test(start_paused = true)]
async fn three_failures_mark_down_and_two_successes_mark_up() {
    let fleet = Fleet::default();
    fleet.set("a", true, Duration::ZERO);
    fleet.set("b", false, Duration::ZERO);
    let start = Instant::now();
    let health = HealthCheck::builder(["a", "b"], fleet.probe())
        .interval(INTERVAL)
        .unhealthy_threshold(3)
        .healthy_threshold(2)
        .spawn()
        .unwrap();
    assert_eq!(health.healthy(), ["a", "b"], "endpoints start healthy");
    let mut changes = health.subscribe();

    changes.changed().await.unwrap();
    // Rounds at 0, 1, 2 s: the third failure in a row marks "b" down.
    assert_eq!(start.elapsed(), 2 * INTERVAL);
    assert_eq!(health.healthy(), ["a"]);
    let b = health.status(&"b").unwrap();
    assert!(!b.healthy);
    assert_eq!(b.consecutive_failures, 3);
    assert_eq!(b.checks, 3);
    assert_eq!(b.last_error.as_deref(), Some("b: connection refused"));
    assert_eq!(b.last_checked, Some(start + 2 * INTERVAL));

    fleet.set("b", true, Duration::ZERO);
    changes.changed().await.unwrap();
    // Successes at 3 and 4 s bring it back.
    assert_eq!(start.elapsed(), 4 * INTERVAL);
    assert_eq!(health.healthy(), ["a", "b"]);
    let b = health.status(&"b").unwrap();
    assert_eq!((b.consecutive_successes, b.consecutive_failures), (2, 0));
    assert_eq!(b.last_error, None);
    let a = health.status(&"a").unwrap();
    assert_eq!((a.checks, a.consecutive_failures), (5, 0));
    assert!(health.status(&"unknown").is_none());
}

#[tokio::test(start_paused = true)]
async fn a_single_failure_does_not_flip_health() {
    let fleet = Fleet::default();
    fleet.set("a", false, Duration::ZERO);
    let health = HealthCheck::builder(["a"], fleet.probe())
        .interval(INTERVAL)
        .spawn()
        .unwrap();
    tokio::time::sleep(INTERVAL / 2).await; // after the first round
    fleet.set("a", true, Duration::ZERO);
    tokio::time::sleep(INTERVAL * 5).await;
    let a = health.status(&"a").unwrap();
    assert!(a.healthy);
    assert_eq!(a.checks, 6);
    assert!(!health.subscribe().has_changed().unwrap());
}

#[tokio::test(start_paused = true)]
async fn slow_probes_time_out_and_count_as_failures() {
    let fleet = Fleet::default();
    fleet.set("slow", true, Duration::from_secs(60));
    let start = Instant::now();
    let health = HealthCheck::builder(["slow"], fleet.probe())
        .interval(Duration::from_secs(2))
        .timeout(Duration::from_secs(1))
        .unhealthy_threshold(3)
        .spawn()
        .unwrap();
    health.subscribe().changed().await.unwrap();
    // Rounds start at 0, 2, 4 s and each fails after its 1 s timeout.
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    let s = health.status(&"slow").unwrap();
    assert!(!s.healthy);
    assert!(s.last_error.unwrap().contains("timed out after 1s"));
    assert_eq!(s.last_latency, None);
}

#[tokio::test(start_paused = true)]
async fn records_latency_of_successful_probes() {
    let fleet = Fleet::default();
    fleet.set("near", true, Duration::from_millis(30));
    fleet.set("far", true, Duration::from_millis(250));
    let start = Instant::now();
    let health = HealthCheck::builder(["near", "far"], fleet.probe())
        .interval(INTERVAL)
        .spawn()
        .unwrap();
    tokio::time::sleep(INTERVAL / 2).await;
    let statuses = health.statuses();
    assert_eq!(statuses[0].last_latency, Some(Duration::from_millis(30)));
    assert_eq!(statuses[1].last_latency, Some(Duration::from_millis(250)));
    // The round finishes when its slowest probe does; probes run concurrently.
    assert_eq!(
        statuses[0].last_checked,
        Some(start + Duration::from_millis(250))
    );
}

#[tokio::test(start_paused = true)]
async fn endpoints_can_start_unhealthy() {
    let fleet = Fleet::default();
    fleet.set("a", true, Duration::ZERO);
    let start = Instant::now();
    let health = HealthCheck::builder(["a"], fleet.probe())
        .interval(INTERVAL)
        .start_healthy(false)
        .healthy_threshold(2)
        .spawn()
        .unwrap();
    assert!(health.healthy().is_empty());
    health.subscribe().changed().await.unwrap();
    assert_eq!(start.elapsed(), INTERVAL);
    assert_eq!(health.healthy(), ["a"]);
}

#[tokio::test(start_paused = true)]
async fn stops_probing_when_dropped() {
    let fleet = Fleet::default();
    fleet.set("a", true, Duration::ZERO);
    let probe = fleet.probe();
    let health = HealthCheck::builder(["a"], probe)
        .interval(INTERVAL)
        .spawn()
        .unwrap();
    tokio::time::sleep(INTERVAL * 2 + INTERVAL / 2).await;
    assert_eq!(fleet.probes.load(Ordering::SeqCst), 3);
    assert!(health.is_running());
    drop(health);
    tokio::time::sleep(INTERVAL * 60).await;
    assert_eq!(fleet.probes.load(Ordering::SeqCst), 3);
    // The task, and with it the probe closure and its clone of the fleet, are gone.
    assert_eq!(Arc::strong_count(&fleet.probes), 1);
}

#[tokio::test(start_paused = true)]
async fn stops_when_the_shutdown_fires() {
    let fleet = Fleet::default();
    fleet.set("a", false, Duration::from_millis(10));
    let shutdown = Shutdown::new();
    let health = HealthCheck::builder(["a"], fleet.probe())
        .interval(INTERVAL)
        .shutdown(&shutdown)
        .spawn()
        .unwrap();
    tokio::time::sleep(INTERVAL + INTERVAL / 2).await;
    assert_eq!(shutdown.running(), 1);
    let before = Instant::now();
    let report = shutdown.shutdown().await;
    assert!(report.is_clean(), "{report}");
    // It stopped at once (tokio time), not at the drain deadline.
    assert_eq!(before.elapsed(), Duration::ZERO);
    assert!(!health.is_running());
    tokio::time::sleep(INTERVAL * 10).await;
    assert_eq!(fleet.probes.load(Ordering::SeqCst), 2);
    // The last results stay readable.
    assert_eq!(health.status(&"a").unwrap().consecutive_failures, 2);
}

#[tokio::test(start_paused = true)]
async fn probes_with_an_error_type_of_their_own() {
    let health = HealthCheck::builder([1u16, 2, 3], |port: u16| async move {
        if port % 2 == 1 {
            Ok(port)
        } else {
            Err(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
        }
    })
    .interval(INTERVAL)
    .unhealthy_threshold(1)
    .spawn()
    .unwrap();
    health.subscribe().changed().await.unwrap();
    assert_eq!(health.healthy(), [1, 3]);
    assert!(
        health
            .status(&2)
            .unwrap()
            .last_error
            .unwrap()
            .contains("refused"),
        "{:?}",
        health.status(&2)
    );
}
