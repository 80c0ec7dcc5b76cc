//! Failures, cooldowns, per-path 404s, failover with `next_after`, the all-down case and
//! the lowest speed limit. Paused clock: every time asserted is virtual.

use std::time::Duration;

use ghostnet_pkgmgr::Error;
use ghostnet_pkgmgr::mirror::{
    Candidate, DEFAULT_COOLDOWN, DEFAULT_MAX_COOLDOWN, DEFAULT_NOT_FOUND_TTL, MirrorFailure,
    MirrorManager, MirrorState, SpeedVerdict,
};
use ghostnet_runtime::Instant;
use tokio::time::advance;

const PATH: &str = "extra/os/x86_64/firefox-140.0-1-x86_64.pkg.tar.zst";
const SEC: Duration = Duration::from_secs(1);
const MIB: u64 = 1 << 20;

fn on(m: &MirrorManager, host: &str, path: &str) -> Candidate {
    m.candidates(path)
        .unwrap()
        .into_iter()
        .find(|c| c.base().host() == Some(host))
        .unwrap_or_else(|| panic!("{host} is not a candidate for {path}"))
}

fn hosts(cands: &[Candidate]) -> Vec<(String, bool)> {
    cands
        .iter()
        .map(|c| (c.base().host().unwrap().to_owned(), c.is_available()))
        .collect()
}

