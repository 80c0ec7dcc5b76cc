//! Mirror failover during a download: the next mirror continues the same `.part`
//! file. Paused clock.

mod support;

use std::time::Duration;

use ghostnet_pkgmgr::Error;
use ghostnet_pkgmgr::download::{DownloadOptions, Downloader};
use ghostnet_resilience::{Jitter, RetryPolicy};
use support::{Behaviour, Net, data, primary_then, sha256_hex, tmp_dir};

const FILE: &str = "core/os/x86_64/zstd-1.5.7-1-x86_64.pkg.tar.zst";

fn downloader(net: &Net) -> Downloader {
    Downloader::new(net.client.clone()).retry_policy(
        RetryPolicy::builder()
            .max_attempts(3)
            .jitter(Jitter::seeded(3))
            .without_budget()
            .build()
            .unwrap(),
    )
}

#[tokio::test(start_paused = true)]
async fn a_mirror_dying_midway_hands_the_part_to_the_next() {
    let net = Net::new();
    let body = data(400_000, 21);
    let a = net.mirror(
        "a.test",
        vec![(FILE, body.clone())],
        Behaviour::DropAfter(200_000),
    );
    let b = net.mirror("b.test", vec![(FILE, body.clone())], Behaviour::Normal);
    let m = primary_then(&a, &b);
    let dir = tmp_dir("failover");
    let dest = dir.join("zstd.pkg.tar.zst");
    let report = downloader(&net)
        .download_from(
            &m,
            FILE,
            DownloadOptions::new(&dest)
                .sha256(&sha256_hex(&body))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert_eq!(a.ranges(), vec![None]);
    assert_eq!(b.ranges(), vec![Some("bytes=200000-".to_owned())]);
    assert_eq!(
        (report.failovers, report.retries, report.received),
        (1, 1, 400_000)
    );
    assert_eq!(report.url, format!("{}{FILE}", b.base()));
    let stats = m.stats();
    assert_eq!((stats[0].failures, stats[1].successes), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn an_html_500_mirror_is_skipped_and_nothing_of_it_lands() {
    let net = Net::new();
    let body = data(100_000, 22);
    let a = net.mirror("a.test", vec![(FILE, body.clone())], Behaviour::Html500);
    let b = net.mirror("b.test", vec![(FILE, body.clone())], Behaviour::Normal);
    let dir = tmp_dir("html-mirror");
    let dest = dir.join("f");
    let report = downloader(&net)
        .download_from(&primary_then(&a, &b), FILE, DownloadOptions::new(&dest))
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert_eq!(report.failovers, 1);
}

#[tokio::test(start_paused = true)]
async fn a_mirror_answering_200_to_a_range_is_fine_after_failover() {
    let net = Net::new();
    let body = data(100_000, 23);
    let a = net.mirror(
        "a.test",
        vec![(FILE, body.clone())],
        Behaviour::DropAfter(30_000),
    );
    let b = net.mirror("b.test", vec![(FILE, body.clone())], Behaviour::IgnoreRange);
    let dir = tmp_dir("ignore-range-mirror");
    let dest = dir.join("f");
    downloader(&net)
        .download_from(&primary_then(&a, &b), FILE, DownloadOptions::new(&dest))
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert_eq!(b.ranges(), vec![Some("bytes=30000-".to_owned())]);
}

#[tokio::test(start_paused = true)]
async fn a_stalled_mirror_is_abandoned_by_the_low_speed_limit() {
    let net = Net::new();
    let body = data(300_000, 24);
    let a = net.mirror(
        "a.test",
        vec![(FILE, body.clone())],
        Behaviour::StallAfter(100_000),
    );
    let b = net.mirror("b.test", vec![(FILE, body.clone())], Behaviour::Normal);
    let m = primary_then(&a, &b);
    let dir = tmp_dir("stall");
    let dest = dir.join("f");
    let report = downloader(&net)
        .download_from(
            &m,
            FILE,
            DownloadOptions::new(&dest).low_speed(1000, Duration::from_secs(2)),
        )
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert_eq!(b.ranges(), vec![Some("bytes=100000-".to_owned())]);
    assert_eq!(report.failovers, 1);
    assert_eq!(m.stats()[0].failures, 1);
}

#[tokio::test(start_paused = true)]
async fn a_stall_on_the_only_mirror_ends_with_too_slow() {
    let net = Net::new();
    let body = data(300_000, 25);
    let a = net.mirror(
        "a.test",
        vec![(FILE, body.clone())],
        Behaviour::StallAfter(0),
    );
    let dir = tmp_dir("stall-only");
    let dest = dir.join("f");
    let err = downloader(&net)
        .download(
            &format!("{}{FILE}", a.base()),
            DownloadOptions::new(&dest).low_speed(1000, Duration::from_secs(2)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooSlow { .. }), "{err}");
    assert_eq!(a.requests(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_file_missing_everywhere_is_not_on_any_mirror() {
    let net = Net::new();
    let a = net.mirror("a.test", vec![], Behaviour::Normal);
    let b = net.mirror("b.test", vec![], Behaviour::Missing);
    let dir = tmp_dir("missing");
    let err = downloader(&net)
        .download_from(
            &primary_then(&a, &b),
            FILE,
            DownloadOptions::new(dir.join("f")),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NotOnAnyMirror { mirrors: 2, .. }),
        "{err}"
    );
    assert_eq!(a.requests() + b.requests(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_checksum_mismatch_on_one_mirror_refetches_from_the_next() {
    let net = Net::new();
    let body = data(50_000, 26);
    let a = net.mirror("a.test", vec![(FILE, data(50_000, 27))], Behaviour::Normal);
    let b = net.mirror("b.test", vec![(FILE, body.clone())], Behaviour::Normal);
    let dir = tmp_dir("mirror-checksum");
    let dest = dir.join("f");
    let report = downloader(&net)
        .download_from(
            &primary_then(&a, &b),
            FILE,
            DownloadOptions::new(&dest)
                .sha256(&sha256_hex(&body))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert_eq!(b.ranges(), vec![None], "from zero: the part was discarded");
    assert_eq!(report.failovers, 1);
}

/// Real clock: the wait for the part's lock is on the blocking pool.
#[tokio::test]
async fn a_part_held_by_another_download_blames_no_mirror() {
    let net = Net::new();
    let body = data(10_000, 27);
    let a = net.mirror("a.test", vec![(FILE, body.clone())], Behaviour::Normal);
    let b = net.mirror("b.test", vec![(FILE, body.clone())], Behaviour::Normal);
    let m = primary_then(&a, &b);
    let dir = tmp_dir("held-part");
    let dest = dir.join("f");
    // Another download of the same file, still running.
    let (held, _) = ghostnet_pkgmgr::download::PartFile::open(&dest)
        .await
        .unwrap();
    let err = downloader(&net)
        .download_from(&m, FILE, DownloadOptions::new(&dest))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PartInUse { .. }), "{err:?}");
    // Nothing was asked of either mirror, and neither is marked down for it.
    assert!(a.ranges().is_empty() && b.ranges().is_empty());
    assert!(m.stats().iter().all(|s| s.failures == 0), "{:?}", m.stats());
    drop(held);
    assert!(!dest.exists());
}
