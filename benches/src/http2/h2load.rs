//! Runs h2load and reads its results: requests per second from its summary, and the
//! 99th percentile latency from its per-request log (h2load prints no percentiles).

use std::path::Path;
use std::process::Command;

/// One h2load run's figures.
#[derive(Debug, Clone, Copy)]
pub struct LoadResult {
    /// Requests per second over the measured period.
    pub req_per_sec: f64,
    /// 99th percentile of the time from request to the end of its response, in µs.
    pub p99_us: f64,
}

/// The h2load arguments, without the URL and log file: `-t1 -c<clients> -m<streams>`
/// for `duration` seconds after a one-second warm-up.
pub fn args(clients: u32, streams: u32, duration: u32) -> Vec<String> {
    vec![
        "-t1".into(),
        format!("-c{clients}"),
        format!("-m{streams}"),
        format!("-D{duration}"),
        "--warm-up-time=1".into(),
    ]
}

/// Runs `taskset -c <core> h2load <args> --log-file=<log> <url>` (without taskset when
/// `core` is `None`).
///
/// # Panics
///
/// When h2load cannot run, fails, or reports failed requests: a benchmark of a broken
/// server means nothing.
pub fn run(core: Option<u32>, args: &[String], url: &str, log: &Path) -> LoadResult {
    let mut cmd = match core {
        Some(c) => {
            let mut cmd = Command::new("taskset");
            cmd.args(["-c", &c.to_string(), "h2load"]);
            cmd
        }
        None => Command::new("h2load"),
    };
    let out = cmd
        .args(args)
        .arg(format!("--log-file={}", log.display()))
        .arg(url)
        .output()
        .expect("run h2load (apt-get install nghttp2-client)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "h2load failed: {text}");
    let req_per_sec = parse_req_per_sec(&text).unwrap_or_else(|| panic!("no req/s in: {text}"));
    assert!(
        text.contains(" 0 failed, 0 errored"),
        "h2load saw failures: {text}"
    );
    let log = std::fs::read_to_string(log).expect("h2load log");
    let p99_us = p99_from_log(&log).unwrap_or_else(|| panic!("empty h2load log"));
    LoadResult {
        req_per_sec,
        p99_us,
    }
}

/// `finished in 5.00s, 123456.78 req/s, ...` → 123456.78.
pub fn parse_req_per_sec(summary: &str) -> Option<f64> {
    let line = summary.lines().find(|l| l.starts_with("finished in"))?;
    let field = line.split(',').find(|f| f.trim_end().ends_with("req/s"))?;
    field.trim().strip_suffix("req/s")?.trim().parse().ok()
}

/// The 99th percentile of the third column (µs until the end of the response).
pub fn p99_from_log(log: &str) -> Option<f64> {
    let mut v: Vec<f64> = log
        .lines()
        .filter_map(|l| l.split('\t').nth(2)?.trim().parse().ok())
        .collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let idx = ((v.len() as f64) * 0.99).ceil() as usize;
    Some(v[idx.clamp(1, v.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_summary_and_the_log() {
        let summary =
            "starting benchmark...\n\nfinished in 5.00s, 123456.78 req/s, 4.71MB/s\nrequests: ...";
        assert_eq!(parse_req_per_sec(summary), Some(123_456.78));
        let log: String = (1..=100)
            .map(|i| format!("1700000000000000\t200\t{i}\n"))
            .collect();
        assert_eq!(p99_from_log(&log), Some(99.0));
        assert_eq!(p99_from_log(""), None);
    }
}