fn two() -> MirrorManager {
    MirrorManager::builder()
        .primary("http://a/arch")
        .fallback("http://b/arch")
        .exploration(0.0)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn repeated_errors_cool_a_mirror_down_until_the_cooldown_ends() {
    let m = two();
    let t0 = Instant::now();
    let a = on(&m, "a", PATH);
    m.report_failure(&a, MirrorFailure::Timeout).unwrap();
    m.report_failure(&a, MirrorFailure::Connect).unwrap();
    assert_eq!(m.stats()[0].state, MirrorState::Active, "2 < threshold");
    assert!(on(&m, "a", PATH).is_available());
    m.report_failure(&a, MirrorFailure::Timeout).unwrap();
    let s = &m.stats()[0];
    assert_eq!(
        s.state,
        MirrorState::Cooldown {
            until: t0 + DEFAULT_COOLDOWN,
            cause: MirrorFailure::Timeout
        }
    );
    assert_eq!((s.failures, s.consecutive_failures), (3, 3));
    assert_eq!(
        hosts(&m.candidates(PATH).unwrap()),
        [("b".into(), true), ("a".into(), false)]
    );
    assert_eq!(m.best_mirror(PATH).unwrap().base().host(), Some("b"));

    advance(DEFAULT_COOLDOWN - SEC).await;
    assert!(!m.stats()[0].state.is_active(), "still resting at 29 s");
    advance(SEC).await;
    let s = &m.stats()[0];
    assert!(s.state.is_active() && s.recovering, "back at 30 s");
    assert!(on(&m, "a", PATH).is_available());

    // Not proven yet: one more failure sends it back, for twice as long.
    let t1 = Instant::now();
    m.report_failure(&a, MirrorFailure::Timeout).unwrap();
    assert_eq!(
        m.stats()[0].state,
        MirrorState::Cooldown {
            until: t1 + 2 * DEFAULT_COOLDOWN,
            cause: MirrorFailure::Timeout
        }
    );
    // A transfer that was already running finishes fine: that proves it works.
    m.report_success(&a, MIB, SEC).unwrap();
    let s = &m.stats()[0];
    assert!(s.state.is_active() && !s.recovering);
    assert_eq!((s.successes, s.consecutive_failures), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn checksum_mismatch_and_retry_after_rest_a_mirror_at_once() {
    let m = two();
    let t0 = Instant::now();
    m.report_failure(&on(&m, "a", PATH), MirrorFailure::ChecksumMismatch)
        .unwrap();
    assert_eq!(
        m.stats()[0].state,
        MirrorState::Cooldown {
            until: t0 + DEFAULT_MAX_COOLDOWN,
            cause: MirrorFailure::ChecksumMismatch
        }
    );
    let busy = MirrorFailure::ServerError {
        status: 503,
        retry_after: Some(Duration::from_secs(120)),
    };
    m.report_failure(&on(&m, "b", PATH), busy).unwrap();
    assert_eq!(
        m.stats()[1].state,
        MirrorState::Cooldown {
            until: t0 + Duration::from_secs(120),
            cause: busy
        }
    );
}

#[tokio::test(start_paused = true)]
async fn not_found_skips_the_mirror_for_that_path_only() {
    let m = two();
    let other = "core/os/x86_64/zstd-1.5.7-1-x86_64.pkg.tar.zst";
    m.report_failure(&on(&m, "a", PATH), MirrorFailure::NotFound)
        .unwrap();
    assert_eq!(hosts(&m.candidates(PATH).unwrap()), [("b".into(), true)]);
    assert_eq!(m.best_mirror(PATH).unwrap().base().host(), Some("b"));
    assert_eq!(m.best_mirror(other).unwrap().base().host(), Some("a"));
    let s = &m.stats()[0];
    assert!(s.state.is_active());
    assert_eq!((s.failures, s.not_found, s.reliability), (0, 1, 1.0));
    // The same path spelled differently is the same path.
    let spelled = format!("/{PATH}");
    assert_eq!(m.candidates(&spelled).unwrap().len(), 1);
    // Mirrors sync: after the TTL, `a` is asked again.
    advance(DEFAULT_NOT_FOUND_TTL).await;
    assert_eq!(m.best_mirror(PATH).unwrap().base().host(), Some("a"));
}

#[tokio::test(start_paused = true)]
async fn not_found_everywhere_is_final() {
    let m = two();
    let a = m.best_mirror(PATH).unwrap();
    m.report_failure(&a, MirrorFailure::NotFound).unwrap();
    let b = m.next_after(&a).unwrap();
    assert_eq!(b.base().host(), Some("b"));
    m.report_failure(&b, MirrorFailure::NotFound).unwrap();
    let err = m.next_after(&b).unwrap_err();
    assert!(
        matches!(&err, Error::NotOnAnyMirror { mirrors: 2, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("not found on 2 mirror(s)"),
        "{err}"
    );
    assert!(matches!(
        m.best_mirror(PATH),
        Err(Error::NotOnAnyMirror { .. })
    ));

    // aria2's --max-file-not-found: give up after the first 404.
    let m = MirrorManager::builder()
        .fallbacks(["http://a/", "http://b/", "http://c/"])
        .max_not_found(1)
        .build()
        .unwrap();
    let a = m.best_mirror(PATH).unwrap();
    m.report_failure(&a, MirrorFailure::NotFound).unwrap();
    assert!(matches!(
        m.next_after(&a),
        Err(Error::NotOnAnyMirror { mirrors: 1, .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn next_after_walks_every_mirror_and_always_ends() {
    let m = MirrorManager::builder()
        .primary("http://a/")
        .fallbacks(["http://b/", "http://c/"])
        .exploration(0.0)
        .build()
        .unwrap();
    let t0 = Instant::now();
    let mut tried = Vec::new();
    let mut mirror = m.best_mirror(PATH).unwrap();
    let err = loop {
        tried.push(mirror.base().host().unwrap().to_owned());
        m.report_failure(&mirror, MirrorFailure::Connect).unwrap();
        match m.next_after(&mirror) {
            Ok(next) => {
                assert_eq!(next.path(), mirror.path(), "same file, next mirror");
                mirror = next;
            }
            Err(e) => break e,
        }
    };
    assert_eq!(
        &tried[..3],
        ["a", "b", "c"],
        "each mirror once before any again"
    );
    assert_eq!(tried.len(), 9, "3 mirrors x failure_threshold: {tried:?}");
    match &err {
        Error::NoMirrorAvailable {
            cooling,
            unhealthy,
            retry_in,
            ..
        } => {
            assert_eq!((*cooling, *unhealthy), (3, 0));
            assert_eq!(*retry_in, Some(DEFAULT_COOLDOWN));
        }
        other => panic!("{other:?}"),
    }
    assert!(m.stats().iter().all(|s| matches!(
        s.state,
        MirrorState::Cooldown { until, .. } if until == t0 + DEFAULT_COOLDOWN
    )));
}

#[tokio::test(start_paused = true)]
async fn a_lone_mirror_is_retried_until_its_cooldown() {
    let m = MirrorManager::builder()
        .primary("http://only/")
        .build()
        .unwrap();
    let c = m.best_mirror(PATH).unwrap();
    m.report_failure(&c, MirrorFailure::Timeout).unwrap();
    let again = m.next_after(&c).unwrap();
    assert_eq!(again.url(), c.url());
    m.report_failure(&again, MirrorFailure::Timeout).unwrap();
    m.report_failure(&m.next_after(&again).unwrap(), MirrorFailure::Timeout)
        .unwrap();
    assert!(matches!(
        m.next_after(&c),
        Err(Error::NoMirrorAvailable { cooling: 1, .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn all_down_is_a_clear_error_and_candidates_list_the_least_bad() {
    let m = two();
    m.report_failure(&on(&m, "b", PATH), MirrorFailure::ChecksumMismatch)
        .unwrap();
    advance(SEC).await;
    let a = on(&m, "a", PATH);
    for _ in 0..3 {
        m.report_failure(&a, MirrorFailure::Connect).unwrap();
    }
    let err = m.best_mirror(PATH).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::NoMirrorAvailable { cooling: 2, unhealthy: 0, retry_in: Some(d), .. } if *d == DEFAULT_COOLDOWN
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.starts_with("no mirror is available for"), "{msg}");
    assert!(
        msg.contains("back in 30s") && msg.contains("wait and retry"),
        "{msg}"
    );
    // Least bad first: `a` is back in 30 s, `b` in 10 min.
    assert_eq!(
        hosts(&m.candidates(PATH).unwrap()),
        [("a".into(), false), ("b".into(), false)]
    );
    advance(DEFAULT_COOLDOWN).await;
    assert_eq!(m.best_mirror(PATH).unwrap().base().host(), Some("a"));
}

#[tokio::test(start_paused = true)]
async fn low_speed_verdicts_follow_the_limit() {
    let m = MirrorManager::builder()
        .fallbacks(["http://a/", "http://b/"])
        .lowest_speed_limit(100 * 1024)
        .build()
        .unwrap();
    let a = on(&m, "a", PATH);
    let verdict = m.report_throughput(&a, 50 * 1024, SEC).unwrap();
    assert_eq!(
        verdict,
        SpeedVerdict::TooSlow {
            rate: 50.0 * 1024.0,
            limit: 100.0 * 1024.0
        }
    );
    assert_eq!(
        m.report_throughput(&a, 500 * 1024, SEC).unwrap(),
        SpeedVerdict::Fine
    );
    assert_eq!(
        m.report_throughput(&a, 0, Duration::ZERO).unwrap(),
        SpeedVerdict::Fine,
        "no duration, no verdict"
    );
    // The loop abandons a slow transfer and reports it like any failure.
    m.report_failure(&a, MirrorFailure::LowSpeed).unwrap();
    assert_eq!(m.stats()[0].last_failure, Some(MirrorFailure::LowSpeed));

    // On a slow network (best known 200 KiB/s) the limit drops to a quarter of that.
    let m = MirrorManager::builder()
        .primary("http://a/")
        .lowest_speed_limit(100 * 1024)
        .ewma_weight(1.0)
        .build()
        .unwrap();
    let a = on(&m, "a", PATH);
    m.report_throughput(&a, 200 * 1024, SEC).unwrap();
    assert_eq!(
        m.report_throughput(&a, 60 * 1024, SEC).unwrap(),
        SpeedVerdict::Fine
    );
    assert!(
        m.report_throughput(&a, 10 * 1024, SEC)
            .unwrap()
            .is_too_slow()
    );
}

#[tokio::test(start_paused = true)]
async fn clones_share_state_across_tasks() {
    let m = two();
    let a = on(&m, "a", PATH);
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let (m, a) = (m.clone(), a.clone());
            tokio::spawn(async move { m.report_failure(&a, MirrorFailure::Timeout) })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert!(matches!(m.stats()[0].state, MirrorState::Cooldown { .. }));
}

#[test]
fn candidates_from_another_manager() {
    let m = two();
    let same = MirrorManager::builder()
        .primary("http://b/arch/")
        .build()
        .unwrap();
    let other = MirrorManager::builder()
        .primary("http://elsewhere/")
        .build()
        .unwrap();
    // The same mirror, handed out by another manager (at another position): understood.
    let b = same.best_mirror(PATH).unwrap();
    m.report_success(&b, MIB, SEC).unwrap();
    assert_eq!(m.stats()[1].successes, 1);
    // A mirror this manager does not have: a clear error.
    let c = other.best_mirror(PATH).unwrap();
    let err = m.report_failure(&c, MirrorFailure::Timeout).unwrap_err();
    assert!(matches!(&err, Error::UnknownMirror { url } if url == "http://elsewhere/"));
    assert!(err.to_string().contains("not managed here"));
    assert!(m.next_after(&c).is_err());
}
