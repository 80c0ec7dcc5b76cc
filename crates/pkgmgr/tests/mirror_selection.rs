//! Mirror ranking: measured throughput, latency, primary preference, exploration.

use std::time::Duration;

use ghostnet_pkgmgr::mirror::{Candidate, MirrorManager, MirrorManagerBuilder};

const PATH: &str = "core/os/x86_64/zstd-1.5.7-1-x86_64.pkg.tar.zst";
const SEC: Duration = Duration::from_secs(1);
const MIB: u64 = 1 << 20;

/// The candidate for the mirror on `host`.
fn on(m: &MirrorManager, host: &str) -> Candidate {
    m.candidates(PATH)
        .unwrap()
        .into_iter()
        .find(|c| c.base().host() == Some(host))
        .unwrap_or_else(|| panic!("{host} is not a candidate"))
}

/// Hosts in ranked order.
fn order(m: &MirrorManager) -> Vec<String> {
    m.candidates(PATH)
        .unwrap()
        .iter()
        .map(|c| c.base().host().unwrap().to_owned())
        .collect()
}

/// Reports a 1 s transfer of `bytes` from `host`.
fn transfer(m: &MirrorManager, host: &str, bytes: u64) {
    m.report_success(&on(m, host), bytes, SEC).unwrap();
}

/// No exploration, and each sample replaces the average: exact, predictable orders.
fn exact() -> MirrorManagerBuilder {
    MirrorManager::builder().exploration(0.0).ewma_weight(1.0)
}

#[test]
fn fastest_measured_mirror_goes_first() {
    let m = exact()
        .fallbacks(["http://a/", "http://b/", "http://c/"])
        .build()
        .unwrap();
    assert_eq!(order(&m), ["a", "b", "c"], "unmeasured: in the order added");
    transfer(&m, "a", MIB);
    transfer(&m, "b", 4 * MIB);
    transfer(&m, "c", 2 * MIB);
    assert_eq!(order(&m), ["b", "c", "a"]);
    assert_eq!(m.best_mirror(PATH).unwrap().base(), "http://b/");
    // `b` slows down mid-transfer: the ranking follows.
    m.report_throughput(&on(&m, "b"), MIB / 2, SEC).unwrap();
    assert_eq!(order(&m), ["c", "a", "b"]);
    let b = &m.stats()[1];
    assert_eq!(b.throughput, Some((MIB / 2) as f64));
    assert_eq!(b.successes, 1);
}

#[test]
fn moving_average_smooths_samples() {
    let m = MirrorManager::builder()
        .primary("http://a/")
        .ewma_weight(0.5)
        .build()
        .unwrap();
    transfer(&m, "a", 4 * MIB);
    transfer(&m, "a", 2 * MIB);
    assert_eq!(m.stats()[0].throughput, Some(3.0 * MIB as f64));
}

#[test]
fn unmeasured_mirrors_rank_between_fast_and_slow_ones() {
    let m = exact()
        .fallbacks(["http://slow/", "http://new/", "http://fast/"])
        .build()
        .unwrap();
    m.report_success(&on(&m, "slow"), 10 * 1024, SEC).unwrap(); // 10 KiB/s
    transfer(&m, "fast", MIB);
    assert_eq!(order(&m), ["fast", "new", "slow"]);
}

#[test]
fn primary_is_preferred_while_scores_are_close() {
    let m = exact()
        .fallback("http://f/")
        .primary("http://p/")
        .build()
        .unwrap();
    assert_eq!(order(&m), ["p", "f"], "unmeasured: primaries first");
    transfer(&m, "p", 10 * MIB);
    transfer(&m, "f", 10 * MIB);
    assert_eq!(order(&m), ["p", "f"], "tie");
    transfer(&m, "f", 12 * MIB);
    assert_eq!(
        order(&m),
        ["p", "f"],
        "20 % faster is within the 25 % bonus"
    );
    transfer(&m, "f", 13 * MIB);
    assert_eq!(order(&m), ["f", "p"], "30 % faster wins");
}

#[test]
fn primary_wins_exact_ties_without_a_bonus() {
    let m = exact()
        .primary_bonus(0.0)
        .fallback("http://f/")
        .primary("http://p/")
        .build()
        .unwrap();
    transfer(&m, "f", 10 * MIB);
    transfer(&m, "p", 10 * MIB);
    assert_eq!(order(&m), ["p", "f"]);
    transfer(&m, "f", 10 * MIB + 1);
    assert_eq!(order(&m), ["f", "p"], "without a bonus any lead counts");
}

