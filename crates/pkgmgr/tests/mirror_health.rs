//! Health checks with a fake probe: mirrors marked down and up, cooldowns lifted by a
//! good probe, probe latency and URLs. Paused clock: probe rounds run at exact virtual
//! times (every `INTERVAL`, the first at once).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ghostnet_pkgmgr::Error;
use ghostnet_pkgmgr::mirror::{MirrorFailure, MirrorManager, MirrorManagerBuilder, MirrorState};
use ghostnet_runtime::{Instant, Shutdown};
use http::Uri;
use tokio::time::sleep_until;

const PATH: &str = "core/os/x86_64/zstd-1.5.7-1-x86_64.pkg.tar.zst";
const INTERVAL: Duration = Duration::from_secs(10);

/// A fake `HEAD`: fails for host `a` while `a_down` is set, records every URL probed.
#[derive(Clone, Default)]
struct FakeProbe {
    a_down: Arc<AtomicBool>,
    probed: Arc<Mutex<Vec<String>>>,
}

impl FakeProbe {
    fn install(&self, b: MirrorManagerBuilder) -> MirrorManagerBuilder {
        let me = self.clone();
        b.health_check(move |url: Uri| {
            let me = me.clone();
            async move {
                me.probed.lock().unwrap().push(url.to_string());
                if url.host() == Some("a") && me.a_down.load(Ordering::SeqCst) {
                    Err("connection refused")
                } else {
                    Ok(())
                }
            }
        })
        .health_interval(INTERVAL)
    }
}

/// Just after the probe round at `t0 + n × INTERVAL` has been applied.
async fn after_round(t0: Instant, n: u32) {
    sleep_until(t0 + n * INTERVAL + Duration::from_millis(1)).await;
}

#[tokio::test(start_paused = true)]
async fn health_checks_mark_a_mirror_down_and_up() {
    let probe = FakeProbe::default();
    probe.a_down.store(true, Ordering::SeqCst);
    let t0 = Instant::now();
    let m = probe
        .install(MirrorManager::builder())
        .primary("http://a/")
        .fallback("http://b/")
        .exploration(0.0)
        .build()
        .unwrap();
    assert!(m.health_checks_running());
    after_round(t0, 1).await;
    assert!(m.stats()[0].state.is_active(), "2 failed probes < 3");
    assert_eq!(m.best_mirror(PATH).unwrap().base().host(), Some("a"));
    after_round(t0, 2).await;
    assert_eq!(
        m.stats()[0].state,
        MirrorState::Unhealthy {
            last_error: Some("connection refused".into())
        }
    );
    assert_eq!(m.best_mirror(PATH).unwrap().base().host(), Some("b"));
    let listed: Vec<_> = m
        .candidates(PATH)
        .unwrap()
        .iter()
        .map(|c| (c.base().to_string(), c.is_available()))
        .collect();
    assert_eq!(
        listed,
        [("http://b/".into(), true), ("http://a/".into(), false)]
    );
    assert!(
        m.stats()[0]
            .to_string()
            .contains("down (connection refused)")
    );

    probe.a_down.store(false, Ordering::SeqCst);
    after_round(t0, 3).await;
    assert!(!m.stats()[0].state.is_active(), "1 good probe < 2");
    after_round(t0, 4).await;
    let a = &m.stats()[0];
    assert!(a.state.is_active() && a.recovering);
    assert_eq!(m.best_mirror(PATH).unwrap().base().host(), Some("a"));
}

#[tokio::test(start_paused = true)]
async fn all_mirrors_down_by_health_is_a_clear_error() {
    let probe = FakeProbe::default();
    probe.a_down.store(true, Ordering::SeqCst);
    let t0 = Instant::now();
    let m = probe
        .install(MirrorManager::builder())
        .primary("http://a/")
        .build()
        .unwrap();
    after_round(t0, 2).await;
    let err = m.best_mirror(PATH).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NoMirrorAvailable {
                cooling: 0,
                unhealthy: 1,
                retry_in: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("1 down per health checks"));
}

