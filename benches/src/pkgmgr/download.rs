//! Downloads (the `pkgmgr` suite's download part): files served by ghostnet-http1's server (sendfile,
//! ranges) on 127.0.0.1 from its own thread, fetched by
//!
//! - ghostnet-pkgmgr's `DownloadManager` over the HTTP/1.1 client (current-thread
//!   runtime; `.part` file, SHA-256 computed, atomic rename), the side measured,
//! - curl (one process; `--parallel --parallel-max 5` for many files), and
//! - aria2c (`-x1 -s1 -j5 --file-allocation=none`: one connection per file, like ours),
//!
//! for one large file (1 GiB; 64 MiB with `--quick`) and 200 files of 100 KiB, five at
//! once. Sides alternate as `shared/bench.md` asks; medians of MB/s are reported. Then
//! failover: the time lost when the origin drops the connection at 50% and a mirror
//! finishes the file (seconds over a clean download; no peer, target 0.5 s).
//!
//! Returns its rows to the `bench_pkgmgr` binary (`cargo xtask bench pkgmgr`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use crate::report::{BenchResult, Measured, SuiteArgs, alternate};
use ghostnet::http1::bytes::Bytes;
use ghostnet::http1::client::Client;
use ghostnet::http1::http::{Request, Response, StatusCode};
use ghostnet::http1::{Body, Server};
use ghostnet::pkgmgr::download::{DownloadManager, DownloadOptions, DownloadRequest};
use ghostnet::pkgmgr::mirror::MirrorManager;
use ghostnet::runtime::Shutdown;
use ghostnet::transport::{TcpListener, TcpOptions};

const CMD: &str = "cargo xtask bench pkgmgr";
const SMALL: usize = 100 * 1024;

/// Runs the download comparisons and returns their rows.
pub fn run(args: SuiteArgs) -> Vec<BenchResult> {
    // The small-file rounds take tens of milliseconds, so more of them steady the
    // median against page-cache writeback noise.
    let runs = args.pick(5, 1);
    let small_runs = args.pick(11, 1);
    let big_len: u64 = args.pick(1 << 30, 64 << 20);
    let small_count = args.pick(200, 40);
    let root = bench_dir();
    let served = root.join("served");
    let out = root.join("out");
    make_files(&served, big_len, small_count);
    let origin = start_server(served.clone(), None);
    let dying = start_server(served.clone(), Some(big_len / 2));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let mb_s = |bytes: u64, secs: f64| bytes as f64 / secs / 1e6;
    let have = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };

    let big_url = format!("http://{origin}/big.bin");
    let small_urls: Vec<String> = (0..small_count)
        .map(|i| format!("http://{origin}/small/{i}.bin"))
        .collect();
    let small_total = (SMALL * small_count) as u64;

    let ours_big = |durable: bool| {
        reset(&out);
        mb_s(
            big_len,
            rt.block_on(ours(std::slice::from_ref(&big_url), &out, durable)),
        )
    };
    let ours_small = |durable: bool| {
        reset(&out);
        mb_s(small_total, rt.block_on(ours(&small_urls, &out, durable)))
    };
    let mut results = Vec::new();
    let big_name = format!("download_1_file_{}_mib", big_len >> 20);
    let small_name = format!("download_{small_count}_files_100_kib_j5");
    for (tool, peer) in [
        ("curl", "curl 7.x (one process, --parallel-max 5)"),
        ("aria2c", "aria2c 1.x (-x1 -s1 -j5)"),
    ] {
        let synced_peer = format!("{peer}, then sync --data of every file");
        if !have(tool) {
            eprintln!("bench_pkgmgr: {tool} not installed; skipping its comparison");
            continue;
        }
        // The defaults, then the same runs with `durable(true)`: every file synced to
        // disk before its rename. curl and aria2c cannot sync, so their side of those
        // rows is the tool followed by `sync --data` of every file it wrote.
        for (durable, suffix) in [(false, ""), (true, "_with_fsync")] {
            let m = alternate(
                runs,
                || ours_big(durable),
                || {
                    reset(&out);
                    mb_s(
                        big_len,
                        run_tool(tool, std::slice::from_ref(&big_url), &out, durable),
                    )
                },
            );
            results.push(BenchResult::new(
                &format!("{big_name}{suffix}_vs_{tool}"),
                "MB/s",
                true,
                if durable { &synced_peer } else { peer },
                m,
                CMD,
            ));
            let m = alternate(
                small_runs,
                || ours_small(durable),
                || {
                    reset(&out);
                    mb_s(small_total, run_tool(tool, &small_urls, &out, durable))
                },
            );
            results.push(BenchResult::new(
                &format!("{small_name}{suffix}_vs_{tool}"),
                "MB/s",
                true,
                if durable { &synced_peer } else { peer },
                m,
                CMD,
            ));
        }
    }

    // Failover: the origin dies at 50%, the mirror continues the same part.
    let mut lost = Vec::new();
    for _ in 0..runs {
        reset(&out);
        let clean = rt.block_on(ours_mirrored(&origin.to_string(), &dying, &out));
        reset(&out);
        let failing = rt.block_on(ours_mirrored(&dying.to_string(), &origin, &out));
        lost.push((failing - clean).max(0.0));
    }
    let lost = crate::report::median(&lost);
    results.push(BenchResult::new(
        &format!("failover_at_50pct_{}_mib_seconds_lost", big_len >> 20),
        "s",
        false,
        "target: 0.5 s lost",
        Measured {
            ours: lost.max(1e-3),
            peer: 0.5,
            runs,
        },
        CMD,
    ));
    reset(&out);
    results
}