#[test]
fn latency_lowers_the_score() {
    let m = exact()
        .fallbacks(["http://a/", "http://b/"])
        .build()
        .unwrap();
    transfer(&m, "a", MIB);
    transfer(&m, "b", MIB);
    m.report_latency(&on(&m, "a"), SEC).unwrap();
    assert_eq!(order(&m), ["b", "a"]);
    let stats = m.stats();
    assert_eq!(stats[0].latency, Some(SEC));
    // A 1 MiB file at 1 MiB/s after a 1 s wait: 0.5 MiB/s effective.
    assert_eq!(stats[0].score, Some(MIB as f64 / 2.0));
    assert_eq!(stats[1].score, Some(MIB as f64));
}

#[test]
fn failures_lower_the_score() {
    let m = exact()
        .ewma_weight(0.5)
        .fallbacks(["http://a/", "http://b/"])
        .build()
        .unwrap();
    transfer(&m, "a", 2 * MIB);
    transfer(&m, "b", MIB + MIB / 2);
    assert_eq!(order(&m), ["a", "b"]);
    let a = on(&m, "a");
    m.report_failure(&a, ghostnet_pkgmgr::mirror::MirrorFailure::Timeout)
        .unwrap();
    let stats = m.stats();
    assert_eq!(stats[0].reliability, 0.5);
    assert_eq!(order(&m), ["b", "a"]);
}

/// How often each of `hosts` comes first in `n` selections.
fn firsts(m: &MirrorManager, n: usize, hosts: &[&str]) -> Vec<usize> {
    let mut counts = vec![0; hosts.len()];
    for _ in 0..n {
        let best = m.best_mirror(PATH).unwrap();
        let host = best.base().host().unwrap();
        counts[hosts.iter().position(|h| *h == host).unwrap()] += 1;
    }
    counts
}

#[test]
fn exploration_gives_unmeasured_mirrors_a_chance() {
    let build = |seed, p| {
        let m = MirrorManager::builder()
            .primary("http://p/")
            .fallbacks(["http://f/", "http://g/"])
            .exploration(p)
            .seed(seed)
            .build()
            .unwrap();
        transfer(&m, "p", 8 * MIB);
        m
    };
    let m = build(42, 0.2);
    let counts = firsts(&m, 1000, &["p", "f", "g"]);
    assert!(
        counts[0] > 700,
        "the measured mirror still gets most: {counts:?}"
    );
    assert!(
        counts[1] > 30 && counts[2] > 30,
        "both get tried: {counts:?}"
    );
    // Deterministic with a seed.
    assert_eq!(firsts(&build(42, 0.2), 1000, &["p", "f", "g"]), counts);
    // Off means off.
    assert_eq!(firsts(&build(42, 0.0), 200, &["p", "f", "g"]), [200, 0, 0]);
    // Once measured (and slower), they are no longer explored.
    transfer(&m, "f", MIB);
    transfer(&m, "g", MIB);
    assert_eq!(firsts(&m, 200, &["p", "f", "g"]), [200, 0, 0]);
}

#[tokio::test(start_paused = true)]
async fn exploration_revisits_a_recovered_mirror() {
    let m = MirrorManager::builder()
        .primary("http://p/")
        .fallback("http://f/")
        .exploration(0.3)
        .seed(1)
        .build()
        .unwrap();
    transfer(&m, "p", 8 * MIB);
    transfer(&m, "f", 4 * MIB);
    assert_eq!(firsts(&m, 200, &["p", "f"]), [200, 0], "both measured");
    let f = on(&m, "f");
    for _ in 0..3 {
        m.report_failure(&f, ghostnet_pkgmgr::mirror::MirrorFailure::Connect)
            .unwrap();
    }
    tokio::time::advance(ghostnet_pkgmgr::mirror::DEFAULT_COOLDOWN).await;
    assert!(m.stats()[1].recovering);
    let counts = firsts(&m, 200, &["p", "f"]);
    assert!(
        counts[1] > 20,
        "the recovering mirror gets tried: {counts:?}"
    );
    // A success proves it again; from then on it is ranked by score alone.
    transfer(&m, "f", 4 * MIB);
    assert!(!m.stats()[1].recovering);
    assert_eq!(firsts(&m, 200, &["p", "f"]), [200, 0]);
}
