//! `ghostnet get`: download files with mirrors, resume, checksums and progress bars.
//!
//! An absolute URL is fetched from its own origin first; each `--mirror` base is tried
//! with the same path. A relative path is resolved against the mirrors only. Re-running
//! the same command resumes every unfinished `.part` file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use ghostnet_http::client::{ClientConfig, HttpClient};
use ghostnet_pkgmgr::download::{DownloadManager, DownloadOptions, DownloadRequest};
use ghostnet_pkgmgr::mirror::MirrorManager;
use http::Uri;

use super::CommandResult;
use super::progress::{Bars, human};

/// Arguments of `ghostnet get`.
#[derive(Args, Debug)]
pub(crate) struct GetArgs {
    /// URLs to fetch (or paths relative to the mirrors).
    #[arg(required = true, value_name = "URL")]
    urls: Vec<String>,
    /// Another base URL to fetch the same paths from (repeatable).
    #[arg(long = "mirror", value_name = "URL")]
    mirrors: Vec<String>,
    /// Expected SHA-256 (64 hex digits); give one per URL, in order.
    #[arg(long = "sha256", value_name = "HEX")]
    sha256: Vec<String>,
    /// Directory to save into.
    #[arg(
        short = 'o',
        long = "output-dir",
        value_name = "DIR",
        default_value = "."
    )]
    out_dir: PathBuf,
    /// Downloads at once.
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 5)]
    jobs: usize,
    /// Total bandwidth limit, bytes per second (suffixes K, M, G: 500K, 2M).
    #[arg(long = "limit-rate", value_name = "RATE", value_parser = parse_rate)]
    limit_rate: Option<u64>,
    /// Seconds to connect and get the response head.
    #[arg(long = "connect-timeout", value_name = "SECS", default_value_t = 30.0)]
    connect_timeout: f64,
    /// Abandon a mirror slower than this many bytes/s over --speed-time (0: off).
    #[arg(long = "speed-limit", value_name = "BYTES", default_value_t = 1024)]
    speed_limit: u64,
    /// Window of --speed-limit, seconds.
    #[arg(long = "speed-time", value_name = "SECS", default_value_t = 30.0)]
    speed_time: f64,
    /// Sync each file to disk before moving it into place (survives a power loss, not
    /// just a kill; costs a disk flush per file).
    #[arg(long)]
    fsync: bool,
    /// No progress bars.
    #[arg(short = 'q', long)]
    quiet: bool,
}

/// Parses `500`, `500K`, `2M`, `1G` (powers of 1024; a trailing `B` or `/s` is fine).
pub(crate) fn parse_rate(s: &str) -> Result<u64, String> {
    let t = s.trim().trim_end_matches("/s").trim_end_matches(['B', 'b']);
    let (num, mul) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('m' | 'M') => (&t[..t.len() - 1], 1 << 20),
        Some('g' | 'G') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a rate (e.g. 500K, 2M, 1048576)"))?;
    let bytes = (n * mul as f64) as u64;
    if !n.is_finite() || bytes == 0 {
        return Err(format!("{s:?} must be above zero"));
    }
    Ok(bytes)
}

fn seconds(what: &str, secs: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{what} must be a positive number of seconds, not {secs}"))
}

/// One file to fetch: where it goes and what to ask the mirrors.
struct Planned {
    name: String,
    request: DownloadRequest,
}

/// The origin (`scheme://authority/`) and the path (without the leading `/`) of a URL.
fn split_url(url: &str) -> Result<(String, String), String> {
    let uri: Uri = url.parse().map_err(|_| format!("{url:?} is not a URL"))?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(format!("{url:?} is not an absolute URL"));
    };
    if !matches!(scheme, "http" | "https") {
        return Err(format!(
            "{url:?}: only http:// and https:// URLs can be fetched"
        ));
    }
    Ok((
        format!("{scheme}://{authority}/"),
        uri.path().trim_start_matches('/').to_owned(),
    ))
}

fn file_name(path: &str, arg: &str) -> Result<String, String> {
    let name = path.rsplit('/').next().unwrap_or_default();
    if name.is_empty() || name == "." || name == ".." {
        return Err(format!("{arg:?} names no file (it ends with '/')"));
    }
    Ok(name.to_owned())
}

