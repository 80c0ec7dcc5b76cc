//! DownloadManager: the concurrency limit, per-item results, the aggregated progress
//! stream, the bandwidth limit and the temp directory. Paused clock.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ghostnet_pkgmgr::Error;
use ghostnet_pkgmgr::download::{
    BatchProgress, DownloadManager, DownloadOptions, DownloadRequest, ItemState,
};
use ghostnet_runtime::Instant;
use support::{Behaviour, Net, data, tmp_dir};

#[tokio::test(start_paused = true)]
async fn at_most_max_concurrent_run_and_each_item_gets_its_result() {
    let net = Net::new();
    let files: Vec<(String, bytes::Bytes)> = (0..8)
        .map(|i| (format!("f{i}"), data(40_000 + i * 1000, i as u64)))
        .collect();
    let m = net.mirror_paced(
        "a.test",
        files.iter().map(|(p, d)| (p.as_str(), d.clone())).collect(),
        Behaviour::Normal,
        4096,
        Duration::from_millis(5),
    );
    let dir = tmp_dir("manager");
    let manager = DownloadManager::builder()
        .max_concurrent(3)
        .build(net.client.clone())
        .unwrap();
    let mut requests: Vec<DownloadRequest> = files
        .iter()
        .map(|(p, _)| {
            DownloadRequest::url(
                format!("{}{p}", m.base()),
                DownloadOptions::new(dir.join(p)),
            )
        })
        .collect();
    requests.push(DownloadRequest::url(
        format!("{}nope", m.base()),
        DownloadOptions::new(dir.join("nope")),
    ));
    let events: Arc<Mutex<Vec<BatchProgress>>> = Arc::default();
    let e = Arc::clone(&events);
    let results = manager
        .batch_download_with_progress(requests, move |p| e.lock().unwrap().push(p))
        .await;
    assert_eq!(results.len(), 9);
    for (i, (p, d)) in files.iter().enumerate() {
        let report = results[i].as_ref().unwrap();
        assert_eq!(report.size, d.len() as u64);
        assert_eq!(&std::fs::read(dir.join(p)).unwrap(), d);
    }
    assert!(matches!(results[8], Err(Error::Status { status: 404, .. })));
    let max = m.max_in_flight();
    assert!((1..=3).contains(&max), "max in flight {max}");
    let events = events.lock().unwrap();
    let last = events.last().unwrap();
    assert_eq!((last.finished, last.items), (9, 9));
    let sum: u64 = files.iter().map(|(_, d)| d.len() as u64).sum();
    assert_eq!(last.downloaded, sum);
    assert!(
        events
            .iter()
            .any(|e| e.item == 8 && e.state == ItemState::Failed)
    );
    assert_eq!(
        events.iter().filter(|e| e.state == ItemState::Done).count(),
        8
    );
    // Totals never go backwards.
    assert!(
        events
            .windows(2)
            .all(|w| w[0].downloaded <= w[1].downloaded)
    );
}

#[tokio::test(start_paused = true)]
async fn the_bandwidth_limit_holds_over_all_downloads() {
    let net = Net::new();
    let files: Vec<(String, bytes::Bytes)> = (0..4)
        .map(|i| (format!("g{i}"), data(50_000, 40 + i)))
        .collect();
    let m = net.mirror(
        "a.test",
        files.iter().map(|(p, d)| (p.as_str(), d.clone())).collect(),
        Behaviour::Normal,
    );
    let dir = tmp_dir("bandwidth");
    let tmp = tmp_dir("bandwidth-parts");
    let manager = DownloadManager::builder()
        .bandwidth_limit(Some(50_000))
        .temp_dir(&tmp)
        .build(net.client.clone())
        .unwrap();
    let requests = files
        .iter()
        .map(|(p, _)| {
            DownloadRequest::url(
                format!("{}{p}", m.base()),
                DownloadOptions::new(dir.join(p)),
            )
        })
        .collect();
    let t0 = Instant::now();
    let results = manager.batch_download(requests).await;
    assert!(results.iter().all(Result::is_ok));
    // 200 000 bytes at 50 000 B/s with a one-second burst: at least 3 s (virtual).
    assert!(t0.elapsed() >= Duration::from_secs(3), "{:?}", t0.elapsed());
    for (p, d) in &files {
        assert_eq!(&std::fs::read(dir.join(p)).unwrap(), d);
    }
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "parts moved out"
    );
}

#[test]
fn zero_concurrency_is_refused() {
    let net = MemoryClient::new();
    let err = DownloadManager::builder()
        .max_concurrent(0)
        .build(net)
        .unwrap_err();
    assert!(err.to_string().contains("max_concurrent"), "{err}");
}

type MemoryClient = ghostnet_http1::client::Client<ghostnet_transport::MemoryDialer>;

trait NewMemoryClient {
    fn new() -> Self;
}

impl NewMemoryClient for MemoryClient {
    fn new() -> Self {
        ghostnet_http1::client::Client::builder()
            .build_with_dialer(ghostnet_transport::MemoryNetwork::new().dialer())
            .unwrap()
    }
}
