//! Metadata: 200 AUR-style `info` lookups against the local AUR-format endpoint
//! (`ghostnet_pkgmgr::aur::testing::AurServer`, on its own thread and current-thread
//! runtime).
//!
//! - **ours**: [`AurClient::info`] with the 200 names: 4 batches of 50 sent concurrently
//!   over pooled keep-alive connections (client made and warmed once per sample; rate
//!   limit and ETag cache off, so every answer is a full body).
//! - **fresh connection per request**: the naive way, one request per name, each on a
//!   new connection (a new client per lookup), one after another. Target: ours >= 5x.
//! - **reqwest 0.12**: the same 4 batches of 50 (the same GET URLs) sent concurrently
//!   over reqwest's pool, bodies parsed with the same parser and merged in input order.
//!
//! Figures are lookups per second (names resolved per second), medians of alternating
//! runs.

use std::time::Instant;

use futures_util::future::join_all;
use ghostnet_pkgmgr::aur::testing::{AurServer, generated_name};
use ghostnet_pkgmgr::aur::{AurClient, PackageInfo, parse_response};

use crate::report::{BenchResult, SuiteArgs, alternate};

/// Names looked up per round.
const LOOKUPS: usize = 200;
/// Names per batch (4 batches).
const BATCH: usize = 50;
const CMD: &str = "cargo xtask bench pkgmgr (benches/src/pkgmgr/metadata.rs)";

/// Runs the metadata comparisons and returns their rows.
pub fn run(args: SuiteArgs) -> Vec<BenchResult> {
    let runs = args.pick(9, 2);
    let rounds = args.pick(20, 2);
    let endpoint = start_server();
    let names: Vec<String> = (0..LOOKUPS).map(generated_name).collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let per_sec = |lookups: usize, secs: f64| lookups as f64 / secs;
    let ours = || {
        per_sec(
            LOOKUPS * rounds,
            rt.block_on(batched(&endpoint, &names, rounds)),
        )
    };

    let m = alternate(runs, ours, || {
        per_sec(LOOKUPS, rt.block_on(fresh_per_request(&endpoint, &names)))
    });
    let vs_fresh = BenchResult::new(
        "aur_info_200_batched_vs_fresh_conn",
        "lookups/s",
        true,
        "one request per name on a fresh connection (target 5x)",
        m,
        CMD,
    );
    let m = alternate(runs, ours, || {
        per_sec(
            LOOKUPS * rounds,
            rt.block_on(reqwest_batched(&endpoint, &names, rounds)),
        )
    });
    let vs_reqwest = BenchResult::new(
        "aur_info_200_batched_vs_reqwest",
        "lookups/s",
        true,
        "reqwest 0.12, same 4x50 batches concurrently over its pool",
        m,
        CMD,
    );
    vec![vs_fresh, vs_reqwest]
}

/// The local endpoint with the recorded packages plus 200 generated ones, on its own
/// thread and runtime; runs until the process ends.
fn start_server() -> String {
    crate::server_thread::start(move |tx| async move {
        let server = AurServer::builder()
            .generated(LOOKUPS)
            .start()
            .expect("start the AUR server");
        tx.send(server.endpoint()).expect("report endpoint");
        std::future::pending::<()>().await;
    })
}

/// Seconds for `rounds` lookups of all names with one warmed client.
async fn batched(endpoint: &str, names: &[String], rounds: usize) -> f64 {
    let aur = AurClient::builder()
        .endpoint(endpoint)
        .rate_limit(None)
        .cache_entries(0)
        .batch_size(BATCH)
        .concurrency(LOOKUPS.div_ceil(BATCH))
        .build()
        .expect("AUR client");
    check(&aur.info(names).await.expect("warm-up").packages, names);
    let start = Instant::now();
    for _ in 0..rounds {
        let found = aur.info(names).await.expect("info");
        assert_eq!(found.packages.len(), names.len());
    }
    start.elapsed().as_secs_f64()
}

/// Seconds for one lookup per name, each with a new client (a new connection).
async fn fresh_per_request(endpoint: &str, names: &[String]) -> f64 {
    let start = Instant::now();
    for name in names {
        let aur = AurClient::builder()
            .endpoint(endpoint)
            .rate_limit(None)
            .cache_entries(0)
            .build()
            .expect("AUR client");
        let found = aur.info(&[name]).await.expect("info");
        assert_eq!(found.packages.len(), 1);
    }
    start.elapsed().as_secs_f64()
}

/// Seconds for `rounds` lookups of all names through reqwest, batched the same way.
async fn reqwest_batched(endpoint: &str, names: &[String], rounds: usize) -> f64 {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client");
    // The URLs are built on every lookup, as the AUR client builds them.
    let batch_url = |batch: &[String]| {
        let mut url = format!("{endpoint}/rpc/v5/info");
        for (i, name) in batch.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            // Generated names are unreserved characters only: nothing to encode.
            url.push_str("arg[]=");
            url.push_str(name);
        }
        url
    };
    let lookup = async || {
        let urls: Vec<String> = names.chunks(BATCH).map(batch_url).collect();
        let bodies = join_all(urls.iter().map(|url| {
            let client = &client;
            async move {
                let response = client.get(url).send().await.expect("request");
                assert!(response.status().is_success());
                response.bytes().await.expect("body")
            }
        }))
        .await;
        let mut found = std::collections::HashMap::new();
        for body in bodies {
            for p in parse_response::<PackageInfo>(&body).expect("RPC v5") {
                found.insert(p.name.clone(), p);
            }
        }
        names
            .iter()
            .filter_map(|n| found.remove(n))
            .collect::<Vec<_>>()
    };
    check(&lookup().await, names);
    let start = Instant::now();
    for _ in 0..rounds {
        assert_eq!(lookup().await.len(), names.len());
    }
    start.elapsed().as_secs_f64()
}

fn check(found: &[PackageInfo], names: &[String]) {
    let got: Vec<&str> = found.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(got, names, "lookups come back in input order");
}
