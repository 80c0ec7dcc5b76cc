//! Downloads against an in-process server that misbehaves: connections dropped at
//! random offsets, futures dropped mid-transfer, 200 to a range request, 416, a wrong
//! Content-Range, an HTML 500, a checksum mismatch, Retry-After. Paused clock.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ghostnet_pkgmgr::Error;
use ghostnet_pkgmgr::download::{DownloadOptions, Downloader, PartMeta, Validators};
use ghostnet_pkgmgr::mirror::testing::ETAG;
use ghostnet_resilience::{Jitter, RetryPolicy};
use ghostnet_runtime::Instant;
use support::{Behaviour, Net, data, part_of, sha256_hex, tmp_dir};

const FILE: &str = "pool/pkg.tar.zst";

fn downloader(net: &Net) -> Downloader {
    Downloader::new(net.client.clone()).retry_policy(
        RetryPolicy::builder()
            .max_attempts(4)
            .jitter(Jitter::seeded(7))
            .without_budget()
            .build()
            .unwrap(),
    )
}

#[tokio::test(start_paused = true)]
async fn a_plain_download_lands_verified_and_leaves_no_part() {
    let net = Net::new();
    let body = data(300_000, 1);
    let m = net.mirror("a.test", vec![(FILE, body.clone())], Behaviour::Normal);
    let dir = tmp_dir("plain");
    let dest = dir.join("pkg.tar.zst");
    let seen = Arc::new(AtomicU64::new(0));
    let s = Arc::clone(&seen);
    let opts = DownloadOptions::new(&dest)
        .sha256(&sha256_hex(&body))
        .unwrap()
        .durable(true)
        .on_progress(move |p| {
            assert_eq!(p.total, Some(300_000));
            s.store(p.downloaded, Ordering::SeqCst);
        });
    let report = downloader(&net)
        .download(&format!("{}{FILE}", m.base()), opts)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert_eq!(
        (report.size, report.received, report.retries),
        (300_000, 300_000, 0)
    );
    assert_eq!(report.sha256, Some(sha256_hex(&body)));
    assert_eq!(seen.load(Ordering::SeqCst), 300_000);
    assert!(!part_of(&dest).exists());
    assert_eq!(m.ranges(), vec![None]);
}