fn plan(args: &GetArgs) -> Result<Vec<Planned>, String> {
    if !args.sha256.is_empty() && args.sha256.len() != args.urls.len() {
        return Err(format!(
            "{} --sha256 given for {} URLs; give one per URL, in order",
            args.sha256.len(),
            args.urls.len()
        ));
    }
    let connect_timeout = seconds("--connect-timeout", args.connect_timeout)?;
    let speed_time = seconds("--speed-time", args.speed_time)?;
    // One manager per primary base, so that files from the same place share what is
    // learnt about the mirrors.
    let mut managers: HashMap<Option<String>, MirrorManager> = HashMap::new();
    let mut manager_for = |primary: Option<String>| -> Result<MirrorManager, String> {
        if let Some(m) = managers.get(&primary) {
            return Ok(m.clone());
        }
        let mut builder = MirrorManager::builder().exploration(0.0);
        let mut bases = args.mirrors.iter();
        if let Some(p) = &primary {
            builder = builder.primary(p.clone());
        } else if let Some(first) = bases.next() {
            builder = builder.primary(first.clone());
        }
        for m in bases {
            // The URL's own origin may also be listed as a mirror.
            if primary.as_deref() != Some(normalise_base(m).as_str()) {
                builder = builder.fallback(m.clone());
            }
        }
        let m = builder.build().map_err(|e| e.to_string())?;
        managers.insert(primary, m.clone());
        Ok(m)
    };
    let mut out = Vec::new();
    for (i, arg) in args.urls.iter().enumerate() {
        let (primary, path) = if arg.contains("://") {
            let (origin, path) = split_url(arg)?;
            (Some(origin), path)
        } else {
            if args.mirrors.is_empty() {
                return Err(format!(
                    "{arg:?} is a relative path: give a full URL or at least one --mirror"
                ));
            }
            (None, arg.trim_start_matches('/').to_owned())
        };
        let name = file_name(&path, arg)?;
        let mut opts = DownloadOptions::new(args.out_dir.join(&name))
            .connect_timeout(connect_timeout)
            .low_speed(args.speed_limit, speed_time)
            .durable(args.fsync);
        if let Some(hex) = args.sha256.get(i) {
            opts = opts.sha256(hex).map_err(|e| e.to_string())?;
        }
        let request = if arg.contains('?') && args.mirrors.is_empty() {
            DownloadRequest::url(arg.clone(), opts)
        } else {
            DownloadRequest::mirrored(manager_for(primary)?, path, opts)
        };
        out.push(Planned { name, request });
    }
    Ok(out)
}

/// `http://b` and `http://b/` name the same base.
fn normalise_base(base: &str) -> String {
    if base.ends_with('/') {
        base.to_owned()
    } else {
        format!("{base}/")
    }
}

pub(crate) async fn run(args: GetArgs) -> CommandResult {
    let planned = plan(&args)?;
    // The unified client: `https://` mirrors that offer h2 get one multiplexed
    // connection for all their files; `http://` ones get pooled HTTP/1.1.
    let client = HttpClient::new(ClientConfig::default())?;
    let manager = DownloadManager::builder()
        .max_concurrent(args.jobs)
        .bandwidth_limit(args.limit_rate)
        .build(client)?;
    let names: Vec<String> = planned.iter().map(|p| p.name.clone()).collect();
    let bars = Arc::new(Bars::new(&names, args.quiet));
    let requests = planned.into_iter().map(|p| p.request).collect();
    let started = Instant::now();
    let b = Arc::clone(&bars);
    let results = manager
        .batch_download_with_progress(requests, move |p| b.update(&p))
        .await;
    bars.finish();
    let elapsed = started.elapsed();
    let mut failed = 0;
    let mut received = 0;
    for (name, result) in names.iter().zip(&results) {
        match result {
            Ok(r) => {
                received += r.received;
                let mut notes = Vec::new();
                if r.resumed_from > 0 {
                    notes.push(format!("resumed at {}", human(r.resumed_from)));
                }
                if r.retries > 0 {
                    notes.push(format!("{} retries", r.retries));
                }
                if r.failovers > 0 {
                    notes.push(format!("{} failovers", r.failovers));
                }
                let notes = if notes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", notes.join(", "))
                };
                let sha256 = r
                    .sha256
                    .as_ref()
                    .map(|d| format!("  sha256 {d} verified"))
                    .unwrap_or_default();
                println!(
                    "ok    {}  {}{sha256}  from {}{notes}",
                    display(&r.path),
                    human(r.size),
                    r.url
                );
            }
            Err(e) => {
                failed += 1;
                // A lone file's error is the command's one line (printed by main).
                if results.len() > 1 {
                    eprintln!("ghostnet: {name}: {e}");
                }
            }
        }
    }
    let secs = elapsed.as_secs_f64().max(1e-9);
    println!(
        "{} of {} files, {} received in {:.2}s ({:.2} MB/s)",
        results.len() - failed,
        results.len(),
        human(received),
        secs,
        received as f64 / secs / 1e6
    );
    if failed > 0 {
        if let [Err(e)] = results.as_slice() {
            return Err(format!("{}: {e}", names[0]).into());
        }
        return Err(format!("{failed} of {} downloads failed", results.len()).into());
    }
    Ok(())
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("500"), Ok(500));
        assert_eq!(parse_rate("500K"), Ok(500 * 1024));
        assert_eq!(parse_rate("2M"), Ok(2 << 20));
        assert_eq!(parse_rate("1.5MB/s"), Ok(3 << 19));
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("0").is_err());
    }

    #[test]
    fn urls_split_into_origin_and_path() {
        assert_eq!(
            split_url("http://a:8080/pkgs/x.tar"),
            Ok(("http://a:8080/".into(), "pkgs/x.tar".into()))
        );
        assert!(split_url("ftp://a/x").is_err());
        assert!(file_name("pkgs/", "http://a/pkgs/").is_err());
    }
}
