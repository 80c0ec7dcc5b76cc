//! `ghostnet demo`: the whole package-manager path on one machine, no internet.
//!
//! It starts a local AUR-format endpoint and two mirrors of the same package files, one
//! steady and one that drops every transfer midway; looks up ~50 packages in one
//! metadata batch; interrupts two downloads (as a killed process would); then downloads
//! ~20 package files of varied sizes concurrently with progress bars, failing over from
//! the flaky mirror, resuming the interrupted ones and checking every SHA-256, and prints
//! a summary table.

mod packages;
mod table;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use ghostnet_http::client::{ClientConfig, HttpClient};
use ghostnet_pkgmgr::aur::AurClient;
use ghostnet_pkgmgr::aur::testing::{AurServer, generated_name};
use ghostnet_pkgmgr::download::{DownloadManager, DownloadOptions, DownloadRequest, PartFile};
use ghostnet_pkgmgr::mirror::MirrorManager;
use ghostnet_pkgmgr::mirror::testing::{Behaviour, MirrorServer};
use ghostnet_runtime::Notify;

use super::CommandResult;
use super::get::parse_rate;
use super::progress::{Bars, human};
use packages::{PackageFile, package_files};
use table::Row;

/// Arguments of `ghostnet demo`.
#[derive(Args, Debug)]
pub(crate) struct DemoArgs {
    /// Packages to look up on the local AUR endpoint (in one batch).
    #[arg(long, value_name = "N", default_value_t = 50)]
    packages: usize,
    /// Package files to download (the first N of those packages).
    #[arg(long, value_name = "N", default_value_t = 20)]
    files: usize,
    /// Size of the largest file (suffixes K, M, G); the others spread down to 16 KiB.
    #[arg(long = "max-size", value_name = "SIZE", default_value = "16M", value_parser = parse_rate)]
    max_size: u64,
    /// The flaky mirror breaks every transfer off after this many bytes.
    #[arg(long = "drop-after", value_name = "SIZE", default_value = "256K", value_parser = parse_rate)]
    drop_after: u64,
    /// Downloads at once.
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 5)]
    jobs: usize,
    /// Keep the files in DIR (default: a temporary directory, removed at the end).
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// No progress bars.
    #[arg(short = 'q', long)]
    quiet: bool,
}

/// Files interrupted before the main run, to show resume.
const INTERRUPTED: usize = 2;

pub(crate) async fn run(args: DemoArgs) -> CommandResult {
    if args.packages == 0 || args.files == 0 || args.jobs == 0 {
        return Err("--packages, --files and --jobs must be at least 1".into());
    }
    println!("ghostnet demo: everything runs on 127.0.0.1; nothing leaves this machine.");
    let (out_dir, temporary) = match &args.out_dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("ghostnet-demo-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    if temporary {
        println!("working in {} (removed at the end)", out_dir.display());
    }

    let aur = AurServer::builder().generated(args.packages).start()?;
    let files = metadata(&aur, &args).await;
    aur.stop().await;
    let files = files?;

    let flaky = serve(&files, Behaviour::DropAfter(args.drop_after))?;
    let steady = serve(&files, Behaviour::Normal)?;
    println!(
        "mirrors   flaky  {} (breaks every transfer off after {})",
        flaky.base(),
        human(args.drop_after)
    );
    println!("          steady {}", steady.base());

    let result = download_all(&args, &files, &out_dir, &flaky, &steady).await;
    flaky.stop().await;
    steady.stop().await;
    if temporary {
        let _ = std::fs::remove_dir_all(&out_dir);
    } else {
        println!("files are in {}", out_dir.display());
    }
    result
}

/// Looks the packages up in one batch and returns the files to download.
async fn metadata(
    aur: &AurServer,
    args: &DemoArgs,
) -> Result<Vec<PackageFile>, Box<dyn std::error::Error + Send + Sync>> {
    let client = AurClient::builder().endpoint(aur.endpoint()).build()?;
    let names: Vec<String> = (0..args.packages).map(generated_name).collect();
    let started = Instant::now();
    let info = client.info(&names).await?;
    println!(
        "metadata  {} packages from the local AUR endpoint {} in {} request(s), {:.1} ms",
        info.packages.len(),
        aur.endpoint(),
        client.stats().requests,
        started.elapsed().as_secs_f64() * 1e3
    );
    if !info.missing.is_empty() {
        return Err(format!("the AUR endpoint lacks {}", info.missing.join(", ")).into());
    }
    Ok(package_files(&info.packages, args.files, args.max_size))
}

fn serve(files: &[PackageFile], behaviour: Behaviour) -> ghostnet_transport::Result<MirrorServer> {
    files
        .iter()
        .fold(MirrorServer::builder(), |b, f| {
            b.file(&f.path, f.data.clone())
        })
        .behaviour(behaviour)
        .paced(64 * 1024, Duration::ZERO)
        .start()
}