#[tokio::test(start_paused = true)]
async fn a_good_probe_ends_a_cooldown_early_but_not_after_bad_data() {
    let probe = FakeProbe::default();
    let t0 = Instant::now();
    let m = probe
        .install(MirrorManager::builder())
        .fallbacks(["http://a/", "http://b/"])
        .cooldown(Duration::from_secs(300))
        .build()
        .unwrap();
    after_round(t0, 0).await; // the first round, before any failure
    let a = m.candidates(PATH).unwrap().remove(0);
    let b = m.candidates(PATH).unwrap().remove(1);
    for _ in 0..3 {
        m.report_failure(&a, MirrorFailure::Timeout).unwrap();
    }
    m.report_failure(&b, MirrorFailure::ChecksumMismatch)
        .unwrap();
    let stats = m.stats();
    assert!(
        !stats[0].state.is_active(),
        "a probe before the cooldown does not count"
    );
    assert!(!stats[1].state.is_active());
    after_round(t0, 1).await;
    let stats = m.stats();
    assert!(
        stats[0].state.is_active() && stats[0].recovering,
        "lifted at 10 s, not 300 s"
    );
    assert!(
        matches!(
            stats[1].state,
            MirrorState::Cooldown {
                cause: MirrorFailure::ChecksumMismatch,
                ..
            }
        ),
        "a mirror serving bad data answers probes fine: it keeps resting"
    );
}

#[tokio::test(start_paused = true)]
async fn probes_fetch_the_health_path_and_feed_latency() {
    let probed = Arc::new(Mutex::new(Vec::new()));
    let seen = probed.clone();
    let t0 = Instant::now();
    let m = MirrorManager::builder()
        .primary("http://a/arch")
        .fallback("http://b/")
        .health_path("lastsync")
        .health_interval(INTERVAL)
        .health_check(move |url: Uri| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(url.to_string());
                // A 40 ms round trip for `a`, 10 ms for `b`, in virtual time.
                let rtt = if url.host() == Some("a") { 40 } else { 10 };
                tokio::time::sleep(Duration::from_millis(rtt)).await;
                Ok::<_, std::io::Error>(())
            }
        })
        .build()
        .unwrap();
    after_round(t0, 0).await;
    sleep_until(t0 + Duration::from_millis(50)).await;
    let mut urls = probed.lock().unwrap().clone();
    urls.sort();
    assert_eq!(urls, ["http://a/arch/lastsync", "http://b/lastsync"]);
    let stats = m.stats();
    assert_eq!(stats[0].latency.map(|d| d.as_millis()), Some(40));
    assert_eq!(stats[1].latency.map(|d| d.as_millis()), Some(10));
    assert_eq!(
        stats[0].score, None,
        "latency alone is not a throughput measure"
    );
}

#[tokio::test(start_paused = true)]
async fn probes_stop_with_the_shutdown() {
    let shutdown = Shutdown::new();
    let probe = FakeProbe::default();
    let m = probe
        .install(MirrorManager::builder())
        .primary("http://a/")
        .shutdown(&shutdown)
        .build()
        .unwrap();
    tokio::time::sleep(INTERVAL).await;
    assert!(m.health_checks_running());
    let before = probe.probed.lock().unwrap().len();
    assert!(before >= 1);
    shutdown.trigger();
    shutdown.shutdown().await;
    assert!(!m.health_checks_running());
    tokio::time::sleep(10 * INTERVAL).await;
    assert_eq!(probe.probed.lock().unwrap().len(), before);
    // The last statuses stay readable.
    assert!(m.stats()[0].state.is_active());
}

#[test]
fn health_checks_need_a_runtime() {
    let err = FakeProbe::default()
        .install(MirrorManager::builder())
        .primary("http://a/")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::HealthCheck(_)), "{err:?}");
    assert!(err.to_string().contains("no tokio runtime"), "{err}");
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn bad_health_settings_are_refused() {
    let err = FakeProbe::default()
        .install(MirrorManager::builder())
        .primary("http://a/")
        .health_interval(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("`interval` is 0"), "{err}");
    let err = FakeProbe::default()
        .install(MirrorManager::builder())
        .primary("http://a/")
        .health_thresholds(0, 2)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("unhealthy_threshold"), "{err}");
    let err = MirrorManager::builder()
        .primary("http://a/")
        .health_path("../etc")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidMirrorPath { .. }), "{err:?}");
}