#[tokio::test(start_paused = true)]
async fn connections_dropped_at_random_offsets_resume_to_identical_files() {
    // A few seeds of "random": each drop point differs, each resume asks for the rest.
    let cases = [
        (2u64, 600usize, 1u64),
        (3, 400_000, 4_097),
        (4, 400_000, 65_536),
        (5, 400_000, 99_999),
        (6, 400_000, 150_001),
    ];
    for (seed, len, cut) in cases {
        let net = Net::new();
        let body = data(len, seed);
        let m = net.mirror(
            "a.test",
            vec![(FILE, body.clone())],
            Behaviour::DropAfter(cut),
        );
        let dir = tmp_dir(&format!("drop-{seed}"));
        let dest = dir.join("f");
        let report = downloader(&net)
            .download(&format!("{}{FILE}", m.base()), DownloadOptions::new(&dest))
            .await
            .unwrap_or_else(|e| panic!("cut {cut}: {e}"));
        assert_eq!(std::fs::read(&dest).unwrap(), body, "cut {cut}");
        assert_eq!(
            report.received, len as u64,
            "nothing fetched twice (cut {cut})"
        );
        let ranges = m.ranges();
        assert_eq!(ranges[0], None);
        for (i, r) in ranges.iter().enumerate().skip(1) {
            let expected = (i as u64 * cut).min(len as u64);
            assert_eq!(r.as_deref(), Some(format!("bytes={expected}-").as_str()));
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_download_future_dropped_at_any_offset_resumes_to_an_identical_file() {
    let net = Net::new();
    let body = data(500_000, 9);
    let m = net.mirror_paced(
        "a.test",
        vec![(FILE, body.clone())],
        Behaviour::Normal,
        4096,
        Duration::from_millis(1),
    );
    let dir = tmp_dir("dropfuture");
    let dest = dir.join("f");
    let url = format!("{}{FILE}", m.base());
    let dl = downloader(&net);
    for stop_at in [5_000u64, 77_777, 200_000, 333_333] {
        let reached = Arc::new(tokio::sync::Notify::new());
        let r = Arc::clone(&reached);
        let opts = DownloadOptions::new(&dest).on_progress(move |p| {
            if p.downloaded >= stop_at {
                r.notify_one();
            }
        });
        tokio::select! {
            res = dl.download(&url, opts) => panic!("finished before being stopped: {res:?}"),
            () = reached.notified() => {}
        }
        // Let the file's background writes land, as a killed process's would.
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Writes are gathered up to 256 KiB, so the part may hold less than arrived,
        // but always an exact prefix of the file.
        let len = std::fs::metadata(part_of(&dest)).unwrap().len();
        assert!(
            len + 256 * 1024 >= stop_at,
            "part {len}, stopped at {stop_at}"
        );
        assert_eq!(std::fs::read(part_of(&dest)).unwrap(), body[..len as usize]);
    }
    let report = dl
        .download(
            &url,
            DownloadOptions::new(&dest)
                .sha256(&sha256_hex(&body))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert!(report.resumed_from >= 256 * 1024, "{report:?}");
    // The last request continued the part (earlier ones may have found it empty).
    assert!(m.ranges().last().unwrap().is_some(), "{:?}", m.ranges());
}

#[tokio::test(start_paused = true)]
async fn a_mirror_answering_200_to_a_range_restarts_the_file() {
    let net = Net::new();
    let body = data(200_000, 11);
    let m = net.mirror("a.test", vec![(FILE, body.clone())], Behaviour::IgnoreRange);
    let dir = tmp_dir("ignore-range");
    let dest = dir.join("f");
    let url = format!("{}{FILE}", m.base());
    // A part of 50 000 bytes that even looks wrong: the 200 must replace all of it.
    seed_part(&dest, &url, &data(50_000, 98), 200_000).await;
    let report = downloader(&net)
        .download(&url, DownloadOptions::new(&dest))
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert_eq!(m.ranges(), vec![Some("bytes=50000-".to_owned())]);
    assert_eq!(report.received, 200_000, "the whole file came again");
    assert_eq!(report.resumed_from, 0);
}

async fn seed_part(dest: &std::path::Path, url: &str, content: &[u8], total: u64) {
    std::fs::write(part_of(dest), content).unwrap();
    let meta = PartMeta {
        url: url.to_owned(),
        validators: Validators {
            etag: Some(ETAG.into()),
            last_modified: None,
        },
        total: Some(total),
    };
    let mut sidecar = dest.as_os_str().to_owned();
    sidecar.push(".part.meta");
    std::fs::write(sidecar, serde_json::to_vec(&meta).unwrap()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_416_for_a_complete_part_finishes_without_a_body() {
    let net = Net::new();
    let body = data(70_000, 12);
    let m = net.mirror("a.test", vec![(FILE, body.clone())], Behaviour::Normal);
    let dir = tmp_dir("416-complete");
    let dest = dir.join("f");
    let url = format!("{}{FILE}", m.base());
    seed_part(&dest, &url, &body, 70_000).await;
    let report = downloader(&net)
        .download(
            &url,
            DownloadOptions::new(&dest)
                .sha256(&sha256_hex(&body))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert_eq!((report.received, report.resumed_from), (0, 70_000));
    assert_eq!(m.ranges(), vec![Some("bytes=70000-".to_owned())]);
}

#[tokio::test(start_paused = true)]
async fn a_416_for_a_longer_part_starts_over() {
    let net = Net::new();
    let body = data(70_000, 13);
    let m = net.mirror("a.test", vec![(FILE, body.clone())], Behaviour::Normal);
    let dir = tmp_dir("416-longer");
    let dest = dir.join("f");
    let url = format!("{}{FILE}", m.base());
    seed_part(&dest, &url, &data(90_000, 99), 90_000).await;
    downloader(&net)
        .download(&url, DownloadOptions::new(&dest))
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert_eq!(m.ranges(), vec![Some("bytes=90000-".to_owned()), None]);
}

#[tokio::test(start_paused = true)]
async fn a_wrong_content_range_is_an_error_and_keeps_the_part() {
    let net = Net::new();
    let body = data(70_000, 14);
    let m = net.mirror("a.test", vec![(FILE, body.clone())], Behaviour::WrongRange);
    let dir = tmp_dir("wrong-range");
    let dest = dir.join("f");
    let url = format!("{}{FILE}", m.base());
    seed_part(&dest, &url, &body[..1000], 70_000).await;
    let err = downloader(&net)
        .download(&url, DownloadOptions::new(&dest))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ContentRange { .. }), "{err}");
    assert!(
        err.to_string().contains("asked for bytes from 1000"),
        "{err}"
    );
    assert_eq!(std::fs::read(part_of(&dest)).unwrap(), &body[..1000]);
    assert!(!dest.exists());
    assert_eq!(m.requests(), 1, "not retried");
}

#[tokio::test(start_paused = true)]
async fn an_html_500_never_lands_in_the_file() {
    let net = Net::new();
    let body = data(70_000, 15);
    let m = net.mirror("a.test", vec![(FILE, body.clone())], Behaviour::Html500);
    let dir = tmp_dir("html500");
    let dest = dir.join("f");
    let url = format!("{}{FILE}", m.base());
    seed_part(&dest, &url, &body[..5000], 70_000).await;
    let err = downloader(&net)
        .download(&url, DownloadOptions::new(&dest))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Status { status: 500, .. }), "{err}");
    assert_eq!(m.requests(), 4, "5xx is retried");
    assert_eq!(std::fs::read(part_of(&dest)).unwrap(), &body[..5000]);
    assert!(!dest.exists());
}

#[tokio::test(start_paused = true)]
async fn a_checksum_mismatch_names_both_digests_and_keeps_the_old_file() {
    let net = Net::new();
    let body = data(70_000, 16);
    let m = net.mirror("a.test", vec![(FILE, body.clone())], Behaviour::Normal);
    let dir = tmp_dir("checksum");
    let dest = dir.join("f");
    std::fs::write(&dest, b"the old version").unwrap();
    let wrong = "00".repeat(32);
    let err = downloader(&net)
        .download(
            &format!("{}{FILE}", m.base()),
            DownloadOptions::new(&dest).sha256(&wrong).unwrap(),
        )
        .await
        .unwrap_err();
    match &err {
        Error::Checksum {
            expected, actual, ..
        } => {
            assert_eq!(expected, &wrong);
            assert_eq!(actual, &sha256_hex(&body));
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains(&wrong) && err.to_string().contains(&sha256_hex(&body)));
    assert_eq!(std::fs::read(&dest).unwrap(), b"the old version");
    assert!(!part_of(&dest).exists());
    assert_eq!(m.requests(), 1, "a mismatch is not retried");
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured() {
    let net = Net::new();
    let body = data(10_000, 17);
    let m = net.mirror(
        "a.test",
        vec![(FILE, body.clone())],
        Behaviour::StatusThenNormal {
            status: 503,
            retry_after: Some(7),
            times: 1,
        },
    );
    let dir = tmp_dir("retry-after");
    let dest = dir.join("f");
    let t0 = Instant::now();
    let report = downloader(&net)
        .download(&format!("{}{FILE}", m.base()), DownloadOptions::new(&dest))
        .await
        .unwrap();
    assert!(t0.elapsed() >= Duration::from_secs(7), "virtual time");
    assert_eq!(report.retries, 1);
    assert_eq!(std::fs::read(&dest).unwrap(), body);
}

#[tokio::test(start_paused = true)]
async fn bad_input_is_a_clear_error() {
    let net = Net::new();
    let dl = downloader(&net);
    let err = dl
        .download("ftp://x/y", DownloadOptions::new("/tmp/ghostnet-never"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("only http:// and https://"),
        "{err}"
    );
    let err = DownloadOptions::new("x").sha256("abc").unwrap_err();
    assert!(matches!(err, Error::InvalidChecksum { .. }));
    let err = dl
        .download(
            "http://a.test/x",
            DownloadOptions::new("/tmp/x").chunk_size(0),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidDownloadConfig {
            field: "chunk_size",
            ..
        }
    ));
}

#[tokio::test(start_paused = true)]
async fn a_file_already_in_place_with_the_right_checksum_is_not_fetched_again() {
    let net = Net::new();
    let body = data(20_000, 18);
    let m = net.mirror("a.test", vec![(FILE, body.clone())], Behaviour::Normal);
    let dir = tmp_dir("in-place");
    let dest = dir.join("f");
    std::fs::write(&dest, &body).unwrap();
    let report = downloader(&net)
        .download(
            &format!("{}{FILE}", m.base()),
            DownloadOptions::new(&dest)
                .sha256(&sha256_hex(&body))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!((report.received, report.size), (0, 20_000));
    assert_eq!(m.requests(), 0);
    // A different file in place is replaced.
    std::fs::write(&dest, b"stale").unwrap();
    downloader(&net)
        .download(
            &format!("{}{FILE}", m.base()),
            DownloadOptions::new(&dest)
                .sha256(&sha256_hex(&body))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
}