fn options(file: &PackageFile, out_dir: &Path) -> Result<DownloadOptions, ghostnet_pkgmgr::Error> {
    DownloadOptions::new(out_dir.join(&file.file_name)).sha256(&file.sha256)
}

/// Starts the largest files and stops them at 40% or a little beyond, leaving their `.part` files as a
/// killed process would.
async fn interrupt(
    manager: &DownloadManager,
    files: &[PackageFile],
    out_dir: &Path,
    steady: &MirrorServer,
) -> Result<(), ghostnet_pkgmgr::Error> {
    for file in files
        .iter()
        .rev()
        .take(INTERRUPTED.min(files.len().saturating_sub(1)))
    {
        let at_40 = Arc::new(Notify::new());
        let notify = Arc::clone(&at_40);
        let opts = options(file, out_dir)?.on_progress(move |p| {
            if p.total.is_some_and(|t| p.downloaded * 5 >= t * 2) {
                notify.notify_one();
            }
        });
        let url = format!("{}{}", steady.base(), file.path);
        let interrupted = ghostnet_runtime::select! {
            done = manager.downloader().download(&url, opts) => {
                done?;
                false
            }
            () = at_40.notified() => true,
        };
        if interrupted {
            // Opening the part waits for the cancelled download's last batch, so this
            // is what the main run will resume from. (No part: the download had
            // finished after all; opening would leave an empty one behind.)
            let dest = out_dir.join(&file.file_name);
            let kept = if PartFile::path_for(&dest, None).exists() {
                PartFile::open(&dest).await?.0.len()
            } else {
                0
            };
            println!(
                "interrupted {} with {} of {} in its .part file (as if the process had been killed)",
                file.file_name,
                human(kept),
                human(file.data.len() as u64)
            );
        }
    }
    Ok(())
}

async fn download_all(
    args: &DemoArgs,
    files: &[PackageFile],
    out_dir: &Path,
    flaky: &MirrorServer,
    steady: &MirrorServer,
) -> CommandResult {
    let manager = DownloadManager::builder()
        .max_concurrent(args.jobs)
        // The same unified client as `ghostnet get` (the mirrors here speak HTTP/1.1).
        .build(HttpClient::new(ClientConfig::default())?)?;
    interrupt(&manager, files, out_dir, steady).await?;

    let mirrors = MirrorManager::builder()
        .primary(flaky.base())
        .fallback(steady.base())
        .exploration(0.0)
        .build()?;
    let mut requests = Vec::with_capacity(files.len());
    for f in files {
        requests.push(DownloadRequest::mirrored(
            mirrors.clone(),
            f.path.clone(),
            options(f, out_dir)?,
        ));
    }
    let names: Vec<String> = files.iter().map(|f| f.file_name.clone()).collect();
    println!(
        "download  {} files, {} in all, {} at once, primary flaky, fallback steady",
        files.len(),
        human(files.iter().map(|f| f.data.len() as u64).sum()),
        args.jobs
    );
    let bars = Arc::new(Bars::new(&names, args.quiet));
    let b = Arc::clone(&bars);
    let started = Instant::now();
    let results = manager
        .batch_download_with_progress(requests, move |p| b.update(&p))
        .await;
    let wall = started.elapsed();
    bars.finish();

    let label = |url: &str| {
        if url.starts_with(&flaky.base()) {
            "flaky".to_owned()
        } else if url.starts_with(&steady.base()) {
            "steady".to_owned()
        } else {
            url.to_owned()
        }
    };
    let rows: Vec<Row> = files
        .iter()
        .zip(&results)
        .map(|(f, r)| match r {
            Ok(r) => Row {
                file: f.file_name.clone(),
                size: r.size,
                elapsed: r.elapsed,
                retries: r.retries,
                failovers: r.failovers,
                resumed_from: r.resumed_from,
                outcome: Ok(label(&r.url)),
            },
            Err(e) => Row {
                file: f.file_name.clone(),
                size: f.data.len() as u64,
                elapsed: Duration::ZERO,
                retries: 0,
                failovers: 0,
                resumed_from: 0,
                outcome: Err(e.to_string()),
            },
        })
        .collect();
    print!("{}", table::render(&rows, wall));
    let failed = results.iter().filter(|r| r.is_err()).count();
    let resumed = rows.iter().filter(|r| r.resumed_from > 0).count();
    let failed_over = rows.iter().filter(|r| r.failovers > 0).count();
    println!(
        "sha256 verified for {} of {} files; {failed_over} finished on another mirror, {resumed} resumed from a .part file",
        results.len() - failed,
        results.len()
    );
    if failed > 0 {
        return Err(format!("{failed} of {} downloads failed", results.len()).into());
    }
    Ok(())
}