fn bench_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("bench-pkgmgr")
}

fn reset(out: &Path) {
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out).expect("create output dir");
}

/// The served tree: `big.bin` and `small/N.bin`, kept between runs when the sizes match.
fn make_files(dir: &Path, big_len: u64, small_count: usize) {
    std::fs::create_dir_all(dir.join("small")).expect("create served dir");
    let big = dir.join("big.bin");
    if std::fs::metadata(&big).map(|m| m.len()).ok() != Some(big_len) {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big).expect("create big"));
        let mut block = vec![0u8; 1 << 20];
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..(big_len >> 20) {
            for b in &mut block {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            f.write_all(&block).expect("write big");
        }
        f.flush().expect("flush big");
    }
    for i in 0..small_count {
        let p = dir.join(format!("small/{i}.bin"));
        if std::fs::metadata(&p).map(|m| m.len() as usize).ok() != Some(SMALL) {
            std::fs::write(&p, vec![i as u8; SMALL]).expect("write small");
        }
    }
}

/// A static file server with ranges on 127.0.0.1:0, on its own thread. With `drop_at`,
/// every body of a full GET breaks off after that many bytes (a mirror dying at 50%).
fn start_server(root: PathBuf, drop_at: Option<u64>) -> SocketAddr {
    crate::server_thread::start(move |tx| async move {
        let listener =
            TcpListener::bind("127.0.0.1:0".parse().expect("addr"), TcpOptions::default())
                .expect("bind");
        tx.send(listener.local_addr()).expect("report addr");
        let root = Arc::new(root);
        let service = move |req: Request<Body>| {
            let root = Arc::clone(&root);
            async move { serve_file(&root, &req, drop_at) }
        };
        let _ = Server::builder()
            .build()
            .serve(listener, service, Shutdown::new())
            .await;
    })
}

