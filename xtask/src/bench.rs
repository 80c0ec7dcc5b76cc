//! `cargo xtask bench <suite>`: build the suite's binary in release mode, run it, and
//! write `target/bench/<suite>.json` in the format of `shared/bench.md`.

use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::system;

/// A suite: its name and the `ghostnet-benches` binaries that measure it (their result
/// arrays are concatenated, in order).
struct Suite {
    name: &'static str,
    binaries: &'static [&'static str],
    /// Debian packages the suite's load tools come from.
    packages: &'static [&'static str],
}

const SUITES: &[Suite] = &[
    Suite {
        name: "runtime",
        binaries: &["bench_runtime"],
        packages: &[],
    },
    Suite {
        name: "transport",
        binaries: &["bench_transport_pool", "bench_transport_tls"],
        packages: &[],
    },
    Suite {
        name: "http1",
        binaries: &["bench_http1"],
        packages: &["wrk"],
    },
    Suite {
        name: "http2",
        binaries: &["bench_http2"],
        packages: &["nghttp2-client"],
    },
    Suite {
        name: "ws",
        binaries: &["bench_ws"],
        packages: &[],
    },
    Suite {
        name: "pkgmgr",
        binaries: &["bench_pkgmgr"],
        packages: &["curl", "aria2"],
    },
];

/// Names accepted on the command line.
pub(crate) fn suite_names() -> Vec<&'static str> {
    SUITES.iter().map(|s| s.name).chain(["all"]).collect()
}

/// Runs `suite` (or every suite for `all`).
pub(crate) fn run(suite: &str, quick: bool) -> Result<(), String> {
    let selected: Vec<&Suite> = SUITES
        .iter()
        .filter(|s| suite == "all" || s.name == suite)
        .collect();
    if selected.is_empty() {
        return Err(format!(
            "unknown suite {suite}; known: {}",
            suite_names().join(", ")
        ));
    }
    system::cargo(&[
        "build",
        "--release",
        "--quiet",
        "-p",
        "ghostnet-benches",
        "--bins",
    ])?;
    let target = system::target_dir()?;
    let out_dir = target.join("bench");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("create {}: {e}", out_dir.display()))?;
    for s in selected {
        system::ensure(s.packages)?;
        eprintln!(
            "xtask: running {} suite{}",
            s.name,
            if quick { " (quick)" } else { "" }
        );
        let mut results = Vec::new();
        for binary in s.binaries {
            results.extend(run_binary(&target.join("release").join(binary), quick)?);
        }
        let results = Value::Array(results);
        let report = wrap(s.name, results);
        let path = out_dir.join(format!("{}.json", s.name));
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(&path, text + "\n").map_err(|e| format!("write {}: {e}", path.display()))?;
        print!("{}", table(&report));
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Runs one suite binary and returns the results it printed.
fn run_binary(bin: &std::path::Path, quick: bool) -> Result<Vec<Value>, String> {
    let mut cmd = Command::new(bin);
    if quick {
        cmd.arg("--quick");
    }
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("run {}: {e}", bin.display()))?;
    if !out.status.success() {
        return Err(format!("{} failed ({})", bin.display(), out.status));
    }
    match serde_json::from_slice(&out.stdout) {
        Ok(Value::Array(results)) => Ok(results),
        Ok(_) => Err(format!("{} did not print a JSON array", bin.display())),
        Err(e) => Err(format!("{} printed invalid JSON: {e}", bin.display())),
    }
}

/// The suite document: `{suite, rustc, cores, results}`.
fn wrap(suite: &str, results: Value) -> Value {
    json!({
        "suite": suite,
        "rustc": crate::rustc_version(),
        "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "results": results,
    })
}

/// A plain-text table of a suite document.
fn table(report: &Value) -> String {
    let mut s = format!(
        "\n{:<38} {:>14} {:>14}  {:<8} {:>7}  peer\n",
        "benchmark", "ghostnet", "peer", "unit", "ratio"
    );
    for r in report["results"].as_array().into_iter().flatten() {
        let num = |k: &str| r[k].as_f64().map_or_else(|| "-".to_owned(), fmt_num);
        s += &format!(
            "{:<38} {:>14} {:>14}  {:<8} {:>7}  {}\n",
            r["name"].as_str().unwrap_or("?"),
            num("ghostnet"),
            num("peer_value"),
            r["unit"].as_str().unwrap_or(""),
            r["ratio"]
                .as_f64()
                .map_or_else(|| "-".to_owned(), |v| format!("{v:.3}")),
            r["peer"].as_str().unwrap_or(""),
        );
    }
    s
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_results_in_the_bench_md_shape() {
        let results = json!([{ "name": "spawn_join", "unit": "ns/op", "ghostnet": 700.0,
            "peer": "tokio", "peer_value": 710.0, "ratio": 1.014, "higher_is_better": false,
            "runs": 5, "command": "x" }]);
        let doc = wrap("runtime", results);
        assert_eq!(doc["suite"], "runtime");
        assert!(doc["rustc"].as_str().unwrap().starts_with("rustc"));
        assert!(doc["cores"].as_u64().unwrap() >= 1);
        let t = table(&doc);
        assert!(t.contains("spawn_join"), "{t}");
        assert!(t.contains("1.014"), "{t}");
    }

    #[test]
    fn every_suite_is_selectable() {
        let names = suite_names();
        assert!(names.contains(&"runtime"));
        assert!(names.contains(&"all"));
    }
}