fn serve_file(root: &Path, req: &Request<Body>, drop_at: Option<u64>) -> Response<Body> {
    let rel = req.uri().path().trim_start_matches('/');
    let not_found = || {
        Response::builder()
            .status(404)
            .body(Body::empty())
            .expect("response")
    };
    if rel.split('/').any(|s| s == "..") {
        return not_found();
    }
    let Ok(file) = std::fs::File::open(root.join(rel)) else {
        return not_found();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = req
        .headers()
        .get("range")
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split('-').next())
        .and_then(|n| n.parse::<u64>().ok());
    let b = Response::builder()
        .header("etag", format!("\"{len:x}\""))
        .header("accept-ranges", "bytes");
    match start {
        Some(s) if s >= len => b
            .status(416)
            .header("content-range", format!("bytes */{len}"))
            .body(Body::empty())
            .expect("response"),
        Some(s) => b
            .status(StatusCode::PARTIAL_CONTENT)
            .header("content-range", format!("bytes {s}-{}/{len}", len - 1))
            .body(Body::file_range(file, s, len - s))
            .expect("response"),
        None => match drop_at {
            Some(cut) => {
                // Announce the whole file, send half, then break the connection.
                let (mut tx, body) = Body::channel();
                let mut file = file;
                tokio::spawn(async move {
                    use std::io::Read;
                    let mut left = cut;
                    let mut buf = vec![0u8; 256 * 1024];
                    while left > 0 {
                        let want = buf.len().min(left as usize);
                        let Ok(n) = file.read(&mut buf[..want]) else {
                            break;
                        };
                        if n == 0 {
                            break;
                        }
                        left -= n as u64;
                        let piece = Bytes::copy_from_slice(&buf[..n]);
                        if tx.send_data(piece).await.is_err() {
                            return;
                        }
                    }
                    tx.abort();
                });
                b.header("content-length", len.to_string())
                    .body(body)
                    .expect("response")
            }
            None => b.body(Body::file_range(file, 0, len)).expect("response"),
        },
    }
}

/// Seconds for our DownloadManager (5 at once) to fetch `urls` into `out`.
async fn ours(urls: &[String], out: &Path, durable: bool) -> f64 {
    let manager = DownloadManager::builder()
        .build(Client::new())
        .expect("manager");
    let requests = urls
        .iter()
        .map(|u| {
            let name = u.rsplit('/').next().expect("file name");
            DownloadRequest::url(
                u.clone(),
                DownloadOptions::new(out.join(name)).durable(durable),
            )
        })
        .collect();
    let start = Instant::now();
    let results = manager.batch_download(requests).await;
    let secs = start.elapsed().as_secs_f64();
    for r in results {
        r.expect("download");
    }
    secs
}

/// Seconds to fetch big.bin from `primary` with `fallback` as the mirror.
async fn ours_mirrored(primary: &str, fallback: &SocketAddr, out: &Path) -> f64 {
    let mirrors = MirrorManager::builder()
        .primary(format!("http://{primary}/"))
        .fallback(format!("http://{fallback}/"))
        .exploration(0.0)
        .build()
        .expect("mirrors");
    let downloader = ghostnet::pkgmgr::download::Downloader::new(Client::new());
    let start = Instant::now();
    downloader
        .download_from(
            &mirrors,
            "big.bin",
            DownloadOptions::new(out.join("big.bin")),
        )
        .await
        .expect("failover download");
    start.elapsed().as_secs_f64()
}

/// Seconds for curl or aria2c to fetch `urls` into `out`, five at once; with `durable`,
/// including a `sync --data` of the files written.
fn run_tool(tool: &str, urls: &[String], out: &Path, durable: bool) -> f64 {
    let mut cmd = Command::new(tool);
    match tool {
        "curl" => {
            cmd.args([
                "-s",
                "--no-progress-meter",
                "-f",
                "--parallel",
                "--parallel-max",
                "5",
            ]);
            for u in urls {
                let name = u.rsplit('/').next().expect("file name");
                cmd.arg("-o").arg(out.join(name)).arg(u);
            }
        }
        _ => {
            let list = out.join("aria2-input.txt");
            std::fs::write(&list, urls.join("\n") + "\n").expect("write aria2 input");
            cmd.args([
                "-q",
                "-x1",
                "-s1",
                "-j5",
                "--file-allocation=none",
                "--allow-overwrite=true",
                "--auto-file-renaming=false",
            ])
            .arg("-d")
            .arg(out)
            .arg("-i")
            .arg(&list);
        }
    }
    let start = Instant::now();
    let status = cmd
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("run {tool}: {e}"));
    assert!(status.success(), "{tool} failed: {status}");
    if durable {
        let synced = Command::new("sync")
            .arg("--data")
            .args(
                urls.iter()
                    .map(|u| out.join(u.rsplit('/').next().expect("file name"))),
            )
            .status()
            .expect("run sync");
        assert!(synced.success(), "sync failed: {synced}");
    }
    start.elapsed().as_secs_f64()
}
